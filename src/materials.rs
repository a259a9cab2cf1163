//! The materials check (DESIGN.md, section 七（二） of the plan): for each activity and each of
//! its departments, every material its `materials` list expects that no current, not withdrawn
//! file provides yet. 方案 / 总结 / 案例: a document whose file name or first line of text
//! contains that word; 照片: a photo or video; 签到表: a file with a sign-in sheet, or a scan of
//! one (a pdf or image whose name contains 签到: the material, not 照片, and no people);
//! 媒体报道: a file with a media register.
//! An activity that has not started by `today` is listed as 未到期 (not yet due), not as owed.
//!
//! Pure: judged files in (`classify::evidence`), owed materials out; never reads the catalog,
//! the inbox or the store.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};

use chrono::NaiveDate;

use crate::config::{Activity, Config};
use crate::model::Kind;
use crate::output::{Cell, CsvEncoding, csv_bytes};
use crate::tally::UNASSIGNED;
use crate::text::fold_width;

/// The department shown for an activity that names none, so that a person sees it.
pub const NO_HOST_DEPARTMENT: &str = "（未配置承办部门）";

/// The file the check writes, under `archive/统计/`.
pub const CHECK_CSV: &str = "材料检查.csv";

pub const CHECK_HEADERS: [&str; 5] = ["部门", "活动", "活动日期", "缺少的材料", "状态"];

/// What one current, not withdrawn file can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub department: String,
    /// The file's activity, plus the activities of its sign-in rows (a sheet for several).
    pub activities: Vec<String>,
    pub kind: Kind,
    /// The last part of the path (documents are recognised by their name).
    pub file_name: String,
    pub sign_in: bool,
    pub media: bool,
    /// A scan of a sign-in sheet ([`is_sign_in_scan`]).
    pub scan: bool,
    /// A document's first line of text (empty when it has none).
    pub first_line: String,
}

/// A scan of a sign-in sheet: a pdf or an image whose name contains 签到 (签到表扫描件.pdf,
/// 签到表.tif). It is the 签到表 material, not a photo, and has no rows to count.
pub fn is_sign_in_scan(kind: Kind, format: &str, file_name: &str) -> bool {
    (kind == Kind::Photo || format == "pdf") && fold_width(file_name).contains("签到")
}

impl EvidenceFile {
    /// The materials of DESIGN.md this file provides.
    pub fn materials(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.kind == Kind::Document {
            let name = fold_width(&self.file_name);
            let first = fold_width(&self.first_line);
            for word in ["方案", "总结", "案例"] {
                if name.contains(word) || first.contains(word) {
                    out.push(word);
                }
            }
        }
        if matches!(self.kind, Kind::Photo | Kind::Video) && !self.scan {
            out.push("照片");
        }
        if self.sign_in || self.scan {
            out.push("签到表");
        }
        if self.media {
            out.push("媒体报道");
        }
        out
    }
}

/// Owed (欠交) or not yet due (未到期).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Owed,
    NotDue,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Owed => "欠交",
            Status::NotDue => "未到期",
        }
    }
}

/// The materials one department still lacks for one activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub department: String,
    pub activity: String,
    /// `2025-05-07` or `2025-05-12至2025-05-16`.
    pub dates: String,
    pub start: NaiveDate,
    pub materials: Vec<String>,
    pub status: Status,
}

/// The whole check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckResult {
    pub today: Option<NaiveDate>,
    /// By department, then the catalog's order of activities.
    pub missing: Vec<Missing>,
    /// Current files that no rule assigned to an activity (for a person to sort).
    pub unassigned: u64,
}

impl CheckResult {
    /// Materials owed now (not counting those not yet due).
    pub fn owed(&self) -> u64 {
        self.count(Status::Owed)
    }
    pub fn not_due(&self) -> u64 {
        self.count(Status::NotDue)
    }
    fn count(&self, s: Status) -> u64 {
        self.missing
            .iter()
            .filter(|m| m.status == s)
            .map(|m| m.materials.len() as u64)
            .sum()
    }
}

/// The departments hosting `a`, as a person reads them (`教务科研处、学生处`), or
/// [`NO_HOST_DEPARTMENT`].
pub fn host_departments_text(a: &Activity) -> String {
    if a.departments.is_empty() {
        NO_HOST_DEPARTMENT.to_string()
    } else {
        a.departments.join("、")
    }
}

pub fn dates_text(a: &Activity, cfg: &Config) -> String {
    let r = a.range(cfg);
    if r.start == r.end {
        r.start.to_string()
    } else {
        format!("{}至{}", r.start, r.end)
    }
}

