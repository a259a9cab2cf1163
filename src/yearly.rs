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
                    v.date.clone().unwrap_or_else(|| "无日期".into()).into_bytes(),
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
            listed("教务科研处/启动仪式/总结.docx", Some("启动仪式"), Some("2026-01-10"), 2),
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
