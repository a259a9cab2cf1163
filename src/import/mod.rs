//! The nightly import: walk → read once (hash while copying into the store) → detect →
//! extract → resolve → catalog, in batches; each batch's catalog rows are committed only after
//! its objects are durable (two `syncfs` a batch, not an fsync a file), so a run killed at any
//! instant loses nothing and doubles nothing.
//! Never modifies, moves or deletes anything in the inbox.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::catalog::{Catalog, CatalogError, NewVersion};
use crate::classify::{Corrections, Judge};
use crate::config::Config;
use crate::detect;
use crate::extract::{self, ExtractOptions};
use crate::model::{Format, InboxPath, Kind, NameEncoding, Sha256, VersionFacts};
use crate::progress::Progress;
use crate::store::{Batch, Store, StoreError};
use crate::walk::{self, WalkEntry};

pub mod heal;
mod open;
pub mod sevenz;
mod sheets;
pub mod zipped;

/// Files processed between two commits of the catalog: a batch ends at this many files or at
/// [`BATCH_BYTES`] of them, whichever comes first. Each batch costs two `syncfs`, which also
/// flush whatever else the machine wrote: fewer, larger batches for small files, and a bounded
/// amount of work redone after a kill.
const BATCH: usize = 512;
const BATCH_BYTES: u64 = 32 << 20;
/// Files read at once: more than the cores, so that disk and CPU overlap.
const READERS: usize = 4;

pub struct ImportOptions<'a> {
    pub inbox: &'a Path,
    pub archive: &'a crate::archive_dir::ArchiveDir,
    pub dry_run: bool,
    pub quiet: bool,
    /// The moment of the import (Unix seconds, `SOURCE_DATE_EPOCH` when set): dates after its
    /// day are an unset clock.
    pub now: i64,
    /// The office's corrections, for the dry run's plan and the count of files with problems.
    pub corrections: &'a Corrections,
    /// The dangan binary, re-invoked to read spreadsheets in a child process.
    pub exe: Option<PathBuf>,
    /// Take the run lock here; false when the caller already holds it (`nightly`).
    pub take_lock: bool,
}

/// The run's counts, with DESIGN.md's exact keys.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportSummary {
    pub run_id: Option<i64>,
    pub seen: u64,
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub rejected: u64,
    pub problems: u64,
    pub objects_written: u64,
    pub bytes_read: u64,
    pub seconds: f64,
    #[serde(skip)]
    pub withdrawn: u64,
    #[serde(skip)]
    pub restored: u64,
    #[serde(skip)]
    pub rejected_rows: u64,
    /// The dry run's plan: one line per file that would be stored, rejected or withdrawn.
    #[serde(skip)]
    pub plan: Vec<String>,
    /// The same plan for `--json`: one object per file, with `list --json`'s keys and an
    /// `action` (`new|changed|restored|withdrawn|rejected`).
    #[serde(skip)]
    pub plan_json: Vec<serde_json::Value>,
    /// Rejections of this run, for the report (path, reason).
    #[serde(skip)]
    pub rejections: Vec<(String, String)>,
    /// Damaged or missing store objects replaced from the inbox by this run, one line each.
    #[serde(skip)]
    pub healed: Vec<String>,
    /// Store objects still recorded damaged or missing after this run.
    #[serde(skip)]
    pub still_damaged: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("无法读取收件箱 {path}：{source}")]
    Inbox {
        path: String,
        source: std::io::Error,
    },
    #[error("无法打开存档 {path}：{source}")]
    Store {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
}

/// What reading one file gave.
enum Outcome {
    Stored {
        version: Box<NewVersion>,
        new_object: bool,
        /// A zip whose members were read (its content is new to its path).
        members: Vec<MemberOut>,
    },
    Rejected(String),
}

/// One member of a zip, read and described.
struct MemberOut {
    version: NewVersion,
    new_object: bool,
    raw_name: Vec<u8>,
    encoding: NameEncoding,
    /// The member (an inner zip) it came out of; `None`: the zip in the inbox.
    container: Option<usize>,
}

