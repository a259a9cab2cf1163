//! Helpers for the integration tests: a temporary inbox and archive ([`Env`], built the way a
//! test reads with [`Inbox`]), the real binary run on them ([`Run`] and its assertions), and
//! small real files made in the test: photos with hand-built EXIF (the library's
//! `dangan::testing`, shared with the unit tests), workbooks ([`Book`]), zips ([`make_zip`]).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_dangan");

pub struct Env {
    pub dir: tempfile::TempDir,
    pub inbox: PathBuf,
    pub archive: PathBuf,
    /// `SOURCE_DATE_EPOCH` for every run ([`Inbox::epoch`]); unset: the clock's time.
    pub epoch: Option<String>,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What a run said; the assertions return it, so that they chain:
/// `inbox.run(["stats", "--json"]).success().json()`.
impl Run {
    /// Asserts exit 0.
    #[track_caller]
    pub fn success(self) -> Run {
        self.status(0)
    }

    /// Asserts exit 0, naming the command when it is not.
    #[track_caller]
    pub fn success_with(self, args: &[&str]) -> Run {
        assert!(
            self.code == 0,
            "{args:?}: {}\nstdout: {}\nstderr: {}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts the exit status.
    #[track_caller]
    pub fn status(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that stdout holds `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(self.stdout.contains(text), "no {text:?} in {}", self.stdout);
        self
    }

    /// Asserts that stderr holds `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(self.stderr.contains(text), "no {text:?} in {}", self.stderr);
        self
    }

    /// Stdout as one JSON value.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// Stdout as one JSON value a line (`list --json`).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// An inbox (and its archive) built the way a test reads, in just's style:
/// `Inbox::new().put("教务科研处/启动仪式/签到表.xlsx", &sheet).config(&toml).run(["import"])`.
/// It is an [`Env`] underneath (`Deref`), so every helper of `Env` works on it, and the runs
/// can go on after the first: import, then stats, then check. Its `put` takes the builder by
/// value; a test that adds files between runs (a new version, a withdrawal) keeps an `Env`
/// (`Env::new()`, or [`Inbox::into_env`]) and calls `Env::put`.
#[must_use]
pub struct Inbox(Env);

impl Inbox {
    pub fn new() -> Inbox {
        Inbox(Env::new())
    }

    /// A file under the inbox (folders made as needed).
    pub fn put(self, rel: &str, bytes: impl AsRef<[u8]>) -> Inbox {
        self.0.put(rel, bytes.as_ref());
        self
    }

    /// A photo ([`photo`]) taken at `when` (EXIF's `2025:05:07 10:15:00`).
    pub fn photo(self, rel: &str, seed: u8, when: &str) -> Inbox {
        self.put(rel, photo(seed, when))
    }

    /// `dangan.toml` in the working directory.
    pub fn config(self, toml: &str) -> Inbox {
        self.0.write_config(toml);
        self
    }

    /// `SOURCE_DATE_EPOCH` (seconds) for every run from now on.
    pub fn epoch(mut self, secs: &str) -> Inbox {
        self.0.epoch = Some(secs.to_string());
        self
    }

    /// Runs dangan on this inbox and archive.
    pub fn run<'a>(&self, args: impl AsRef<[&'a str]>) -> Run {
        self.0.run(args.as_ref())
    }

    /// The [`Env`] itself, for a test that keeps it.
    pub fn into_env(self) -> Env {
        self.0
    }
}

impl std::ops::Deref for Inbox {
    type Target = Env;
    fn deref(&self) -> &Env {
        &self.0
    }
}

/// The built-in `dangan.toml` with the first `from` replaced by `to` (which must be there).
pub fn builtin_with(from: &str, to: &str) -> String {
    let text = dangan::config::DEFAULT_TOML;
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1)
}

/// 2025-06-01 08:00 at +08:00: after the activity month, when every activity of 2025 is due.
pub const JUNE_1: &str = "1748736000";

/// A photo taken at `when` (DateTimeOriginal only, as a phone writes it).
pub fn photo(seed: u8, when: &str) -> Vec<u8> {
    jpeg_with_exif(
        seed,
        &Exif {
            original: Some(when),
            ..Exif::default()
        },
    )
}

/// 活动明细.csv as (activity, department) → the row's cells by header.
pub fn activity_rows(env: &Env) -> BTreeMap<(String, String), BTreeMap<String, String>> {
    let bytes = std::fs::read(env.archive.join("统计/活动明细.csv")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let mut out = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let row: BTreeMap<String, String> = headers
            .iter()
            .cloned()
            .zip(rec.iter().map(String::from))
            .collect();
        out.insert((row["活动"].clone(), row["部门"].clone()), row);
    }
    out
}

/// The names of a zip's members, in its order.
pub fn zip_names(path: &Path) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| z.by_index(i).unwrap().name().unwrap().to_string())
        .collect()
}

