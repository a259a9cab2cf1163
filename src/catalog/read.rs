//! The read side: facts out as typed values (`Kind`, `DateSource`, `Sha256`, `RowAt`), never
//! column text. Sheet rows come only from counted versions (the view `counted`).

use std::collections::HashMap;

use chrono::NaiveDate;
use rusqlite::{OptionalExtension, params};

use super::{Catalog, Result};
use crate::model::{
    DateCandidate, DateSource, InboxPath, Kind, MonthDay, NameEncoding, RowAt, Sha256, VersionFacts,
};

/// Which versions to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The latest version of every path, withdrawn ones included (marked).
    Latest,
    /// Every version, old ones included.
    All,
}

/// One cataloged version: where it sits in the catalog, and its facts.
#[derive(Debug, Clone)]
pub struct CatalogedVersion {
    pub id: i64,
    pub file_id: i64,
    pub seq: u32,
    /// The latest version of its path.
    pub current: bool,
    /// Its path is gone from the inbox.
    pub withdrawn: bool,
    /// The run that first saw its path.
    pub first_run: i64,
    /// A zip member: how its name was read.
    pub name_encoding: Option<NameEncoding>,
    pub facts: VersionFacts,
}

impl CatalogedVersion {
    /// Counted: the latest version of a path that is not withdrawn.
    pub fn counted(&self) -> bool {
        self.current && !self.withdrawn
    }
}

/// One sign-in row of a counted version.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub version_id: i64,
    pub at: RowAt,
    /// The text above its sheet's header (学生签到表 …).
    pub title: Option<String>,
    pub name: String,
    pub id: Option<String>,
    pub role: Option<String>,
    pub unit: Option<String>,
    pub activity_raw: Option<String>,
}

/// One media-register row of a counted version.
#[derive(Debug, Clone)]
pub struct MediaRow {
    pub version_id: i64,
    pub at: RowAt,
    pub title: String,
    pub outlet: String,
    pub level: Option<String>,
    pub date: Option<NaiveDate>,
    /// A date written without a year (its year is judged from the activity or the period).
    pub date_no_year: Option<MonthDay>,
    pub url: Option<String>,
    pub activity_raw: Option<String>,
}

/// One declared-counts row of a counted version.
#[derive(Debug, Clone)]
pub struct DeclaredRow {
    pub version_id: i64,
    pub at: RowAt,
    pub activity_raw: String,
    pub department: Option<String>,
    pub teachers: Option<u64>,
    pub students: Option<u64>,
    pub enterprises: Option<u64>,
    pub participants: Option<u64>,
}

/// A sheet row (or a whole sheet, row 0) that could not be used, of a counted version.
#[derive(Debug, Clone)]
pub struct RowProblem {
    pub version_id: i64,
    pub at: RowAt,
    pub reason: String,
}

/// A counted document's text.
#[derive(Debug, Clone)]
pub struct DocText {
    pub version_id: i64,
    pub text: String,
}

/// One run of the import.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: i64,
    pub command: String,
    /// Unix seconds.
    pub started: Option<i64>,
    pub ended: Option<i64>,
    pub status: String,
    pub summary: Option<serde_json::Value>,
}

/// A year-end archive the catalog recorded.
#[derive(Debug, Clone)]
pub struct ArchiveRecord {
    pub year: i32,
    pub path: String,
    pub size: u64,
    pub sha256: Option<Sha256>,
}

fn day(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
}

fn count(x: Option<i64>) -> Option<u64> {
    x.map(|x| x.max(0) as u64)
}

/// A row's place, its path as a person reads it (from the raw bytes).
fn row_at(path_raw: Vec<u8>, sheet: String, row: i64) -> RowAt {
    RowAt {
        path: InboxPath(path_raw).shown(),
        sheet,
        row: u32::try_from(row).unwrap_or(0),
    }
}