/// Everything after the bytes are in hand: kind, metadata, in-content dates, sheet rows. Facts
/// only: the department, activity and date are judged from them at every run (`classify`).
fn describe(
    opts: &ImportOptions,
    entry: &WalkEntry,
    head: &[u8],
    full: &Path,
    read_sheets: bool,
) -> NewVersion {
    let detected = detect::detect(head, &entry.file_name, full);
    let format = detected.format;
    let kind = format.kind();
    let mut problems: Vec<String> = detected.warning.into_iter().collect();
    // Video stamps are kept as UTC: the judgement turns them into the configured local time.
    let extracted = extract::extract(
        format,
        head,
        full,
        &ExtractOptions {
            utc_offset: chrono::FixedOffset::east_opt(0).expect("UTC"),
            // Known from the walk or the copy: the extractors need not stat the file again.
            size: Some(entry.size),
        },
    );
    problems.extend(extracted.problems.iter().cloned());

    // A 签到表 or 媒体报道登记 made in Word: its tables are read as sheets.
    let word_sheet = format == crate::model::Format::Docx
        && crate::sheet::docx_may_hold_sheets(&entry.file_name);
    let sheets = if read_sheets && (kind == Kind::Sheet || word_sheet) {
        sheets::read(full, format, opts.exe.as_deref())
    } else {
        sheets::SheetsRead::default()
    };
    problems.extend(sheets.problems.iter().cloned());

    let mut dates = extracted.dates.clone();
    dates.extend(sheets.earliest.clone());
    let mut text = extracted.text;
    // A PDF's text is read in a limited child process (not in the dry run).
    if read_sheets
        && format == Format::Pdf
        && let Some(exe) = opts.exe.as_deref()
    {
        match extract::pdf::pdf_text(full, exe) {
            Ok(t) => {
                if let Some(day) = extract::document::first_date(&t) {
                    dates.push(crate::model::DateCandidate {
                        source: crate::model::DateSource::Document,
                        when: day.and_time(chrono::NaiveTime::MIN),
                        offset: None,
                    });
                }
                text = Some(t);
            }
            Err(why) => problems.push(why),
        }
    }
    NewVersion {
        facts: VersionFacts {
            path: InboxPath(entry.rel.clone()),
            size: entry.size,
            mtime_ns: entry.mtime_ns,
            sha256: Sha256([0; 32]),
            kind,
            format: format.as_str().into(),
            dates,
            imported: opts.now,
            problems,
            width: extracted.width,
            height: extracted.height,
            orientation: extracted.orientation,
            has_thumbnail: extracted.has_thumbnail,
            sign_in: sheets.records.iter().any(|r| r.kind == "sign_in"),
            media: sheets.records.iter().any(|r| r.kind == "media"),
            row_activities: sheets.row_activities.clone(),
            row_month_day: sheets.earliest_no_year,
        },
        inode: entry.inode,
        text,
        sheets: sheets.records,
    }
}

/// Reads one inbox file into the store and describes it; a zip whose content is not `prior`
/// (its path's current content) has its members read too.
fn ingest_one(
    opts: &ImportOptions,
    store: &Store,
    entry: &WalkEntry,
    offset: chrono::FixedOffset,
    prior: Option<Sha256>,
    drop_read: bool,
) -> Outcome {
    let (mut file, before) = match open::open_walked(entry) {
        Ok(opened) => opened,
        Err(why) => return Outcome::Rejected(why),
    };
    let mut entry = entry.clone();
    entry.size = before.len();
    entry.mtime_ns = before.mtime() * 1_000_000_000 + before.mtime_nsec();
    // A zip or 7z: its members are inflated from the same descriptor while the zip itself is
    // copied into the store (one read of the zip from disk, both cores busy).
    // Its central directory is read through the opened descriptor, never the path again (the
    // path may name something else by now).
    let opened = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&file)
    ));
    let archive = zipped::is_archive_file(&file, &entry.file_name, &opened);
    let unpack_from = if archive { file.try_clone().ok() } else { None };
    let limits = zipped::Limits::default();
    let (stored, early) = rayon::join(
        || store.ingest(&mut file, || open::still_there(&entry, &before)),
        || {
            unpack_from
                .as_ref()
                .map(|f| zipped::unpack(f, store, entry.mtime_ns, offset, &limits))
        },
    );
    if drop_read {
        // Read to its end (the store's copy is what is read from now on).
        crate::store::drop_cached(&file, 0, 0);
    }
    let stored = match stored {
        Ok(s) => s,
        Err(StoreError::Rejected(why)) => return Outcome::Rejected(why),
        Err(StoreError::Read(e)) => {
            return Outcome::Rejected(format!("读取失败：{e}（下次运行再试）"));
        }
        Err(StoreError::Write(e)) => return Outcome::Rejected(format!("写入存档失败：{e}")),
    };
    if stored.size != entry.size {
        return Outcome::Rejected("读取时文件大小发生变化（下次运行再试）".into());
    }
    let mut version = describe(opts, &entry, &stored.head, &stored.path, true);
    match Sha256::parse_hex(&stored.sha256) {
        Some(sha) => version.facts.sha256 = sha,
        None => return Outcome::Rejected("存档返回的 SHA-256 无效".into()),
    }
    let mut members = Vec::new();
    let is_archive = version.facts.format == Format::Zip.as_str()
        || version.facts.format == Format::SevenZ.as_str();
    if is_archive && prior != Some(version.facts.sha256) {
        // Read above from the inbox's descriptor, which the store's check found unchanged;
        // or, for an archive known only by its content, now from the stored copy.
        let unpacked = match early {
            Some(u) => u,
            None => match std::fs::File::open(&stored.path) {
                Ok(f) => zipped::unpack(&f, store, entry.mtime_ns, offset, &limits),
                Err(e) => zipped::Unpacked {
                    members: Vec::new(),
                    problems: vec![format!("压缩包无法打开（{e}），成员未导入")],
                },
            },
        };
        version.facts.problems.extend(unpacked.problems);
        // Indices of containers (inner zips) follow the members that are kept.
        let mut kept: Vec<Option<usize>> = Vec::with_capacity(unpacked.members.len());
        for m in unpacked.members {
            match describe_member(opts, &entry, m) {
                Some(mut out) => {
                    out.container = out.container.and_then(|j| kept.get(j).copied().flatten());
                    kept.push(Some(members.len()));
                    members.push(out);
                }
                None => kept.push(None),
            }
        }
    }
    Outcome::Stored {
        version: Box::new(version),
        new_object: stored.new_object,
        members,
    }
}

