//! Which catalog entries make up a year's archive, and where each goes inside the bag:
//! `活动/<NN>-<活动>/<部门>/<YYYY-MM-DD>/<name>` or `未归类/<部门>/<name>`. Plain data in (the
//! judged files, the config, the statistics files as bytes), plain data out: [`plan_year`] reads
//! no file (it writes 文件索引.csv into the caller's staging folder; the store's objects are read
//! when the bag is written).

use std::collections::HashMap;

use chrono::Datelike;

use crate::archive_dir::STATS;
use crate::classify::ClassifiedFile;
use crate::config::Config;

/// The index of the bag's files, under `data/统计/`.
pub const INDEX_CSV: &str = "文件索引.csv";

/// One cataloged file chosen for the year.
#[derive(Debug, Clone)]
pub struct YearItem<'a> {
    /// Path under `data/` before names are made safe and unique (components as raw bytes).
    pub components: Vec<Vec<u8>>,
    /// Borrowed: a copy of every judged file was 28 MB of the archive's peak at 40 000 files.
    pub file: &'a ClassifiedFile,
    /// Withdrawn files are listed in 文件索引.csv only.
    pub withdrawn: bool,
}

/// The activity's year: its start date's (the period's for an activity without dates).
pub fn activity_year(cfg: &Config, name: &str) -> Option<i32> {
    cfg.activity(name).map(|a| a.range(cfg).start.year())
}

/// The years of the configured activities, each once, in order.
pub fn activity_years(cfg: &Config) -> Vec<i32> {
    let mut years: Vec<i32> = cfg
        .activities
        .iter()
        .filter_map(|a| activity_year(cfg, &a.name))
        .collect();
    years.sort();
    years.dedup();
    years
}

/// Whether any of `files` is dated in `year`.
pub fn any_dated_in(files: &[ClassifiedFile], year: i32) -> bool {
    files
        .iter()
        .any(|f| f.judged.day().is_some_and(|d| d.year() == year))
}

/// The folder of an activity: its place in the catalog, two digits, and its name.
pub fn activity_folder(cfg: &Config, name: &str) -> String {
    match cfg.activities.iter().position(|a| a.name == name) {
        Some(i) => format!("{:02}-{name}", i + 1),
        None => format!("99-{name}"),
    }
}

