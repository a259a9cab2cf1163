//! Which catalog entries make up a year's archive, and where each goes inside the bag:
//! `活动/<NN>-<活动>/<部门>/<YYYY-MM-DD>/<name>` or `未归类/<部门>/<name>`. Plain data in (the
//! catalog's versions, the config), plain data out; reads no bytes.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::catalog::Listed;
use crate::config::Config;

/// One catalog version chosen for the year.
#[derive(Debug, Clone)]
pub struct YearItem {
    /// Path under `data/` before names are made safe and unique (components as raw bytes).
    pub components: Vec<Vec<u8>>,
    pub listed: Listed,
    /// Withdrawn files are listed in 文件索引.csv only.
    pub withdrawn: bool,
}

/// The activity's year: its start date's (the period's for an activity without dates).
pub fn activity_year(cfg: &Config, name: &str) -> Option<i32> {
    use chrono::Datelike;
    cfg.activity(name).map(|a| a.range(cfg).start.year())
}

/// The folder of an activity: its place in the catalog, two digits, and its name.
pub fn activity_folder(cfg: &Config, name: &str) -> String {
    match cfg.activities.iter().position(|a| a.name == name) {
        Some(i) => format!("{:02}-{name}", i + 1),
        None => format!("99-{name}"),
    }
}

