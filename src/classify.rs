//! Judgements: what dangan concludes from the catalog's facts, computed afresh by every command
//! that needs them, from (facts, `dangan.toml`, the corrections workbook) and nothing else.
//! Department (the first folder, through the configured names and aliases), activities and the
//! rule that decided, the date and the step of the chain it came from, the notes a person should
//! check, and whether the office excluded the file (不计入). Nothing here is ever written to
//! the catalog: an edit of the config or of the corrections applies at the next run to every
//! file ever imported.
//!
//! Pure: plain values in, plain values out; never reads a file or the catalog.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, NaiveTime};

use crate::catalog::{CatalogedVersion, MediaRow};
use crate::config::Config;
use crate::corrections::CorrectionRow;
use crate::model::{ActivityRule, DateCandidate, DateSource, VersionFacts};
use crate::resolve::activity::{self, FileFacts};
use crate::resolve::date;
use crate::tally::ActivityInfo;

/// Why a file is listed in 待归类.xlsx for a person to look at.
pub const REASON_UNASSIGNED: &str = crate::tally::UNASSIGNED;
pub const REASON_CONFLICT: &str = "名称与文件夹不一致";
pub const REASON_FAR_DATE: &str = "日期距活动超过 30 天";
pub const REASON_NO_DATE: &str = crate::model::NO_DATE;
pub const REASON_LOW_CONFIDENCE: &str = "日期低可信（文件修改时间）";

/// One file version as judged now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// The configured department (its name, not an alias), or the folder as written.
    pub department: String,
    /// Whether the department is one the configuration knows.
    pub known_department: bool,
    /// Activity names, in the catalog's order of discovery; empty: 未归类.
    pub activities: Vec<String>,
    pub rule: ActivityRule,
    /// The chosen date candidate (a corrected date has source `Correction`).
    pub date: Option<DateCandidate>,
    /// Notes for a person, in Chinese (ignored unset-clock dates, a date far from its activity,
    /// a low-confidence date, a name that disagrees with its folder).
    pub notes: Vec<String>,
    /// Why it belongs in 待归类.xlsx (empty: it does not).
    pub pending: Vec<&'static str>,
    /// 不计入: excluded by the office from the statistics and the materials check.
    pub excluded: bool,
}

impl Judged {
    pub fn activity(&self) -> Option<&str> {
        self.activities.first().map(String::as_str)
    }
    pub fn day(&self) -> Option<NaiveDate> {
        self.date.as_ref().map(|c| c.date())
    }
    pub fn date_source(&self) -> DateSource {
        self.date
            .as_ref()
            .map(|c| c.source)
            .unwrap_or(DateSource::None)
    }
}

/// The office's corrections, checked against the configuration and the catalog.
#[derive(Debug, Clone, Default)]
pub struct Corrections {
    /// Inbox path (as shown) → the row that applies to it (the last valid one).
    by_path: HashMap<String, CorrectionRow>,
    /// Rows that were ignored, and why, in Chinese with their row numbers.
    pub problems: Vec<String>,
}

impl Corrections {
    /// Checks `rows` (read from `origin`): a row naming an unknown activity or department is
    /// reported and ignored; a row naming a file the catalog does not know is reported by
    /// [`Corrections::check_files`].
    pub fn new(cfg: &Config, origin: &str, rows: Vec<CorrectionRow>) -> Corrections {
        let mut out = Corrections::default();
        for mut row in rows {
            if let Some(a) = &row.activity {
                match cfg.find_activity(a) {
                    Some(found) => row.activity = Some(found.name.clone()),
                    None => {
                        out.problems.push(format!(
                            "{origin} 第 {} 行：更正活动“{a}”不是配置中的活动，这一行已忽略（可选：{}）",
                            row.row,
                            cfg.activities
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join("、")
                        ));
                        continue;
                    }
                }
            }
            if let Some(d) = &row.department {
                match cfg.find_department(d) {
                    Some(found) => row.department = Some(found.to_string()),
                    None => {
                        out.problems.push(format!(
                            "{origin} 第 {} 行：更正部门“{d}”不是配置中的部门，这一行已忽略（可选：{}）",
                            row.row,
                            cfg.departments().join("、")
                        ));
                        continue;
                    }
                }
            }
            out.by_path.insert(row.path.clone(), row);
        }
        out
    }

