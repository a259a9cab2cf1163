//! The catalog: `archive/catalog.sqlite` (WAL). It keeps **facts** — what was read once from a
//! file's bytes and path (its raw path, size, SHA-256, kind, every date candidate the content
//! gave, EXIF orientation and size, a document's text, a sheet's rows as typed cells) — plus the
//! stat cache, versions, withdrawals, runs, rejections and built archives. It keeps no
//! **judgement**: department, activity, the file's date and everything the tally concludes are
//! computed from these facts at every run (`classify`), so an edited config or corrections
//! workbook applies to every file ever imported without re-reading a byte.
//!
//! Every SQL statement of the program is in this module; the rest sees typed values. "Current"
//! — the latest version of a path that is not withdrawn — is defined once, as the view
//! `counted`. Writes happen in one transaction per batch, after the batch's objects are
//! durable. Knows nothing of bytes: the store does.

mod audit;
mod migrate;
mod read;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::archive_dir::ArchiveDir;

pub use audit::{DamagedObject, HeldBy, ObjectRef, ObjectState};
pub use read::{
    ArchiveRecord, CatalogedVersion, DeclaredRow, DocText, MediaRow, PersonRow, RowProblem,
    RunRecord, Which,
};
pub use write::{
    Batch, DeclaredRecord, KnownFile, MediaRecord, NewVersion, PeopleRows, PersonRecord,
    SheetRecord,
};

/// The schema this code writes. 1: judgements stored with the facts (until 2026-12); 2: facts
/// only, date candidates in their own table.
pub const SCHEMA_VERSION: i64 = 2;

/// How many nightly copies are kept.
pub const BACKUPS_KEPT: usize = 7;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    started TEXT NOT NULL,           -- RFC 3339
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
    problems TEXT NOT NULL,          -- JSON array of Chinese reasons found in the bytes
    width INTEGER,
    height INTEGER,
    orientation INTEGER,
    has_thumbnail INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER NOT NULL,
    imported INTEGER NOT NULL,       -- Unix seconds of the import
    UNIQUE (file_id, seq)
);
CREATE INDEX IF NOT EXISTS versions_sha ON versions(sha256);
CREATE TABLE IF NOT EXISTS date_candidates (
    version_id INTEGER NOT NULL,
    source TEXT NOT NULL,            -- exif | exif_digitized | exif_datetime | video | sheet | document
    datetime TEXT NOT NULL,          -- YYYY-MM-DDTHH:MM:SS: wall clock; video: UTC
    offset TEXT                      -- EXIF OffsetTime* as written, never applied
);
CREATE INDEX IF NOT EXISTS date_candidates_version ON date_candidates(version_id);
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
    activity_raw TEXT
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
    url TEXT,
    activity_raw TEXT
);
CREATE INDEX IF NOT EXISTS media_version ON media_reports(version_id);
CREATE TABLE IF NOT EXISTS declared (
    version_id INTEGER NOT NULL,
    sheet TEXT NOT NULL,
    row INTEGER NOT NULL,
    activity_raw TEXT NOT NULL,
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
-- The members of zips: a member is a file of its own (its path under the zip's path); this
-- says which version of which zip it came from last and how its name was read. Added after
-- schema 2 without a migration: older catalogs simply have no members.
CREATE TABLE IF NOT EXISTS members (
    file_id INTEGER PRIMARY KEY,
    container_version INTEGER NOT NULL,   -- the zip's (or inner zip's) version
    name_raw BLOB NOT NULL,               -- the name as the zip's header has it
    name_encoding TEXT NOT NULL           -- utf8 | unicode_path | gb18030 | bytes
);
CREATE INDEX IF NOT EXISTS members_container ON members(container_version);
-- What re-reading the store found (the nightly audit, verify --store, archive, report): an
-- object whose bytes no longer hash to its name, or that is gone, until an import heals it.
CREATE TABLE IF NOT EXISTS object_checks (
    sha256 TEXT PRIMARY KEY,
    state TEXT NOT NULL,                  -- damaged | missing | healed
    found_at INTEGER NOT NULL,            -- Unix seconds
    found_by TEXT NOT NULL,               -- nightly | verify | archive | report
    healed_at INTEGER,
    healed_by TEXT
);
-- What counts: the latest version of every path that is not withdrawn. The one definition.
CREATE VIEW IF NOT EXISTS counted AS
    SELECT f.current_version AS version_id FROM files f
    WHERE f.current_version IS NOT NULL AND f.withdrawn_run IS NULL;
"#;

/// The catalog, open. Its connection is its own: callers use the typed functions.
pub struct Catalog {
    conn: Connection,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("目录数据库 {path} 出错：{}", sql_reason(source))]
    Sql {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "目录数据库 {path} 是旧版本（第 {found} 版），只读打开时无法升级：请先运行一次 dangan nightly（或 dangan import），它会就地升级目录，什么都不会丢"
    )]
    NeedsMigration { path: String, found: i64 },
    #[error(
        "目录数据库 {path} {what}，但存档里已经存着 {objects} 个文件的内容：dangan 不会把已有的存档当成新的重新开始。{restore}"
    )]
    Lost {
        path: String,
        what: &'static str,
        objects: u64,
        restore: String,
    },
    #[error(
        "目录数据库 {path} 是更新的 dangan 写的（第 {found} 版，本程序认识到第 {SCHEMA_VERSION} 版）：请换用新版 dangan"
    )]
    TooNew { path: String, found: i64 },
}

