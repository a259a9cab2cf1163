//! `dangan check`: write archive/统计/材料检查.csv — what each department still owes — and
//! print it grouped by department, ready to paste into a message.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Session;
use crate::check::{self, CHECK_CSV, CheckResult};
use crate::cli::{Common, EXIT_OK};
use crate::output::{CsvEncoding, write_atomic};

#[derive(Args, Clone)]
pub struct CheckArgs {
    /// CSV 编码：utf8（带 BOM，Excel 直接打开）或 gb18030
    #[arg(long, default_value = "utf8", value_parser = super::stats::parse_encoding)]
    pub encoding: CsvEncoding,
}

/// Checks the catalog against the activity catalog as of the epoch's day and writes the CSV.
pub fn write(
    common: &Common,
    session: &Session,
    enc: CsvEncoding,
) -> anyhow::Result<(CheckResult, PathBuf)> {
    let result = session.check(session.today());
    let dir = common.archive.join("统计");
    std::fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
    let path = dir.join(CHECK_CSV);
    write_atomic(&path, &check::check_csv(&result, enc))?;
    Ok((result, path))
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
            "status": match m.status { check::Status::Owed => "owed", check::Status::NotDue => "not_due" },
        })).collect::<Vec<_>>(),
    })
}

pub fn run(common: &Common, args: &CheckArgs) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive, "check", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let (result, path) = write(common, &session, args.encoding)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", json(&result))?;
    } else if !common.quiet {
        check::write_text(&mut out, &result)?;
        writeln!(out)?;
        writeln!(out, "已写入 {}", path.display())?;
    }
    Ok(EXIT_OK)
}
