//! `dangan check`: write archive/统计/材料检查.csv — what each department still owes — and
//! print it grouped by department, ready to paste into a message, then each day of the
//! activity week with what was held on it (a day with no evidence flagged).

use std::io::Write;

use clap::Args;

use super::{Common, EXIT_OK, Session, steps};
use crate::forms::WeekDay;
use crate::materials::{self, CheckResult};
use crate::output::CsvEncoding;

#[derive(Args, Clone)]
pub struct CheckArgs {
    /// CSV 编码：utf8（带 BOM，Excel 直接打开）或 gb18030
    #[arg(long, default_value = "utf8", value_parser = super::parse_encoding)]
    pub encoding: CsvEncoding,
}

/// Each day of the configured week with the activities that have counted evidence dated on it.
pub fn week(session: &Session) -> Vec<WeekDay> {
    crate::forms::week_days(
        &session.cfg,
        session
            .files
            .iter()
            .filter(|f| f.counts())
            .filter_map(|f| Some((&f.judged.activities[..], f.judged.day()?))),
    )
}

/// The day-by-day lines `dangan check` prints; a day without evidence is flagged.
pub fn write_week(out: &mut impl Write, days: &[WeekDay]) -> std::io::Result<()> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(());
    };
    let empty = days.iter().filter(|d| d.is_empty()).count();
    writeln!(
        out,
        "活动周逐日（{}）：{}",
        crate::forms::text::span(first.date, last.date),
        if empty == 0 {
            "每天都有活动材料".to_string()
        } else {
            format!("{empty} 天没有活动材料")
        }
    )?;
    for d in days {
        writeln!(
            out,
            "  {}{} {}",
            if d.is_empty() { "⚠ " } else { "" },
            d.label(),
            d.text()
        )?;
    }
    Ok(())
}

pub fn week_json(days: &[WeekDay]) -> serde_json::Value {
    serde_json::Value::Array(
        days.iter()
            .map(|d| {
                serde_json::json!({
                    "date": d.date.to_string(),
                    "activities": d.activities.iter().map(|(a, n)| serde_json::json!({"activity": a, "files": n})).collect::<Vec<_>>(),
                    "empty": d.is_empty(),
                })
            })
            .collect(),
    )
}

pub fn json(result: &CheckResult) -> serde_json::Value {
    serde_json::json!({
        "owed": result.owed(),
        "not_due": result.not_due(),
        "unassigned": result.unassigned,
        "missing": result.missing.iter().map(|m| serde_json::json!({
            "department": m.department,
            "activity": m.activity,
            "dates": m.dates,
            "materials": m.materials,
            "status": match m.status { materials::Status::Owed => "owed", materials::Status::NotDue => "not_due" },
        })).collect::<Vec<_>>(),
    })
}

pub fn run(common: &Common, args: &CheckArgs) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive_dir(), "check", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let (result, csv) = steps::write_materials(common, &session.view(), args.encoding)?;
    let days = week(&session);
    let mut out = std::io::stdout().lock();
    if common.json {
        let mut v = json(&result);
        if let Some(o) = v.as_object_mut() {
            o.insert("week".into(), week_json(&days));
        }
        writeln!(out, "{v}")?;
    } else if !common.quiet {
        materials::write_text(&mut out, &result)?;
        writeln!(out)?;
        write_week(&mut out, &days)?;
        writeln!(out)?;
        writeln!(out, "已写入 {}", csv.path.display())?;
    }
    Ok(EXIT_OK)
}