/// A member's facts, as if it lay in a folder named like its zip.
fn describe_member(opts: &ImportOptions, zip: &WalkEntry, m: zipped::Member) -> Option<MemberOut> {
    let sha = Sha256::parse_hex(&m.stored.sha256)?;
    let entry = member_entry(zip, &m.path, &m.stored.path, m.stored.size, m.mtime_ns);
    let mut version = if m.opaque {
        opaque_version(opts, &entry, sha)
    } else {
        describe(opts, &entry, &m.stored.head, &m.stored.path, true)
    };
    version.facts.sha256 = sha;
    version.facts.problems.splice(0..0, m.problems);
    Some(MemberOut {
        version,
        new_object: m.stored.new_object,
        raw_name: m.raw_name,
        encoding: m.encoding,
        container: m.container,
    })
}

/// A member stored as its raw (encrypted or not inflatable) bytes: nothing can be read from it.
fn opaque_version(opts: &ImportOptions, entry: &WalkEntry, sha: Sha256) -> NewVersion {
    NewVersion {
        facts: VersionFacts {
            path: InboxPath(entry.rel.clone()),
            size: entry.size,
            mtime_ns: entry.mtime_ns,
            sha256: sha,
            kind: Kind::Other,
            format: Format::Unknown.as_str().into(),
            dates: Vec::new(),
            imported: opts.now,
            problems: Vec::new(),
            width: None,
            height: None,
            orientation: None,
            has_thumbnail: false,
            sign_in: false,
            media: false,
            row_activities: Vec::new(),
            row_month_day: None,
        },
        inode: 0,
        text: None,
        sheets: Vec::new(),
    }
}

/// A zip member as a walk entry: its path under the zip's, its bytes at `abs`.
fn member_entry(zip: &WalkEntry, path: &[u8], abs: &Path, size: u64, mtime_ns: i64) -> WalkEntry {
    let mut rel = zip.rel.clone();
    rel.push(b'/');
    rel.extend_from_slice(path);
    WalkEntry {
        rel,
        abs: abs.to_path_buf(),
        department: zip.department.clone(),
        folders: Vec::new(),
        file_name: walk::display_bytes(path.rsplit(|b| *b == b'/').next().unwrap_or(path)),
        size,
        mtime_ns,
        dev: 0,
        inode: 0,
    }
}

