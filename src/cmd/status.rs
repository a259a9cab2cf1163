//! `dangan status`: the last run, totals per department and activity, what is unassigned or
//! rejected.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use serde_json::json;

use super::{Common, EXIT_OK, Session};
use crate::catalog::{RunRecord, Which};
use crate::model::{ActivityRule, RowAt};
use crate::tally::UNASSIGNED;
use crate::text::escape_controls as e;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    let Some(session) = Session::open_read_only(common, Which::Latest)? else {
        // Nothing imported yet, but a mistake in dangan.toml is still worth saying now.
        super::load_config(common)?;
        if common.json {
            writeln!(out, "{}", json!({"last_run": null}))?;
        } else {
            writeln!(
                out,
                "存档 {} 里还没有导入过任何文件：请先运行 dangan nightly（或 dangan import）",
                common.archive.display()
            )?;
        }
        return Ok(EXIT_OK);
    };
    let overview = Overview::of(&session)?;
    if common.json {
        writeln!(out, "{}", overview.json(&session))?;
    } else {
        overview.write_text(&mut out, common, &session)?;
    }
    Ok(EXIT_OK)
}

/// What `status` shows: the last import and the present files counted and listed, as judged now.
struct Overview<'a> {
    last: Option<RunRecord>,
    present: usize,
    withdrawn: usize,
    by_department: BTreeMap<&'a str, u64>,
    /// Department folders that dangan.toml does not name (as the built-in config's comment says).
    unknown_departments: BTreeMap<&'a str, u64>,
    by_activity: BTreeMap<&'a str, u64>,
    unassigned: Vec<String>,
    corrected: Vec<String>,
    excluded: Vec<String>,
    /// (path, its problems joined by `；`).
    with_problems: Vec<(String, String)>,
    rejections: Vec<(String, String)>,
    /// The rows the sheet reader skipped, in counted files.
    row_problems: Vec<(RowAt, String)>,
}

impl<'a> Overview<'a> {
    fn of(session: &'a Session) -> anyhow::Result<Overview<'a>> {
        let catalog = &session.catalog;
        let last = catalog.last_import().context(super::READ_CATALOG)?;
        let present: Vec<_> = session
            .files
            .iter()
            .filter(|f| !f.version.withdrawn)
            .collect();
        let withdrawn = session.files.len() - present.len();
        let mut by_department: BTreeMap<&str, u64> = BTreeMap::new();
        let mut unknown_departments: BTreeMap<&str, u64> = BTreeMap::new();
        let mut by_activity: BTreeMap<&str, u64> = BTreeMap::new();
        let mut unassigned = Vec::new();
        let mut corrected = Vec::new();
        let mut excluded = Vec::new();
        let mut with_problems = Vec::new();
        for f in &present {
            *by_department.entry(&f.judged.department).or_default() += 1;
            if !f.judged.known_department && !f.judged.department.is_empty() {
                *unknown_departments.entry(&f.judged.department).or_default() += 1;
            }
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
                let problems: Vec<String> =
                    problems.iter().map(|p| without_self_reference(p)).collect();
                with_problems.push((f.version.facts.path.shown(), problems.join("；")));
            }
        }
        let rejections = catalog.last_rejections().context(super::READ_CATALOG)?;
        let row_problems = session.row_problems(|f| f.version.counted())?;
        Ok(Overview {
            last,
            present: present.len(),
            withdrawn,
            by_department,
            unknown_departments,
            by_activity,
            unassigned,
            corrected,
            excluded,
            with_problems,
            rejections,
            row_problems,
        })
    }