/// A workbook of text cells as offices type them, one sheet after another:
/// `Book::new().title("启动仪式签到表").row(&SIGN_IN).rows(&people).xlsx()`. An empty cell
/// is left out (as Excel leaves it).
#[derive(Default)]
pub struct Book {
    sheets: Vec<BookSheet>,
}

#[derive(Default)]
struct BookSheet {
    name: Option<String>,
    /// Merged over the first row's width on row 1, with an empty row below it.
    title: Option<String>,
    rows: Vec<Vec<String>>,
}

impl Book {
    pub fn new() -> Book {
        Book::default()
    }

    fn last(&mut self) -> &mut BookSheet {
        if self.sheets.is_empty() {
            self.sheets.push(BookSheet::default());
        }
        self.sheets.last_mut().unwrap()
    }

    /// Starts a sheet of this name (without one, the first sheet is Excel's `Sheet1`).
    pub fn sheet(mut self, name: &str) -> Book {
        self.sheets.push(BookSheet {
            name: Some(name.to_string()),
            ..BookSheet::default()
        });
        self
    }

    /// A title merged across the sheet's width above its rows, and an empty row, as
    /// departments head their sheets.
    pub fn title(mut self, title: &str) -> Book {
        self.last().title = Some(title.to_string());
        self
    }

    pub fn row<S: AsRef<str>>(mut self, cells: &[S]) -> Book {
        let row = cells.iter().map(|c| c.as_ref().to_string()).collect();
        self.last().rows.push(row);
        self
    }

    pub fn rows<S: AsRef<str>>(self, rows: &[Vec<S>]) -> Book {
        rows.iter().fold(self, |x, r| x.row(r))
    }

    /// The workbook's bytes, as rust_xlsxwriter writes them.
    pub fn xlsx(&self) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for sheet in &self.sheets {
            let ws = wb.add_worksheet();
            if let Some(name) = &sheet.name {
                ws.set_name(name).unwrap();
            }
            let mut first = 0;
            if let Some(title) = &sheet.title {
                let width = sheet.rows.first().map_or(1, |r| r.len().max(1));
                ws.merge_range(
                    0,
                    0,
                    0,
                    width as u16 - 1,
                    title,
                    &rust_xlsxwriter::Format::new(),
                )
                .unwrap();
                first = 2;
            }
            for (r, row) in sheet.rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    if !v.is_empty() {
                        ws.write_string(first + r as u32, c as u16, v).unwrap();
                    }
                }
            }
        }
        wb.save_to_buffer().unwrap()
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let inbox = dir.path().join("inbox");
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(&inbox).unwrap();
        Env {
            dir,
            inbox,
            archive,
            epoch: None,
        }
    }

    /// Writes a file under the inbox (folders made as needed) and returns its path.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.inbox.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Sets a file's modification time (seconds since the epoch).
    pub fn set_mtime(&self, rel: &str, secs: i64) {
        let f = std::fs::File::options()
            .write(true)
            .open(self.inbox.join(rel))
            .unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
            .unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .arg("--inbox")
            .arg(&self.inbox)
            .arg("--archive")
            .arg(&self.archive)
            .args(args)
            .env_remove("SOURCE_DATE_EPOCH");
        if let Some(epoch) = &self.epoch {
            c.env("SOURCE_DATE_EPOCH", epoch);
        }
        c
    }

    /// Writes `dangan.toml` in the working directory the runs start in.
    pub fn write_config(&self, toml: &str) {
        std::fs::write(self.dir.path().join("dangan.toml"), toml).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("run dangan").into()
    }

    /// A run at `SOURCE_DATE_EPOCH` `epoch` (seconds), whatever [`Env::epoch`] says.
    pub fn run_at(&self, epoch: &str, args: &[&str]) -> Run {
        let mut c = self.command(args);
        c.env("SOURCE_DATE_EPOCH", epoch);
        c.output().expect("run dangan").into()
    }

    /// A command that must succeed, its stdout read as one JSON value.
    pub fn json(&self, args: &[&str]) -> Value {
        self.run(args).success_with(args).json()
    }

    /// `import --json`, asserting the exit status.
    pub fn import(&self, expect_code: i32) -> Value {
        self.run(&["import", "--json"]).status(expect_code).json()
    }

    /// `list --json`: one object per version.
    pub fn list(&self) -> Vec<Value> {
        self.run(&["list", "--json"]).success().json_lines()
    }

    pub fn entry(&self, path: &str) -> Value {
        let all = self.list();
        let mut hits: Vec<Value> = all.into_iter().filter(|v| v["path"] == path).collect();
        assert!(!hits.is_empty(), "{path} not listed");
        hits.pop().unwrap()
    }

    pub fn rejected(&self) -> Vec<Value> {
        self.run(&["list", "--rejected", "--json"])
            .success()
            .json_lines()
    }

    /// Every object file in the store.
    pub fn objects(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let root = self.archive.join("objects");
        for d in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if d.file_name().as_bytes() == b"tmp" || !d.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.path());
            }
        }
        out.sort();
        out
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Photos with hand-built EXIF: the library's one writer, shared with the unit tests.
pub use dangan::testing::{Exif, jpeg, jpeg_with_exif};

