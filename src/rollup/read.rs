//! Reading the rollup's inputs: each table, and the enrolment file, through the sheet stage as
//! cells by position ([`sheet::read_cells`]: the import's limits, zip check and child process,
//! the sheet's [`Value`]s), then the header found by its column names and each row's cells
//! taken as counts and a rate. A file the sheet stage could not read to the end of the window
//! is refused: a table cut short would give a total that is silently too small.

use std::fs::File;
use std::path::Path;

use super::RollupError;
use super::sum::{Enrolment, InstitutionRow, Table};
use crate::model::Format;
use crate::output::TABLE_HEADERS;
use crate::sheet::{self, CellSheet, Value, Window};
use crate::tally::{Coverage, ProvincialRow};
use crate::text::{clean_cell, match_key};

/// Input files larger than this are refused: a one-row table is a few kilobytes.
pub const MAX_INPUT_BYTES: u64 = 16 << 20;
/// The rows and columns of a sheet that are looked at.
pub(super) const WINDOW: Window = Window {
    rows: 2_000,
    columns: 40,
};

/// A sheet's cells, `grid[row][column]`.
type Grid = [Vec<Value>];

/// How an error value (`#DIV/0!`, `#N/A`) is shown: the sheet stage keeps no more of it.
const ERROR_SHOWN: &str = "#错误值";

/// Header words that name the institution column (`机构`, `学校名称`…), after [`match_key`].
const NAME_HEADERS: [&str; 7] = [
    "机构",
    "机构名称",
    "学校",
    "学校名称",
    "单位",
    "单位名称",
    "名称",
];

/// A cell as a person reads it: text cleaned, a number as written (`12`, `1.5`).
fn text(v: &Value) -> String {
    match v {
        Value::Number(f) => format!("{f}"),
        Value::Bool(b) => b.to_string(),
        Value::Error => ERROR_SHOWN.to_string(),
        other => sheet::value::text_of(other).unwrap_or_default(),
    }
}

/// Nothing written, or only spaces.
fn is_blank(v: &Value) -> bool {
    match v {
        Value::Empty => true,
        Value::Text(s) => match_key(s).is_empty(),
        _ => false,
    }
}

