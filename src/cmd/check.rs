//! `dangan check`: write archive/统计/材料检查.csv — what each department still owes — and
//! print it grouped by department, ready to paste into a message.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::catalog::Catalog;
use crate::check::{self, CHECK_CSV, CheckResult};
use crate::cli::{Common, EXIT_OK};
use crate::config::Config;
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
    catalog: &Catalog,
    cfg: &Config,
    enc: CsvEncoding,
) -> anyhow::Result<(CheckResult, PathBuf)> {
    let today = crate::report::epoch_date(super::epoch(), cfg);
    let result = check::run_check(&catalog.conn, cfg, today).context("读取目录失败")?;
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
    let _lock = crate::lock::RunLock::acquire(&common.archive, "check")?;
    let cfg = super::load_config(common)?;
    let catalog = Catalog::open(&common.archive).context("无法打开目录数据库")?;
    let (result, path) = write(common, &catalog, &cfg, args.encoding)?;
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