/// `--dry-run`: the head only (16 KiB holds a JPEG's EXIF; the extractors read further into
/// the file themselves when a format needs it), a sheet's rows and a PDF's text through the
/// same limited readers as the import (they give its dates), a zip's members from its central
/// directory; no hashing, nothing written to the archive.
fn plan_one(
    opts: &ImportOptions,
    entry: &WalkEntry,
    offset: chrono::FixedOffset,
) -> Result<Planned, String> {
    const DRY_HEAD: usize = 16 * 1024;
    let (file, _) = open::open_walked(entry)?;
    // Only a few small pieces of each file are read: no read-ahead of what is not needed.
    crate::store::advise(&file, 0, 0, crate::store::Advice::Random);
    let mut head = Vec::with_capacity(DRY_HEAD.min(entry.size as usize));
    (&file)
        .take(DRY_HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| format!("读取失败：{e}"))?;
    // What the extractors read further is the opened file itself, not whatever the path
    // names by then; by this process's id, so that the sheet and PDF children (which do not
    // inherit the descriptor) open it too.
    let fd_path = PathBuf::from(format!(
        "/proc/{}/fd/{}",
        std::process::id(),
        std::os::fd::AsRawFd::as_raw_fd(&file)
    ));
    let full = if fd_path.exists() {
        &fd_path
    } else {
        &entry.abs
    };
    let mut version = describe(opts, entry, &head, full, true);
    let mut members = Vec::new();
    if version.facts.format == Format::Zip.as_str() {
        let problems = zipped::plan(
            full,
            entry.mtime_ns,
            offset,
            &zipped::Limits::default(),
            DRY_HEAD,
            &mut |m, scratch| {
                let me = member_entry(entry, &m.path, scratch, m.size, m.mtime_ns);
                let mut v = if m.opaque {
                    opaque_version(opts, &me, Sha256([0; 32]))
                } else {
                    describe(opts, &me, &m.head, scratch, true)
                };
                v.facts.problems.splice(0..0, m.problems);
                members.push((v, m.encoding));
            },
        );
        version.facts.problems.extend(problems);
    }
    Ok(Planned { version, members })
}

/// What the dry run read of one file: its facts, and a zip's members with how their names
/// were read.
struct Planned {
    version: NewVersion,
    members: Vec<(NewVersion, NameEncoding)>,
}

/// One file of the plan, judged as the real run will judge it: a tab-separated line and the
/// `--json` object. The bool: it has problems.
fn plan_entry(
    action: &'static str,
    judge: &mut Judge,
    v: &NewVersion,
    encoding: Option<NameEncoding>,
) -> (String, serde_json::Value, bool) {
    let j = judge.judge(&v.facts);
    let problems: Vec<String> = v.facts.problems.iter().chain(&j.notes).cloned().collect();
    let status = match action {
        "new" => "新增",
        "changed" => "变更",
        _ => "恢复",
    };
    let line = format!(
        "{status}\t{}\t{}\t{}\t{}\t{}（{}）\t{}",
        v.facts.path.shown(),
        j.department,
        v.facts.kind.label(),
        if j.activities.is_empty() {
            crate::tally::UNASSIGNED.to_string()
        } else {
            j.activities.join("、")
        },
        j.day()
            .map(|d| d.to_string())
            .unwrap_or_else(|| crate::model::NO_DATE.into()),
        j.date_source().label(),
        problems.join("；")
    );
    let mut json = serde_json::json!({
        "action": action,
        "path": v.facts.path.display(),
        "department": j.department,
        "activity": j.activity(),
        "activities": j.activities,
        "activity_rule": j.rule.as_str(),
        "date": j.day().map(|d| d.to_string()),
        "date_source": j.date_source().as_str(),
        "kind": v.facts.kind.as_str(),
        "size": v.facts.size,
        "problems": problems,
    });
    if let (Some(e), Some(o)) = (encoding, json.as_object_mut()) {
        o.insert("name_encoding".into(), e.as_str().into());
    }
    (line, json, !problems.is_empty())
}

/// What the catalog knows of the inbox's files, by raw path.
type Known = HashMap<Vec<u8>, crate::catalog::KnownFile>;

/// The store (its leftover temp files removed), the catalog and what it knows of the inbox's
/// files.
fn open_store_and_catalog(opts: &ImportOptions) -> Result<(Store, Catalog, Known), ImportError> {
    let store = Store::open(opts.archive).map_err(|source| ImportError::Store {
        path: opts.archive.root().display().to_string(),
        source,
    })?;
    let _ = store.clean_temps();
    let catalog = Catalog::open(opts.archive)?;
    let known = catalog.known_files()?;
    Ok((store, catalog, known))
}