impl Catalog {
    /// Cataloged versions with their facts, by path then version.
    pub fn versions(&self, which: Which) -> Result<Vec<CatalogedVersion>> {
        let filter = match which {
            Which::Latest => "WHERE f.current_version = v.id",
            Which::All => "",
        };
        // Date candidates by version id, in id order: merged with the versions below (which
        // come in id order too) without a map of 40 000 small vectors.
        let mut dates: Vec<(i64, DateCandidate)> = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT version_id, source, datetime, offset FROM date_candidates ORDER BY version_id",
            )?;
            // Two rows a photo: read borrowed, the date parsed without chrono's general parser.
            let rows = stmt.query_map([], |r| {
                let text = |i: usize| r.get_ref(i).map(|v| v.as_str().ok());
                let source = text(1)?.and_then(DateSource::parse);
                let when = text(2)?.and_then(crate::clock::parse_iso_seconds);
                Ok((
                    r.get::<_, i64>(0)?,
                    source,
                    when,
                    r.get::<_, Option<String>>(3)?,
                ))
            })?;
            for row in rows {
                let (v, source, when, offset) = row?;
                let (Some(source), Some(when)) = (source, when) else {
                    continue;
                };
                dates.push((
                    v,
                    DateCandidate {
                        source,
                        when,
                        offset,
                    },
                ));
            }
        }
        let mut sheets: HashMap<i64, (bool, bool)> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT version_id, kind FROM sheets WHERE kind IN ('sign_in', 'media')",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (v, kind) = row?;
                let e = sheets.entry(v).or_default();
                match kind.as_str() {
                    "sign_in" => e.0 = true,
                    _ => e.1 = true,
                }
            }
        }
        let mut named: HashMap<i64, Vec<String>> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT DISTINCT version_id, activity_raw FROM people WHERE activity_raw IS NOT NULL
                 UNION SELECT DISTINCT version_id, activity_raw FROM declared
                 ORDER BY 1, 2",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (v, a) = row?;
                named.entry(v).or_default().push(a);
            }
        }
        let mut encodings: HashMap<i64, NameEncoding> = HashMap::new();
        if self.has_members()? {
            let mut stmt = self
                .conn
                .prepare("SELECT file_id, name_encoding FROM members")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (f, e) = row?;
                if let Some(e) = NameEncoding::parse(&e) {
                    encodings.insert(f, e);
                }
            }
        }
        // Dates written without a year ('--MM-DD'), for versions whose rows gave no full date.
        let mut month_days: HashMap<i64, MonthDay> = HashMap::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT version_id, MIN(d) FROM (
                     SELECT version_id, time AS d FROM people WHERE time LIKE '--%'
                     UNION ALL SELECT version_id, date FROM media_reports WHERE date LIKE '--%')
                 GROUP BY version_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
            for row in rows {
                let (v, d) = row?;
                if let Some(md) = MonthDay::parse_stored(&d) {
                    month_days.insert(v, md);
                }
            }
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT v.id, f.id, v.seq, f.current_version = v.id, f.withdrawn_run IS NOT NULL,
                    f.first_run, f.path_raw, v.size, v.mtime_ns, v.sha256, v.kind, v.format,
                    v.imported, v.problems, v.width, v.height, v.orientation, v.has_thumbnail
             FROM versions v JOIN files f ON f.id = v.file_id
             {filter}
             ORDER BY v.id"
        ))?;
        let rows = stmt.query_map([], |r| {
            let id: i64 = r.get(0)?;
            // Borrowed, not copied: 40 000 rows of a year's catalog are read at every run.
            let text = |i: usize| -> rusqlite::Result<&str> {
                r.get_ref(i)?.as_str().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        i,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })
            };
            let sha = Sha256::parse_hex(text(9)?).unwrap_or(Sha256([0; 32]));
            let kind = Kind::parse(text(10)?).unwrap_or(Kind::Other);
            let problems = text(13)?;
            Ok(CatalogedVersion {
                id,
                file_id: r.get(1)?,
                seq: r.get::<_, i64>(2)?.max(0) as u32,
                current: r.get(3)?,
                withdrawn: r.get(4)?,
                first_run: r.get(5)?,
                name_encoding: None,
                facts: VersionFacts {
                    path: InboxPath(r.get(6)?),
                    size: r.get::<_, i64>(7)?.max(0) as u64,
                    mtime_ns: r.get(8)?,
                    sha256: sha,
                    kind,
                    format: r.get(11)?,
                    dates: Vec::new(),
                    imported: r.get(12)?,
                    problems: if problems == "[]" {
                        Vec::new()
                    } else {
                        serde_json::from_str(problems).unwrap_or_default()
                    },
                    width: r
                        .get::<_, Option<i64>>(14)?
                        .and_then(|x| u32::try_from(x).ok()),
                    height: r
                        .get::<_, Option<i64>>(15)?
                        .and_then(|x| u32::try_from(x).ok()),
                    orientation: r
                        .get::<_, Option<i64>>(16)?
                        .and_then(|o| u16::try_from(o).ok()),
                    has_thumbnail: r.get(17)?,
                    sign_in: false,
                    media: false,
                    row_activities: Vec::new(),
                    row_month_day: None,
                },
            })
        })?;
        let mut out = Vec::new();
        let mut dates = dates.into_iter().peekable();
        for row in rows {
            let mut v = row?;
            while dates.next_if(|(id, _)| *id < v.id).is_some() {}
            while let Some((_, c)) = dates.next_if(|(id, _)| *id == v.id) {
                v.facts.dates.push(c);
            }
            let (sign_in, media) = sheets.get(&v.id).copied().unwrap_or_default();
            v.facts.sign_in = sign_in;
            v.facts.media = media;
            v.facts.row_activities = named.remove(&v.id).unwrap_or_default();
            v.name_encoding = encodings.get(&v.file_id).copied();
            if !v.facts.dates.iter().any(|c| c.source == DateSource::Sheet) {
                v.facts.row_month_day = month_days.remove(&v.id);
            }
            out.push((v.facts.path.display(), v));
        }
        // By path as a person reads it, then version (sorted here: cheaper than SQLite's sorter
        // over wide rows).
        out.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.seq.cmp(&y.seq)));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// The sign-in rows of counted versions, by path, sheet and row.
    pub fn people(&self) -> Result<Vec<PersonRow>> {
        let mut out = Vec::new();
        self.each_person(&mut |p| out.push(p))?;
        Ok(out)
    }

    /// [`Catalog::people`] one row at a time, never all of them in memory at once.
    pub fn each_person(&self, f: &mut dyn FnMut(PersonRow)) -> Result<()> {
        self.each_person_in(" ORDER BY f.path, p.sheet, p.row", f)
    }

    /// [`Catalog::each_person`] in the order the rows are stored, without sorting them (a
    /// sort of 1 000 000 rows costs about as much as reading them): for a reader whose result
    /// does not depend on the order, as the tally's.
    pub fn each_person_unsorted(&self, f: &mut dyn FnMut(PersonRow)) -> Result<()> {
        self.each_person_in("", f)
    }

    fn each_person_in(&self, order: &str, f: &mut dyn FnMut(PersonRow)) -> Result<()> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT p.version_id, f.path_raw, p.sheet, p.row, p.name, p.person_id, p.role, p.unit,
                    p.activity_raw,
                    (SELECT s.title FROM sheets s WHERE s.version_id = p.version_id AND s.name = p.sheet)
             FROM people p JOIN counted c ON c.version_id = p.version_id
             JOIN versions v ON v.id = p.version_id JOIN files f ON f.id = v.file_id{order}"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(PersonRow {
                version_id: r.get(0)?,
                at: row_at(r.get(1)?, r.get(2)?, r.get(3)?),
                name: r.get(4)?,
                id: r.get(5)?,
                role: r.get(6)?,
                unit: r.get(7)?,
                activity_raw: r.get(8)?,
                title: r.get(9)?,
            })
        })?;
        for row in rows {
            f(row?);
        }
        Ok(())
    }

    /// The media-register rows of counted versions, by date, path, sheet and row.
    pub fn media(&self) -> Result<Vec<MediaRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.version_id, f.path_raw, m.sheet, m.row, m.title, m.outlet, m.level, m.date,
                    m.url, m.activity_raw
             FROM media_reports m JOIN counted c ON c.version_id = m.version_id
             JOIN versions v ON v.id = m.version_id JOIN files f ON f.id = v.file_id
             ORDER BY m.date, f.path, m.sheet, m.row",
        )?;
        let rows = stmt.query_map([], |r| {
            let date: Option<String> = r.get(7)?;
            Ok(MediaRow {
                version_id: r.get(0)?,
                at: row_at(r.get(1)?, r.get(2)?, r.get(3)?),
                title: r.get(4)?,
                outlet: r.get(5)?,
                level: r.get(6)?,
                date_no_year: date.as_deref().and_then(MonthDay::parse_stored),
                date: day(date),
                url: r.get(8)?,
                activity_raw: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The declared-counts rows of counted versions.
    pub fn declared(&self) -> Result<Vec<DeclaredRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT d.version_id, f.path_raw, d.sheet, d.row, d.activity_raw, d.department,
                    d.teachers, d.students, d.enterprises, d.participants
             FROM declared d JOIN counted c ON c.version_id = d.version_id
             JOIN versions v ON v.id = d.version_id JOIN files f ON f.id = v.file_id
             ORDER BY f.path, d.sheet, d.row",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DeclaredRow {
                version_id: r.get(0)?,
                at: row_at(r.get(1)?, r.get(2)?, r.get(3)?),
                activity_raw: r.get(4)?,
                department: r.get(5)?,
                teachers: count(r.get(6)?),
                students: count(r.get(7)?),
                enterprises: count(r.get(8)?),
                participants: count(r.get(9)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The row problems of counted versions.
    pub fn row_problems(&self) -> Result<Vec<RowProblem>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.version_id, f.path_raw, p.sheet, p.row, p.reason
             FROM row_problems p JOIN counted c ON c.version_id = p.version_id
             JOIN versions v ON v.id = p.version_id JOIN files f ON f.id = v.file_id
             ORDER BY f.path, p.sheet, p.row",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RowProblem {
                version_id: r.get(0)?,
                at: row_at(r.get(1)?, r.get(2)?, r.get(3)?),
                reason: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The text of counted documents.
    pub fn doc_texts(&self) -> Result<Vec<DocText>> {
        let mut stmt = self.conn.prepare(
            "SELECT t.version_id, t.text FROM doc_text t JOIN counted c ON c.version_id = t.version_id
             JOIN versions v ON v.id = t.version_id JOIN files f ON f.id = v.file_id
             ORDER BY f.path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(DocText {
                version_id: r.get(0)?,
                text: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first line of each counted document's text (its first `max_chars` characters are
    /// searched), by version: what the materials check reads besides the file name.
    pub fn doc_first_lines(&self, max_chars: u32) -> Result<HashMap<i64, String>> {
        let mut stmt = self.conn.prepare(
            "SELECT t.version_id, substr(t.text, 1, ?1) FROM doc_text t
             JOIN counted c ON c.version_id = t.version_id",
        )?;
        let rows = stmt.query_map([max_chars], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (v, head) = row?;
            if let Some(line) = head.lines().map(str::trim).find(|l| !l.is_empty()) {
                out.insert(v, line.to_string());
            }
        }
        Ok(out)
    }

    /// The rejections of the latest completed import: (path, reason), by path.
    pub fn last_rejections(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare(
            "SELECT path_raw, reason FROM rejections
             WHERE run_id = (SELECT MAX(id) FROM runs WHERE command = 'import' AND status = 'done')
             ORDER BY path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((InboxPath(r.get::<_, Vec<u8>>(0)?).shown(), r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The latest import, finished or not.
    pub fn last_import(&self) -> Result<Option<RunRecord>> {
        let run = self
            .conn
            .query_row(
                "SELECT id, command, started, ended, status, summary FROM runs
                 WHERE command = 'import' ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    let started: String = r.get(2)?;
                    let ended: Option<String> = r.get(3)?;
                    let summary: Option<String> = r.get(5)?;
                    Ok(RunRecord {
                        id: r.get(0)?,
                        command: r.get(1)?,
                        started: crate::clock::parse_stamp(&started),
                        ended: ended.as_deref().and_then(crate::clock::parse_stamp),
                        status: r.get(4)?,
                        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
                    })
                },
            )
            .optional()?;
        Ok(run)
    }

    /// When each run started (Unix seconds), by run id.
    pub fn run_starts(&self) -> Result<HashMap<i64, i64>> {
        let mut stmt = self.conn.prepare("SELECT id, started FROM runs")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, started) = row?;
            if let Some(t) = crate::clock::parse_stamp(&started) {
                out.insert(id, t);
            }
        }
        Ok(out)
    }

    /// Every year-end archive recorded, oldest first.
    pub fn archives(&self) -> Result<Vec<ArchiveRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT year, path, size, sha256 FROM archives ORDER BY id")?;
        let rows = stmt.query_map(params![], |r| {
            let sha: String = r.get(3)?;
            Ok(ArchiveRecord {
                year: r.get(0)?,
                path: r.get(1)?,
                size: r.get::<_, i64>(2)?.max(0) as u64,
                sha256: Sha256::parse_hex(&sha),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
