//! The import's side of the catalog: runs, new versions with their facts and sheet rows,
//! rejections, the stat cache, withdrawals, built archives. One [`Batch`] is one transaction.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Catalog, Result};
use crate::model::{InboxPath, NameEncoding, Sha256, VersionFacts};

/// A new version of a file, ready to be written: its facts, its text and its sheets' rows.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub facts: VersionFacts,
    pub inode: u64,
    pub text: Option<String>,
    pub sheets: Vec<SheetRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct SheetRecord {
    pub name: String,
    pub kind: String,
    pub header_row: Option<u32>,
    pub title: Option<String>,
    pub people: PeopleRows,
    pub media: Vec<MediaRecord>,
    pub declared: Vec<DeclaredRecord>,
    pub problems: Vec<(u32, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonRecord {
    pub row: u32,
    pub name: String,
    pub person_id: Option<String>,
    pub role: Option<String>,
    pub unit: Option<String>,
    pub time: Option<String>,
    pub activity_raw: Option<String>,
}

/// Sign-in rows packed into one buffer, about the size of their text (a million rows of a
/// 60 MB CSV: ~60 MB, not the ~250 MB of a million records of owned strings). Rows go in with
/// [`PeopleRows::push`] and come out, one at a time, with [`PeopleRows::iter`].
#[derive(Debug, Clone, Default)]
pub struct PeopleRows {
    bytes: Vec<u8>,
    len: usize,
}

impl PeopleRows {
    pub fn push(&mut self, r: &PersonRecord) {
        let b = &mut self.bytes;
        put_varint(b, u64::from(r.row));
        put_text(b, Some(&r.name));
        for f in [&r.person_id, &r.role, &r.unit, &r.time, &r.activity_raw] {
            put_text(b, f.as_deref());
        }
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = PersonRecord> + '_ {
        let mut at = 0usize;
        let b = &self.bytes;
        (0..self.len).map(move |_| {
            let row = get_varint(b, &mut at) as u32;
            let name = get_text(b, &mut at).unwrap_or_default();
            let mut f = || get_text(b, &mut at);
            PersonRecord {
                row,
                name,
                person_id: f(),
                role: f(),
                unit: f(),
                time: f(),
                activity_raw: f(),
            }
        })
    }
}

fn put_varint(b: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        b.push((x as u8) | 0x80);
        x >>= 7;
    }
    b.push(x as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> u64 {
    let mut x = 0u64;
    let mut shift = 0;
    while let Some(&byte) = b.get(*at) {
        *at += 1;
        x |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    x
}

/// A text as its length + 1 (0: none) and its bytes.
fn put_text(b: &mut Vec<u8>, t: Option<&str>) {
    match t {
        None => put_varint(b, 0),
        Some(t) => {
            put_varint(b, t.len() as u64 + 1);
            b.extend_from_slice(t.as_bytes());
        }
    }
}

fn get_text(b: &[u8], at: &mut usize) -> Option<String> {
    let n = get_varint(b, at) as usize;
    let n = n.checked_sub(1)?;
    let end = (*at + n).min(b.len());
    let t = String::from_utf8_lossy(&b[*at..end]).into_owned();
    *at = end;
    Some(t)
}

#[derive(Debug, Clone, Default)]
pub struct MediaRecord {
    pub row: u32,
    pub title: String,
    pub outlet: String,
    pub level: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    pub activity_raw: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeclaredRecord {
    pub row: u32,
    pub activity_raw: String,
    pub department: Option<String>,
    pub date: Option<String>,
    pub teachers: Option<u64>,
    pub students: Option<u64>,
    pub enterprises: Option<u64>,
    pub participants: Option<u64>,
}

/// What the catalog knew of a path at the last import (the stat cache).
#[derive(Debug, Clone)]
pub struct KnownFile {
    pub id: i64,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    pub withdrawn: bool,
    /// The content of its current version.
    pub sha256: Option<Sha256>,
    pub current_version: Option<i64>,
    /// A zip member: the version of the zip it was last read from.
    pub container_version: Option<i64>,
}

/// One transaction of the import.
pub struct Batch<'c> {
    tx: Transaction<'c>,
    run: i64,
}

impl Catalog {
    /// Records a run as started. A run still marked running was killed part-way (the run lock
    /// lets one run at a time): it is marked interrupted (中断).
    pub fn start_run(&self, command: &str, inbox: &str) -> Result<i64> {
        self.conn.execute(
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running'",
            [],
        )?;
        self.conn.execute(
            "INSERT INTO runs(command, started, status, tool_version, inbox) VALUES (?1, ?2, 'running', ?3, ?4)",
            params![
                command,
                crate::clock::stamp(crate::clock::system_now()),
                env!("CARGO_PKG_VERSION"),
                inbox
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run: i64, status: &str, summary: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET ended = ?2, status = ?3, summary = ?4 WHERE id = ?1",
            params![
                run,
                crate::clock::stamp(crate::clock::system_now()),
                status,
                summary
            ],
        )?;
        Ok(())
    }

    /// Refreshes the query planner's statistics (`sqlite_stat1`) when the rows changed or
    /// none were ever gathered: without them SQLite guesses table sizes and read the few
    /// hundred sign-in rows by walking all 40 000 files. Sampled (`analysis_limit`), so its
    /// cost stays bounded however large the tables grow.
    pub fn refresh_statistics(&self, rows_changed: bool) -> Result<()> {
        let gathered: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1')",
            [],
            |r| r.get(0),
        )?;
        if rows_changed || !gathered {
            self.conn
                .execute_batch("PRAGMA analysis_limit = 1000; ANALYZE;")?;
        }
        Ok(())
    }

    /// The stat cache: every known path, raw.
    pub fn known_files(&self) -> Result<HashMap<Vec<u8>, KnownFile>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT f.path_raw, f.id, f.size, f.mtime_ns, f.inode, f.withdrawn_run IS NOT NULL,
                        v.sha256, f.current_version, {}
                 FROM files f LEFT JOIN versions v ON v.id = f.current_version{}",
            if self.has_members()? {
                "m.container_version"
            } else {
                "NULL"
            },
            if self.has_members()? {
                " LEFT JOIN members m ON m.file_id = f.id"
            } else {
                ""
            }
        ))?;
        let rows = stmt.query_map([], |r| {
            let sha: Option<String> = r.get(6)?;
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                KnownFile {
                    id: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                    inode: r.get::<_, i64>(4)? as u64,
                    withdrawn: r.get(5)?,
                    sha256: sha.as_deref().and_then(Sha256::parse_hex),
                    current_version: r.get(7)?,
                    container_version: r.get(8)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Starts one batch (a transaction) of run `run`.
    pub fn batch(&mut self, run: i64) -> Result<Batch<'_>> {
        Ok(Batch {
            tx: self.conn.transaction()?,
            run,
        })
    }

    /// Records a year-end archive for later fixity audits.
    pub fn record_archive(&self, year: i32, path: &str, size: u64, sha256: &Sha256) -> Result<()> {
        self.conn.execute(
            "INSERT INTO archives(year, path, size, sha256, created) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                year,
                path,
                size as i64,
                sha256.hex(),
                crate::clock::stamp(crate::clock::system_now())
            ],
        )?;
        Ok(())
    }
}

impl Batch<'_> {
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }

    /// Writes one new version (and its file row, object row, date candidates, text and sheet
    /// rows).
    pub fn insert_version(&self, v: &NewVersion) -> Result<i64> {
        let tx = &self.tx;
        let run = self.run;
        let f = &v.facts;
        let sha = f.sha256.hex();
        // Statements of every version, prepared once a connection (parsing them was 2 % of a
        // first import's CPU).
        tx.prepare_cached(
            "INSERT OR IGNORE INTO objects(sha256, size, first_run) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![sha, f.size as i64, run])?;
        let existing: Option<i64> = tx
            .prepare_cached("SELECT id FROM files WHERE path_raw = ?1")?
            .query_row([&f.path.0], |r| r.get(0))
            .optional()?;
        let file_id = match existing {
            Some(id) => {
                tx.prepare_cached(
                    "UPDATE files SET size = ?2, mtime_ns = ?3, inode = ?4, withdrawn_run = NULL WHERE id = ?1",
                )?
                .execute(params![id, f.size as i64, f.mtime_ns, v.inode as i64])?;
                id
            }
            None => {
                tx.prepare_cached(
                    "INSERT INTO files(path_raw, path, size, mtime_ns, inode, first_run)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    f.path.0,
                    f.path.display(),
                    f.size as i64,
                    f.mtime_ns,
                    v.inode as i64,
                    run
                ])?;
                tx.last_insert_rowid()
            }
        };
        let seq: i64 = tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE file_id = ?1")?
            .query_row([file_id], |r| r.get(0))?;
        tx.prepare_cached(
            "INSERT INTO versions(file_id, seq, sha256, size, mtime_ns, kind, format, problems,
                 width, height, orientation, has_thumbnail, run_id, imported)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?
        .execute(params![
            file_id,
            seq,
            sha,
            f.size as i64,
            f.mtime_ns,
            f.kind.as_str(),
            f.format,
            serde_json::to_string(&f.problems).unwrap_or_else(|_| "[]".into()),
            f.width,
            f.height,
            f.orientation,
            f.has_thumbnail,
            run,
            f.imported
        ])?;
        let version_id = tx.last_insert_rowid();
        tx.prepare_cached("UPDATE files SET current_version = ?2 WHERE id = ?1")?
            .execute(params![file_id, version_id])?;
        {
            let mut d = tx.prepare_cached(
                "INSERT INTO date_candidates(version_id, source, datetime, offset) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for c in &f.dates {
                d.execute(params![
                    version_id,
                    c.source.as_str(),
                    crate::clock::iso_seconds(&c.when),
                    c.offset
                ])?;
            }
        }
        if let Some(text) = &v.text {
            tx.execute(
                "INSERT INTO doc_text(version_id, text) VALUES (?1, ?2)",
                params![version_id, text],
            )?;
        }
        for s in &v.sheets {
            tx.execute(
                "INSERT INTO sheets(version_id, name, kind, header_row, title) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![version_id, s.name, s.kind, s.header_row, s.title],
            )?;
            let mut p = tx.prepare_cached(
                "INSERT INTO people(version_id, sheet, row, name, person_id, role, unit, time, activity_raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in s.people.iter() {
                p.execute(params![
                    version_id,
                    s.name,
                    r.row,
                    &r.name,
                    r.person_id,
                    r.role,
                    r.unit,
                    r.time,
                    r.activity_raw
                ])?;
            }
            let mut m = tx.prepare_cached(
                "INSERT INTO media_reports(version_id, sheet, row, title, outlet, level, date, url, activity_raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in &s.media {
                m.execute(params![
                    version_id,
                    s.name,
                    r.row,
                    r.title,
                    r.outlet,
                    r.level,
                    r.date,
                    r.url,
                    r.activity_raw
                ])?;
            }
            let mut d = tx.prepare_cached(
                "INSERT INTO declared(version_id, sheet, row, activity_raw, department, date,
                     teachers, students, enterprises, participants)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for r in &s.declared {
                d.execute(params![
                    version_id,
                    s.name,
                    r.row,
                    r.activity_raw,
                    r.department,
                    r.date,
                    r.teachers.map(|x| x as i64),
                    r.students.map(|x| x as i64),
                    r.enterprises.map(|x| x as i64),
                    r.participants.map(|x| x as i64)
                ])?;
            }
            let mut q = tx.prepare_cached(
                "INSERT INTO row_problems(version_id, sheet, row, reason) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (row, reason) in &s.problems {
                q.execute(params![version_id, s.name, row, reason])?;
            }
        }
        Ok(version_id)
    }

    /// Records that a file is a member of a zip's version `container_version` (new version or
    /// unchanged content), with its name as the zip has it and how that was read. Clears a
    /// withdrawn mark: the zip holds it again.
    pub fn set_member(
        &self,
        path: &InboxPath,
        container_version: i64,
        name_raw: &[u8],
        encoding: NameEncoding,
    ) -> Result<()> {
        let tx = &self.tx;
        let file_id: i64 =
            tx.query_row("SELECT id FROM files WHERE path_raw = ?1", [&path.0], |r| {
                r.get(0)
            })?;
        tx.execute(
            "INSERT INTO members(file_id, container_version, name_raw, name_encoding)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(file_id) DO UPDATE SET container_version = excluded.container_version,
                 name_raw = excluded.name_raw, name_encoding = excluded.name_encoding",
            params![file_id, container_version, name_raw, encoding.as_str()],
        )?;
        tx.execute(
            "UPDATE files SET withdrawn_run = NULL WHERE id = ?1",
            [file_id],
        )?;
        Ok(())
    }

    /// A member of an unchanged zip: present again (its stat cache is the zip's).
    pub fn mark_member_present(&self, file_id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE files SET withdrawn_run = NULL WHERE id = ?1",
            [file_id],
        )?;
        Ok(())
    }

    /// Records a rejection of this run.
    pub fn insert_rejection(&self, path: &InboxPath, reason: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO rejections(run_id, path_raw, path, reason) VALUES (?1, ?2, ?3, ?4)",
            params![self.run, path.0, path.display(), reason],
        )?;
        Ok(())
    }

    /// An unchanged file that is present again: clears its withdrawn mark and refreshes the
    /// stat cache (an inode change alone, say after a copy, is not a new version).
    pub fn mark_present(&self, file_id: i64, size: u64, mtime_ns: i64, inode: u64) -> Result<()> {
        self.tx.execute(
            "UPDATE files SET withdrawn_run = NULL, size = ?2, mtime_ns = ?3, inode = ?4 WHERE id = ?1",
            params![file_id, size as i64, mtime_ns, inode as i64],
        )?;
        Ok(())
    }

    pub fn mark_withdrawn(&self, file_id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE files SET withdrawn_run = ?2 WHERE id = ?1 AND withdrawn_run IS NULL",
            params![file_id, self.run],
        )?;
        Ok(())
    }
}