pub fn run_import(cfg: &Config, opts: &ImportOptions) -> Result<ImportSummary, ImportError> {
    let started = Instant::now();
    let mut summary = ImportSummary::default();
    let walk_inbox = || {
        walk::walk(opts.inbox).map_err(|source| ImportError::Inbox {
            path: opts.inbox.display().to_string(),
            source,
        })
    };
    if opts.dry_run {
        let walked = walk_inbox()?;
        summary.skipped = walked.skipped;
        summary.seen = (walked.files.len() + walked.rejected.len()) as u64;
        return dry_run(cfg, opts, walked, summary, started);
    }

    let take_lock = || -> Result<_, ImportError> {
        Ok(if opts.take_lock {
            Some(crate::lock::RunLock::acquire(
                opts.archive,
                "import",
                cfg.utc_offset,
            )?)
        } else {
            None
        })
    };
    // The store and the catalog are opened and the catalog's files read on a thread while the
    // inbox is walked here: both mostly wait, on the inbox's folders and on the catalog's pages
    // (at 40 000 files a fifth of a second each). An inbox that is not a folder is walked (and
    // said) before anything is created.
    let (walked, opened, _lock) = if opts.inbox.is_dir() {
        let lock = take_lock()?;
        let (walked, opened) = std::thread::scope(|scope| {
            let opened = scope.spawn(|| open_store_and_catalog(opts));
            (walk_inbox(), opened.join())
        });
        (walked?, Some(opened), lock)
    } else {
        let walked = walk_inbox()?;
        (walked, None, take_lock()?)
    };
    summary.skipped = walked.skipped;
    summary.seen = (walked.files.len() + walked.rejected.len()) as u64;
    let (store, mut catalog, known) = match opened {
        Some(Ok(opened)) => opened?,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => open_store_and_catalog(opts)?,
    };
    let run = catalog.start_run("import", &opts.inbox.display().to_string())?;
    summary.run_id = Some(run);
    let mut judge = Judge::new(cfg, opts.corrections);

    // Sort the walk into unchanged and to-read.
    let mut to_read: Vec<&WalkEntry> = Vec::new();
    let mut present: HashSet<&[u8]> = HashSet::new();
    // Versions of zips whose members were not read this run (the zip is unchanged): the
    // members they hold are present too.
    let mut unchanged_zips: Vec<i64> = Vec::new();
    // Members read this run, whatever their outcome.
    let mut present_members: HashSet<Vec<u8>> = HashSet::new();
    {
        let tx = catalog.batch(run)?;
        for r in &walked.rejected {
            present.insert(&r.rel);
            let path = InboxPath(r.rel.clone());
            tx.insert_rejection(&path, &r.reason)?;
            summary.rejections.push((path.shown(), r.reason.clone()));
        }
        for e in &walked.files {
            present.insert(&e.rel);
            match known.get(&e.rel) {
                Some(k) if k.size == e.size && k.mtime_ns == e.mtime_ns && k.inode == e.inode => {
                    if k.withdrawn {
                        tx.mark_present(k.id, e.size, e.mtime_ns, e.inode)?;
                        summary.restored += 1;
                    }
                    summary.unchanged += 1;
                    unchanged_zips.extend(k.current_version);
                }
                _ => to_read.push(e),
            }
        }
        tx.commit()?;
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(READERS)
        .build()
        .expect("a thread pool");
    let mut progress = Progress::new(to_read.len() as u64, opts.quiet);
    // A big import (a year's first) leaves the inbox's pages, and the store's once they are on
    // the disk, out of the page cache: the next files take the freed pages instead of fresh
    // ones. 40 000 photos (1.8 GB), page cache dropped and its memory returned to the host
    // before each: 15.6 s with every page kept, 11.2 s with both dropped.
    let drop_read = to_read.iter().map(|e| e.size).sum::<u64>() > crate::store::DROP_READ_ABOVE;
    let store_error = |source| ImportError::Store {
        path: opts.archive.root().display().to_string(),
        source,
    };
    // Commits a read batch: its objects and their folders are durable before its rows are.
    let mut commit = |batch: &[&WalkEntry], outcomes: Vec<Outcome>, objects: Batch| {
        store
            .finish_and_drop(objects, drop_read)
            .map_err(store_error)?;
        let tx = catalog.batch(run)?;
        for (entry, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Outcome::Rejected(reason) => {
                    let path = InboxPath(entry.rel.clone());
                    tx.insert_rejection(&path, &reason)?;
                    summary.rejections.push((path.shown(), reason));
                }
                Outcome::Stored {
                    version,
                    new_object,
                    members,
                } => {
                    summary.bytes_read += version.facts.size;
                    summary.objects_written += new_object as u64;
                    let prior = known.get(&entry.rel);
                    let same_content =
                        prior.is_some_and(|k| k.sha256 == Some(version.facts.sha256));
                    if let (Some(k), true) = (prior, same_content) {
                        // Touched or copied, not changed: refresh the stat cache only.
                        tx.mark_present(
                            k.id,
                            version.facts.size,
                            version.facts.mtime_ns,
                            version.inode,
                        )?;
                        if k.withdrawn {
                            summary.restored += 1;
                        }
                        summary.unchanged += 1;
                        unchanged_zips.extend(k.current_version);
                        progress.inc(1);
                        continue;
                    }
                    if prior.is_some() {
                        summary.changed += 1;
                    } else {
                        summary.new += 1;
                    }
                    count_version(&mut summary, &mut judge, &version);
                    let zip_version = tx.insert_version(&version)?;
                    // Members follow their zip: new, changed or unchanged by content; those
                    // no longer in it are withdrawn below.
                    let mut member_versions: Vec<Option<i64>> = Vec::with_capacity(members.len());
                    for m in &members {
                        summary.seen += 1;
                        summary.objects_written += m.new_object as u64;
                        let container = match m.container {
                            None => Some(zip_version),
                            Some(j) => member_versions.get(j).copied().flatten(),
                        };
                        let path = &m.version.facts.path;
                        present_members.insert(path.0.clone());
                        let prior = known.get(&path.0);
                        let vid = match prior {
                            Some(k) if k.sha256 == Some(m.version.facts.sha256) => {
                                if k.withdrawn {
                                    summary.restored += 1;
                                }
                                summary.unchanged += 1;
                                k.current_version
                            }
                            _ => {
                                if prior.is_some() {
                                    summary.changed += 1;
                                } else {
                                    summary.new += 1;
                                }
                                count_version(&mut summary, &mut judge, &m.version);
                                Some(tx.insert_version(&m.version)?)
                            }
                        };
                        if let Some(c) = container {
                            tx.set_member(path, c, &m.raw_name, m.encoding)?;
                        }
                        member_versions.push(vid);
                    }
                }
            }
            progress.inc(1);
        }
        tx.commit()?;
        Ok::<(), ImportError>(())
    };
    // Pipelined: batch N is made durable and committed on this thread while the pool reads
    // batch N + 1, so the disk's flushes and the reading overlap.
    let mut read_before: Option<(&[&WalkEntry], Vec<Outcome>, Batch)> = None;
    for batch in batches(&to_read).into_iter().map(Some).chain([None]) {
        let mut outcomes: Option<Vec<Outcome>> = None;
        pool.in_place_scope(|scope| {
            if let Some(batch) = batch {
                let slot = &mut outcomes;
                let store = &store;
                let known = &known;
                scope.spawn(move |_| {
                    *slot = Some(
                        batch
                            .par_iter()
                            .map(|e| {
                                let prior = known.get(&e.rel).and_then(|k| k.sha256);
                                ingest_one(opts, store, e, cfg.utc_offset, prior, drop_read)
                            })
                            .collect(),
                    );
                });
            }
            match read_before.take() {
                Some((b, o, objects)) => commit(b, o, objects),
                None => Ok(()),
            }
        })?;
        if let (Some(batch), Some(outcomes)) = (batch, outcomes) {
            read_before = Some((batch, outcomes, store.take_batch()));
        }
    }
    progress.finish();

    // What is gone from the inbox is withdrawn; its bytes and rows stay. The members of a zip
    // that was not re-read are present with it (and with an inner zip, theirs).
    {
        let tx = catalog.batch(run)?;
        let mut held: HashMap<i64, Vec<(&Vec<u8>, &crate::catalog::KnownFile)>> = HashMap::new();
        for (rel, k) in &known {
            if let Some(c) = k.container_version {
                held.entry(c).or_default().push((rel, k));
            }
        }
        let mut queue = unchanged_zips;
        let mut done: HashSet<i64> = HashSet::new();
        while let Some(v) = queue.pop() {
            if !done.insert(v) {
                continue;
            }
            for (rel, k) in held.get(&v).into_iter().flatten() {
                if present_members.insert((*rel).clone()) {
                    summary.seen += 1;
                    summary.unchanged += 1;
                    if k.withdrawn {
                        tx.mark_member_present(k.id)?;
                        summary.restored += 1;
                    }
                    queue.extend(k.current_version);
                }
            }
        }
        for (rel, k) in &known {
            if !k.withdrawn
                && !present.contains(rel.as_slice())
                && !present_members.contains(rel.as_slice())
            {
                tx.mark_withdrawn(k.id)?;
                summary.withdrawn += 1;
            }
        }
        tx.commit()?;
    }
    // Objects found damaged or missing earlier: replaced from the inbox where it still has
    // their bytes (after the files of this run are cataloged, so their paths count too).
    let healing = heal::heal_recorded(&catalog, &store, opts.inbox, opts.now)?;
    summary.healed = healing.healed;
    summary.still_damaged = healing.still_damaged;
    summary.rejected = summary.rejections.len() as u64;
    // Only an optimisation of later reads: a failure here fails nothing.
    let _ = catalog.refresh_statistics(summary.new + summary.changed + summary.withdrawn > 0);
    summary.seconds = round_seconds(started.elapsed().as_secs_f64());
    catalog.finish_run(
        run,
        "done",
        &serde_json::to_string(&summary_json(&summary)).unwrap_or_default(),
    )?;
    Ok(summary)
}