/// The files of year `year`: the latest version of every path of its activities (whatever
/// their own date), 未归类 files dated in it, and 未归类 undated files first imported in it
/// (`first_import_years` maps a run id to the year it started in, at the configured offset).
/// A file of two activities is filed under the first; 文件索引.csv names both.
pub fn select<'a>(
    cfg: &Config,
    files: &'a [ClassifiedFile],
    year: i32,
    first_import_years: &HashMap<i64, i32>,
) -> Vec<YearItem<'a>> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.version.current) {
        let file_name = f.version.facts.path.file_name_raw().to_vec();
        let activity = f.judged.activity().filter(|a| cfg.activity(a).is_some());
        let components = match activity {
            Some(a) => {
                if activity_year(cfg, a) != Some(year) {
                    continue;
                }
                vec![
                    "活动".as_bytes().to_vec(),
                    activity_folder(cfg, a).into_bytes(),
                    f.judged.department.clone().into_bytes(),
                    f.judged
                        .day()
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| crate::model::NO_DATE.into())
                        .into_bytes(),
                    file_name,
                ]
            }
            None => {
                let in_year = match f.judged.day() {
                    Some(d) => d.year() == year,
                    None => first_import_years.get(&f.version.first_run) == Some(&year),
                };
                if !in_year {
                    continue;
                }
                vec![
                    crate::tally::UNASSIGNED.as_bytes().to_vec(),
                    f.judged.department.clone().into_bytes(),
                    file_name,
                ]
            }
        };
        out.push(YearItem {
            components,
            file: f,
            withdrawn: f.version.withdrawn,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogedVersion;
    use crate::classify::{Corrections, Judge};
    use crate::model::{InboxPath, Kind, Sha256, VersionFacts};

    fn file(cfg: &Config, path: &str, mtime: &str, first_run: i64) -> ClassifiedFile {
        let mtime = chrono::NaiveDateTime::parse_from_str(mtime, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp()
            - 8 * 3600;
        let facts = VersionFacts {
            path: InboxPath(path.as_bytes().to_vec()),
            size: 1,
            mtime_ns: mtime * 1_000_000_000,
            sha256: Sha256([first_run as u8; 32]),
            kind: Kind::Document,
            format: "txt".into(),
            dates: vec![],
            imported: 1_800_000_000,
            problems: vec![],
            width: None,
            height: None,
            orientation: None,
            has_thumbnail: false,
            sign_in: false,
            media: false,
            row_activities: vec![],
            row_month_day: None,
        };
        let corrections = Corrections::default();
        let judged = Judge::new(cfg, &corrections).judge(&facts);
        ClassifiedFile {
            version: CatalogedVersion {
                name_encoding: None,
                id: first_run,
                file_id: first_run,
                seq: 1,
                current: true,
                withdrawn: false,
                first_run,
                facts,
            },
            judged,
        }
    }

    #[test]
    fn a_2026_summary_of_a_2025_activity_is_2025_evidence() {
        let cfg = Config::builtin();
        let runs = HashMap::from([(1, 2025), (2, 2026)]);
        let v = vec![
            file(&cfg, "教务科研处/启动仪式/总结.docx", "2026-01-10 10:00", 2),
            file(&cfg, "学生处/a.txt", "2025-06-01 10:00", 2),
            file(&cfg, "学生处/b.txt", "2026-06-01 10:00", 1),
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
                "未归类/学生处/a.txt",
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
pub fn assign_paths(items: &[YearItem<'_>]) -> Vec<Option<String>> {
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
            (n, path, i.file.version.facts.sha256.hex())
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
/// Written row by row: at 40 000 files, the rows and the bytes held whole were 56 MB.
pub fn write_index_csv(
    out: impl std::io::Write,
    items: &[YearItem<'_>],
    paths: &[Option<String>],
    enc: crate::output::CsvEncoding,
) -> std::io::Result<()> {
    use crate::output::Cell;
    let rows = items.iter().zip(paths).map(|(i, p)| {
        let v = &i.file.version.facts;
        let j = &i.file.judged;
        let text = |s: &str| Cell::Text(s.to_string());
        vec![
            text(&p.as_ref().map(|p| format!("data/{p}")).unwrap_or_default()),
            text(&v.path.display()),
            text(&j.department),
            text(&if j.activities.is_empty() {
                crate::tally::UNASSIGNED.to_string()
            } else {
                j.activities.join("、")
            }),
            text(j.rule.label()),
            text(&j.day().map(|d| d.to_string()).unwrap_or_default()),
            text(if j.date.is_some() {
                j.date_source().label()
            } else {
                ""
            }),
            text(v.kind.label()),
            text(&v.format),
            Cell::Int(v.size),
            text(&v.sha256.hex()),
            text(&i.file.problems().join("；")),
            text(if i.withdrawn {
                crate::model::WITHDRAWN
            } else if j.excluded {
                "在档（不计入）"
            } else {
                "在档"
            }),
        ]
    });
    crate::output::write_csv(out, &INDEX_HEADER, rows, enc)
}

/// The bag of year `year`: the chosen files from the store and 文件索引.csv (written into
/// `staging`, a folder of the caller's that outlives the bag's writing), each a file on disk
/// streamed into the bag. The statistics and the report are added when they are made
/// ([`YearPlan::add_stats`], [`YearPlan::add_files`]).
pub fn plan_year(
    cfg: &Config,
    files: &[ClassifiedFile],
    run_starts: &HashMap<i64, i64>,
    objects: &std::path::Path,
    year: i32,
    timestamp: i64,
    staging: &std::path::Path,
) -> Result<YearPlan, YearError> {
    use crate::bag::{BagInfo, BagPlan, PayloadFile, PayloadSource, compress_by_extension};
    let run_years: HashMap<i64, i32> = run_starts
        .iter()
        .map(|(id, t)| (*id, crate::clock::local_day(*t, cfg.utc_offset).year()))
        .collect();
    let items = select(cfg, files, year, &run_years);
    let paths = assign_paths(&items);
    let mut files = Vec::new();
    for (item, path) in items.iter().zip(&paths) {
        if let Some(path) = path {
            let facts = &item.file.version.facts;
            files.push(PayloadFile {
                path: path.clone(),
                source: PayloadSource::File(crate::store::object_path(
                    objects,
                    &facts.sha256.hex(),
                )),
                size: facts.size,
                sha256: Some(facts.sha256.hex()),
                compress: compress_by_extension(path),
            });
        }
    }
    let index_path = staging.join(INDEX_CSV);
    std::fs::File::create(&index_path)
        .map(std::io::BufWriter::new)
        .and_then(|mut out| {
            write_index_csv(
                &mut out,
                &items,
                &paths,
                crate::output::CsvEncoding::Utf8Bom,
            )?;
            std::io::Write::flush(&mut out)
        })
        .map_err(|e| YearError::Folder(index_path.display().to_string(), e.to_string()))?;
    files.push(disk_file(&format!("{STATS}/{INDEX_CSV}"), &index_path)?);
    let bag_name = format!("{}-{year}-职业教育活动周档案", cfg.institution);
    let bagging_date = crate::clock::local_day(timestamp, cfg.utc_offset);
    let withdrawn = items.iter().filter(|i| i.withdrawn).count();
    let mut in_bag = HashMap::new();
    for (item, path) in items.iter().zip(&paths) {
        if let Some(path) = path {
            in_bag
                .entry(item.file.version.facts.sha256.hex())
                .or_insert_with(|| path.clone());
        }
    }
    Ok(YearPlan {
        plan: BagPlan {
            bag_name: crate::bag::safe_component(bag_name.as_bytes()),
            info: BagInfo {
                source_organization: cfg.institution.clone(),
                external_description: format!(
                    "{} {year} 年职业教育活动周（月）档案：各部门的活动照片、视频、签到表、媒体报道登记、方案与总结，按活动、部门、日期存放；附情况统计表、活动与部门明细、文件索引、信息采集表和工作总结报告草稿",
                    cfg.institution
                ),
                bagging_date,
                software_agent: format!("dangan {}", env!("CARGO_PKG_VERSION")),
                extra: vec![("Bag-Group-Identifier".into(), format!("{year}"))],
            },
            files,
            // A zip entry's time has no zone: it is written as the configured local time.
            timestamp: timestamp + i64::from(cfg.utc_offset.local_minus_utc()),
        },
        evidence: items.len() - withdrawn,
        withdrawn,
        in_bag,
    })
}

/// A payload entry streamed from a file made for the bag: its size read now, its digest taken
/// as it is written into the bag (reading 40 000 thumbnails beforehand for their digests was a
/// second of the archive's seven).
fn disk_file(path: &str, file: &std::path::Path) -> Result<crate::bag::PayloadFile, YearError> {
    let size = std::fs::metadata(file)
        .map_err(|e| YearError::Folder(file.display().to_string(), e.to_string()))?
        .len();
    Ok(crate::bag::PayloadFile {
        path: path.to_string(),
        size,
        sha256: None,
        compress: crate::bag::compress_by_extension(path),
        source: crate::bag::PayloadSource::File(file.to_path_buf()),
    })
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
    /// Adds the statistics, the materials check and the forms (`(name, bytes)`, as the commands
    /// wrote them into `archive/统计/`) under `data/统计/`: small generated files, held as they
    /// are. The bag's entries are ordered by path when it is written, not as they are added.
    pub fn add_stats(&mut self, stats_files: Vec<(&str, Vec<u8>)>) {
        use crate::bag::{PayloadFile, PayloadSource, compress_by_extension};
        for (name, bytes) in stats_files {
            let path = format!("{STATS}/{}", crate::bag::safe_component(name.as_bytes()));
            self.plan.files.push(PayloadFile {
                size: bytes.len() as u64,
                sha256: Some(crate::model::Sha256::of(&bytes).hex()),
                compress: compress_by_extension(&path),
                source: PayloadSource::Bytes(bytes),
                path,
            });
        }
    }

    /// Adds generated files on disk (the report's pages and thumbnails: `(name, file)`) under
    /// `data/<folder>/`; each is streamed into the bag, never held in memory.
    pub fn add_files(
        &mut self,
        folder: &str,
        files: Vec<(String, std::path::PathBuf)>,
    ) -> Result<(), YearError> {
        use rayon::prelude::*;
        // Thousands of small thumbnails: their sizes read on several threads at once.
        let added = crate::parallel::on_read_pool(|| {
            files
                .par_iter()
                .map(|(name, file)| {
                    let path = name
                        .split('/')
                        .map(|c| crate::bag::safe_component(c.as_bytes()))
                        .collect::<Vec<_>>()
                        .join("/");
                    disk_file(&format!("{folder}/{path}"), file)
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        self.plan.files.extend(added);
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum YearError {
    #[error("无法读取 {0}：{1}")]
    Folder(String, String),
}
