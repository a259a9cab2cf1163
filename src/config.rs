//! The year's configuration: the institution, the activity month and week, and the activity
//! catalog. The 2025 catalog is built in (from the college's plan); `dangan.toml` replaces it.
//! Every error names the file, the line and the key. This module never touches the inbox.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDate};
use serde::Deserialize;
use toml::Spanned;

use crate::text::match_key;

/// The built-in 2025 catalog, exactly as `dangan init` writes it.
pub const DEFAULT_TOML: &str = include_str!("default_config.toml");

/// What the materials check can expect of an activity.
pub const MATERIALS: [&str; 6] = ["方案", "总结", "案例", "照片", "签到表", "媒体报道"];

/// 附件3's seven 主题活动日, in the notice's order (第一天 … 第七天).
pub const THEME_DAYS: [&str; 7] = [
    "职教发展研讨日",
    "职普融通体验日",
    "产教融合示范日",
    "职教出海展示日",
    "技能人才风采日",
    "职教志愿服务日",
    "地方特色活动日",
];

/// Names a plan gives a day in place of 附件3's: the college's plan puts its contests under
/// （四）职教技能展示日 where 附件3 has 职教出海展示日.
const THEME_DAY_VARIANTS: [(&str, usize); 1] = [("职教技能展示日", 3)];

/// The day (0 = 第一天) a `theme_day` names: one of [`THEME_DAYS`] or a plan's variant of one.
pub fn theme_day_index(name: &str) -> Option<usize> {
    let key = match_key(name);
    THEME_DAYS
        .iter()
        .position(|d| match_key(d) == key)
        .or_else(|| {
            THEME_DAY_VARIANTS
                .iter()
                .find(|(v, _)| match_key(v) == key)
                .map(|(_, i)| *i)
        })
}

/// `第一天` … `第七天`.
pub fn theme_day_ordinal(index: usize) -> &'static str {
    [
        "第一天",
        "第二天",
        "第三天",
        "第四天",
        "第五天",
        "第六天",
        "第七天",
    ]
    .get(index)
    .copied()
    .unwrap_or("")
}

#[derive(Debug, Clone, PartialEq)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub name: String,
    pub aliases: Vec<String>,
    pub departments: Vec<String>,
    /// The activity's own dates; `None` where the plan gives none (the whole period applies).
    pub dates: Option<DateRange>,
    pub experience: bool,
    pub materials: Vec<String>,
    /// The 主题活动日 (附件3) it belongs to, as written (validated by [`theme_day_index`]).
    pub theme_day: Option<String>,
}

/// `[contact]`: who fills in the forms, for the 填报人 line and 附件4's contact row, and the
/// activities the forms feature. Every field may be empty: the form's cell stays empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    /// 填报人
    pub filler: String,
    /// 联系电话
    pub phone: String,
    /// 联系人
    pub contact: String,
    /// 职务
    pub title: String,
    /// 手机
    pub mobile: String,
    /// QQ号
    pub qq: String,
    /// 专题网站（专栏）链接地址
    pub website: String,
    /// 特色活动: activity names (aliases resolved), for 附件4 and the report's 典型案例.
    pub featured: Vec<String>,
}

impl Contact {
    /// The fields left empty, by the labels of the forms, in the forms' order.
    pub fn empty_fields(&self) -> Vec<&'static str> {
        [
            ("填报人", &self.filler),
            ("联系电话", &self.phone),
            ("联系人", &self.contact),
            ("职务", &self.title),
            ("手机", &self.mobile),
            ("QQ号", &self.qq),
            ("专题网站（专栏）链接地址", &self.website),
        ]
        .into_iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| k)
        .collect()
    }
}

/// A department as the office names it, and the other names its inbox folder and the sheets'
/// 单位 cells use (`党政办` for 党政办公室).
#[derive(Debug, Clone, PartialEq)]
pub struct Department {
    pub name: String,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub institution: String,
    /// Other names of the institution in sheets' 单位 column (自贡职院).
    pub short_names: Vec<String>,
    /// The configured departments (`[[department]]`), in file order.
    pub department_list: Vec<Department>,
    pub enrolled_students: u64,
    pub utc_offset: FixedOffset,
    pub period: DateRange,
    pub week: DateRange,
    pub report_window: DateRange,
    pub activities: Vec<Activity>,
    /// `[contact]` (all empty when the section is missing).
    pub contact: Contact,
    /// Where it came from: a path, or "内置 2025 活动目录".
    pub origin: String,
}