/// `files` cut into batches of at most [`BATCH`] files and, past the first file, [`BATCH_BYTES`].
fn batches<'a, 'b>(files: &'b [&'a WalkEntry]) -> Vec<&'b [&'a WalkEntry]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, e) in files.iter().enumerate() {
        if i > start && (i - start == BATCH || bytes + e.size > BATCH_BYTES) {
            out.push(&files[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += e.size;
    }
    if start < files.len() {
        out.push(&files[start..]);
    }
    out
}

/// Counts a new version's problems and lost sheet rows.
fn count_version(summary: &mut ImportSummary, judge: &mut Judge, version: &NewVersion) {
    let judged = judge.judge(&version.facts);
    if !version.facts.problems.is_empty() || !judged.notes.is_empty() {
        summary.problems += 1;
    }
    summary.rejected_rows += version
        .sheets
        .iter()
        .flat_map(|s| &s.problems)
        .map(|(_, reason)| crate::sheet::problem_rows(reason))
        .sum::<u64>();
}

fn round_seconds(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// The summary as stored with the run (the JSON keys plus withdrawn/restored).
pub fn summary_json(s: &ImportSummary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("withdrawn".into(), s.withdrawn.into());
        o.insert("restored".into(), s.restored.into());
        o.insert("rejected_rows".into(), s.rejected_rows.into());
        o.insert("healed".into(), s.healed.len().into());
    }
    v
}

fn dry_run(
    cfg: &Config,
    opts: &ImportOptions,
    walked: walk::WalkResult,
    mut summary: ImportSummary,
    started: Instant,
) -> Result<ImportSummary, ImportError> {
    let known = match Catalog::open_read_only(opts.archive)? {
        Some(c) => c.known_files()?,
        None => HashMap::new(),
    };
    for r in &walked.rejected {
        let path = walk::show_bytes(&r.rel);
        summary.plan.push(format!("拒收\t{path}\t{}", r.reason));
        summary.plan_json.push(serde_json::json!({
            "action": "rejected",
            "path": walk::display_bytes(&r.rel),
            "reason": r.reason,
        }));
        summary.rejections.push((path, r.reason.clone()));
    }
    let mut judge = Judge::new(cfg, opts.corrections);
    // Paths in the inbox that are not read again: unchanged files, and zips whose members
    // therefore stay as they are.
    let mut unchanged: HashSet<&[u8]> = HashSet::new();
    let mut todo: Vec<(&WalkEntry, bool)> = Vec::new();
    for e in &walked.files {
        match known.get(&e.rel) {
            Some(k) if k.size == e.size && k.mtime_ns == e.mtime_ns && k.inode == e.inode => {
                summary.unchanged += 1;
                unchanged.insert(&e.rel);
                if k.withdrawn {
                    summary.restored += 1;
                    summary.plan.push(format!("恢复\t{}", e.display()));
                    summary.plan_json.push(serde_json::json!({
                        "action": "restored",
                        "path": walk::display_bytes(&e.rel),
                    }));
                }
            }
            Some(_) => todo.push((e, true)),
            None => todo.push((e, false)),
        }
    }
    // Small reads scattered over many files: more of them in flight than there are cores.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(4 * READERS)
        .build()
        .expect("a thread pool");
    let planned: Vec<(&WalkEntry, bool, Result<Planned, String>)> = pool.install(|| {
        todo.par_iter()
            .map(|(e, changed)| (*e, *changed, plan_one(opts, e, cfg.utc_offset)))
            .collect()
    });
    // Members the plan lists (of zips read again), present after the run.
    let mut listed_members: HashSet<Vec<u8>> = HashSet::new();
    for (e, changed, result) in planned {
        match result {
            Ok(p) => {
                let mut add = |action: &'static str,
                               v: &NewVersion,
                               encoding: Option<NameEncoding>,
                               summary: &mut ImportSummary| {
                    let (line, json, problems) = plan_entry(action, &mut judge, v, encoding);
                    if problems {
                        summary.problems += 1;
                    }
                    summary.plan.push(line);
                    summary.plan_json.push(json);
                };
                if changed {
                    summary.changed += 1;
                } else {
                    summary.new += 1;
                }
                add(
                    if changed { "changed" } else { "new" },
                    &p.version,
                    None,
                    &mut summary,
                );
                for (m, encoding) in &p.members {
                    summary.seen += 1;
                    listed_members.insert(m.facts.path.0.clone());
                    let action = match known.get(&m.facts.path.0) {
                        None => "new",
                        Some(k) if k.size == m.facts.size && k.mtime_ns == m.facts.mtime_ns => {
                            if k.withdrawn {
                                summary.restored += 1;
                            }
                            summary.unchanged += 1;
                            continue;
                        }
                        Some(_) => "changed",
                    };
                    if action == "new" {
                        summary.new += 1;
                    } else {
                        summary.changed += 1;
                    }
                    add(action, m, Some(*encoding), &mut summary);
                }
            }
            Err(reason) => {
                let path = e.display();
                summary.plan.push(format!("拒收\t{path}\t{reason}"));
                summary.plan_json.push(serde_json::json!({
                    "action": "rejected",
                    "path": walk::display_bytes(&e.rel),
                    "reason": reason,
                }));
                summary.rejections.push((path, reason));
            }
        }
    }
    // What the real run withdraws: a file gone from the inbox; a member whose zip is gone, or
    // read again without it (a member of a zip inside it stays with that zip).
    let present: HashSet<&[u8]> = walked
        .files
        .iter()
        .map(|e| e.rel.as_slice())
        .chain(walked.rejected.iter().map(|r| r.rel.as_slice()))
        .collect();
    let mut withdrawn: Vec<&Vec<u8>> = Vec::new();
    for (rel, k) in &known {
        if k.withdrawn || present.contains(rel.as_slice()) {
            continue;
        }
        if k.container_version.is_none() {
            withdrawn.push(rel);
            continue;
        }
        let prefixes: Vec<&[u8]> = rel
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'/')
            .map(|(i, _)| &rel[..i])
            .collect();
        let Some(zip) = prefixes.iter().find(|p| present.contains(*p)) else {
            withdrawn.push(rel);
            continue;
        };
        if unchanged.contains(zip) {
            // Its zip is not read again: it stays, unchanged (as the real run counts it).
            summary.seen += 1;
            summary.unchanged += 1;
            continue;
        }
        let kept = listed_members.contains(rel.as_slice())
            || prefixes
                .iter()
                .any(|p| p.len() > zip.len() && listed_members.contains(*p));
        if !kept {
            withdrawn.push(rel);
        }
    }
    withdrawn.sort();
    for rel in withdrawn {
        summary.withdrawn += 1;
        summary
            .plan
            .push(format!("撤回\t{}", walk::show_bytes(rel)));
        summary.plan_json.push(serde_json::json!({
            "action": "withdrawn",
            "path": walk::display_bytes(rel),
        }));
    }
    summary.bytes_read = 0; // nothing hashed
    summary.rejected = summary.rejections.len() as u64;
    summary.seconds = round_seconds(started.elapsed().as_secs_f64());
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u64) -> WalkEntry {
        WalkEntry {
            rel: Vec::new(),
            abs: PathBuf::new(),
            department: String::new(),
            folders: Vec::new(),
            file_name: String::new(),
            size,
            mtime_ns: 0,
            dev: 0,
            inode: 0,
        }
    }

    #[test]
    fn batches_end_at_a_count_or_a_size() {
        let small: Vec<WalkEntry> = (0..1100).map(|_| entry(45_000)).collect();
        let refs: Vec<&WalkEntry> = small.iter().collect();
        let lens: Vec<usize> = batches(&refs).iter().map(|b| b.len()).collect();
        assert_eq!(lens, [512, 512, 76]);
        // 4 MB camera photos: 8 to a batch (32 MiB); one larger file is a batch of its own.
        let big: Vec<WalkEntry> = [
            vec![entry(4 << 20); 10],
            vec![entry(1 << 30)],
            vec![entry(1)],
        ]
        .concat();
        let refs: Vec<&WalkEntry> = big.iter().collect();
        let lens: Vec<usize> = batches(&refs).iter().map(|b| b.len()).collect();
        assert_eq!(lens, [8, 2, 1, 1]);
        assert!(batches(&[]).is_empty());
    }
}
