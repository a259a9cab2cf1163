//! `dangan status`: the last run, totals per department and activity, what is unassigned or
//! rejected.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use rusqlite::OptionalExtension;
use serde_json::json;

use crate::catalog::{self, Catalog};
use crate::cli::{Common, EXIT_OK};

/// id, command, started, ended, status, summary JSON.
type LastRun = (i64, String, String, Option<String>, String, Option<String>);

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    let Some(catalog) = Catalog::open_read_only(&common.archive).context("无法打开目录数据库")?
    else {
        if common.json {
            writeln!(out, "{}", json!({"last_run": null}))?;
        } else {
            writeln!(
                out,
                "存档 {} 里还没有目录：请先运行 dangan import",
                common.archive.display()
            )?;
        }
        return Ok(EXIT_OK);
    };
    let last: Option<LastRun> = catalog
        .conn
        .query_row(
            "SELECT id, command, started, ended, status, summary FROM runs
             WHERE command = 'import' ORDER BY id DESC LIMIT 1",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .optional()?;
    let versions = catalog::list_versions(&catalog.conn, false)?;
    let present: Vec<_> = versions.iter().filter(|v| !v.withdrawn).collect();
    let withdrawn = versions.len() - present.len();
    let mut by_department: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_activity: BTreeMap<&str, u64> = BTreeMap::new();
    let mut unassigned = Vec::new();
    let mut with_problems = Vec::new();
    for v in &present {
        *by_department.entry(&v.department).or_default() += 1;
        match &v.activity {
            Some(a) => *by_activity.entry(a).or_default() += 1,
            None => unassigned.push(v.path.as_str()),
        }
        if !v.problems.is_empty() {
            with_problems.push((v.path.as_str(), v.problems.join("；")));
        }
    }
    let rejections = catalog::last_rejections(&catalog.conn)?;
    let row_problems: Vec<(String, String, i64, String)> = {
        let mut stmt = catalog.conn.prepare(
            "SELECT f.path, p.sheet, p.row, p.reason FROM row_problems p
             JOIN files f ON f.current_version = p.version_id
             WHERE f.withdrawn_run IS NULL ORDER BY f.path, p.sheet, p.row",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };

    if common.json {
        let summary: serde_json::Value = last
            .as_ref()
            .and_then(|l| l.5.as_ref())
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or(serde_json::Value::Null);
        let v = json!({
            "last_run": last.as_ref().map(|l| json!({
                "run_id": l.0, "started": l.2, "ended": l.3, "status": l.4, "summary": summary,
            })),
            "files": present.len(),
            "withdrawn": withdrawn,
            "departments": by_department,
            "activities": by_activity,
            "unassigned": unassigned,
            "rejected": rejections.iter().map(|(p, r)| json!({"path": p, "reason": r})).collect::<Vec<_>>(),
            "problems": with_problems.iter().map(|(p, r)| json!({"path": p, "problems": r})).collect::<Vec<_>>(),
            "row_problems": row_problems.iter().map(|(p, s, r, why)| json!({"path": p, "sheet": s, "row": r, "reason": why})).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
        return Ok(EXIT_OK);
    }

    match &last {
        Some((id, _, started, ended, status, summary)) => {
            let s: serde_json::Value = summary
                .as_ref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let n = |k: &str| s.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let state = match status.as_str() {
                "done" => "完成",
                "running" => "未结束（可能被中断，下次运行会补完）",
                _ => "失败",
            };
            writeln!(
                out,
                "最近一次导入：第 {id} 次，{started} 开始，{}，{state}",
                ended.as_deref().unwrap_or("—")
            )?;
            writeln!(
                out,
                "  发现 {} 个文件：新增 {}，变更 {}，未变 {}，跳过 {}，拒收 {}，有问题 {}，撤回 {}",
                n("seen"),
                n("new"),
                n("changed"),
                n("unchanged"),
                n("skipped"),
                n("rejected"),
                n("problems"),
                n("withdrawn")
            )?;
        }
        None => writeln!(out, "还没有导入过")?,
    }
    writeln!(
        out,
        "\n在档文件 {} 个（另有已撤回 {} 个）",
        present.len(),
        withdrawn
    )?;
    writeln!(out, "\n按部门：")?;
    for (d, n) in &by_department {
        writeln!(out, "  {d}\t{n}")?;
    }
    writeln!(out, "\n按活动：")?;
    for (a, n) in &by_activity {
        writeln!(out, "  {a}\t{n}")?;
    }
    writeln!(out, "  未归类\t{}", unassigned.len())?;
    if !unassigned.is_empty() {
        writeln!(out, "\n未归类（请放入活动文件夹或在文件名中写明活动）：")?;
        for p in &unassigned {
            writeln!(out, "  {p}")?;
        }
    }
    if !rejections.is_empty() {
        writeln!(out, "\n拒收：")?;
        for (p, r) in &rejections {
            writeln!(out, "  {p}\t{r}")?;
        }
    }
    if !with_problems.is_empty() {
        writeln!(out, "\n已存档但有问题：")?;
        for (p, r) in &with_problems {
            writeln!(out, "  {p}\t{r}")?;
        }
    }
    if !row_problems.is_empty() {
        writeln!(out, "\n表格中被跳过的行：")?;
        for (p, s, r, why) in &row_problems {
            if *r == 0 {
                writeln!(out, "  {p} 表“{s}”：{why}")?;
            } else {
                writeln!(out, "  {p} 表“{s}”第 {r} 行：{why}")?;
            }
        }
    }
    Ok(EXIT_OK)
}
