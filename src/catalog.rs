//! The catalog: `archive/catalog.sqlite` (WAL). What each file is and means — path, department,
//! activity and the rule that decided it, date and its source, kind, problems, the rows of its
//! sheets — plus runs, rejections and built archives. Knows nothing of bytes: the store does.
//! Writes happen in one transaction per batch, after the batch's objects are durable.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL,            -- running | done | failed
    tool_version TEXT NOT NULL,
    inbox TEXT,
    summary TEXT                     -- JSON of the run's counts
);
CREATE TABLE IF NOT EXISTS objects (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    first_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path_raw BLOB NOT NULL UNIQUE,   -- relative to the inbox, raw bytes
    path TEXT NOT NULL,              -- for people: invalid bytes as \xNN
    department TEXT NOT NULL,
    current_version INTEGER,
    withdrawn_run INTEGER,           -- not NULL: gone from the inbox since that run
    size INTEGER NOT NULL,           -- the stat cache of the last read
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    first_run INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES objects(sha256),
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    kind TEXT NOT NULL,
    format TEXT NOT NULL,
    activity TEXT,
    activity_rule TEXT NOT NULL,
    date TEXT,                       -- YYYY-MM-DD local
    datetime TEXT,                   -- YYYY-MM-DDTHH:MM:SS local wall clock
    date_source TEXT NOT NULL,
    date_offset TEXT,
    problems TEXT NOT NULL,          -- JSON array of Chinese reasons
    width INTEGER,
    height INTEGER,
    orientation INTEGER,
    has_thumbnail INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER NOT NULL,
    UNIQUE (file_id, seq)
);
CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256);
CREATE TABLE IF NOT EXISTS doc_text (version_id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sheets (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,              -- sign_in | media | declared | unrecognised
    header_row INTEGER,
    title TEXT                       -- the text above the header (学生签到表 …)
);
CREATE INDEX IF NOT EXISTS sheets_version ON sheets(version_id, name);
CREATE INDEX IF NOT EXISTS files_current ON files(current_version);
CREATE TABLE IF NOT EXISTS people (
    version_id INTEGER NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    name TEXT NOT NULL,
    person_id TEXT,
    role TEXT,
    unit TEXT,
    time TEXT,
    activity_raw TEXT,
    activity TEXT
);
CREATE INDEX IF NOT EXISTS people_version ON people(version_id);
CREATE TABLE IF NOT EXISTS media_reports (
    version_id INTEGER NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    title TEXT NOT NULL,
    outlet TEXT NOT NULL,
    level TEXT,
    date TEXT,
    url TEXT
);
CREATE INDEX IF NOT EXISTS media_version ON media_reports(version_id);
CREATE TABLE IF NOT EXISTS declared (
    version_id INTEGER NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    activity_raw TEXT NOT NULL,
    activity TEXT,
    department TEXT,
    date TEXT,
    teachers INTEGER,
    students INTEGER,
    enterprises INTEGER,
    participants INTEGER
);
CREATE TABLE IF NOT EXISTS row_problems (
    version_id INTEGER NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    run_id INTEGER NOT NULL,
    path_raw BLOB NOT NULL,
    path TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS archives (
    id INTEGER PRIMARY KEY,
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    run_id INTEGER
);
"#;

pub struct Catalog {
    pub conn: Connection,
}

/// What the catalog knew of a path at the last import (the stat cache).
#[derive(Debug, Clone)]
pub struct KnownFile {
    pub id: i64,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    pub withdrawn: bool,
    pub versions: i64,
}

/// A new version of a file, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct NewVersion {
    pub path_raw: Vec<u8>,
    pub path: String,
    pub department: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub inode: u64,
    pub sha256: String,
    pub kind: String,
    pub format: String,
    pub activity: Option<String>,
    pub activity_rule: String,
    pub date: Option<String>,
    pub datetime: Option<String>,
    pub date_source: String,
    pub date_offset: Option<String>,
    pub problems: Vec<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub orientation: Option<u16>,
    pub has_thumbnail: bool,
    pub text: Option<String>,
    pub sheets: Vec<SheetRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct SheetRecord {
    pub name: String,
    pub kind: String,
    pub header_row: Option<u32>,
    pub title: Option<String>,
    pub people: Vec<PersonRecord>,
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
    pub activity: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct MediaRecord {
    pub row: u32,
    pub title: String,
    pub outlet: String,
    pub level: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DeclaredRecord {
    pub row: u32,
    pub activity_raw: String,
    pub activity: Option<String>,
    pub department: Option<String>,
    pub date: Option<String>,
    pub teachers: Option<u64>,
    pub students: Option<u64>,
    pub enterprises: Option<u64>,
    pub participants: Option<u64>,
}

/// One cataloged file version as `dangan list` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub path: String,
    pub department: String,
    pub activity: Option<String>,
    pub activity_rule: String,
    pub date: Option<String>,
    pub date_source: String,
    pub kind: String,
    pub size: u64,
    pub sha256: String,
    pub problems: Vec<String>,
    #[serde(skip)]
    pub version_id: i64,
    #[serde(skip)]
    pub seq: i64,
    #[serde(skip)]
    pub current: bool,
    #[serde(skip)]
    pub withdrawn: bool,
    #[serde(skip)]
    pub first_run: i64,
    #[serde(skip)]
    pub format: String,
    #[serde(skip)]
    pub datetime: Option<String>,
    #[serde(skip)]
    pub path_raw: Vec<u8>,
}

pub fn now_text() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

impl Catalog {
    /// Opens (creating) the catalog in `archive/`.
    pub fn open(archive: &Path) -> rusqlite::Result<Catalog> {
        let conn = Connection::open(archive.join("catalog.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        Ok(Catalog { conn })
    }

    /// Opens an existing catalog for reading only; `None` when there is none yet.
    pub fn open_read_only(archive: &Path) -> rusqlite::Result<Option<Catalog>> {
        let path = archive.join("catalog.sqlite");
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(Some(Catalog { conn }))
    }

    pub fn start_run(&self, command: &str, inbox: &str) -> rusqlite::Result<i64> {
        self.conn.execute(
            "INSERT INTO runs(command, started, status, tool_version, inbox) VALUES (?1, ?2, 'running', ?3, ?4)",
            params![command, now_text(), env!("CARGO_PKG_VERSION"), inbox],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run: i64, status: &str, summary: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "UPDATE runs SET ended = ?2, status = ?3, summary = ?4 WHERE id = ?1",
            params![run, now_text(), status, summary],
        )?;
        Ok(())
    }

    /// The stat cache: every known path.
    pub fn known_files(&self) -> rusqlite::Result<std::collections::HashMap<Vec<u8>, KnownFile>> {
        let mut stmt = self.conn.prepare(
            "SELECT f.path_raw, f.id, f.size, f.mtime_ns, f.inode, f.withdrawn_run IS NOT NULL,
                    (SELECT COUNT(*) FROM versions v WHERE v.file_id = f.id)
             FROM files f",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                KnownFile {
                    id: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                    inode: r.get::<_, i64>(4)? as u64,
                    withdrawn: r.get(5)?,
                    versions: r.get(6)?,
                },
            ))
        })?;
        rows.collect()
    }

    pub fn transaction(&mut self) -> rusqlite::Result<Transaction<'_>> {
        self.conn.transaction()
    }

    pub fn tool_version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

/// Writes one new version (and its file row, object row, text and sheet rows) in `tx`.
pub fn insert_version(tx: &Transaction, run: i64, v: &NewVersion) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT OR IGNORE INTO objects(sha256, size, first_run) VALUES (?1, ?2, ?3)",
        params![v.sha256, v.size as i64, run],
    )?;
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM files WHERE path_raw = ?1",
            [&v.path_raw],
            |r| r.get(0),
        )
        .optional()?;
    let file_id = match existing {
        Some(id) => {
            tx.execute(
                "UPDATE files SET size = ?2, mtime_ns = ?3, inode = ?4, withdrawn_run = NULL, department = ?5 WHERE id = ?1",
                params![id, v.size as i64, v.mtime_ns, v.inode as i64, v.department],
            )?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO files(path_raw, path, department, size, mtime_ns, inode, first_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    v.path_raw,
                    v.path,
                    v.department,
                    v.size as i64,
                    v.mtime_ns,
                    v.inode as i64,
                    run
                ],
            )?;
            tx.last_insert_rowid()
        }
    };
    let seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM versions WHERE file_id = ?1",
        [file_id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO versions(file_id, seq, sha256, size, mtime_ns, kind, format, activity, activity_rule,
             date, datetime, date_source, date_offset, problems, width, height, orientation, has_thumbnail, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        params![
            file_id,
            seq,
            v.sha256,
            v.size as i64,
            v.mtime_ns,
            v.kind,
            v.format,
            v.activity,
            v.activity_rule,
            v.date,
            v.datetime,
            v.date_source,
            v.date_offset,
            serde_json::to_string(&v.problems).unwrap_or_else(|_| "[]".into()),
            v.width,
            v.height,
            v.orientation,
            v.has_thumbnail,
            run
        ],
    )?;
    let version_id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE files SET current_version = ?2 WHERE id = ?1",
        params![file_id, version_id],
    )?;
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
            "INSERT INTO people(version_id, sheet, row, name, person_id, role, unit, time, activity_raw, activity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for r in &s.people {
            p.execute(params![
                version_id,
                s.name,
                r.row,
                r.name,
                r.person_id,
                r.role,
                r.unit,
                r.time,
                r.activity_raw,
                r.activity
            ])?;
        }
        let mut m = tx.prepare_cached(
            "INSERT INTO media_reports(version_id, sheet, row, title, outlet, level, date, url)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for r in &s.media {
            m.execute(params![
                version_id, s.name, r.row, r.title, r.outlet, r.level, r.date, r.url
            ])?;
        }
        let mut d = tx.prepare_cached(
            "INSERT INTO declared(version_id, sheet, row, activity_raw, activity, department, date,
                 teachers, students, enterprises, participants)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for r in &s.declared {
            d.execute(params![
                version_id,
                s.name,
                r.row,
                r.activity_raw,
                r.activity,
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

/// Records a rejection of this run.
pub fn insert_rejection(
    tx: &Transaction,
    run: i64,
    path_raw: &[u8],
    path: &str,
    reason: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO rejections(run_id, path_raw, path, reason) VALUES (?1, ?2, ?3, ?4)",
        params![run, path_raw, path, reason],
    )?;
    Ok(())
}

/// An unchanged file that is present again: clears its withdrawn mark and refreshes the stat
/// cache (an inode change alone, say after a copy, is not a new version).
pub fn mark_present(
    tx: &Transaction,
    file_id: i64,
    size: u64,
    mtime_ns: i64,
    inode: u64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE files SET withdrawn_run = NULL, size = ?2, mtime_ns = ?3, inode = ?4 WHERE id = ?1",
        params![file_id, size as i64, mtime_ns, inode as i64],
    )?;
    Ok(())
}

pub fn mark_withdrawn(tx: &Transaction, file_id: i64, run: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE files SET withdrawn_run = ?2 WHERE id = ?1 AND withdrawn_run IS NULL",
        params![file_id, run],
    )?;
    Ok(())
}

