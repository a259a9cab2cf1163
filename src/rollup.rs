//! `dangan rollup`: several institutions' 情况统计表 added into one table (a city's, or the
//! province's), one row per institution plus a 合计 row.
//!
//! Reads our own CSV (UTF-8 with or without BOM, or GB18030) and XLSX, and XLSX filled by hand
//! in the same layout: the header row is found by its column names anywhere in the first rows,
//! the two-row header and the merged 活动周媒体报道数 are tolerated. The 合计 coverage is
//! recomputed from the summed students over the summed enrolment, never averaged: enrolment
//! comes from an enrolment file (机构, 在校生总数) or else is estimated from each row's students
//! and rounded rate, and the result is then marked （估算）.
//!
//! Never modifies its inputs; writes only `out`, through a temporary file and a rename. Reads
//! only the first rows and columns of a sheet and refuses oversized files, because a sheet
//! that a person sends in cannot be trusted with the whole memory.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{DataRef, Reader, Xlsx};
use chrono::Datelike;

use crate::output::{
    self, CsvEncoding, OutputError, TABLE_HEADERS, TOTAL, decode_csv, table_csv, write_atomic,
};
use crate::tally::{Coverage, ProvincialRow};
use crate::text::{clean_cell, match_key};

/// Input files larger than this are refused: a one-row table is a few kilobytes.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;
/// Rows and columns of a sheet that are looked at.
const MAX_ROWS: usize = 2_000;
const MAX_COLS: usize = 40;
/// Cells read from one xlsx sheet before giving up on the rest.
const MAX_CELLS: usize = 200_000;
/// An xlsx whose parts claim to unpack to more than this is refused (a zip bomb).
const MAX_UNPACKED: u64 = 256 << 20;

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

/// A cell as read from either format.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Empty,
    Text(String),
    Num(f64),
}

impl V {
    fn text(&self) -> String {
        match self {
            V::Empty => String::new(),
            V::Text(s) => clean_cell(s),
            V::Num(f) => format!("{f}"),
        }
    }
    fn is_blank(&self) -> bool {
        match self {
            V::Empty => true,
            V::Text(s) => match_key(s).is_empty(),
            V::Num(_) => false,
        }
    }
}

type Grid = Vec<Vec<V>>;

