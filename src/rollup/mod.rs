//! `dangan rollup`: several institutions' 情况统计表 added into one table (a city's, or the
//! province's), one row per institution plus a 合计 row.
//!
//! Three steps:
//!
//! - `read.rs`: each input through the sheet stage (`sheet::read_cells`: its limits, its zip
//!   check, its child process, its cell values), as cells by position. Our own CSV (UTF-8 with
//!   or without BOM, or GB18030) and XLSX, and XLSX filled by hand in the same layout: the
//!   header row is found by its column names anywhere in the first rows, the two-row header
//!   and the merged 活动周媒体报道数 are tolerated. The enrolment file likewise.
//! - `sum.rs`: pure. The 合计 coverage is recomputed from the summed students over the summed
//!   enrolment, never averaged: enrolment comes from an enrolment file (机构, 在校生总数) or
//!   else is estimated from each row's students and rounded rate, and the result is then
//!   marked （估算）.
//! - `write.rs`: the table as CSV or XLSX bytes, written through a temporary file and a rename.
//!
//! Never modifies its inputs; writes only `out`. Reads only the first rows and columns of a
//! sheet (`read::WINDOW`) and refuses oversized files, because a sheet that a person sends
//! in cannot be trusted with the whole memory: a workbook the import would refuse (a zip bomb,
//! a password, a reader that crashes) is refused here by the same checks.

mod read;
mod sum;
mod write;

use std::path::{Path, PathBuf};

use crate::output::{CsvEncoding, OutputError};
use crate::tally::ProvincialRow;

pub use read::MAX_INPUT_BYTES;

/// What [`rollup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupReport {
    pub output: PathBuf,
    /// One row per institution, in input order.
    pub institutions: Vec<ProvincialRow>,
    /// The 合计 row.
    pub total: ProvincialRow,
    /// Whether the 合计 coverage rests on estimated enrolment.
    pub coverage_estimated: bool,
    pub warnings: Vec<String>,
}

/// Why a rollup could not be made. Nothing is written when one occurs.
#[derive(Debug, thiserror::Error)]
pub enum RollupError {
    #[error("没有要汇总的情况统计表")]
    NoInputs,
    #[error("无法读取 {path}：{source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} 有 {size} 字节，不像一张情况统计表（上限 {limit} 字节），未汇总")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}：只能汇总 .csv 或 .xlsx 文件，请另存为其中一种")]
    Unsupported { path: PathBuf },
    #[error("{path} 不是可读的 xlsx 文件：{reason}")]
    Xlsx { path: PathBuf, reason: String },
    #[error("{path} 不是可读的 CSV 文件：{reason}")]
    Csv { path: PathBuf, reason: String },
    #[error(
        "{path}：找不到情况统计表的表头（应有“市（州）/职业学校（含技工院校）”“参与活动的学生数”等列）"
    )]
    NoHeader { path: PathBuf },
    #[error("{path}：表头缺少“{column}”列")]
    MissingColumn { path: PathBuf, column: &'static str },
    #[error("{path} 第 {row} 行“{column}”：“{value}”不是非负整数，请改正后再汇总")]
    BadNumber {
        path: PathBuf,
        row: usize,
        column: &'static str,
        value: String,
    },
    #[error("{path} 第 {row} 行：覆盖率“{value}”无法识别，请写成 12.34% 的形式")]
    BadRate {
        path: PathBuf,
        row: usize,
        value: String,
    },
    #[error("{path}：表中没有任何机构的数据行")]
    NoRows { path: PathBuf },
    #[error("机构“{name}”出现了两次（{first} 和 {second}），请去掉重复的表再汇总")]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("在校生文件 {path}：{reason}")]
    Enrolment { path: PathBuf, reason: String },
    #[error("{path}：输出文件的扩展名应为 .csv 或 .xlsx")]
    OutputKind { path: PathBuf },
    #[error("无法生成表格 {path}：{reason}")]
    WriteXlsx { path: PathBuf, reason: String },
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// A path's extension, lower-case (`""` when it has none).
fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Adds the tables in `inputs` into `out` (`.csv` in `enc`, or `.xlsx` dated from `epoch`),
/// reading them in this process (under the sheet stage's default limits).
pub fn rollup(
    inputs: &[PathBuf],
    enrolment: Option<&Path>,
    out: &Path,
    enc: CsvEncoding,
    epoch: i64,
) -> Result<RollupReport, RollupError> {
    rollup_with(inputs, enrolment, out, enc, epoch, None)
}

/// [`rollup`], reading each input in the sheet child process of `exe` (the dangan binary)
/// when it is given, as the import reads sheets.
pub fn rollup_with(
    inputs: &[PathBuf],
    enrolment: Option<&Path>,
    out: &Path,
    enc: CsvEncoding,
    epoch: i64,
    exe: Option<&Path>,
) -> Result<RollupReport, RollupError> {
    if inputs.is_empty() {
        return Err(RollupError::NoInputs);
    }
    let kind = write::OutKind::of(out)?;
    let mut tables = sum::Institutions::default();
    for path in inputs {
        tables.add(read::table(path, exe)?)?;
    }
    let enrolled = enrolment.map(|p| read::enrolment(p, exe)).transpose()?;
    let summed = tables.sum(enrolled.as_ref());
    write::write(out, kind, &summed, enc, epoch)?;
    Ok(RollupReport {
        output: out.to_path_buf(),
        coverage_estimated: summed.coverage_estimated(),
        institutions: summed.institutions,
        total: summed.total,
        warnings: summed.warnings,
    })
}