    /// `status --json`.
    fn json(&self, session: &Session) -> serde_json::Value {
        let offset = session.cfg.utc_offset;
        let time = |t: Option<i64>| t.map(|t| crate::clock::show(t, offset));
        json!({
            "last_run": self.last.as_ref().map(|l| json!({
                "run_id": l.id, "started": time(l.started), "ended": time(l.ended),
                "status": l.status, "summary": l.summary.clone().unwrap_or(serde_json::Value::Null),
            })),
            "files": self.present,
            "withdrawn": self.withdrawn,
            "departments": self.by_department,
            "unknown_departments": self.unknown_departments,
            "activities": self.by_activity,
            "unassigned": self.unassigned,
            "corrected": self.corrected,
            "excluded": self.excluded,
            "corrections_problems": session.corrections.problems,
            "rejected": self.rejections.iter().map(|(p, r)| json!({"path": p, "reason": r})).collect::<Vec<_>>(),
            "problems": self.with_problems.iter().map(|(p, r)| json!({"path": p, "problems": r})).collect::<Vec<_>>(),
            "row_problems": self.row_problems.iter().map(|(at, why)| json!({"path": at.path, "sheet": at.sheet, "row": at.row, "reason": why})).collect::<Vec<_>>(),
        })
    }

    /// `status` for a person.
    fn write_text(
        &self,
        out: &mut impl Write,
        common: &Common,
        session: &Session,
    ) -> anyhow::Result<()> {
        let offset = session.cfg.utc_offset;
        match &self.last {
            Some(run) => {
                let s = run.summary.clone().unwrap_or_default();
                let n = |k: &str| s.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
                writeln!(
                    out,
                    "上次导入（第 {} 次）：{}",
                    run.id,
                    run_sentence(run.started, run.ended, &run.status, offset)
                )?;
                if run.status == "done" {
                    writeln!(out, "  {}", counts_sentence(&n))?;
                }
            }
            None => writeln!(out, "还没有导入过")?,
        }
        super::print_store_damage(out, common, session)?;
        let withdrawn = self.withdrawn;
        if withdrawn > 0 {
            writeln!(
                out,
                "\n在档文件 {} 个（另有 {withdrawn} 个已从收件箱撤回）",
                self.present
            )?;
        } else {
            writeln!(out, "\n在档文件 {} 个", self.present)?;
        }
        writeln!(out, "\n按部门：")?;
        for (d, n) in &self.by_department {
            writeln!(out, "  {}\t{n}", e(d))?;
        }
        if !self.unknown_departments.is_empty() {
            writeln!(
                out,
                "\ndangan.toml 里没有的部门文件夹 {} 个（请核对文件夹名是否写错，或在 [[department]] 里加上这个部门或它的简称）：",
                self.unknown_departments.len()
            )?;
            for (d, n) in &self.unknown_departments {
                writeln!(out, "  {}\t{n} 个文件", e(d))?;
            }
        }
        writeln!(out, "\n按活动：")?;
        for (a, n) in &self.by_activity {
            writeln!(out, "  {}\t{n}", e(a))?;
        }
        writeln!(out, "  {UNASSIGNED}\t{}", self.unassigned.len())?;
        if !self.unassigned.is_empty() {
            writeln!(
                out,
                "\n{UNASSIGNED}的文件 {} 个（在 统计/待归类.xlsx 里填写更正活动，另存为 更正.xlsx 放在 dangan.toml 旁，下次运行生效）：",
                self.unassigned.len()
            )?;
            for p in &self.unassigned {
                writeln!(out, "  {}", e(p))?;
            }
        }
        if !self.corrected.is_empty() {
            writeln!(out, "\n按更正归类的文件 {} 个", self.corrected.len())?;
        }
        if !self.excluded.is_empty() {
            writeln!(out, "不计入统计的文件 {} 个：", self.excluded.len())?;
            for p in &self.excluded {
                writeln!(out, "  {}", e(p))?;
            }
        }
        if !session.corrections.problems.is_empty() {
            writeln!(out, "\n更正文件中被忽略的行：")?;
            for p in &session.corrections.problems {
                writeln!(out, "  {}", e(p))?;
            }
        }
        if !self.rejections.is_empty() {
            writeln!(out, "\n拒收：")?;
            for (p, r) in &self.rejections {
                writeln!(out, "  {}\t{}", e(p), e(r))?;
            }
        }
        if !self.with_problems.is_empty() {
            writeln!(out, "\n已存档但有问题：")?;
            for (p, r) in &self.with_problems {
                writeln!(out, "  {}\t{}", e(p), e(r))?;
            }
        }
        if !self.row_problems.is_empty() {
            writeln!(out, "\n表格中被跳过的行：")?;
            for line in crate::tally::group_row_problems(&self.row_problems) {
                writeln!(out, "  {}", e(&line))?;
            }
        }
        Ok(())
    }
}