fn read_capped(path: &Path) -> Result<Vec<u8>, RollupError> {
    let read = |source| RollupError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
    if size > MAX_INPUT_BYTES {
        return Err(RollupError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: MAX_INPUT_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    Ok(bytes)
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn csv_grid(bytes: &[u8]) -> Grid {
    let text = decode_csv(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut grid = Vec::new();
    for rec in r.records().take(MAX_ROWS) {
        // A malformed line (bad quoting) is kept as an empty row: the rest still reads.
        let row = match rec {
            Ok(rec) => rec
                .iter()
                .take(MAX_COLS)
                .map(|s| {
                    if s.trim().is_empty() {
                        V::Empty
                    } else {
                        V::Text(s.to_string())
                    }
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        grid.push(row);
    }
    grid
}

/// Every sheet of an xlsx, first rows and columns only.
fn xlsx_grids(path: &Path, bytes: Vec<u8>) -> Result<Vec<Grid>, RollupError> {
    let bad = |reason: String| RollupError::Xlsx {
        path: path.to_path_buf(),
        reason,
    };
    {
        let mut zip = zip::ZipArchive::new(Cursor::new(&bytes[..]))
            .map_err(|e| bad(format!("不是 zip 格式（{e}）")))?;
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let f = zip
                .by_index_raw(i)
                .map_err(|e| bad(format!("zip 目录损坏（{e}）")))?;
            total = total.saturating_add(f.size());
        }
        if total > MAX_UNPACKED {
            return Err(bad(format!("解压后超过 {MAX_UNPACKED} 字节，疑为压缩炸弹")));
        }
    }
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| bad(format!("无法打开（{e}）")))?;
    let mut grids = Vec::new();
    for name in book.sheet_names() {
        let mut reader = book
            .worksheet_cells_reader(&name)
            .map_err(|e| bad(format!("无法读取表“{name}”（{e}）")))?;
        let mut grid: Grid = Vec::new();
        let mut seen = 0usize;
        while let Some(cell) = reader
            .next_cell()
            .map_err(|e| bad(format!("表“{name}”损坏（{e}）")))?
        {
            seen += 1;
            if seen > MAX_CELLS {
                break;
            }
            let (r, c) = cell.get_position();
            let (r, c) = (r as usize, c as usize);
            if r >= MAX_ROWS || c >= MAX_COLS {
                continue;
            }
            let v = match cell.get_value() {
                DataRef::Empty => V::Empty,
                DataRef::String(s) => V::Text(s.clone()),
                DataRef::SharedString(s) => V::Text((*s).to_string()),
                DataRef::Int(i) => V::Num(*i as f64),
                DataRef::Float(f) => V::Num(*f),
                DataRef::Bool(b) => V::Text(b.to_string()),
                DataRef::DateTime(d) => V::Num(d.as_f64()),
                DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => V::Text(s.clone()),
                DataRef::Error(e) => V::Text(format!("#{e}")),
            };
            if grid.len() <= r {
                grid.resize_with(r + 1, Vec::new);
            }
            let row = &mut grid[r];
            if row.len() <= c {
                row.resize(c + 1, V::Empty);
            }
            row[c] = v;
        }
        grids.push(grid);
    }
    Ok(grids)
}

/// Which of [`TABLE_HEADERS`] a header cell names, by the words that tell them apart (so that
/// line breaks, half-width parentheses and small wording differences still match).
fn column_of(header: &str) -> Option<usize> {
    let k = match_key(header);
    if k.is_empty() {
        return None;
    }
    if let Some(i) = TABLE_HEADERS.iter().position(|h| match_key(h) == k) {
        return Some(i);
    }
    let has = |w: &str| k.contains(w);
    Some(if has("覆盖率") {
        4
    } else if has("省级") {
        8
    } else if has("市(州)级") || has("市州级") || has("市级") {
        9
    } else if has("县(区)级") || has("县级") || has("区级") {
        10
    } else if has("观摩") || has("体验") {
        7
    } else if has("总人数") {
        6
    } else if has("企业") {
        5
    } else if has("学生") {
        3
    } else if has("教师") {
        2
    } else if has("职业学校") || has("技工院校") {
        if k.ends_with('数') { 1 } else { 0 }
    } else if has("市(州)/")
        || [
            "机构",
            "机构名称",
            "学校",
            "学校名称",
            "单位",
            "单位名称",
            "名称",
            "市(州)",
        ]
        .contains(&k.as_str())
    {
        0
    } else {
        return None;
    })
}

/// The header of a sheet: (row of the first header line, rows the header takes, column of
/// each of [`TABLE_HEADERS`]).
fn find_header(grid: &Grid) -> Option<(usize, usize, [Option<usize>; 11])> {
    for (i, row) in grid.iter().enumerate().take(30) {
        let mut cols: [Option<usize>; 11] = [None; 11];
        for (c, v) in row.iter().enumerate() {
            if let V::Text(s) = v
                && let Some(col) = column_of(s)
                && cols[col].is_none()
            {
                cols[col] = Some(c);
            }
        }
        if cols[0].is_none() || cols.iter().flatten().count() < 4 {
            continue;
        }
        // A second header line: the names under a merged 活动周媒体报道数.
        let mut height = 1;
        if let Some(next) = grid.get(i + 1) {
            let mut added = false;
            for (c, v) in next.iter().enumerate() {
                if let V::Text(s) = v
                    && let Some(col) = column_of(s)
                    && cols[col].is_none()
                    && !cols.contains(&Some(c))
                {
                    cols[col] = Some(c);
                    added = true;
                }
            }
            let name_blank = cols[0].and_then(|c| next.get(c)).is_none_or(V::is_blank);
            if added || name_blank {
                height = 2;
            }
        }
        return Some((i, height, cols));
    }
    None
}

/// A year written in the first rows (`2025 年职业教育活动周情况统计表`).
fn year_in(grid: &Grid) -> Option<i32> {
    for row in grid.iter().take(5) {
        for v in row {
            let t = match_key(&v.text());
            if !t.contains("统计表") {
                continue;
            }
            if let Some(pos) = t.find('年') {
                let digits: String = t[..pos]
                    .chars()
                    .rev()
                    .take_while(char::is_ascii_digit)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                if digits.len() == 4 {
                    return digits.parse().ok();
                }
            }
        }
    }
    None
}

/// A count cell: a whole non-negative number. Blank, `—`, `-`, `/`, `无` are 0 (with a warning
/// by the caller). `Err` carries the text for the message.
fn parse_count(v: &V) -> Result<Option<u64>, String> {
    match v {
        V::Empty => Ok(None),
        V::Num(f) => {
            if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15 {
                Ok(Some(*f as u64))
            } else {
                Err(format!("{f}"))
            }
        }
        V::Text(s) => {
            let k: String = match_key(s).chars().filter(|c| *c != ',').collect();
            if k.is_empty() || ["—", "-", "/", "无", "——"].contains(&k.as_str()) {
                return Ok(None);
            }
            let int = k
                .strip_suffix(".0")
                .or_else(|| k.strip_suffix(".00"))
                .unwrap_or(&k);
            int.parse::<u64>().map(Some).map_err(|_| clean_cell(s))
        }
    }
}

/// A coverage cell as hundredths of a percent (`13.13%` → 1313). A number without `%` is a
/// fraction when at most 1 (a percentage-formatted cell holds 0.1313), else a percentage.
fn parse_rate(v: &V) -> Result<Option<u64>, String> {
    let percent = match v {
        V::Empty => return Ok(None),
        V::Num(f) => {
            if *f <= 1.0 {
                f * 100.0
            } else {
                *f
            }
        }
        V::Text(s) => {
            let k = match_key(s)
                .replace("(估算)", "")
                .replace("估算", "")
                .replace('％', "%");
            if k.is_empty() || ["—", "-", "/", "——"].contains(&k.as_str()) {
                return Ok(None);
            }
            let (num, pct) = match k.strip_suffix('%') {
                Some(n) => (n, true),
                None => (k.as_str(), false),
            };
            let f: f64 = num.parse().map_err(|_| clean_cell(s))?;
            if pct || f > 1.0 { f } else { f * 100.0 }
        }
    };
    if !percent.is_finite() || percent < 0.0 {
        return Err(v.text());
    }
    Ok(Some((percent * 100.0).round() as u64))
}

fn rate_text(hundredths: u64) -> String {
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// One institution's row as read, with what is known of its enrolment.
struct ReadRow {
    row: ProvincialRow,
    rate: Option<u64>,
    path: PathBuf,
}

fn read_rows(
    path: &Path,
    warnings: &mut Vec<String>,
    year: &mut Option<i32>,
) -> Result<Vec<ReadRow>, RollupError> {
    let bytes = read_capped(path)?;
    let grids = match extension(path).as_str() {
        "csv" | "txt" => vec![csv_grid(&bytes)],
        "xlsx" | "xlsm" => xlsx_grids(path, bytes)?,
        _ => {
            return Err(RollupError::Unsupported {
                path: path.to_path_buf(),
            });
        }
    };
    let Some((grid, (start, height, cols))) =
        grids.iter().find_map(|g| find_header(g).map(|h| (g, h)))
    else {
        return Err(RollupError::NoHeader {
            path: path.to_path_buf(),
        });
    };
    if year.is_none() {
        *year = year_in(grid);
    }
    for (i, c) in cols.iter().enumerate() {
        if c.is_none() && i != 4 {
            return Err(RollupError::MissingColumn {
                path: path.to_path_buf(),
                column: TABLE_HEADERS[i],
            });
        }
    }
    let shown = path.display();
    let mut out = Vec::new();
    for (r, line) in grid.iter().enumerate().skip(start + height) {
        let rownum = r + 1;
        let cell = |i: usize| -> V {
            cols[i]
                .and_then(|c| line.get(c))
                .cloned()
                .unwrap_or(V::Empty)
        };
        let name = cell(0).text();
        let key = match_key(&name);
        let counts_blank = (1..11).all(|i| cell(i).is_blank());
        if key.is_empty() || counts_blank {
            if !key.is_empty() && !key.starts_with("填表说明") && !key.starts_with("注") {
                warnings.push(format!(
                    "{shown} 第 {rownum} 行：“{name}”没有任何数字，已跳过"
                ));
            }
            continue;
        }
        if ["合计", "总计", "小计", "合计:"].contains(&key.as_str()) {
            warnings.push(format!(
                "{shown} 第 {rownum} 行：原有的“{name}”行不汇总，合计重新计算"
            ));
            continue;
        }
        let mut n = [0u64; 11];
        let mut blanks = Vec::new();
        for (i, slot) in n.iter_mut().enumerate().skip(1) {
            if i == 4 {
                continue;
            }
            match parse_count(&cell(i)) {
                Ok(Some(v)) => *slot = v,
                Ok(None) => blanks.push(TABLE_HEADERS[i]),
                Err(value) => {
                    return Err(RollupError::BadNumber {
                        path: path.to_path_buf(),
                        row: rownum,
                        column: TABLE_HEADERS[i],
                        value,
                    });
                }
            }
        }
        if !blanks.is_empty() {
            warnings.push(format!(
                "{shown} 第 {rownum} 行（{name}）：{} 为空，按 0 计",
                blanks.join("、")
            ));
        }
        let rate = parse_rate(&cell(4)).map_err(|value| RollupError::BadRate {
            path: path.to_path_buf(),
            row: rownum,
            value,
        })?;
        out.push(ReadRow {
            row: ProvincialRow {
                institution: name,
                schools: n[1],
                teachers: n[2],
                students: n[3],
                coverage: match rate {
                    Some(h) => Coverage::Given(rate_text(h)),
                    None => Coverage::Unknown,
                },
                enterprises: n[5],
                participants: n[6],
                experience_projects: n[7],
                media_provincial: n[8],
                media_city: n[9],
                media_county: n[10],
            },
            rate,
            path: path.to_path_buf(),
        });
    }
    if out.is_empty() {
        return Err(RollupError::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

/// The enrolment file: columns 机构 (or 机构名称/学校/单位) and 在校生总数 (or 在校生数/在校生).
fn read_enrolment(path: &Path) -> Result<BTreeMap<String, (String, u64)>, RollupError> {
    let bad = |reason: String| RollupError::Enrolment {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = read_capped(path)?;
    let grid = csv_grid(&bytes);
    let is_name = |k: &str| {
        [
            "机构",
            "机构名称",
            "学校",
            "学校名称",
            "单位",
            "单位名称",
            "名称",
        ]
        .contains(&k)
            || k.starts_with("市(州)/")
    };
    let is_count = |k: &str| k.starts_with("在校生");
    let header = grid.iter().enumerate().take(10).find_map(|(i, row)| {
        let keys: Vec<String> = row.iter().map(|v| match_key(&v.text())).collect();
        let name = keys.iter().position(|k| is_name(k))?;
        let count = keys.iter().position(|k| is_count(k))?;
        Some((i, name, count))
    });
    let Some((start, name_col, count_col)) = header else {
        return Err(bad("找不到“机构”和“在校生总数”两列".into()));
    };
    let mut map = BTreeMap::new();
    for (r, row) in grid.iter().enumerate().skip(start + 1) {
        let name = row.get(name_col).map(V::text).unwrap_or_default();
        if match_key(&name).is_empty() {
            continue;
        }
        let count = row.get(count_col).cloned().unwrap_or(V::Empty);
        let n = match parse_count(&count) {
            Ok(Some(n)) => n,
            _ => {
                return Err(bad(format!(
                    "第 {} 行（{name}）的在校生总数“{}”不是正整数",
                    r + 1,
                    count.text()
                )));
            }
        };
        if map.insert(match_key(&name), (name.clone(), n)).is_some() {
            return Err(bad(format!("“{name}”出现了两次")));
        }
    }
    Ok(map)
}

fn round_div(num: u128, den: u128) -> u128 {
    (2 * num + den) / (2 * den)
}

/// Adds the tables in `inputs` into `out` (`.csv` in `enc`, or `.xlsx` dated from `epoch`).
pub fn rollup(
    inputs: &[PathBuf],
    enrolment: Option<&Path>,
    out: &Path,
    enc: CsvEncoding,
    epoch: i64,
) -> Result<RollupReport, RollupError> {
    if inputs.is_empty() {
        return Err(RollupError::NoInputs);
    }
    let out_kind = extension(out);
    if out_kind != "csv" && out_kind != "xlsx" {
        return Err(RollupError::OutputKind {
            path: out.to_path_buf(),
        });
    }
    let mut warnings = Vec::new();
    let mut year = None;
    let mut rows: Vec<ReadRow> = Vec::new();
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for path in inputs {
        for r in read_rows(path, &mut warnings, &mut year)? {
            let key = match_key(&r.row.institution);
            if let Some(first) = seen.get(&key) {
                return Err(RollupError::Duplicate {
                    name: r.row.institution.clone(),
                    first: first.clone(),
                    second: r.path.clone(),
                });
            }
            seen.insert(key, r.path.clone());
            rows.push(r);
        }
    }
    let enrolled = enrolment.map(read_enrolment).transpose()?;
    if let Some(map) = &enrolled {
        for (key, (name, _)) in map {
            if !seen.contains_key(key) {
                warnings.push(format!("在校生文件中的“{name}”不在汇总的表中"));
            }
        }
    }

    // Each row's enrolment: from the file, else estimated from its rounded rate.
    let mut sum_enrolled: u128 = 0;
    let mut estimated = false;
    let mut missing = Vec::new();
    for r in &mut rows {
        let key = match_key(&r.row.institution);
        let students = r.row.students;
        match enrolled.as_ref().and_then(|m| m.get(&key)) {
            Some(&(_, n)) if n > 0 => {
                sum_enrolled += u128::from(n);
                r.row.coverage = Coverage::Exact {
                    students,
                    enrolled: n,
                };
            }
            _ => {
                if enrolled.is_some() {
                    warnings.push(format!(
                        "在校生文件中没有“{}”的在校生总数，按其覆盖率估算",
                        r.row.institution
                    ));
                }
                match r.rate {
                    Some(h) if h > 0 => {
                        estimated = true;
                        sum_enrolled += round_div(u128::from(students) * 10_000, u128::from(h));
                    }
                    _ => missing.push(r.row.institution.clone()),
                }
            }
        }
    }
    let sum = |f: fn(&ProvincialRow) -> u64| rows.iter().map(|r| f(&r.row)).sum::<u64>();
    let students = sum(|r| r.students);
    let coverage = if !missing.is_empty() {
        warnings.push(format!(
            "{} 的在校生总数无从得知（没有在校生文件，覆盖率也为空或为 0），合计覆盖率不计算",
            missing.join("、")
        ));
        Coverage::Unknown
    } else {
        let enrolled = u64::try_from(sum_enrolled).unwrap_or(u64::MAX);
        if enrolled == 0 {
            Coverage::Unknown
        } else if estimated {
            Coverage::Estimated { students, enrolled }
        } else {
            Coverage::Exact { students, enrolled }
        }
    };
    let total = ProvincialRow {
        institution: TOTAL.to_string(),
        schools: sum(|r| r.schools),
        teachers: sum(|r| r.teachers),
        students,
        coverage,
        enterprises: sum(|r| r.enterprises),
        participants: sum(|r| r.participants),
        experience_projects: sum(|r| r.experience_projects),
        media_provincial: sum(|r| r.media_provincial),
        media_city: sum(|r| r.media_city),
        media_county: sum(|r| r.media_county),
    };

    let mut table: Vec<ProvincialRow> = rows.into_iter().map(|r| r.row).collect();
    table.push(total.clone());
    let bytes = if out_kind == "csv" {
        table_csv(&table, enc)
    } else {
        let year = year.unwrap_or_else(|| {
            chrono::DateTime::from_timestamp(epoch, 0)
                .map(|d| d.year())
                .unwrap_or(1980)
        });
        output::xlsx::table_xlsx(&table, year, epoch).map_err(|e| RollupError::WriteXlsx {
            path: out.to_path_buf(),
            reason: e.to_string(),
        })?
    };
    write_atomic(out, &bytes)?;
    table.pop();
    Ok(RollupReport {
        output: out.to_path_buf(),
        coverage_estimated: matches!(total.coverage, Coverage::Estimated { .. }),
        institutions: table,
        total,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_recognised_in_any_width() {
        for (i, h) in TABLE_HEADERS.iter().enumerate() {
            assert_eq!(column_of(h), Some(i), "{h}");
        }
        assert_eq!(column_of("市(州)级媒体\n报道数"), Some(9));
        assert_eq!(column_of("参与活动的\n职业学校(含技工院校)数"), Some(1));
        assert_eq!(column_of("活动周媒体报道数"), None);
        assert_eq!(column_of("机构名称"), Some(0));
    }

    #[test]
    fn a_csv_export_of_the_form_keeps_its_title_and_two_header_rows() {
        let mut text = String::from("2025 年职业教育活动周情况统计表,,,,,,,,,,\n");
        text.push_str("填报单位（盖章）： 填报人： 联系电话：,,,,,,,,,,\n");
        text.push_str(&TABLE_HEADERS[..8].join(","));
        text.push_str(",活动周媒体报道数,,\n,,,,,,,,");
        text.push_str(&TABLE_HEADERS[8..].join(","));
        text.push_str("\n甲学院,1,2,3,25.00%,4,5,6,7,8,9\n");
        let grid = csv_grid(text.as_bytes());
        let (start, height, cols) = find_header(&grid).unwrap();
        assert_eq!((start, height), (2, 2));
        assert_eq!(cols, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(Some));
        assert_eq!(year_in(&grid), Some(2025));
    }

    #[test]
    fn rates_and_counts() {
        assert_eq!(parse_rate(&V::Text("13.13%".into())), Ok(Some(1313)));
        assert_eq!(
            parse_rate(&V::Text("13.13%（估算）".into())),
            Ok(Some(1313))
        );
        assert_eq!(parse_rate(&V::Num(0.1313)), Ok(Some(1313)));
        assert_eq!(parse_rate(&V::Text("—".into())), Ok(None));
        assert!(parse_rate(&V::Text("很多".into())).is_err());
        assert_eq!(parse_count(&V::Num(12.0)), Ok(Some(12)));
        assert_eq!(parse_count(&V::Text(" 1,200 ".into())), Ok(Some(1200)));
        assert!(parse_count(&V::Num(1.5)).is_err());
        assert!(parse_count(&V::Text("十二".into())).is_err());
    }
}