impl Activity {
    /// The range used for rule 4 and the ±30-day flag: its own dates, else the period.
    pub fn range<'a>(&'a self, cfg: &'a Config) -> &'a DateRange {
        self.dates.as_ref().unwrap_or(&cfg.period)
    }
    /// Every name this activity is recognised by, as match keys.
    pub fn keys(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(&self.name)
            .chain(self.aliases.iter())
            .map(|s| match_key(s))
    }
}

mod explain;

pub use explain::Place;

/// A configuration that cannot be used, said as DESIGN.md shows it: the file, the line and
/// column, the line itself with a caret, and what to do.
#[derive(Debug)]
pub enum ConfigError {
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    At {
        origin: String,
        place: Place,
        message: String,
        hint: Option<String>,
    },
    Whole {
        origin: String,
        message: String,
        hint: Option<String>,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Read { path, source } => write!(
                f,
                "无法读取配置文件 {}：{}",
                path.display(),
                crate::human_error::io_reason(source)
            ),
            ConfigError::At {
                origin,
                place,
                message,
                hint,
            } => {
                write!(
                    f,
                    "配置文件 {origin} 第 {} 行第 {} 列：{message}\n{}",
                    place.line,
                    place.column,
                    explain::show_line(place)
                )?;
                match hint {
                    Some(h) => write!(f, "\n  怎么改：{h}"),
                    None => Ok(()),
                }
            }
            ConfigError::Whole {
                origin,
                message,
                hint,
            } => {
                write!(f, "配置文件 {origin}：{message}")?;
                match hint {
                    Some(h) => write!(f, "\n  怎么改：{h}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    institution: Spanned<String>,
    enrolled_students: Option<u64>,
    utc_offset: Option<Spanned<String>>,
    period: Spanned<RawRange>,
    week: Option<Spanned<RawRange>>,
    report_window: Option<Spanned<RawRange>>,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    department: Vec<Spanned<RawDepartment>>,
    #[serde(default)]
    activity: Vec<Spanned<RawActivity>>,
    contact: Option<RawContact>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContact {
    filler: Option<String>,
    phone: Option<String>,
    contact: Option<String>,
    title: Option<String>,
    mobile: Option<String>,
    qq: Option<String>,
    website: Option<String>,
    #[serde(default)]
    featured: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartment {
    name: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    start: toml::value::Datetime,
    end: toml::value::Datetime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActivity {
    name: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    #[serde(default)]
    departments: Vec<String>,
    start: Option<Spanned<toml::value::Datetime>>,
    end: Option<Spanned<toml::value::Datetime>>,
    #[serde(default)]
    experience: bool,
    materials: Option<Spanned<Vec<String>>>,
    theme_day: Option<Spanned<String>>,
}

const DATE_HINT: &str = "日期写成 2025-05-07（年-月-日，不加引号、不带时间，且这一天要存在）";
const NAME_TWICE_HINT: &str = "一个名称或别名只能用一次：删去或改掉其中一个";
const START_END_HINT: &str =
    "start 和 end 要一起写；活动没有自己的日期就两行都删去（按整个活动月算）";

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn to_date(dt: &toml::value::Datetime) -> Option<NaiveDate> {
    if dt.time.is_some() || dt.offset.is_some() {
        return None;
    }
    let d = dt.date?;
    NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
}

/// Parses `+08:00` / `-05:30` / `Z`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s == "UTC" {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

impl Config {
    /// The built-in 2025 catalog.
    pub fn builtin() -> Config {
        Config::parse(DEFAULT_TOML, "内置 2025 活动目录").expect("the built-in catalog is valid")
    }

    /// `--config FILE`, else `dangan.toml` in the working directory, else the built-in catalog.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = PathBuf::from("dangan.toml");
                p.is_file().then_some(p)
            }
        };
        match path {
            None => Ok(Config::builtin()),
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Config::parse(&text, &path.display().to_string())
            }
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let at = |offset: usize, message: String| ConfigError::At {
            origin: origin.to_string(),
            place: explain::place(text, offset),
            message,
            hint: None,
        };
        let at_hint = |offset: usize, message: String, hint: &str| ConfigError::At {
            origin: origin.to_string(),
            place: explain::place(text, offset),
            message,
            hint: Some(hint.to_string()),
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            // A key missing from the whole file has no line of its own.
            let whole_file =
                e.span().is_some_and(|s| s.start == 0) && e.message().starts_with("missing field");
            let mut place = e
                .span()
                .filter(|_| !whole_file)
                .map(|s| explain::place(text, s.start));
            let (message, hint) = explain::explain_toml(e.message(), place.as_mut());
            match place {
                Some(place) => ConfigError::At {
                    origin: origin.to_string(),
                    place,
                    message,
                    hint,
                },
                None => ConfigError::Whole {
                    origin: origin.to_string(),
                    message,
                    hint,
                },
            }
        })?;
        let range = |r: &Spanned<RawRange>, key: &str| -> Result<DateRange, ConfigError> {
            let span = r.span().start;
            let inner = r.get_ref();
            let start = to_date(&inner.start).ok_or_else(|| {
                at_hint(span, format!("{key}.start 不是一个有效的日期"), DATE_HINT)
            })?;
            let end = to_date(&inner.end)
                .ok_or_else(|| at_hint(span, format!("{key}.end 不是一个有效的日期"), DATE_HINT))?;
            if end < start {
                return Err(at_hint(
                    span,
                    format!("{key} 的结束日期 {end} 早于开始日期 {start}"),
                    "检查 start 和 end 是否写反",
                ));
            }
            Ok(DateRange { start, end })
        };
        let period = range(&raw.period, "period")?;
        let week = match &raw.week {
            Some(w) => range(w, "week")?,
            None => period.clone(),
        };
        let report_window = match &raw.report_window {
            Some(w) => range(w, "report_window")?,
            None => period.clone(),
        };
        let utc_offset = match &raw.utc_offset {
            None => FixedOffset::east_opt(8 * 3600).expect("valid offset"),
            Some(s) => parse_offset(s.get_ref()).ok_or_else(|| {
                at_hint(
                    s.span().start,
                    format!("utc_offset 应形如 \"+08:00\"，而不是 \"{}\"", s.get_ref()),
                    "北京时间写 utc_offset = \"+08:00\"",
                )
            })?,
        };
        let institution = raw.institution.get_ref().trim().to_string();
        if institution.is_empty() {
            return Err(at_hint(
                raw.institution.span().start,
                "institution（机构名称）不能为空".into(),
                "写上学校的全称，如 institution = \"自贡职业技术学院\"",
            ));
        }

        let mut department_list = Vec::new();
        let mut dept_seen: HashMap<String, (String, usize)> = HashMap::new();
        for spanned in &raw.department {
            let d = spanned.get_ref();
            let name = d.name.as_ref().ok_or_else(|| {
                at_hint(
                    spanned.span().start,
                    "[[department]] 缺少 name（部门名称）".into(),
                    "在这一节里加上 name = \"部门名称\"",
                )
            })?;
            let name_text = name.get_ref().trim().to_string();
            for (label, span) in std::iter::once((name_text.clone(), name.span().start)).chain(
                d.aliases
                    .iter()
                    .map(|s| (s.get_ref().trim().to_string(), s.span().start)),
            ) {
                let key = match_key(&label);
                if key.is_empty() {
                    return Err(at(span, "department 的名称或别名不能为空".into()));
                }
                if let Some((other, other_line)) = dept_seen.get(&key) {
                    return Err(at_hint(
                        span,
                        format!("部门名称或别名“{label}”与第 {other_line} 行的部门“{other}”重复"),
                        NAME_TWICE_HINT,
                    ));
                }
                dept_seen.insert(key, (name_text.clone(), line_of(text, span)));
            }
            department_list.push(Department {
                name: name_text,
                aliases: d
                    .aliases
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
            });
        }

        let mut activities = Vec::new();
        let mut seen: HashMap<String, (String, usize)> = HashMap::new();
        for spanned in &raw.activity {
            let a = spanned.get_ref();
            let a_line = spanned.span().start;
            let name = a.name.as_ref().ok_or_else(|| {
                at_hint(
                    a_line,
                    "[[activity]] 缺少 name（活动名称）".into(),
                    "在这一节里加上 name = \"活动名称\"",
                )
            })?;
            let name_text = name.get_ref().trim().to_string();
            if name_text.is_empty() {
                return Err(at(name.span().start, "activity.name 不能为空".into()));
            }
            for (label, span) in std::iter::once((name_text.clone(), name.span().start)).chain(
                a.aliases
                    .iter()
                    .map(|s| (s.get_ref().trim().to_string(), s.span().start)),
            ) {
                let key = match_key(&label);
                if key.is_empty() {
                    return Err(at(span, "activity.aliases 中有空的别名".into()));
                }
                if let Some((other, other_line)) = seen.get(&key) {
                    if *other != name_text {
                        return Err(at_hint(
                            span,
                            format!("名称或别名“{label}”与第 {other_line} 行的活动“{other}”重复"),
                            NAME_TWICE_HINT,
                        ));
                    } else if label != name_text {
                        return Err(at_hint(
                            span,
                            format!("活动“{name_text}”的别名“{label}”重复"),
                            NAME_TWICE_HINT,
                        ));
                    }
                }
                if seen.contains_key(&key) && label == name_text {
                    return Err(at_hint(
                        span,
                        format!("活动名称“{name_text}”重复"),
                        NAME_TWICE_HINT,
                    ));
                }
                seen.insert(key, (name_text.clone(), line_of(text, span)));
            }
            let dates = match (&a.start, &a.end) {
                (None, None) => None,
                (Some(s), Some(e)) => {
                    let start = to_date(s.get_ref()).ok_or_else(|| {
                        at_hint(
                            s.span().start,
                            format!("活动“{name_text}”的 start 不是一个有效的日期"),
                            DATE_HINT,
                        )
                    })?;
                    let end = to_date(e.get_ref()).ok_or_else(|| {
                        at_hint(
                            e.span().start,
                            format!("活动“{name_text}”的 end 不是一个有效的日期"),
                            DATE_HINT,
                        )
                    })?;
                    if end < start {
                        return Err(at_hint(
                            e.span().start,
                            format!("活动“{name_text}”的结束日期 {end} 早于开始日期 {start}"),
                            "检查 start 和 end 是否写反",
                        ));
                    }
                    Some(DateRange { start, end })
                }
                (Some(s), None) => {
                    return Err(at_hint(
                        s.span().start,
                        format!("活动“{name_text}”有 start 没有 end"),
                        START_END_HINT,
                    ));
                }
                (None, Some(e)) => {
                    return Err(at_hint(
                        e.span().start,
                        format!("活动“{name_text}”有 end 没有 start"),
                        START_END_HINT,
                    ));
                }
            };
            let materials = match &a.materials {
                None => vec!["照片".to_string(), "总结".to_string()],
                Some(m) => {
                    for item in m.get_ref() {
                        if !MATERIALS.contains(&item.as_str()) {
                            return Err(at(
                                m.span().start,
                                format!(
                                    "activity.materials 中的“{item}”不是可检查的材料（可选：{}）",
                                    MATERIALS.join("、")
                                ),
                            ));
                        }
                    }
                    m.get_ref().clone()
                }
            };
            let theme_day = match &a.theme_day {
                None => None,
                Some(t) => {
                    let text = t.get_ref().trim().to_string();
                    if theme_day_index(&text).is_none() {
                        return Err(at(
                            t.span().start,
                            format!(
                                "活动“{name_text}”的 theme_day“{text}”不是附件3 的主题活动日（可选：{}；不属于任何一天就删去这一行）",
                                THEME_DAYS.join("、")
                            ),
                        ));
                    }
                    Some(text)
                }
            };
            activities.push(Activity {
                theme_day,
                name: name_text,
                aliases: a
                    .aliases
                    .iter()
                    .map(|s| s.get_ref().trim().to_string())
                    .collect(),
                departments: a.departments.iter().map(|d| d.trim().to_string()).collect(),
                dates,
                experience: a.experience,
                materials,
            });
        }
        let contact = match &raw.contact {
            None => Contact::default(),
            Some(c) => {
                let text_of = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_string();
                let mut featured = Vec::new();
                for f in &c.featured {
                    let key = match_key(f.get_ref());
                    let found = activities
                        .iter()
                        .find(|a: &&Activity| {
                            std::iter::once(&a.name)
                                .chain(a.aliases.iter())
                                .any(|n| match_key(n) == key)
                        })
                        .ok_or_else(|| {
                            at(
                                f.span().start,
                                format!(
                                    "contact.featured 中的“{}”不是配置中的活动（请写活动的 name 或别名）",
                                    f.get_ref()
                                ),
                            )
                        })?;
                    if !featured.contains(&found.name) {
                        featured.push(found.name.clone());
                    }
                }
                Contact {
                    filler: text_of(&c.filler),
                    phone: text_of(&c.phone),
                    contact: text_of(&c.contact),
                    title: text_of(&c.title),
                    mobile: text_of(&c.mobile),
                    qq: text_of(&c.qq),
                    website: text_of(&c.website),
                    featured,
                }
            }
        };
        let short_names = raw
            .short_names
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        Ok(Config {
            institution,
            short_names,
            department_list,
            enrolled_students: raw.enrolled_students.unwrap_or(0),
            utc_offset,
            period,
            week,
            report_window,
            activities,
            contact,
            origin: origin.to_string(),
        })
    }

    pub fn activity(&self, name: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.name == name)
    }

    /// The activity a person means by `text`: its name or one of its aliases (compared after
    /// folding width and removing spaces).
    pub fn find_activity(&self, text: &str) -> Option<&Activity> {
        let key = match_key(text);
        if key.is_empty() {
            return None;
        }
        self.activities.iter().find(|a| a.keys().any(|k| k == key))
    }

    /// The department a folder name, a sheet's 单位 cell or a filter means: a configured
    /// department by its name or alias, else a department some activity names. `None`: unknown.
    pub fn find_department(&self, text: &str) -> Option<&str> {
        let key = match_key(text);
        if key.is_empty() {
            return None;
        }
        for d in &self.department_list {
            if std::iter::once(&d.name)
                .chain(d.aliases.iter())
                .any(|n| match_key(n) == key)
            {
                return Some(&d.name);
            }
        }
        self.activities
            .iter()
            .flat_map(|a| a.departments.iter())
            .find(|d| match_key(d) == key)
            .map(String::as_str)
    }

    /// Every department the configuration names (`[[department]]` and the activities'), sorted.
    pub fn departments(&self) -> Vec<String> {
        let mut d: Vec<String> = self
            .department_list
            .iter()
            .map(|d| d.name.clone())
            .chain(
                self.activities
                    .iter()
                    .flat_map(|a| a.departments.iter().cloned()),
            )
            .collect();
        d.sort();
        d.dedup();
        d
    }

    /// Every name and alias of the configured departments (own units in sheets).
    pub fn department_names(&self) -> Vec<String> {
        let mut d = self.departments();
        d.extend(
            self.department_list
                .iter()
                .flat_map(|d| d.aliases.iter().cloned()),
        );
        d.sort();
        d.dedup();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_has_the_plan_dates() {
        let c = Config::builtin();
        assert_eq!(c.institution, "自贡职业技术学院");
        assert_eq!(c.period.start.to_string(), "2025-05-01");
        assert_eq!(c.week.end.to_string(), "2025-05-17");
        let launch = c.activity("启动仪式").unwrap();
        assert_eq!(
            launch.dates.as_ref().unwrap().start.to_string(),
            "2025-05-07"
        );
        let lead = c.activity("党政领导讲职教").unwrap();
        assert_eq!(lead.departments, vec!["党政办公室"]);
        assert_eq!(lead.dates.as_ref().unwrap().end.to_string(), "2025-05-16");
        assert_eq!(
            c.activity("闭幕式")
                .unwrap()
                .dates
                .as_ref()
                .unwrap()
                .start
                .to_string(),
            "2025-05-28"
        );
        assert_eq!(c.activities.len(), 20);
    }

    #[test]
    fn builtin_catalog_carries_the_plan_theme_days_and_an_empty_contact() {
        let c = Config::builtin();
        let day = |name: &str| c.activity(name).unwrap().theme_day.clone();
        assert_eq!(day("党政领导讲职教").as_deref(), Some("职教发展研讨日"));
        assert_eq!(day("教师“职教大讨论”").as_deref(), Some("职教发展研讨日"));
        assert_eq!(day("职普融通体验日").as_deref(), Some("职普融通体验日"));
        assert_eq!(day("企业谈职教").as_deref(), Some("产教融合示范日"));
        assert_eq!(day("社团活动").as_deref(), Some("职教技能展示日"));
        assert_eq!(theme_day_index("职教技能展示日"), Some(3));
        assert_eq!(
            day("“职教学生谈职教”演讲比赛").as_deref(),
            Some("技能人才风采日")
        );
        assert_eq!(
            day("走进社区开展服务活动").as_deref(),
            Some("职教志愿服务日")
        );
        assert_eq!(day("美育进校园活动").as_deref(), Some("地方特色活动日"));
        // Outside section 四: the ceremonies, the exhibition, the awards.
        for name in ["启动仪式", "教学成果展", "活动表彰", "闭幕式"] {
            assert_eq!(day(name), None, "{name}");
        }
        assert_eq!(
            c.activities
                .iter()
                .filter(|a| a.theme_day.is_some())
                .count(),
            16
        );
        assert_eq!(c.contact, Contact::default());
        assert_eq!(c.contact.empty_fields().len(), 7);
    }

    #[test]
    fn contact_and_featured_are_read_and_checked() {
        let c = Config::parse(
            &format!(
                "{HEAD}[contact]\nfiller = \"王梦霞\"\nphone = \" 0813-1234567 \"\nfeatured = [\"启动\", \"甲\"]\n\
                 [[activity]]\nname = \"启动仪式\"\naliases = [\"启动\"]\ntheme_day = \"职教出海展示日\"\n\
                 [[activity]]\nname = \"甲\"\n"
            ),
            "t.toml",
        )
        .unwrap();
        assert_eq!(c.contact.filler, "王梦霞");
        assert_eq!(c.contact.phone, "0813-1234567");
        assert_eq!(c.contact.featured, ["启动仪式", "甲"]);
        assert_eq!(
            c.contact.empty_fields(),
            ["联系人", "职务", "手机", "QQ号", "专题网站（专栏）链接地址"]
        );
        assert_eq!(c.activities[0].theme_day.as_deref(), Some("职教出海展示日"));

        let e = err(&format!("{HEAD}[contact]\nemail = \"a@b\"\n"));
        assert!(e.contains("第 4 行") && e.contains("email"), "{e}");
        let e = err(&format!("{HEAD}[contact]\nfeatured = [\"乙\"]\n"));
        assert!(e.contains("第 4 行") && e.contains("乙"), "{e}");
        let e = err(&format!(
            "{HEAD}[[activity]]\nname = \"甲\"\ntheme_day = \"职教出海日\"\n"
        ));
        assert!(
            e.contains("第 5 行") && e.contains("职教出海日") && e.contains("附件3"),
            "{e}"
        );
    }

    fn err(text: &str) -> String {
        Config::parse(text, "t.toml").unwrap_err().to_string()
    }

    const HEAD: &str = "institution = \"X\"\nperiod = { start = 2025-05-01, end = 2025-05-31 }\n";

    #[test]
    fn errors_name_the_line() {
        let e = err(&format!("{HEAD}colour = 1\n"));
        assert!(e.contains("第 3 行") && e.contains("colour"), "{e}");
        let e = err(&format!("{HEAD}[[activity]]\naliases = [\"a\"]\n"));
        assert!(e.contains("第 3 行") && e.contains("缺少 name"), "{e}");
        let e = err(&format!(
            "{HEAD}[[activity]]\nname = \"甲\"\nstart = 2025-05-09\nend = 2025-05-08\n"
        ));
        assert!(e.contains("第 6 行") && e.contains("早于"), "{e}");
        let e = err(&format!(
            "{HEAD}[[activity]]\nname = \"甲\"\n[[activity]]\nname = \"乙\"\naliases = [\"甲\"]\n"
        ));
        assert!(e.contains("第 7 行") && e.contains("第 4 行"), "{e}");
        let e = err(&format!(
            "{HEAD}[[activity]]\nname = \"甲\"\n[[activity]]\nname = \"甲\"\n"
        ));
        assert!(e.contains("第 6 行") && e.contains("重复"), "{e}");
    }
}