/// Raw bytes to a path (for names that are not UTF-8).
pub fn raw_path(base: &Path, rel: &[u8]) -> PathBuf {
    base.join(std::ffi::OsStr::from_bytes(rel))
}

pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// One member of a zip made by [`make_zip`].
#[derive(Clone, Default)]
pub struct ZipMember {
    /// The name's bytes exactly as the header holds them (GBK for Windows' built-in zip).
    pub name: Vec<u8>,
    pub data: Vec<u8>,
    pub deflate: bool,
    /// Set the UTF-8 (language encoding) flag.
    pub utf8_flag: bool,
    /// Set the encrypted flag (the data stays as it is: enough for a reader to refuse it).
    pub encrypted: bool,
    /// Write this uncompressed size in both headers instead of the real one.
    pub lie_size: Option<u32>,
}

impl ZipMember {
    pub fn new(name: &[u8], data: Vec<u8>) -> ZipMember {
        ZipMember {
            name: name.to_vec(),
            data,
            ..ZipMember::default()
        }
    }
}

/// A zip as other tools write it: names as raw bytes with or without the UTF-8 flag, stored
/// or deflated, dated 2025-05-07 10:00 (DOS time), optionally flagged encrypted or lying
/// about sizes. Built with the zip crate under placeholder names of the same length, then
/// patched.
pub fn make_zip(members: &[ZipMember]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut placeholders = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let tag = format!("~{i}~");
        assert!(
            m.name.len() >= tag.len(),
            "names of at least {} bytes",
            tag.len()
        );
        let placeholder = format!("{tag}{}", "q".repeat(m.name.len() - tag.len()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(if m.deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            })
            .last_modified_time(zip::DateTime::from_date_and_time(2025, 5, 7, 10, 0, 0).unwrap())
            .large_file(false);
        w.start_file(placeholder.as_str(), opts).unwrap();
        w.write_all(&m.data).unwrap();
        placeholders.push(placeholder.into_bytes());
    }
    let mut bytes = w.finish().unwrap().into_inner();
    // Every central header, with its local header.
    let eocd = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("end of central directory");
    let le16 = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut at = le32(&bytes, eocd + 16);
    for m in members {
        assert_eq!(&bytes[at..at + 4], b"PK\x01\x02");
        let name_len = le16(&bytes, at + 28);
        let local = le32(&bytes, at + 42);
        let mut flags = le16(&bytes, at + 8) as u16;
        flags &= !0x0800;
        if m.utf8_flag {
            flags |= 0x0800;
        }
        if m.encrypted {
            flags |= 0x0001;
        }
        for (h, flag_at, size_at, name_at) in [(at, 8, 24, 46), (local, 6, 22, 30)] {
            bytes[h + flag_at..h + flag_at + 2].copy_from_slice(&flags.to_le_bytes());
            if let Some(size) = m.lie_size {
                bytes[h + size_at..h + size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
            bytes[h + name_at..h + name_at + m.name.len()].copy_from_slice(&m.name);
        }
        let extra_len = le16(&bytes, at + 30);
        let comment_len = le16(&bytes, at + 32);
        at += 46 + name_len + extra_len + comment_len;
    }
    let _ = placeholders;
    bytes
}

/// GBK bytes of a name, as Windows' built-in zip writes them.
pub fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

/// A folder of `../shared/corpus/` (real files nobody on this team made), or `None` with a note
/// when this checkout has no corpus beside it (the test then skips itself).
pub fn corpus(folder: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(folder);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("note: {} is absent; corpus test skipped", dir.display());
        None
    }
}

/// The bytes of a committed fixture, `tests/fixtures/<folder>/<name>`.
pub fn fixture(folder: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `list --json` entry's problems, joined with `；`.
pub fn problems(v: &serde_json::Value) -> String {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("；")
}