/// What went wrong with the database, in Chinese, by SQLite's error code; SQLite's own words
/// are kept in brackets for an error a person cannot act on.
fn sql_reason(e: &rusqlite::Error) -> String {
    use rusqlite::ffi::ErrorCode as C;
    let code = match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    let reason = match code {
        Some(C::DatabaseBusy | C::DatabaseLocked) => "正被另一个程序使用，请稍后再试",
        Some(C::ReadOnly) => "存档是只读的，无法写入（请检查存档文件夹的权限）",
        Some(C::CannotOpen) => "无法打开（存档文件夹不存在，或没有读写权限）",
        Some(C::PermissionDenied) => "没有权限",
        Some(C::DiskFull) => "磁盘已满（请清理出空间后再运行）",
        Some(C::NotADatabase) => "不是数据库文件（请从 备份/ 中恢复）",
        Some(C::DatabaseCorrupt) => "已损坏（请从 备份/ 中恢复）",
        Some(C::SystemIoFailure) => "读写磁盘失败",
        _ => return format!("数据库内部错误（{e}）"),
    };
    reason.to_string()
}

impl From<rusqlite::Error> for CatalogError {
    fn from(source: rusqlite::Error) -> CatalogError {
        CatalogError::Sql {
            path: crate::archive_dir::CATALOG.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, CatalogError>;

fn schema_version(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let has_meta: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta')",
        [],
        |r| r.get(0),
    )?;
    if !has_meta {
        return Ok(None);
    }
    use rusqlite::OptionalExtension;
    let v: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()))
}

/// Refuses to start a catalog afresh over a store that already holds objects: a missing, empty
/// or damaged catalog is restored from a backup by a person, never silently replaced.
fn refuse_lost_catalog(archive: &ArchiveDir, path: &Path) -> Result<()> {
    let what = match std::fs::File::open(path) {
        Err(_) => "不见了",
        Ok(mut f) => {
            use std::io::Read;
            let mut head = [0u8; 16];
            match f.read(&mut head) {
                Ok(0) => "是空的（0 字节）",
                Ok(16) if &head == b"SQLite format 3\0" => return Ok(()),
                _ => "已损坏（不是 SQLite 数据库）",
            }
        }
    };
    // A fresh catalog's pages may still be only in its write-ahead log.
    let wal = path.with_extension("sqlite-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    let objects = count_objects(&archive.objects_dir());
    if objects == 0 {
        return Ok(());
    }
    let restore = match newest_backup(archive) {
        Some(b) => format!(
            "请用最新的备份恢复后再运行：cp '{}' '{}'（先把现在的文件另存一份）",
            b.display(),
            path.display()
        ),
        None => format!(
            "{} 里没有备份。如果确实要从头建立目录，请把整个存档文件夹改名保存，再重新运行",
            archive.backups_dir().display()
        ),
    };
    Err(CatalogError::Lost {
        path: path.display().to_string(),
        what,
        objects,
        restore,
    })
}

/// Objects in the store (counted up to a few, which is all the refusal needs).
fn count_objects(objects: &Path) -> u64 {
    let mut n = 0;
    let Ok(dirs) = std::fs::read_dir(objects) else {
        return 0;
    };
    for d in dirs.flatten() {
        if d.file_name().len() != 2 {
            continue;
        }
        if let Ok(files) = std::fs::read_dir(d.path()) {
            n += files.flatten().count() as u64;
        }
        if n > 1000 {
            break;
        }
    }
    n
}

/// The newest nightly copy in `archive/备份/`.
pub fn newest_backup(archive: &ArchiveDir) -> Option<PathBuf> {
    backups(archive).pop()
}

/// The nightly copies, oldest first (their names sort by time).
fn backups(archive: &ArchiveDir) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(archive.backups_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("catalog-") && n.ends_with(".sqlite"))
        })
        .collect();
    v.sort();
    v
}

