//! `dangan rollup A.csv B.xlsx … --out FILE`: add several institutions' 情况统计表 into one
//! table with a 合计 row, coverage recomputed from summed students and enrolment.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Common, EXIT_OK};
use crate::output::CsvEncoding;

#[derive(Args)]
pub struct RollupArgs {
    /// 各机构的情况统计表（CSV 或 XLSX）
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// 输出文件（.csv 或 .xlsx）
    #[arg(long)]
    pub out: PathBuf,
    /// 在校生总数表（CSV：机构, 在校生总数）；没有时按各行覆盖率估算并标注“估算”
    #[arg(long)]
    pub enrolment: Option<PathBuf>,
    /// CSV 编码：utf8（带 BOM）或 gb18030
    #[arg(long, default_value = "utf8", value_parser = super::parse_encoding)]
    pub encoding: CsvEncoding,
}

pub fn run(common: &Common, args: &RollupArgs) -> anyhow::Result<i32> {
    // Each table is read in the sheet child of this binary, under the import's limits.
    let exe = std::env::current_exe().ok();
    let report = crate::rollup::rollup_with(
        &args.inputs,
        args.enrolment.as_deref(),
        &args.out,
        args.encoding,
        super::epoch(),
        exe.as_deref(),
    )?;
    let mut out = std::io::stdout().lock();
    if common.json {
        let rows: Vec<_> = report
            .institutions
            .iter()
            .chain(std::iter::once(&report.total))
            .map(crate::output::row_json)
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(rows))?;
        return Ok(EXIT_OK);
    }
    if !common.quiet {
        for w in &report.warnings {
            writeln!(out, "注意：{w}")?;
        }
        writeln!(
            out,
            "已汇总 {} 个机构，写入 {}{}",
            report.institutions.len(),
            report.output.display(),
            if report.coverage_estimated {
                "（合计覆盖率为估算）"
            } else {
                ""
            }
        )?;
    }
    Ok(EXIT_OK)
}