/// Opens `path` and refuses it when it is larger than [`MAX_INPUT_BYTES`]: what cannot be
/// opened is named here, with its reason, before the sheet stage sees it.
fn check_size(path: &Path) -> Result<(), RollupError> {
    let read = |source| RollupError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = File::open(path).and_then(|f| f.metadata()).map_err(read)?;
    if meta.is_dir() {
        return Err(read(std::io::ErrorKind::IsADirectory.into()));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(RollupError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

/// The sheets of `path` as cells; the file's error, or the first sheet that could not be read
/// to the end of the window, through `bad`.
fn cells(
    path: &Path,
    format: Format,
    exe: Option<&Path>,
    bad: impl Fn(String) -> RollupError,
) -> Result<Vec<CellSheet>, RollupError> {
    let book = sheet::read_cells(path, format, WINDOW, exe);
    if let Some(reason) = book.error {
        return Err(bad(reason));
    }
    if let Some(problem) = book.problems.first() {
        return Err(bad(problem.to_string()));
    }
    Ok(book.sheets)
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
    } else if has("市(州)/") || k == "市(州)" || NAME_HEADERS.contains(&k.as_str()) {
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
            if let Value::Text(s) = v
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
                if let Value::Text(s) = v
                    && let Some(col) = column_of(s)
                    && cols[col].is_none()
                    && !cols.contains(&Some(c))
                {
                    cols[col] = Some(c);
                    added = true;
                }
            }
            let name_blank = cols[0].and_then(|c| next.get(c)).is_none_or(is_blank);
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
            let t = match_key(&text(v));
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
fn parse_count(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Empty => Ok(None),
        Value::Number(f) => {
            if f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15 {
                Ok(Some(*f as u64))
            } else {
                Err(format!("{f}"))
            }
        }
        Value::Text(s) => {
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
        // A date, a time, TRUE/FALSE, an error value: not a count.
        other => Err(text(other)),
    }
}

/// A coverage cell as hundredths of a percent (`13.13%` → 1313). A number without `%` is a
/// fraction when at most 1 (a percentage-formatted cell holds 0.1313), else a percentage.
fn parse_rate(v: &Value) -> Result<Option<u64>, String> {
    let percent = match v {
        Value::Empty => return Ok(None),
        Value::Number(f) => {
            if *f <= 1.0 {
                f * 100.0
            } else {
                *f
            }
        }
        Value::Text(s) => {
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
        other => return Err(text(other)),
    };
    if !percent.is_finite() || percent < 0.0 {
        return Err(text(v));
    }
    Ok(Some((percent * 100.0).round() as u64))
}

fn rate_text(hundredths: u64) -> String {
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// One input table: its institutions' rows, the year of its title and what was skipped.
pub(super) fn table(path: &Path, exe: Option<&Path>) -> Result<Table, RollupError> {
    check_size(path)?;
    let format = match super::extension(path).as_str() {
        "csv" | "txt" => Format::Csv,
        "xlsx" => Format::Xlsx,
        "xlsm" => Format::Xlsm,
        _ => {
            return Err(RollupError::Unsupported {
                path: path.to_path_buf(),
            });
        }
    };
    let sheets = cells(path, format, exe, |reason| match format {
        Format::Csv => RollupError::Csv {
            path: path.to_path_buf(),
            reason,
        },
        _ => RollupError::Xlsx {
            path: path.to_path_buf(),
            reason,
        },
    })?;
    let Some((grid, (start, height, cols))) = sheets
        .iter()
        .find_map(|s| find_header(&s.rows).map(|h| (&s.rows, h)))
    else {
        return Err(RollupError::NoHeader {
            path: path.to_path_buf(),
        });
    };
    let year = year_in(grid);
    for (i, c) in cols.iter().enumerate() {
        if c.is_none() && i != 4 {
            return Err(RollupError::MissingColumn {
                path: path.to_path_buf(),
                column: TABLE_HEADERS[i],
            });
        }
    }
    let shown = path.display();
    let mut warnings = Vec::new();
    let mut out = Vec::new();
    for (r, line) in grid.iter().enumerate().skip(start + height) {
        let rownum = r + 1;
        let cell = |i: usize| cols[i].and_then(|c| line.get(c)).unwrap_or(&Value::Empty);
        let name = text(cell(0));
        let key = match_key(&name);
        let counts_blank = (1..11).all(|i| is_blank(cell(i)));
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
            match parse_count(cell(i)) {
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
        let rate = parse_rate(cell(4)).map_err(|value| RollupError::BadRate {
            path: path.to_path_buf(),
            row: rownum,
            value,
        })?;
        out.push(InstitutionRow {
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
    Ok(Table {
        rows: out,
        year,
        warnings,
    })
}

/// The enrolment file (a CSV whatever its name): columns 机构 (or 机构名称/学校/单位) and
/// 在校生总数 (or 在校生数/在校生).
pub(super) fn enrolment(path: &Path, exe: Option<&Path>) -> Result<Enrolment, RollupError> {
    let bad = |reason: String| RollupError::Enrolment {
        path: path.to_path_buf(),
        reason,
    };
    check_size(path)?;
    let sheets = cells(path, Format::Csv, exe, bad)?;
    let grid: &Grid = sheets.first().map_or(&[], |s| &s.rows);
    let is_name = |k: &str| NAME_HEADERS.contains(&k) || k.starts_with("市(州)/");
    let is_count = |k: &str| k.starts_with("在校生");
    let header = grid.iter().enumerate().take(10).find_map(|(i, row)| {
        let keys: Vec<String> = row.iter().map(|v| match_key(&text(v))).collect();
        let name = keys.iter().position(|k| is_name(k))?;
        let count = keys.iter().position(|k| is_count(k))?;
        Some((i, name, count))
    });
    let Some((start, name_col, count_col)) = header else {
        return Err(bad("找不到“机构”和“在校生总数”两列".into()));
    };
    let mut map = Enrolment::new();
    for (r, row) in grid.iter().enumerate().skip(start + 1) {
        let name = row.get(name_col).map(text).unwrap_or_default();
        if match_key(&name).is_empty() {
            continue;
        }
        let count = row.get(count_col).unwrap_or(&Value::Empty);
        let n = match parse_count(count) {
            Ok(Some(n)) => n,
            _ => {
                return Err(bad(format!(
                    "第 {} 行（{name}）的在校生总数“{}”不是正整数",
                    r + 1,
                    text(count)
                )));
            }
        };
        if map.insert(match_key(&name), (name.clone(), n)).is_some() {
            return Err(bad(format!("“{name}”出现了两次")));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CSV's cells as the sheet stage reads them.
    fn csv_grid(text: &str) -> Vec<Vec<Value>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("表.csv");
        std::fs::write(&path, text).unwrap();
        let book = sheet::read_cells(&path, Format::Csv, WINDOW, None);
        assert_eq!((book.error, book.problems), (None, vec![]));
        book.sheets.into_iter().next().unwrap().rows
    }

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
        let grid = csv_grid(&text);
        let (start, height, cols) = find_header(&grid).unwrap();
        assert_eq!((start, height), (2, 2));
        assert_eq!(cols, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(Some));
        assert_eq!(year_in(&grid), Some(2025));
    }

    #[test]
    fn rates_and_counts() {
        assert_eq!(parse_rate(&Value::Text("13.13%".into())), Ok(Some(1313)));
        assert_eq!(
            parse_rate(&Value::Text("13.13%（估算）".into())),
            Ok(Some(1313))
        );
        assert_eq!(parse_rate(&Value::Number(0.1313)), Ok(Some(1313)));
        assert_eq!(parse_rate(&Value::Text("—".into())), Ok(None));
        assert!(parse_rate(&Value::Text("很多".into())).is_err());
        assert_eq!(parse_count(&Value::Number(12.0)), Ok(Some(12)));
        assert_eq!(parse_count(&Value::Text(" 1,200 ".into())), Ok(Some(1200)));
        assert!(parse_count(&Value::Number(1.5)).is_err());
        assert!(parse_count(&Value::Text("十二".into())).is_err());
    }

    #[test]
    fn a_date_a_flag_or_an_error_value_is_no_count_and_says_what_it_was() {
        let day = chrono::NaiveDate::from_ymd_opt(2025, 5, 12).unwrap();
        let date = Value::DateTime(day.and_hms_opt(0, 0, 0).unwrap());
        assert_eq!(parse_count(&date), Err("2025-05-12".to_string()));
        assert_eq!(parse_rate(&date), Err("2025-05-12".to_string()));
        assert_eq!(parse_count(&Value::Bool(true)), Err("true".to_string()));
        assert_eq!(parse_count(&Value::Error), Err(ERROR_SHOWN.to_string()));
        // Not blank either: a row of error values is refused, not skipped.
        assert!(!is_blank(&Value::Error));
        assert!(is_blank(&Value::Text(" \u{3000}".into())));
    }
}