impl Catalog {
    /// Opens (creating, or migrating an older schema in place) the catalog in `archive/`. A
    /// catalog that is missing, empty or not a database while the store holds objects is
    /// refused with the backup to restore.
    pub fn open(archive: &ArchiveDir) -> Result<Catalog> {
        let path = archive.catalog_path();
        refuse_lost_catalog(archive, &path)?;
        let sql = |source| CatalogError::Sql {
            path: path.display().to_string(),
            source,
        };
        read_ahead(&path);
        let mut conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        // Room for every statement an import repeats per file (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(64);
        match schema_version(&conn).map_err(sql)? {
            Some(found) if found > SCHEMA_VERSION => {
                return Err(CatalogError::TooNew {
                    path: path.display().to_string(),
                    found,
                });
            }
            Some(1) => migrate::from_v1(&mut conn).map_err(sql)?,
            _ => {}
        }
        conn.execute_batch(SCHEMA).map_err(sql)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )
        .map_err(sql)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql)?;
        Ok(Catalog { conn })
    }

    /// A second connection, for reading only, to the catalog a command has open already (with
    /// [`Catalog::open`]): for a thread of its own while the first connection goes on.
    pub fn open_reader(archive: &ArchiveDir) -> Result<Catalog> {
        let path = archive.catalog_path();
        let sql = |source| CatalogError::Sql {
            path: path.display().to_string(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        // The first connection made the schema current; another program may have replaced
        // the file since.
        match schema_version(&conn).map_err(sql)? {
            Some(SCHEMA_VERSION) => Ok(Catalog { conn }),
            Some(found) if found > SCHEMA_VERSION => Err(CatalogError::TooNew {
                path: path.display().to_string(),
                found,
            }),
            Some(found) => Err(CatalogError::NeedsMigration {
                path: path.display().to_string(),
                found,
            }),
            None => Err(sql(rusqlite::Error::QueryReturnedNoRows)),
        }
    }

    /// Opens an existing catalog for reading only; `None` when there is none yet. Works on a
    /// read-only copy or mount of the archive. A catalog of an older schema is migrated first
    /// when the archive is writable, else refused with what to run.
    pub fn open_read_only(archive: &ArchiveDir) -> Result<Option<Catalog>> {
        let path = archive.catalog_path();
        if !path.exists() {
            return match refuse_lost_catalog(archive, &path) {
                Ok(()) => Ok(None),
                Err(e) => Err(e),
            };
        }
        refuse_lost_catalog(archive, &path)?;
        let sql = |source| CatalogError::Sql {
            path: path.display().to_string(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags)
            .and_then(|c| {
                // A WAL catalog needs its -shm file: on a read-only mount it cannot be made,
                // and the first read fails. Then read it as an immutable file.
                c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |_| Ok(()))?;
                Ok(c)
            })
            .or_else(|_| {
                let uri = format!("file:{}?immutable=1", uri_path(&path));
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
            })
            .map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        match schema_version(&conn).map_err(sql)? {
            Some(SCHEMA_VERSION) => Ok(Some(Catalog { conn })),
            // The version is written after the whole schema: a first run killed while making
            // the catalog left no catalog yet, not one to read tables from.
            None => Ok(None),
            Some(found) if found > SCHEMA_VERSION => Err(CatalogError::TooNew {
                path: path.display().to_string(),
                found,
            }),
            Some(found) => {
                drop(conn);
                match Catalog::open(archive) {
                    Ok(c) => Ok(Some(c)),
                    Err(_) => Err(CatalogError::NeedsMigration {
                        path: path.display().to_string(),
                        found,
                    }),
                }
            }
        }
    }

    /// Whether the catalog has the zip members' table (a read-only catalog written before
    /// zips were opened has none).
    pub(crate) fn has_members(&self) -> rusqlite::Result<bool> {
        self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'members')",
            [],
            |r| r.get(0),
        )
    }

    pub fn tool_version() -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// An online copy of the catalog into `archive/备份/catalog-<local time>.sqlite` (SQLite's
    /// backup API, written to a temp file and renamed), keeping the newest [`BACKUPS_KEPT`].
    pub fn back_up(
        &self,
        archive: &ArchiveDir,
        now: i64,
        offset: chrono::FixedOffset,
    ) -> Result<PathBuf> {
        let dir = archive.backups_dir();
        let io = |e: std::io::Error| CatalogError::Sql {
            path: dir.display().to_string(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let stamp = crate::clock::local(now, offset).format("%Y%m%d-%H%M%S");
        let target = dir.join(format!("catalog-{stamp}.sqlite"));
        let temp = dir.join(format!(".catalog-{stamp}.sqlite.tmp"));
        let _ = std::fs::remove_file(&temp);
        self.conn.backup(
            rusqlite::MAIN_DB,
            &temp,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .map_err(io)?;
        std::fs::rename(&temp, &target).map_err(io)?;
        let all = backups(archive);
        if all.len() > BACKUPS_KEPT {
            for old in &all[..all.len() - BACKUPS_KEPT] {
                let _ = std::fs::remove_file(old);
            }
        }
        Ok(target)
    }
}

/// The largest catalog asked of the disk whole when it is opened.
const READ_AHEAD_MAX: u64 = 256 * 1024 * 1024;

/// Asks the kernel to read the catalog file ahead (`POSIX_FADV_WILLNEED`), in one sweep: every
/// command then reads most of its pages (the files, their versions and dates, the rows), and a
/// cold catalog was otherwise read a page at a time by whichever thread needed one. A missing
/// or larger file is left to SQLite's own reads.
fn read_ahead(path: &Path) {
    let Ok(file) = std::fs::File::open(path) else {
        return;
    };
    if file.metadata().is_ok_and(|m| m.len() <= READ_AHEAD_MAX) {
        crate::store::advise(&file, 0, 0, crate::store::Advice::WillNeed);
    }
}

/// A path as a SQLite URI path (`%`, `?` and `#` escaped).
fn uri_path(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for c in abs.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}