/// The check itself, on plain facts.
pub fn check(cfg: &Config, files: &[EvidenceFile], today: NaiveDate) -> CheckResult {
    // (activity, department) → materials present; department None = any department.
    let mut have: HashSet<(&str, &str, &str)> = HashSet::new();
    let mut any_dept: HashSet<(&str, &str)> = HashSet::new();
    for f in files {
        let mats = f.materials();
        for a in &f.activities {
            for m in &mats {
                have.insert((a.as_str(), f.department.as_str(), m));
                any_dept.insert((a.as_str(), m));
            }
        }
    }
    let mut by_dept: BTreeMap<String, Vec<Missing>> = BTreeMap::new();
    for a in &cfg.activities {
        let start = a.range(cfg).start;
        let status = if start > today {
            Status::NotDue
        } else {
            Status::Owed
        };
        let depts: Vec<Option<&str>> = if a.departments.is_empty() {
            vec![None]
        } else {
            a.departments.iter().map(|d| Some(d.as_str())).collect()
        };
        for dept in depts {
            let mut seen = BTreeSet::new();
            let materials: Vec<String> = a
                .materials
                .iter()
                .filter(|m| seen.insert(m.as_str()))
                .filter(|m| match dept {
                    Some(d) => !have.contains(&(a.name.as_str(), d, m.as_str())),
                    None => !any_dept.contains(&(a.name.as_str(), m.as_str())),
                })
                .cloned()
                .collect();
            if materials.is_empty() {
                continue;
            }
            let department = dept.unwrap_or(NO_HOST_DEPARTMENT).to_string();
            by_dept
                .entry(department.clone())
                .or_default()
                .push(Missing {
                    department,
                    activity: a.name.clone(),
                    dates: dates_text(a, cfg),
                    start,
                    materials,
                    status,
                });
        }
    }
    CheckResult {
        today: Some(today),
        missing: by_dept.into_values().flatten().collect(),
        unassigned: 0,
    }
}

/// 材料检查.csv: one row per department, activity and missing material.
pub fn check_csv(result: &CheckResult, enc: CsvEncoding) -> Vec<u8> {
    let rows: Vec<Vec<Cell>> = result
        .missing
        .iter()
        .flat_map(|m| {
            m.materials.iter().map(move |mat| {
                vec![
                    Cell::text(&m.department),
                    Cell::text(&m.activity),
                    Cell::text(&m.dates),
                    Cell::text(mat),
                    Cell::text(m.status.label()),
                ]
            })
        })
        .collect();
    csv_bytes(&CHECK_HEADERS, &rows, enc)
}