/// Every cataloged version (all versions when `all`, else the current one of each path).
pub fn list_versions(conn: &Connection, all: bool) -> rusqlite::Result<Vec<Listed>> {
    let sql =
        format!(
        "SELECT f.path, f.department, v.activity, v.activity_rule, v.date, v.date_source, v.kind,
                v.size, v.sha256, v.problems, v.id, v.seq, f.current_version = v.id,
                f.withdrawn_run IS NOT NULL, f.first_run, v.format, v.datetime, f.path_raw
         FROM versions v JOIN files f ON f.id = v.file_id
         {}
         ORDER BY f.path, v.seq",
        if all { "" } else { "WHERE f.current_version = v.id" }
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        let problems: String = r.get(9)?;
        Ok(Listed {
            path: r.get(0)?,
            department: r.get(1)?,
            activity: r.get(2)?,
            activity_rule: r.get(3)?,
            date: r.get(4)?,
            date_source: r.get(5)?,
            kind: r.get(6)?,
            size: r.get::<_, i64>(7)? as u64,
            sha256: r.get(8)?,
            problems: serde_json::from_str(&problems).unwrap_or_default(),
            version_id: r.get(10)?,
            seq: r.get(11)?,
            current: r.get(12)?,
            withdrawn: r.get(13)?,
            first_run: r.get(14)?,
            format: r.get(15)?,
            datetime: r.get(16)?,
            path_raw: r.get(17)?,
        })
    })?;
    rows.collect()
}

/// The rejections of the latest completed import: (path, reason), by path.
pub fn last_rejections(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT path, reason FROM rejections
         WHERE run_id = (SELECT MAX(id) FROM runs WHERE command = 'import' AND status = 'done')
         ORDER BY path",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