    /// Reports (and drops) rows whose 文件 is no path of the catalog.
    pub fn check_files(&mut self, origin: &str, versions: &[CatalogedVersion]) {
        if self.by_path.is_empty() {
            return;
        }
        let known: BTreeSet<String> = versions
            .iter()
            .flat_map(|v| [v.facts.path.display(), v.facts.path.shown()])
            .collect();
        let mut missing: Vec<&CorrectionRow> = self
            .by_path
            .values()
            .filter(|r| !known.contains(&r.path))
            .collect();
        missing.sort_by_key(|r| r.row);
        for r in &missing {
            self.problems.push(format!(
                "{origin} 第 {} 行：文件“{}”不在目录中（路径写错了，或文件从未导入），这一行已忽略",
                r.row, r.path
            ));
        }
        let gone: Vec<String> = missing.iter().map(|r| r.path.clone()).collect();
        for p in gone {
            self.by_path.remove(&p);
        }
    }

    /// The correction that applies to a path.
    pub fn for_path(&self, path: &str) -> Option<&CorrectionRow> {
        self.by_path.get(path)
    }

    /// The correction that applies to a cataloged path, written as a person reads it (a GBK
    /// name decoded) or with `\xNN` escapes.
    pub fn for_inbox_path(&self, path: &crate::model::InboxPath) -> Option<&CorrectionRow> {
        self.for_path(&path.shown())
            .or_else(|| self.for_path(&path.display()))
    }

    /// Every applying correction, by row number (for 待归类.xlsx).
    pub fn rows(&self) -> Vec<&CorrectionRow> {
        let mut v: Vec<&CorrectionRow> = self.by_path.values().collect();
        v.sort_by_key(|r| r.row);
        v
    }
}

/// Judges file versions against one configuration and one set of corrections. Caches the
/// matching of folder and file names (a year's files repeat the same few folders).
pub struct Judge<'a> {
    cfg: &'a Config,
    corrections: &'a Corrections,
    matcher: activity::ActivityMatcher,
    /// Folder names seen (a year's files share a few hundred folders).
    folders: HashMap<String, Vec<usize>>,
    departments: HashMap<String, (String, bool)>,
}