/// The check as text grouped by department, to paste into a message to each department.
pub fn write_text(out: &mut impl Write, result: &CheckResult) -> io::Result<()> {
    let today = result
        .today
        .map(|d| format!("（截至 {d}）"))
        .unwrap_or_default();
    let owed_depts: BTreeSet<&str> = result
        .missing
        .iter()
        .filter(|m| m.status == Status::Owed)
        .map(|m| m.department.as_str())
        .collect();
    if result.owed() == 0 {
        writeln!(out, "材料检查{today}：没有欠交的材料")?;
    } else {
        writeln!(
            out,
            "材料检查{today}：{} 个部门共欠交 {} 项材料",
            owed_depts.len(),
            result.owed()
        )?;
    }
    let mut current: Option<&str> = None;
    for m in &result.missing {
        if current != Some(m.department.as_str()) {
            writeln!(out)?;
            writeln!(out, "【{}】", m.department)?;
            current = Some(m.department.as_str());
        }
        let verb = match m.status {
            Status::Owed => "欠交",
            Status::NotDue => "未到期，届时需交",
        };
        writeln!(
            out,
            "  {}（{}）：{} {}",
            m.activity,
            m.dates,
            verb,
            m.materials.join("、")
        )?;
    }
    if result.unassigned > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "另有 {} 个文件{UNASSIGNED}（无法判断属于哪个活动），请整理后重新导入：dangan list --activity {UNASSIGNED}",
            result.unassigned
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::parse(
            r#"institution = "X"
period = { start = 2025-05-01, end = 2025-05-31 }
[[activity]]
name = "启动仪式"
departments = ["教务科研处"]
start = 2025-05-07
end = 2025-05-07
materials = ["方案", "照片", "签到表", "总结", "媒体报道"]
[[activity]]
name = "闭幕式"
departments = ["教务科研处", "学生处"]
start = 2025-05-28
end = 2025-05-28
[[activity]]
name = "无人认领"
"#,
            "t.toml",
        )
        .unwrap()
    }

    fn file(dept: &str, act: &str, kind: Kind, name: &str) -> EvidenceFile {
        EvidenceFile {
            department: dept.into(),
            activities: vec![act.into()],
            kind,
            file_name: name.into(),
            sign_in: false,
            media: false,
            scan: false,
            first_line: String::new(),
        }
    }

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, m, day).unwrap()
    }

    #[test]
    fn check_lists_what_each_department_lacks() {
        let mut sheet = file("教务科研处", "启动仪式", Kind::Sheet, "签到.xlsx");
        sheet.sign_in = true;
        let files = vec![
            file(
                "教务科研处",
                "启动仪式",
                Kind::Document,
                "启动仪式方案.docx",
            ),
            file("教务科研处", "启动仪式", Kind::Video, "现场.mp4"),
            // a summary of another department does not count for 教务科研处
            file("学生处", "启动仪式", Kind::Document, "启动仪式总结.docx"),
            // a photo named 总结 is not a document
            file("教务科研处", "启动仪式", Kind::Photo, "总结.jpg"),
            sheet,
            file("学生处", "闭幕式", Kind::Photo, "a.jpg"),
        ];
        let r = check(&cfg(), &files, d(5, 20));
        let got: Vec<(&str, &str, Vec<&str>, Status)> = r
            .missing
            .iter()
            .map(|m| {
                (
                    m.department.as_str(),
                    m.activity.as_str(),
                    m.materials.iter().map(String::as_str).collect(),
                    m.status,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("学生处", "闭幕式", vec!["总结"], Status::NotDue),
                (
                    "教务科研处",
                    "启动仪式",
                    vec!["总结", "媒体报道"],
                    Status::Owed
                ),
                ("教务科研处", "闭幕式", vec!["照片", "总结"], Status::NotDue),
                (
                    NO_HOST_DEPARTMENT,
                    "无人认领",
                    vec!["照片", "总结"],
                    Status::Owed
                ),
            ]
        );
        assert_eq!(r.owed(), 4);
        assert_eq!(r.not_due(), 3);
        // the day it starts, it is due
        let r = check(&cfg(), &files, d(5, 28));
        assert_eq!(r.not_due(), 0);
        assert_eq!(r.owed(), 7);
    }

    #[test]
    fn a_scanned_sign_in_sheet_is_the_sign_in_material_not_a_photo() {
        let scan = |kind: Kind, format: &str, name: &str| {
            let mut f = file("教务科研处", "启动仪式", kind, name);
            f.scan = is_sign_in_scan(kind, format, name);
            f
        };
        assert_eq!(
            scan(Kind::Document, "pdf", "签到表扫描件.pdf").materials(),
            vec!["签到表"]
        );
        assert_eq!(
            scan(Kind::Photo, "tiff", "签到表.tif").materials(),
            vec!["签到表"]
        );
        assert_eq!(
            scan(Kind::Photo, "jpeg", "合影.jpg").materials(),
            vec!["照片"]
        );
        // A Word document about sign-in is no scan.
        assert_eq!(
            scan(Kind::Document, "docx", "签到须知.docx").materials(),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn a_document_whose_first_line_names_the_material_provides_it() {
        let mut f = file("教务科研处", "启动仪式", Kind::Document, "材料1.doc");
        assert!(f.materials().is_empty());
        f.first_line = "启动仪式活动总结".into();
        assert_eq!(f.materials(), vec!["总结"]);
    }

    #[test]
    fn full_width_words_in_names_count() {
        let files = [
            file(
                "教务科研处",
                "启动仪式",
                Kind::Document,
                "启动仪式 方案（定稿）.docx",
            ),
            file("教务科研处", "启动仪式", Kind::Document, "案例.txt"),
        ];
        let mats: Vec<&str> = files.iter().flat_map(|f| f.materials()).collect();
        assert_eq!(mats, vec!["方案", "案例"]);
    }

    #[test]
    fn csv_has_one_row_per_material_and_the_text_groups_by_department() {
        let r = check(&cfg(), &[], d(5, 20));
        let csv = String::from_utf8(check_csv(&r, CsvEncoding::Utf8Bom)).unwrap();
        assert!(csv.starts_with("\u{feff}部门,活动,活动日期,缺少的材料,状态\r\n"));
        assert!(csv.contains("教务科研处,启动仪式,2025-05-07,签到表,欠交\r\n"));
        assert!(csv.contains("学生处,闭幕式,2025-05-28,照片,未到期\r\n"));
        let mut text = Vec::new();
        write_text(&mut text, &r).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("【教务科研处】\n  启动仪式（2025-05-07）：欠交 方案、照片、签到表、总结、媒体报道\n"), "{text}");
        assert!(text.contains("2 个部门共欠交 7 项材料"), "{text}");
    }
}