/// The current versions of year `year`: files of its activities (whatever their own date),
/// 未归类 files dated in it, and 未归类 undated files first imported in it.
/// `run_years` maps a run id to the year it started in.
pub fn select(
    cfg: &Config,
    versions: &[Listed],
    year: i32,
    run_years: &HashMap<i64, i32>,
) -> Vec<YearItem> {
    let mut out = Vec::new();
    for v in versions.iter().filter(|v| v.current) {
        let file_name: Vec<u8> = v
            .path_raw
            .rsplit(|b| *b == b'/')
            .next()
            .unwrap_or(&v.path_raw)
            .to_vec();
        let components = match &v.activity {
            Some(a) if cfg.activity(a).is_some() => {
                if activity_year(cfg, a) != Some(year) {
                    continue;
                }
                vec![
                    "活动".as_bytes().to_vec(),
                    activity_folder(cfg, a).into_bytes(),
                    v.department.clone().into_bytes(),
                    v.date
                        .clone()
                        .unwrap_or_else(|| "无日期".into())
                        .into_bytes(),
                    file_name,
                ]
            }
            _ => {
                let in_year = match &v.date {
                    Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map(|d| chrono::Datelike::year(&d) == year)
                        .unwrap_or(false),
                    None => run_years.get(&v.first_run) == Some(&year),
                };
                if !in_year {
                    continue;
                }
                vec![
                    "未归类".as_bytes().to_vec(),
                    v.department.clone().into_bytes(),
                    file_name,
                ]
            }
        };
        out.push(YearItem {
            components,
            listed: v.clone(),
            withdrawn: v.withdrawn,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(path: &str, activity: Option<&str>, date: Option<&str>, first_run: i64) -> Listed {
        Listed {
            path: path.into(),
            department: path.split('/').next().unwrap().into(),
            activity: activity.map(String::from),
            activity_rule: "folder".into(),
            date: date.map(String::from),
            date_source: "exif".into(),
            kind: "photo".into(),
            size: 1,
            sha256: "00".repeat(32),
            problems: vec![],
            version_id: 1,
            seq: 1,
            current: true,
            withdrawn: false,
            first_run,
            format: "jpeg".into(),
            datetime: None,
            path_raw: path.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_2026_summary_of_a_2025_activity_is_2025_evidence() {
        let cfg = Config::builtin();
        let runs = HashMap::from([(1, 2025), (2, 2026)]);
        let v = vec![
            listed(
                "教务科研处/启动仪式/总结.docx",
                Some("启动仪式"),
                Some("2026-01-10"),
                2,
            ),
            listed("学生处/a.jpg", None, Some("2025-06-01"), 2),
            listed("学生处/b.jpg", None, Some("2026-06-01"), 1),
            listed("学生处/c.jpg", None, None, 1),
            listed("学生处/d.jpg", None, None, 2),
        ];
        let got: Vec<String> = select(&cfg, &v, 2025, &runs)
            .iter()
            .map(|i| {
                i.components
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert_eq!(
            got,
            [
                "活动/01-启动仪式/教务科研处/2026-01-10/总结.docx",
                "未归类/学生处/a.jpg",
                "未归类/学生处/c.jpg"
            ]
        );
    }
}

/// The header of 文件索引.csv.
pub const INDEX_HEADER: [&str; 13] = [
    "存档路径",
    "收件箱路径",
    "部门",
    "活动",
    "归类依据",
    "日期",
    "日期来源",
    "类型",
    "格式",
    "大小（字节）",
    "SHA-256",
    "问题",
    "状态",
];

/// Where each chosen item goes under `data/`: safe components, unique names (a short-hash
/// suffix where two different contents would share one), the same content at one path once.
/// Withdrawn items get no path.
pub fn assign_paths(items: &[YearItem]) -> Vec<Option<String>> {
    let wanted: Vec<(usize, String, String)> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| !i.withdrawn)
        .map(|(n, i)| {
            let path = i
                .components
                .iter()
                .map(|c| crate::bag::safe_component(c))
                .collect::<Vec<_>>()
                .join("/");
            (n, path, i.listed.sha256.clone())
        })
        .collect();
    let unique = crate::bag::assign_unique(
        wanted
            .iter()
            .map(|(_, p, s)| (p.clone(), s.clone()))
            .collect(),
    );
    let mut out = vec![None; items.len()];
    for ((n, _, _), path) in wanted.iter().zip(unique) {
        out[*n] = Some(path);
    }
    out
}

/// 文件索引.csv: every chosen file, where it is in the bag (or that it was withdrawn), where it
/// came from and what the catalog knows of it. No personal data beyond what file names carry.
pub fn index_csv(
    items: &[YearItem],
    paths: &[Option<String>],
    enc: crate::output::CsvEncoding,
) -> Vec<u8> {
    use crate::model::{ActivityRule, DateSource, Kind};
    use crate::output::Cell;
    let rows: Vec<Vec<Cell>> = items
        .iter()
        .zip(paths)
        .map(|(i, p)| {
            let v = &i.listed;
            let text = |s: &str| Cell::Text(s.to_string());
            vec![
                text(&p.as_ref().map(|p| format!("data/{p}")).unwrap_or_default()),
                text(&v.path),
                text(&v.department),
                text(v.activity.as_deref().unwrap_or("未归类")),
                text(
                    ActivityRule::parse(&v.activity_rule)
                        .map(ActivityRule::label)
                        .unwrap_or(""),
                ),
                text(v.date.as_deref().unwrap_or("")),
                text(
                    DateSource::parse(&v.date_source)
                        .map(DateSource::label)
                        .unwrap_or(""),
                ),
                text(Kind::parse(&v.kind).map(Kind::label).unwrap_or("其他")),
                text(&v.format),
                Cell::Int(v.size),
                text(&v.sha256),
                text(&v.problems.join("；")),
                text(if i.withdrawn { "已撤回" } else { "在档" }),
            ]
        })
        .collect();
    crate::output::csv_bytes(&INDEX_HEADER, &rows, enc)
}

/// The bag of year `year`: the chosen files from the store, 文件索引.csv, and every file under
/// each of `folders` (`(name under data/, folder on disk)`, e.g. the statistics).
pub fn plan_year(
    cfg: &Config,
    conn: &rusqlite::Connection,
    objects: &std::path::Path,
    year: i32,
    timestamp: i64,
    folders: &[(&str, std::path::PathBuf)],
) -> Result<YearPlan, YearError> {
    use crate::bag::{BagInfo, BagPlan, PayloadFile, PayloadSource, compress_by_extension};
    let versions = crate::catalog::list_versions(conn, false)?;
    let run_years = run_years(conn)?;
    let items = select(cfg, &versions, year, &run_years);
    let paths = assign_paths(&items);
    let mut files = Vec::new();
    for (item, path) in items.iter().zip(&paths) {
        if let Some(path) = path {
            files.push(PayloadFile {
                path: path.clone(),
                source: PayloadSource::File(crate::store::object_path(
                    objects,
                    &item.listed.sha256,
                )),
                size: item.listed.size,
                sha256: item.listed.sha256.clone(),
                compress: compress_by_extension(path),
            });
        }
    }
    let index = index_csv(&items, &paths, crate::output::CsvEncoding::Utf8Bom);
    files.push(bytes_file("统计/文件索引.csv", index));
    for (name, dir) in folders {
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry =
                entry.map_err(|e| YearError::Folder(dir.display().to_string(), e.to_string()))?;
            if !entry.file_type().is_file() || entry.file_name().to_string_lossy().starts_with('.')
            {
                continue;
            }
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            let rel: Vec<String> = rel
                .components()
                .map(|c| crate::bag::safe_component(c.as_os_str().as_encoded_bytes()))
                .collect();
            let path = format!("{name}/{}", rel.join("/"));
            if path == "统计/文件索引.csv" {
                continue; // made fresh above
            }
            let bytes = std::fs::read(entry.path()).map_err(|e| {
                YearError::Folder(entry.path().display().to_string(), e.to_string())
            })?;
            files.push(bytes_file(&path, bytes));
        }
    }
    let bag_name = format!("{}-{year}-职业教育活动周档案", cfg.institution);
    let bagging_date = chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let withdrawn = items.iter().filter(|i| i.withdrawn).count();
    let mut in_bag = HashMap::new();
    for (item, path) in items.iter().zip(&paths) {
        if let Some(path) = path {
            in_bag
                .entry(item.listed.sha256.clone())
                .or_insert_with(|| path.clone());
        }
    }
    Ok(YearPlan {
        plan: BagPlan {
            bag_name: crate::bag::safe_component(bag_name.as_bytes()),
            info: BagInfo {
                source_organization: cfg.institution.clone(),
                external_description: format!(
                    "{} {year} 年职业教育活动周（月）档案：各部门的活动照片、视频、签到表、媒体报道登记、方案与总结，按活动、部门、日期存放；附情况统计表、活动与部门明细、文件索引",
                    cfg.institution
                ),
                bagging_date,
                software_agent: format!("dangan {}", env!("CARGO_PKG_VERSION")),
                extra: vec![("Bag-Group-Identifier".into(), format!("{year}"))],
            },
            files,
            timestamp,
        },
        evidence: items.len() - withdrawn,
        withdrawn,
        in_bag,
    })
}

fn bytes_file(path: &str, bytes: Vec<u8>) -> crate::bag::PayloadFile {
    crate::bag::PayloadFile {
        path: path.to_string(),
        size: bytes.len() as u64,
        sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        compress: crate::bag::compress_by_extension(path),
        source: crate::bag::PayloadSource::Bytes(bytes),
    }
}

/// A year's bag, ready to write.
pub struct YearPlan {
    pub plan: crate::bag::BagPlan,
    /// Evidence files in the bag.
    pub evidence: usize,
    /// Withdrawn files, listed in 文件索引.csv only.
    pub withdrawn: usize,
    /// sha256 → where that content is in the bag (under `data/`), for the report's links.
    pub in_bag: HashMap<String, String>,
}

impl YearPlan {
    /// Adds generated files (the report's pages and thumbnails) under `data/<folder>/`.
    pub fn add_bytes(&mut self, folder: &str, files: Vec<(String, Vec<u8>)>) {
        for (name, bytes) in files {
            let path = name
                .split('/')
                .map(|c| crate::bag::safe_component(c.as_bytes()))
                .collect::<Vec<_>>()
                .join("/");
            self.plan
                .files
                .push(bytes_file(&format!("{folder}/{path}"), bytes));
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum YearError {
    #[error("目录数据库出错：{0}")]
    Catalog(#[from] rusqlite::Error),
    #[error("无法读取 {0}：{1}")]
    Folder(String, String),
}

fn run_years(conn: &rusqlite::Connection) -> rusqlite::Result<HashMap<i64, i32>> {
    let mut stmt = conn.prepare("SELECT id, started FROM runs")?;
    let rows = stmt.query_map([], |r| {
        let started: String = r.get(1)?;
        Ok((
            r.get(0)?,
            started.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0),
        ))
    })?;
    rows.collect()
}