/// How the last import went, in a sentence: its local start, how long it took and its end.
fn run_sentence(
    started: Option<i64>,
    ended: Option<i64>,
    status: &str,
    offset: chrono::FixedOffset,
) -> String {
    let start = match started {
        Some(t) => format!("{} 开始", crate::clock::show(t, offset)),
        None => "开始时间不明".to_string(),
    };
    let took = match (started, ended) {
        (Some(a), Some(b)) if b >= a => {
            let d = duration(b - a);
            Some(if d.starts_with('不') {
                d
            } else {
                format!(" {d}")
            })
        }
        _ => None,
    };
    match (status, took) {
        ("done", Some(took)) => format!("{start}，用时{took}，已完成"),
        ("done", None) => format!("{start}，已完成"),
        ("running", _) => {
            format!("{start}，还没有结束（可能仍在运行；如果它已被终止，下一次运行会补完）")
        }
        ("interrupted", _) => format!("{start}，中途被终止（下一次运行已补完它的工作）"),
        (_, Some(took)) => format!("{start}，用时{took}，失败"),
        _ => format!("{start}，失败"),
    }
}

/// `3 秒`, `2 分 5 秒`, `1 小时 3 分`; under a second: `不到 1 秒`.
fn duration(seconds: i64) -> String {
    match seconds {
        s if s < 1 => "不到 1 秒".to_string(),
        s if s < 60 => format!("{s} 秒"),
        s if s < 3600 => format!("{} 分 {} 秒", s / 60, s % 60),
        s => format!("{} 小时 {} 分", s / 3600, (s % 3600) / 60),
    }
}

/// What the last import found, naming only what happened (`新增 3 个，未变 412 个`).
fn counts_sentence(n: &dyn Fn(&str) -> u64) -> String {
    let parts: Vec<String> = [
        ("new", "新增"),
        ("changed", "变更"),
        ("unchanged", "未变"),
        ("withdrawn", "撤回"),
        ("skipped", "跳过"),
        ("rejected", "拒收"),
        ("problems", "有问题"),
    ]
    .iter()
    .filter(|(k, _)| n(k) > 0)
    .map(|(k, label)| format!("{label} {} 个", n(k)))
    .collect();
    let seen = n("seen");
    if parts.is_empty() {
        format!("收件箱中共 {seen} 个文件，没有变化")
    } else {
        format!("收件箱中共 {seen} 个文件：{}", parts.join("，"))
    }
}

/// A stored problem that points the reader at `dangan status` is shown by `status` itself:
/// it points at the section below instead.
fn without_self_reference(problem: &str) -> String {
    problem
        .replace(
            "（行号与原因见 dangan status）",
            "（行号与原因见下面的“表格中被跳过的行”）",
        )
        .replace("（见 dangan status）", "（见下文）")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_run_reads_as_a_sentence_in_local_time() {
        let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let t = crate::clock::parse_stamp("2026-12-01T10:47:43+00:00").unwrap();
        assert_eq!(
            run_sentence(Some(t), Some(t + 3), "done", beijing),
            "2026-12-01 18:47:43 开始，用时 3 秒，已完成"
        );
        assert_eq!(duration(125), "2 分 5 秒");
        assert_eq!(duration(0), "不到 1 秒");
        assert!(run_sentence(Some(t), None, "running", beijing).contains("还没有结束"));
        let counts = |k: &str| match k {
            "seen" => 10,
            "new" => 3,
            "unchanged" => 7,
            _ => 0,
        };
        assert_eq!(
            counts_sentence(&counts),
            "收件箱中共 10 个文件：新增 3 个，未变 7 个"
        );
        assert_eq!(
            without_self_reference("表格中有 2 处无法读取（行号与原因见 dangan status）"),
            "表格中有 2 处无法读取（行号与原因见下面的“表格中被跳过的行”）"
        );
    }
}
