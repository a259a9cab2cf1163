//! `dangan status`: the last run, totals per department and activity, what is unassigned or
//! rejected.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use serde_json::json;

use super::Session;
use crate::catalog::Which;
use crate::cli::{Common, EXIT_OK};
use crate::model::ActivityRule;
use crate::tally::UNASSIGNED;
use crate::text::escape_controls as e;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    let Some(session) = Session::open_read_only(common, Which::Latest)? else {
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
    let offset = session.cfg.utc_offset;
    let catalog = &session.catalog;
    let last = catalog.last_import().context("读取目录失败")?;
    let present: Vec<_> = session
        .files
        .iter()
        .filter(|f| !f.version.withdrawn)
        .collect();
    let withdrawn = session.files.len() - present.len();
    let mut by_department: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_activity: BTreeMap<&str, u64> = BTreeMap::new();
    let mut unassigned = Vec::new();
    let mut corrected = Vec::new();
    let mut excluded = Vec::new();
    let mut with_problems = Vec::new();
    for f in &present {
        *by_department.entry(&f.judged.department).or_default() += 1;
        if f.judged.activities.is_empty() {
            unassigned.push(f.version.facts.path.shown());
        }
        for a in &f.judged.activities {
            *by_activity.entry(a).or_default() += 1;
        }
        if f.judged.rule == ActivityRule::Correction
            || session
                .corrections
                .for_inbox_path(&f.version.facts.path)
                .is_some()
        {
            corrected.push(f.version.facts.path.shown());
        }
        if f.judged.excluded {
            excluded.push(f.version.facts.path.shown());
        }
        let problems = f.problems();
        if !problems.is_empty() {
            with_problems.push((f.version.facts.path.shown(), problems.join("；")));
        }
    }
    let rejections = catalog.last_rejections().context("读取目录失败")?;
    let counted: std::collections::HashSet<i64> = present
        .iter()
        .filter(|f| f.version.counted())
        .map(|f| f.version.id)
        .collect();
    let row_problems: Vec<(String, String, i64, String)> = catalog
        .row_problems()
        .context("读取目录失败")?
        .into_iter()
        .filter(|p| counted.contains(&p.version_id))
        .map(|p| (p.at.path, p.at.sheet, i64::from(p.at.row), p.reason))
        .collect();
    let time = |t: Option<i64>| t.map(|t| crate::clock::show(t, offset));

    if common.json {
        let v = json!({
            "last_run": last.as_ref().map(|l| json!({
                "run_id": l.id, "started": time(l.started), "ended": time(l.ended),
                "status": l.status, "summary": l.summary.clone().unwrap_or(serde_json::Value::Null),
            })),
            "files": present.len(),
            "withdrawn": withdrawn,
            "departments": by_department,
            "activities": by_activity,
            "unassigned": unassigned,
            "corrected": corrected,
            "excluded": excluded,
            "corrections_problems": session.corrections.problems,
            "rejected": rejections.iter().map(|(p, r)| json!({"path": p, "reason": r})).collect::<Vec<_>>(),
            "problems": with_problems.iter().map(|(p, r)| json!({"path": p, "problems": r})).collect::<Vec<_>>(),
            "row_problems": row_problems.iter().map(|(p, s, r, why)| json!({"path": p, "sheet": s, "row": r, "reason": why})).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
        return Ok(EXIT_OK);
    }

    match &last {
        Some(run) => {
            let s = run.summary.clone().unwrap_or_default();
            let n = |k: &str| s.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let state = match run.status.as_str() {
                "done" => "完成",
                "running" => "未结束（可能正在运行，或被中断：下次运行会补完）",
                "interrupted" => "中断（被终止，之后的运行已补完）",
                _ => "失败",
            };
            writeln!(
                out,
                "最近一次导入（第 {} 次）：{} 开始，{} 结束，{state}",
                run.id,
                time(run.started).unwrap_or_else(|| "—".into()),
                time(run.ended).unwrap_or_else(|| "—".into())
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
    super::print_store_damage(&mut out, common, &session)?;
    writeln!(
        out,
        "\n在档文件 {} 个（另有已撤回 {} 个）",
        present.len(),
        withdrawn
    )?;
    writeln!(out, "\n按部门：")?;
    for (d, n) in &by_department {
        writeln!(out, "  {}\t{n}", e(d))?;
    }
    writeln!(out, "\n按活动：")?;
    for (a, n) in &by_activity {
        writeln!(out, "  {}\t{n}", e(a))?;
    }
    writeln!(out, "  {UNASSIGNED}\t{}", unassigned.len())?;
    if !unassigned.is_empty() {
        writeln!(
            out,
            "\n{UNASSIGNED}（在 统计/待归类.xlsx 里填写更正活动，另存为 更正.xlsx 放在 dangan.toml 旁，下次运行生效）："
        )?;
        for p in &unassigned {
            writeln!(out, "  {}", e(p))?;
        }
    }
    if !corrected.is_empty() {
        writeln!(out, "\n按更正归类的文件 {} 个", corrected.len())?;
    }
    if !excluded.is_empty() {
        writeln!(out, "不计入统计的文件 {} 个：", excluded.len())?;
        for p in &excluded {
            writeln!(out, "  {}", e(p))?;
        }
    }
    if !session.corrections.problems.is_empty() {
        writeln!(out, "\n更正文件中被忽略的行：")?;
        for p in &session.corrections.problems {
            writeln!(out, "  {}", e(p))?;
        }
    }
    if !rejections.is_empty() {
        writeln!(out, "\n拒收：")?;
        for (p, r) in &rejections {
            writeln!(out, "  {}\t{}", e(p), e(r))?;
        }
    }
    if !with_problems.is_empty() {
        writeln!(out, "\n已存档但有问题：")?;
        for (p, r) in &with_problems {
            writeln!(out, "  {}\t{}", e(p), e(r))?;
        }
    }
    if !row_problems.is_empty() {
        writeln!(out, "\n表格中被跳过的行：")?;
        let grouped: Vec<(crate::model::RowAt, String)> = row_problems
            .iter()
            .map(|(p, s, r, why)| {
                let at = crate::model::RowAt {
                    path: p.clone(),
                    sheet: s.clone(),
                    row: u32::try_from(*r).unwrap_or(0),
                };
                (at, why.clone())
            })
            .collect();
        for line in crate::tally::group_row_problems(&grouped) {
            writeln!(out, "  {}", e(&line))?;
        }
    }
    Ok(EXIT_OK)
}