impl<'a> Judge<'a> {
    pub fn new(cfg: &'a Config, corrections: &'a Corrections) -> Judge<'a> {
        Judge {
            cfg,
            corrections,
            matcher: activity::ActivityMatcher::new(cfg),
            folders: HashMap::new(),
            departments: HashMap::new(),
        }
    }

    /// The activities a text names (a file name, a 活动名称 cell), as catalog indices.
    pub fn names(&self, text: &str) -> Vec<usize> {
        self.matcher.find(text)
    }

    /// The activities a folder names, remembered (folders repeat).
    fn folder_names(&mut self, folder: &str) -> Vec<usize> {
        if let Some(found) = self.folders.get(folder) {
            return found.clone();
        }
        let found = self.matcher.find(folder);
        self.folders.insert(folder.to_string(), found.clone());
        found
    }

    /// The activity names a text names.
    pub fn activity_names(&self, text: &str) -> Vec<String> {
        self.names(text)
            .into_iter()
            .map(|i| self.cfg.activities[i].name.clone())
            .collect()
    }

    /// The department a folder name means, and whether the configuration knows it.
    pub fn department(&mut self, folder: &str) -> (String, bool) {
        if let Some(d) = self.departments.get(folder) {
            return d.clone();
        }
        let d = match self.cfg.find_department(folder) {
            Some(name) => (name.to_string(), true),
            None => (folder.to_string(), false),
        };
        self.departments.insert(folder.to_string(), d.clone());
        d
    }

    /// Judges one version's facts.
    pub fn judge(&mut self, facts: &VersionFacts) -> Judged {
        let cfg = self.cfg;
        let parts = facts.path.parts();
        let (folder, rest) = parts
            .split_first()
            .map_or(("", &[][..]), |(d, r)| (d.as_str(), r));
        let (file_name, folders) = rest
            .split_last()
            .map_or(("", &[][..]), |(f, r)| (f.as_str(), r));
        let correction = if self.corrections.by_path.is_empty() {
            None
        } else {
            self.corrections.for_inbox_path(&facts.path).cloned()
        };

        let (mut department, mut known_department) = self.department(folder);
        if let Some(d) = correction.as_ref().and_then(|c| c.department.clone()) {
            department = d;
            known_department = true;
        }

        // The date: the office's, else the first valid step of the chain.
        let offset = cfg.utc_offset;
        let mut notes = Vec::new();
        let chosen = match correction.as_ref().and_then(|c| c.date) {
            Some(d) => Some(DateCandidate {
                source: DateSource::Correction,
                when: d.and_time(NaiveTime::MIN),
                offset: None,
            }),
            None => {
                let mut candidates: Vec<DateCandidate> = facts
                    .dates
                    .iter()
                    .map(|c| local_candidate(c, offset))
                    .collect();
                let import_day = crate::clock::local_day(facts.imported, offset);
                // The chain's steps before the file name (EXIF, video) usually decide: the name
                // and the modification time are only read when they do not.
                let early = date::choose(
                    &candidates
                        .iter()
                        .filter(|c| c.source < DateSource::Filename)
                        .cloned()
                        .collect::<Vec<_>>(),
                    import_day,
                );
                let choice = if early.chosen.is_some() {
                    early
                } else {
                    let deepest: Vec<&str> = folders.iter().rev().map(String::as_str).collect();
                    candidates.extend(date::date_from_names(file_name, &deepest, offset));
                    // Rows dated without a year: the year of the activity the names say,
                    // else the period's.
                    if let Some(md) = facts.row_month_day {
                        let named = deepest
                            .iter()
                            .copied()
                            .chain(std::iter::once(file_name))
                            .find_map(|t| self.names(t).first().copied());
                        let year = named
                            .map(|i| cfg.activities[i].range(cfg).start.year())
                            .unwrap_or_else(|| cfg.period.start.year());
                        candidates.extend(md.in_year(year).map(|d| DateCandidate {
                            source: DateSource::Sheet,
                            when: d.and_time(NaiveTime::MIN),
                            offset: None,
                        }));
                    }
                    candidates.extend(
                        date::from_unix_seconds(facts.mtime_ns.div_euclid(1_000_000_000), offset)
                            .map(|when| DateCandidate {
                                source: DateSource::Mtime,
                                when,
                                offset: None,
                            }),
                    );
                    date::choose(&candidates, import_day)
                };
                notes.extend(choice.ignored.into_iter().map(|(_, why)| why));
                choice.chosen
            }
        };
        let day = chosen.as_ref().map(|c| c.date());

        // The activities.
        let sheet_activities: Vec<Vec<usize>> = facts
            .row_activities
            .iter()
            .map(|raw| self.names(raw))
            .collect();
        let (activities, rule, conflict) =
            match correction.as_ref().and_then(|c| c.activity.clone()) {
                Some(a) => (vec![a], ActivityRule::Correction, false),
                None => {
                    let own_name = self.names(file_name);
                    let mut names = |t: &str| {
                        if t == file_name {
                            own_name.clone()
                        } else {
                            self.folder_names(t)
                        }
                    };
                    let r = activity::resolve_with(
                        cfg,
                        &FileFacts {
                            department: &department,
                            folders,
                            file_name,
                            sheet_activities: &sheet_activities,
                            date: day,
                        },
                        &mut names,
                    );
                    let names: Vec<String> = r
                        .activities
                        .iter()
                        .map(|i| cfg.activities[*i].name.clone())
                        .collect();
                    (names, r.rule, r.name_conflict)
                }
            };

        let mut pending = Vec::new();
        if activities.is_empty() {
            pending.push(REASON_UNASSIGNED);
        }
        if conflict {
            pending.push(REASON_CONFLICT);
        }
        if let Some(d) = day
            && chosen
                .as_ref()
                .is_some_and(|c| c.source != DateSource::Correction)
        {
            if let Some(flag) = activity::date_flag(cfg, activities.first().map(String::as_str), d)
            {
                notes.push(flag);
                pending.push(REASON_FAR_DATE);
            }
            if chosen
                .as_ref()
                .is_some_and(|c| c.source == DateSource::Mtime)
            {
                notes.push("只有文件修改时间可作日期（低可信），请核对".into());
                pending.push(REASON_LOW_CONFIDENCE);
            }
        }
        if day.is_none() {
            pending.push(REASON_NO_DATE);
        }
        if conflict {
            let own = self.activity_names(file_name);
            notes.push(format!(
                "名称与文件夹不一致：文件名写的是“{}”，文件夹是“{}”，按文件夹归类，请核对",
                own.join("、"),
                activities.join("、")
            ));
        }
        let excluded = correction.as_ref().is_some_and(|c| c.exclude);
        if correction.is_some() {
            // The office looked at it: nothing is pending any more.
            pending.clear();
        }
        Judged {
            department,
            known_department,
            activities,
            rule,
            date: chosen,
            notes,
            pending,
            excluded,
        }
    }
}

/// A stored candidate as local wall-clock time: video stamps are UTC, the rest is wall clock.
fn local_candidate(c: &DateCandidate, offset: chrono::FixedOffset) -> DateCandidate {
    if c.source == DateSource::Video {
        let utc = c.when.and_utc().timestamp();
        DateCandidate {
            source: c.source,
            when: crate::clock::local(utc, offset),
            offset: c.offset.clone(),
        }
    } else {
        c.clone()
    }
}

/// A cataloged version with its judgement.
#[derive(Debug, Clone)]
pub struct ClassifiedFile {
    pub version: CatalogedVersion,
    pub judged: Judged,
}

impl ClassifiedFile {
    /// What counts in the statistics and the materials check: counted by the catalog and not
    /// excluded by the office.
    pub fn counts(&self) -> bool {
        self.version.counted() && !self.judged.excluded
    }
    /// Every problem a person should see: what the bytes had, then the judgement's notes.
    pub fn problems(&self) -> Vec<String> {
        self.version
            .facts
            .problems
            .iter()
            .chain(self.judged.notes.iter())
            .cloned()
            .collect()
    }
    pub fn file_name(&self) -> String {
        crate::walk::show_bytes(self.version.facts.path.file_name_raw())
    }
}

/// Judges every version.
pub fn classify(
    cfg: &Config,
    corrections: &Corrections,
    versions: Vec<CatalogedVersion>,
) -> Vec<ClassifiedFile> {
    use rayon::prelude::*;
    // Independent per file: judged in parallel, each worker with its own matcher and caches.
    versions
        .into_par_iter()
        .chunks(4096)
        .flat_map_iter(|chunk| {
            let mut judge = Judge::new(cfg, corrections);
            chunk
                .into_iter()
                .map(|version| {
                    let judged = judge.judge(&version.facts);
                    ClassifiedFile { version, judged }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A media-register row of a counted file, with what is judged of it.
#[derive(Debug, Clone)]
pub struct JudgedMedia<'m> {
    pub row: &'m MediaRow,
    /// Its row's 活动名称, else its file's activities, else the activities its title names (a
    /// central register kept by 融媒体中心 lists many activities' reports); empty: 未归类.
    pub activities: Vec<String>,
    pub department: String,
    /// Its date; one written without a year takes its activity's year, else the period's.
    pub date: Option<NaiveDate>,
}

/// Judges the media rows of the counted files, in the catalog's order.
pub fn judge_media<'m>(
    cfg: &Config,
    files: &[ClassifiedFile],
    media: &'m [MediaRow],
) -> Vec<JudgedMedia<'m>> {
    let counted: HashMap<i64, &ClassifiedFile> = files
        .iter()
        .filter(|f| f.counts())
        .map(|f| (f.version.id, f))
        .collect();
    let judge = Judge::new(cfg, &NO_CORRECTIONS);
    let period_year = cfg.period.start.year();
    // A register repeats the same 活动名称 cell on many rows: each distinct cell is matched once.
    let mut cells: HashMap<&str, Vec<String>> = HashMap::new();
    media
        .iter()
        .filter_map(|m| {
            let f = counted.get(&m.version_id)?;
            let named = m
                .activity_raw
                .as_deref()
                .map(|a| {
                    cells
                        .entry(a)
                        .or_insert_with(|| judge.activity_names(a))
                        .clone()
                })
                .unwrap_or_default();
            let activities = if !named.is_empty() {
                named
            } else if !f.judged.activities.is_empty() {
                f.judged.activities.clone()
            } else {
                judge.activity_names(&m.title)
            };
            let date = m.date.or_else(|| {
                let year = activities
                    .first()
                    .and_then(|a| cfg.find_activity(a))
                    .map_or(period_year, |a| a.range(cfg).start.year());
                m.date_no_year.and_then(|md| md.in_year(year))
            });
            Some(JudgedMedia {
                row: m,
                activities,
                department: f.judged.department.clone(),
                date,
            })
        })
        .collect()
}

static NO_CORRECTIONS: std::sync::LazyLock<Corrections> =
    std::sync::LazyLock::new(Corrections::default);

/// The catalog's activities as the tally sees them.
pub fn activity_infos(cfg: &Config) -> Vec<ActivityInfo> {
    cfg.activities
        .iter()
        .map(|a| {
            let r = a.range(cfg);
            ActivityInfo {
                name: a.name.clone(),
                departments: a.departments.clone(),
                start: r.start,
                end: r.end,
                experience: a.experience,
            }
        })
        .collect()
}

/// What the materials check sees of the counted files, and how many of them are 未归类.
pub fn evidence(
    cfg: &Config,
    files: &[ClassifiedFile],
) -> (Vec<crate::materials::EvidenceFile>, u64) {
    evidence_with_text(cfg, files, &HashMap::new())
}

/// [`evidence`], with each document's first line of text by version id (a 总结 whose name
/// does not say so but whose title does).
pub fn evidence_with_text(
    cfg: &Config,
    files: &[ClassifiedFile],
    first_lines: &HashMap<i64, String>,
) -> (Vec<crate::materials::EvidenceFile>, u64) {
    let judge = Judge::new(cfg, &NO_CORRECTIONS);
    let mut unassigned = 0;
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.counts()) {
        let mut activities: BTreeSet<String> = f.judged.activities.iter().cloned().collect();
        if f.judged.activities.is_empty() {
            unassigned += 1;
        }
        // A sheet whose rows name activities is evidence of each of them.
        if f.version.facts.sign_in {
            for raw in &f.version.facts.row_activities {
                activities.extend(judge.activity_names(raw));
            }
        }
        out.push(crate::materials::EvidenceFile {
            department: f.judged.department.clone(),
            activities: activities.into_iter().collect(),
            kind: f.version.facts.kind,
            file_name: f.file_name(),
            sign_in: f.version.facts.sign_in,
            media: f.version.facts.media,
            scan: crate::materials::is_sign_in_scan(
                f.version.facts.kind,
                &f.version.facts.format,
                &f.file_name(),
            ),
            first_line: first_lines.get(&f.version.id).cloned().unwrap_or_default(),
        });
    }
    (out, unassigned)
}

/// The rows of 待归类.xlsx: every current file that is 未归类 or flagged, then every file the
/// corrections already apply to (filled in, so that saving the workbook as 更正.xlsx loses no
/// earlier correction), by path.
pub fn pending_rows(
    files: &[ClassifiedFile],
    corrections: &Corrections,
) -> Vec<crate::corrections::PendingRow> {
    let mut out: Vec<crate::corrections::PendingRow> = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.version.counted() || f.judged.excluded)
    {
        let path = f.version.facts.path.shown();
        let fix = corrections.for_inbox_path(&f.version.facts.path);
        if f.judged.pending.is_empty() && fix.is_none() {
            continue;
        }
        out.push(crate::corrections::PendingRow {
            department: f.judged.department.clone(),
            activity: if f.judged.activities.is_empty() {
                crate::tally::UNASSIGNED.to_string()
            } else {
                f.judged.activities.join("、")
            },
            date: f.judged.day().map(|d| d.to_string()).unwrap_or_default(),
            date_source: f.judged.date_source().label().to_string(),
            reason: if fix.is_some() {
                "已更正".to_string()
            } else {
                f.judged.pending.join("；")
            },
            fix_department: fix.and_then(|c| c.department.clone()).unwrap_or_default(),
            fix_activity: fix.and_then(|c| c.activity.clone()).unwrap_or_default(),
            fix_date: fix
                .and_then(|c| c.date)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            exclude: fix.is_some_and(|c| c.exclude),
            path,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}
