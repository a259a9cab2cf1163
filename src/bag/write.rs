//! Writing a bag: the plan is checked and put in a fixed order, the payload is written to a
//! temporary zip beside the final path and the tag files after it (the manifest made on the
//! way), the zip is fsynced, read back and verified, and only then renamed into place.
//!
//! Never writes at the final path before verification, never reads a big payload file whole
//! into memory (files up to [`HELD_MAX`] are read whole ahead of the writer, at most
//! [`AHEAD_BYTES`] of them), never takes a time or a permission from the machine it runs on.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Timelike};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

use super::names::{is_safe_path, percent_encode_manifest_path, safe_component};
use super::verify::{Kept, ReadBack, ReadBacks, verify_detailed};
use super::{
    BagError, BagPlan, EntryProblem, PayloadFile, PayloadSource, Stage, WrittenBag, to_hex,
};

/// Chunk in which payload bytes are read and written.
const CHUNK: usize = 1 << 20;

/// Entries at or above this size are written with zip64 sizes: a deflated entry can grow a
/// little past its input, so the margin keeps one near 4 GiB from failing the write.
const LARGE_FILE_THRESHOLD: u64 = u32::MAX as u64 - (64 << 20);

/// The temporary zip beside the final path is named `.dangan-bag-XXXXXX.zip.tmp`.
const TEMP_PREFIX: &str = ".dangan-bag-";
const TEMP_SUFFIX: &str = ".zip.tmp";

const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

/// One entry to write, in its final order.
struct Entry<'a> {
    /// The full name in the zip.
    name: String,
    source: EntrySource<'a>,
    size: u64,
    /// `None`: taken from the bytes as they are written. Borrowed from the plan (a copy of every
    /// digest was 7 MB of the archive's peak at 80 000 entries).
    sha256: Option<std::borrow::Cow<'a, str>>,
    compress: bool,
}

enum EntrySource<'a> {
    Payload(&'a PayloadSource),
    Generated(Vec<u8>),
    Directory,
}

/// A plan checked and ordered: the payload folder and files; the tag files follow them.
struct Prepared<'a> {
    bag: &'a str,
    entries: Vec<Entry<'a>>,
    payload_files: u64,
    payload_bytes: u64,
    bag_info: String,
}

/// Writes `plan` as a verified BagIt zip at `out` (replacing a file there only once the new one
/// is verified). On any error nothing new is at `out` and the temporary file is gone.
pub fn write_bag(plan: &BagPlan, out: &Path) -> Result<WrittenBag, BagError> {
    write_bag_with(plan, out, LARGE_FILE_THRESHOLD, &|_, _| {})
}

/// [`write_bag`], calling `progress` with each chunk of bytes written and then verified (see
/// [`Stage`]); verification calls it from several threads at once.
pub fn write_bag_with_progress(
    plan: &BagPlan,
    out: &Path,
    progress: &(dyn Fn(Stage, u64) + Sync),
) -> Result<WrittenBag, BagError> {
    write_bag_with(plan, out, LARGE_FILE_THRESHOLD, progress)
}

/// [`write_bag`] with the size from which entries get zip64 sizes (tests lower it).
fn write_bag_with(
    plan: &BagPlan,
    out: &Path,
    large_file_threshold: u64,
    progress: &(dyn Fn(Stage, u64) + Sync),
) -> Result<WrittenBag, BagError> {
    let prepared = prepare(plan)?;
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        // Readable by the office as the umask allows (0644 under 022), not tempfile's 0600.
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(&dir)
        .map_err(|source| BagError::Write {
            path: dir.clone(),
            source,
        })?;
    let (file, tmp_path) = tmp.into_parts();
    let followed = write_zip(
        file,
        &tmp_path,
        &prepared,
        plan.timestamp,
        large_file_threshold,
        &|n| progress(Stage::Write, n),
    )?;
    // What is checked below needs only the counts: the entries (their names, the manifest's
    // bytes) go before the zip is read back, which holds its own copy of every name (at 80 000
    // entries, 40 MB less at the archive's peak).
    let (payload_files, payload_bytes) = (prepared.payload_files, prepared.payload_bytes);
    drop(prepared);

    // Every entry's CRC and SHA-256 against the manifest, which holds the catalog's digests (a
    // damaged store object is found here, not hashed a third time while writing). The zip's own
    // digest and the stored entries' data were read back from the file behind the writer;
    // their headers are read here, and the deflated entries whole. Where the reading behind
    // could not be (see `Follower`), all of it comes from this reading.
    let report = verify_detailed(
        &tmp_path,
        &|n| progress(Stage::Verify, n),
        followed.is_none(),
        followed.as_ref().map(|f| &f.read_back),
        followed.as_ref().map(|f| &f.kept),
    );
    let whole = match followed {
        Some(f) => Ok((f.sha256, f.len)),
        None => report
            .whole
            .unwrap_or_else(|| Err(io::Error::other("未计算整个文件的 SHA-256"))),
    };
    let mut problems = report.report.problems;
    if report.top.as_deref() != Some(plan.bag_name.as_str()) {
        problems.push(EntryProblem {
            entry: plan.bag_name.clone(),
            reason: "顶层文件夹与计划不符".to_string(),
        });
    }
    if report.report.payload_files != payload_files || report.report.payload_bytes != payload_bytes
    {
        problems.push(EntryProblem {
            entry: format!("{}/data/", plan.bag_name),
            reason: format!(
                "读回的载荷为 {} 个文件 {} 字节，计划为 {} 个文件 {} 字节",
                report.report.payload_files,
                report.report.payload_bytes,
                payload_files,
                payload_bytes
            ),
        });
    }
    let (sha256, size) = whole.map_err(|source| BagError::Write {
        path: tmp_path.to_path_buf(),
        source,
    })?;
    if !problems.is_empty() {
        if let Some(damage) = source_damage(plan, &problems) {
            return Err(damage);
        }
        let summary = summarize(&problems);
        return Err(BagError::Verify {
            path: out.to_path_buf(),
            summary,
            problems,
        });
    }

    tmp_path.persist(out).map_err(|e| BagError::Persist {
        path: out.to_path_buf(),
        source: e.error,
    })?;
    sync_dir(&dir).map_err(|source| BagError::Durability {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(WrittenBag {
        path: out.to_path_buf(),
        size,
        sha256,
        payload_files,
        payload_bytes,
    })
}

/// When an entry copied from a file failed verification because that file's bytes are not what
/// the catalog says (store damage), the error naming the file and both digests.
fn source_damage(plan: &BagPlan, problems: &[EntryProblem]) -> Option<BagError> {
    let bad: std::collections::HashSet<&str> = problems.iter().map(|p| p.entry.as_str()).collect();
    let mut suspects: Vec<(String, &Path, &str)> = plan
        .files
        .iter()
        .filter_map(|f| match (&f.source, &f.sha256) {
            (PayloadSource::File(path), Some(expected)) => {
                let entry = format!("{}/data/{}", plan.bag_name, f.path);
                bad.contains(entry.as_str())
                    .then_some((entry, path.as_path(), expected.as_str()))
            }
            _ => None,
        })
        .collect();
    // In the bag's order, as the problems are.
    suspects.sort_by(|a, b| a.0.cmp(&b.0));
    suspects.into_iter().find_map(|(entry, path, expected)| {
        let (actual, _) = sha256_file(path).ok()?;
        (actual != expected).then(|| BagError::DigestMismatch {
            entry,
            source_desc: path.display().to_string(),
            expected: expected.to_string(),
            actual,
        })
    })
}

fn summarize(problems: &[EntryProblem]) -> String {
    let mut s: Vec<String> = problems.iter().take(5).map(ToString::to_string).collect();
    if problems.len() > 5 {
        s.push(format!("……共 {} 处问题", problems.len()));
    }
    s.join("；")
}

fn plan_error(entry: impl Into<String>, reason: impl Into<String>) -> BagError {
    BagError::Plan {
        entry: entry.into(),
        reason: reason.into(),
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks the plan, drops exact duplicates, orders the entries and generates the tag files.
fn prepare(plan: &BagPlan) -> Result<Prepared<'_>, BagError> {
    let bag = plan.bag_name.as_str();
    if bag.is_empty() || safe_component(bag.as_bytes()) != bag {
        return Err(plan_error(
            bag,
            "包名必须是一个安全的文件夹名（不含 / \\ % 控制字符等）",
        ));
    }

    // path → the file, in byte order of path
    let mut payload: BTreeMap<&str, &PayloadFile> = BTreeMap::new();
    for f in &plan.files {
        if !is_safe_path(&f.path) {
            return Err(plan_error(
                format!("{bag}/data/{}", f.path),
                "文件名不安全，应先经 names::safe_component 处理",
            ));
        }
        if let Some(sha256) = &f.sha256
            && !is_sha256_hex(sha256)
        {
            return Err(plan_error(
                format!("{bag}/data/{}", f.path),
                format!("SHA-256 “{sha256}”不是 64 位小写十六进制"),
            ));
        }
        if let PayloadSource::Bytes(b) = &f.source
            && b.len() as u64 != f.size
        {
            return Err(BagError::SizeMismatch {
                entry: format!("{bag}/data/{}", f.path),
                source_desc: "内存数据".to_string(),
                expected: f.size,
                actual: b.len() as u64,
            });
        }
        match payload.get(f.path.as_str()) {
            Some(prev) if prev.sha256.is_some() && prev.sha256 == f.sha256 => {}
            Some(_) => {
                return Err(plan_error(
                    format!("{bag}/data/{}", f.path),
                    "同一路径对应两个不同内容，应先经 names::assign_unique 处理",
                ));
            }
            None => {
                payload.insert(f.path.as_str(), f);
            }
        }
    }
    // Names that differ only in case are one file on Windows and macOS: unpacking would lose one.
    let mut folded: HashMap<String, &str> = HashMap::with_capacity(payload.len());
    for path in payload.keys() {
        if let Some(other) = folded.insert(path.to_lowercase(), path) {
            return Err(plan_error(
                format!("{bag}/data/{path}"),
                format!("与 {other} 仅大小写不同，应先经 names::assign_unique 处理"),
            ));
        }
    }
    // A file may not also be a folder of another file.
    for path in payload.keys() {
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            if payload.contains_key(&path[..end]) {
                return Err(plan_error(
                    format!("{bag}/data/{}", &path[..end]),
                    format!("既是文件又是 {path} 的文件夹"),
                ));
            }
            end += 1;
        }
    }

    let payload_files = payload.len() as u64;
    let payload_bytes: u64 = payload.values().map(|f| f.size).sum();

    let bag_info = bag_info_text(plan, payload_bytes, payload_files)?;

    let mut entries = Vec::with_capacity(payload.len() + 1);
    // The payload folder exists even when the payload is empty (bagit-python requires it).
    entries.push(Entry {
        name: format!("{bag}/data/"),
        source: EntrySource::Directory,
        size: 0,
        sha256: None,
        compress: false,
    });
    for (path, f) in payload {
        entries.push(Entry {
            name: format!("{bag}/data/{path}"),
            source: EntrySource::Payload(&f.source),
            size: f.size,
            sha256: f.sha256.as_deref().map(std::borrow::Cow::Borrowed),
            compress: f.compress,
        });
    }
    Ok(Prepared {
        bag,
        entries,
        payload_files,
        payload_bytes,
        bag_info,
    })
}

/// The tag files, after the payload: `manifest` lists every payload file's digest.
fn tag_entries(bag: &str, bag_info: &str, manifest: String) -> Vec<Entry<'static>> {
    let tags: [(&str, Vec<u8>); 3] = [
        ("bagit.txt", BAGIT_TXT.as_bytes().to_vec()),
        ("bag-info.txt", bag_info.as_bytes().to_vec()),
        ("manifest-sha256.txt", manifest.into_bytes()),
    ];
    let mut tagmanifest_lines: Vec<(String, &str)> = tags
        .iter()
        .map(|(name, bytes)| (to_hex(&Sha256::digest(bytes)), *name))
        .collect();
    tagmanifest_lines.sort_by(|a, b| a.1.cmp(b.1));
    let tagmanifest: String = tagmanifest_lines
        .iter()
        .map(|(sha, name)| format!("{sha}  {name}\n"))
        .collect();
    tags.into_iter()
        .chain([("tagmanifest-sha256.txt", tagmanifest.into_bytes())])
        .map(|(name, bytes)| Entry {
            name: format!("{bag}/{name}"),
            size: bytes.len() as u64,
            sha256: Some(to_hex(&Sha256::digest(&bytes)).into()),
            source: EntrySource::Generated(bytes),
            compress: true,
        })
        .collect()
}

/// `value` on one line: line breaks and other control characters become spaces.
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn bag_info_text(plan: &BagPlan, bytes: u64, files: u64) -> Result<String, BagError> {
    let info = &plan.info;
    let mut lines: Vec<(String, String)> = vec![
        (
            "Source-Organization".into(),
            info.source_organization.clone(),
        ),
        (
            "Bagging-Date".into(),
            info.bagging_date.format("%Y-%m-%d").to_string(),
        ),
        ("Payload-Oxum".into(), format!("{bytes}.{files}")),
        ("Bag-Size".into(), bag_size_label(bytes)),
        (
            "External-Description".into(),
            info.external_description.clone(),
        ),
        ("Bag-Software-Agent".into(), info.software_agent.clone()),
    ];
    for (label, _) in &info.extra {
        if lines.iter().any(|(l, _)| l.eq_ignore_ascii_case(label)) {
            return Err(plan_error(
                format!("{}/bag-info.txt", plan.bag_name),
                format!("附加标签“{label}”与自动生成的标签重复"),
            ));
        }
    }
    lines.extend(info.extra.iter().cloned());
    let mut text = String::new();
    for (label, value) in lines {
        if label.is_empty()
            || label.contains(':')
            || label.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(plan_error(
                format!("{}/bag-info.txt", plan.bag_name),
                format!("标签名“{label}”无效：不能为空，不能含冒号或空白"),
            ));
        }
        text.push_str(&label);
        text.push_str(": ");
        text.push_str(&one_line(&value));
        text.push('\n');
    }
    Ok(text)
}

/// Whether a payload file is worth deflating, judged by its extension: text formats (CSV, TXT,
/// Markdown, HTML, XML, JSON, SVG, logs) yes; photos, videos, PDFs, Office and other zipped
/// formats no (deflating them costs time for no gain, CRATES.md).
pub fn compress_by_extension(name: &str) -> bool {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    matches!(
        ext.as_str(),
        "csv"
            | "tsv"
            | "txt"
            | "md"
            | "html"
            | "htm"
            | "css"
            | "js"
            | "xml"
            | "json"
            | "svg"
            | "log"
            | "toml"
            | "ini"
    )
}

/// A size as a person reads it, in decimal units with one decimal: `512 B`, `1.2 GB`.
pub fn bag_size_label(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut unit = 1000u128;
    for (i, name) in UNITS.iter().enumerate() {
        // tenths of this unit, rounded half up
        let tenths = (u128::from(bytes) * 10 + unit / 2) / unit;
        if tenths < 10_000 || i == UNITS.len() - 1 {
            return format!("{}.{} {}", tenths / 10, tenths % 10, name);
        }
        unit *= 1000;
    }
    format!("{bytes} B")
}

/// The zip time of every entry: `timestamp` read as UTC, clamped to what a zip can hold.
fn zip_time(timestamp: i64) -> DateTime {
    let min = DateTime::default(); // 1980-01-01 00:00:00
    let Some(t) = chrono::DateTime::from_timestamp(timestamp, 0) else {
        return if timestamp < 0 {
            min
        } else {
            DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or(min)
        };
    };
    let t = t.naive_utc();
    if t.year() < 1980 {
        return min;
    }
    if t.year() > 2107 {
        return DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or(min);
    }
    DateTime::from_date_and_time(
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    )
    .unwrap_or(min)
}

fn write_zip(
    file: File,
    tmp_path: &Path,
    prepared: &Prepared<'_>,
    timestamp: i64,
    large_file_threshold: u64,
    progress: &dyn Fn(u64),
) -> Result<Option<Followed>, BagError> {
    let follower = Follower::new(prepared.entries.iter().filter(|e| !e.compress).count());
    std::thread::scope(|scope| {
        let digest = scope.spawn(|| follower.run(tmp_path));
        let written = {
            let _give_up = GiveUpOnDrop(&follower);
            write_zip_followed(
                file,
                tmp_path,
                prepared,
                (timestamp, large_file_threshold),
                progress,
                &follower,
            )
        };
        let digest = digest.join().ok().flatten();
        written.map(|()| digest)
    })
}

/// [`write_zip`]'s writing, telling `follower` what is final.
fn write_zip_followed(
    file: File,
    tmp_path: &Path,
    prepared: &Prepared<'_>,
    (timestamp, large_file_threshold): (i64, u64),
    progress: &dyn Fn(u64),
    follower: &Follower,
) -> Result<(), BagError> {
    let write_err = |source: io::Error| BagError::Write {
        path: tmp_path.to_path_buf(),
        source,
    };
    let mut zip = ZipWriter::new(WriteBehind::new(file, follower));
    let base = SimpleFileOptions::default()
        .last_modified_time(zip_time(timestamp))
        .system(System::Unix)
        .unix_permissions(0o644);
    let mut buf = vec![0u8; CHUNK];
    let ahead = ReadAhead::new(&prepared.entries);
    std::thread::scope(|scope| {
        for _ in 0..AHEAD_THREADS {
            scope.spawn(|| ahead.run());
        }
        let _stop = StopOnDrop(&ahead);
        write_entries(
            &mut zip,
            tmp_path,
            prepared,
            (base, large_file_threshold),
            &mut buf,
            (&ahead, follower),
            progress,
        )
    })?;
    let writer = zip.finish().map_err(|source| BagError::Zip {
        entry: "（中央目录）".to_string(),
        source,
    })?;
    let file = writer.into_file().map_err(write_err)?;
    file.sync_all().map_err(write_err)?;
    let len = file.metadata().map_err(write_err)?.len();
    drop(file);
    follower.complete(len);
    Ok(())
}

/// The entries, in order, into the open zip (telling `ahead` as each is done), then the tag
/// files with the manifest of the digests met on the way.
fn write_entries(
    zip: &mut ZipWriter<WriteBehind<'_>>,
    tmp_path: &Path,
    prepared: &Prepared<'_>,
    options: (SimpleFileOptions, u64),
    buf: &mut [u8],
    (ahead, follower): (&ReadAhead, &Follower),
    progress: &dyn Fn(u64),
) -> Result<(), BagError> {
    let data_prefix = format!("{}/data/", prepared.bag);
    let mut manifest = String::new();
    let mut last_started = None;
    let mut to = Writing {
        zip,
        tmp_path,
        options,
        buf,
        follower,
        last_started: &mut last_started,
        progress,
    };
    for (i, e) in prepared.entries.iter().enumerate() {
        ahead.at(i);
        let digest = to.entry(e, Some((ahead, i)))?;
        if let (Some(digest), Some(path)) = (digest, e.name.strip_prefix(&data_prefix))
            && !path.is_empty()
        {
            manifest.push_str(&digest);
            manifest.push_str("  data/");
            manifest.push_str(&percent_encode_manifest_path(path));
            manifest.push('\n');
        }
    }
    ahead.stop();
    for e in tag_entries(prepared.bag, &prepared.bag_info, manifest) {
        to.entry(&e, None)?;
    }
    Ok(())
}

/// What writing one entry needs besides the entry.
struct Writing<'w, 'z, 'f> {
    zip: &'w mut ZipWriter<WriteBehind<'z>>,
    tmp_path: &'w Path,
    /// The entries' base options and the size from which they get zip64 sizes.
    options: (SimpleFileOptions, u64),
    buf: &'w mut [u8],
    follower: &'f Follower,
    /// See [`follow`].
    last_started: &'w mut Option<u64>,
    progress: &'w dyn Fn(u64),
}

impl Writing<'_, '_, '_> {
    /// Writes `e` (entry `i` of the read-ahead, when it reads it); returns its digest: the
    /// planned one, else the one of the bytes written (`None` for a folder).
    fn entry(
        &mut self,
        e: &Entry<'_>,
        ahead: Option<(&ReadAhead, usize)>,
    ) -> Result<Option<String>, BagError> {
        let tmp_path = self.tmp_path;
        let write_err = |source: io::Error| BagError::Write {
            path: tmp_path.to_path_buf(),
            source,
        };
        let zip_err = |source| BagError::Zip {
            entry: e.name.clone(),
            source,
        };
        let (base, large_file_threshold) = self.options;
        let zip = &mut *self.zip;
        if let EntrySource::Directory = e.source {
            zip.add_directory(
                e.name.as_str(),
                base.compression_method(CompressionMethod::Stored)
                    .unix_permissions(0o755),
            )
            .map_err(zip_err)?;
            *self.last_started = follow(self.follower, *self.last_started);
            return Ok(None);
        }
        let options = if e.compress {
            // Level 1: at 5 000 photos the bag's text (the report's pages, 文件索引.csv, the
            // manifest: 5.5 MB) took 50 ms of the writer's time at level 6, for 0.1 MB less.
            base.compression_method(CompressionMethod::Deflated)
                .compression_level(Some(1))
        } else {
            base.compression_method(CompressionMethod::Stored)
        }
        .large_file(e.size >= large_file_threshold);
        zip.start_file(e.name.as_str(), options).map_err(zip_err)?;
        *self.last_started = follow(self.follower, *self.last_started);
        let data_start = (!e.compress).then(|| written_to(zip)).flatten();
        let progress = self.progress;
        let digest = match &e.source {
            EntrySource::Generated(bytes) => {
                zip.write_all(bytes).map_err(write_err)?;
                e.sha256.as_deref().map(str::to_string)
            }
            EntrySource::Payload(PayloadSource::Bytes(bytes)) => copy_checked(
                &mut bytes.as_slice(),
                zip,
                e,
                "内存数据",
                self.buf,
                progress,
                true,
            )
            .map_err(|err| err.into_bag_error(tmp_path, None))?,
            EntrySource::Payload(PayloadSource::File(path))
                if ahead.is_some_and(|(a, i)| a.holds(i)) =>
            {
                let read = ahead
                    .and_then(|(a, i)| a.take(i))
                    .unwrap_or_else(|| read_held(path, e.size).map(|b| (b, None)));
                let (bytes, read_digest) = read.map_err(|source| BagError::ReadSource {
                    entry: e.name.clone(),
                    source_path: path.clone(),
                    source,
                })?;
                if bytes.len() as u64 != e.size {
                    return Err(BagError::SizeMismatch {
                        entry: e.name.clone(),
                        source_desc: path.display().to_string(),
                        expected: e.size,
                        // Read up to one byte past the expected size: the length on disk.
                        actual: std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len()),
                    });
                }
                // A planned digest is checked when the zip is read back (see `source_damage`);
                // a file made for the bag was hashed by its reader.
                let digest = e
                    .sha256
                    .as_deref()
                    .map(str::to_string)
                    .or(read_digest)
                    .unwrap_or_else(|| to_hex(&Sha256::digest(&bytes)));
                zip.write_all(&bytes).map_err(write_err)?;
                if let Some((a, _)) = ahead {
                    a.give_back(bytes);
                }
                progress(e.size);
                Some(digest)
            }
            EntrySource::Payload(PayloadSource::File(path)) => {
                let mut src = File::open(path).map_err(|source| BagError::ReadSource {
                    entry: e.name.clone(),
                    source_path: path.clone(),
                    source,
                })?;
                let desc = path.display().to_string();
                // A planned digest is checked when the zip is read back (see `source_damage`).
                let hash = e.sha256.is_none();
                let got = copy_checked(&mut src, zip, e, &desc, self.buf, progress, hash)
                    .map_err(|err| err.into_bag_error(tmp_path, Some(path)))?;
                done_with(&src);
                e.sha256.as_deref().map(str::to_string).or(got)
            }
            EntrySource::Directory => None,
        };
        // A stored entry's data is its bytes as they are: the follower hashes that range.
        if let (Some(start), Some(end)) = (data_start, written_to(zip))
            && end - start == e.size
        {
            self.follower.stored_data(start, end);
        }
        Ok(digest)
    }
}

/// Where the next byte given to the zip writer goes in the file: the file's position and what
/// its buffer holds (a seek flushes the buffer first); meant for a stored entry, whose bytes
/// reach the file as they are. `None` once the writer is closed.
fn written_to(zip: &ZipWriter<WriteBehind<'_>>) -> Option<u64> {
    zip.get_ref().map(WriteBehind::position)
}

/// Called right after an entry is started: starting it finished (and patched) the one before,
/// so what had reached the file when that one was started is final, its header included. What
/// has reached the file now (part of the new header, perhaps) waits for the next entry. Returns
/// the new mark.
fn follow(follower: &Follower, last_started: Option<u64>) -> Option<u64> {
    if let Some(mark) = last_started {
        follower.final_before(mark);
    }
    Some(follower.pos.load(Ordering::Relaxed))
}

/// The store objects of the next entries read into memory by [`AHEAD_THREADS`] threads while
/// the writer copies the current one, at most [`AHEAD_FILES`] files or [`AHEAD_BYTES`] bytes
/// ahead. A cold store is read with many requests in flight, not one small file after another
/// (on the machine of the benchmarks, 5 000 objects read cold by one `cat` took 2.7 s, by 16 at
/// once 0.5 s), and the copying out of the page cache is done on the other core, not by the
/// writer. A file above [`HELD_MAX`] is only asked of the kernel (`posix_fadvise(WILLNEED)`)
/// and streamed by the writer in chunks.
struct ReadAhead<'a> {
    files: Vec<Option<&'a Path>>,
    /// Whether the reader hashes the file (one made for the bag, whose digest is not planned).
    hash: Vec<bool>,
    /// The next entry a thread takes.
    next: std::sync::atomic::AtomicUsize,
    /// Bytes of the entries before each entry.
    before: Vec<u64>,
    state: std::sync::Mutex<AheadState>,
    /// The writer moved on or stopped (the readers wait for it).
    moved: std::sync::Condvar,
    /// A file was read (the writer waits for it).
    filled: std::sync::Condvar,
}

struct AheadState {
    /// The entry the writer is at; `usize::MAX` once it stopped.
    at: usize,
    /// Files read ahead and not yet taken by the writer (at most `AHEAD_BYTES + HELD_MAX`), with
    /// their digests when hashed.
    held: HashMap<usize, io::Result<Held>>,
    /// Buffers the writer is done with, for the readers to fill again (a fresh allocation for
    /// each small file cost the readers page faults and the allocator's trimming): at most
    /// [`SPARE_BYTES`] of capacity.
    spare: Vec<Vec<u8>>,
    spare_bytes: usize,
    /// A reader thread panicked: what it would have read never comes.
    failed: bool,
    /// The entries whose readers wait for the writer to move on (woken when it waits for one).
    waiting: std::collections::BTreeSet<usize>,
    /// The entry the writer waits for, if it waits (only its reader wakes it).
    wanted: Option<usize>,
}

/// A file's bytes read ahead, and their digest when the reader hashed them.
type Held = (Vec<u8>, Option<String>);

const AHEAD_FILES: usize = 128;
const AHEAD_THREADS: usize = 16;
const AHEAD_WAKE: usize = 16;
const AHEAD_BYTES: u64 = 32 << 20;
/// The buffers kept for the readers: enough for those that are between the writer and a reader.
const SPARE_BYTES: usize = 4 << 20;
/// Files up to this size are read whole ahead of the writer; bigger ones are streamed.
const HELD_MAX: u64 = 4 << 20;

impl<'a> ReadAhead<'a> {
    fn new(entries: &'a [Entry<'a>]) -> ReadAhead<'a> {
        let mut before = Vec::with_capacity(entries.len() + 1);
        let mut sum = 0;
        for e in entries {
            before.push(sum);
            sum += e.size;
        }
        before.push(sum);
        let files = entries
            .iter()
            .map(|e| match e.source {
                EntrySource::Payload(PayloadSource::File(p)) => Some(p.as_path()),
                _ => None,
            })
            .collect();
        let hash = entries.iter().map(|e| e.sha256.is_none()).collect();
        ReadAhead {
            files,
            hash,
            next: std::sync::atomic::AtomicUsize::new(0),
            before,
            state: std::sync::Mutex::new(AheadState {
                at: 0,
                held: HashMap::new(),
                spare: Vec::new(),
                spare_bytes: 0,
                failed: false,
                waiting: std::collections::BTreeSet::new(),
                wanted: None,
            }),
            moved: std::sync::Condvar::new(),
            filled: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AheadState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn size(&self, i: usize) -> u64 {
        self.before[i + 1] - self.before[i]
    }

    /// Whether the file of entry `i` is read ahead whole (else the writer streams it).
    fn holds(&self, i: usize) -> bool {
        matches!(self.files.get(i), Some(Some(_))) && self.size(i) <= HELD_MAX
    }

    fn at(&self, i: usize) {
        self.lock().at = i;
        // The waiting threads are woken every few entries, not at each: waking all of them for
        // every small file was a fifth of the archive's CPU in context switches.
        if i.is_multiple_of(AHEAD_WAKE) || i == usize::MAX {
            self.moved.notify_all();
        }
    }

    fn stop(&self) {
        self.at(usize::MAX);
    }

    /// The bytes of entry `i`'s file (one more than its expected size when it grew) and their
    /// digest when hashed, once a reader has them; `None` for an entry not read ahead.
    fn take(&self, i: usize) -> Option<io::Result<Held>> {
        if !self.holds(i) {
            return None;
        }
        let mut st = self.lock();
        loop {
            if let Some(got) = st.held.remove(&i) {
                return Some(got);
            }
            if st.failed {
                return Some(Err(io::Error::other("预读文件的线程异常退出")));
            }
            // The reader of entry i may be waiting for a move it was not woken for (the
            // others are not woken: with every thread woken at each wait, the small thumbnails
            // went at half speed).
            if st.waiting.contains(&i) {
                self.moved.notify_all();
            }
            st.wanted = Some(i);
            st = self.filled.wait(st).unwrap_or_else(|e| e.into_inner());
            st.wanted = None;
        }
    }

    /// Returns a buffer whose bytes were written, for a reader to fill again.
    fn give_back(&self, mut bytes: Vec<u8>) {
        let mut st = self.lock();
        if st.spare_bytes + bytes.capacity() <= SPARE_BYTES {
            bytes.clear();
            st.spare_bytes += bytes.capacity();
            st.spare.push(bytes);
        }
    }

    /// A buffer to read a file of `size` bytes into: a spare one when there is one, unless it
    /// is far bigger than the file (the files held ahead are bounded by their sizes, so their
    /// buffers must be too).
    fn buffer(&self, size: u64) -> Vec<u8> {
        let mut st = self.lock();
        let got = st.spare.pop().unwrap_or_default();
        st.spare_bytes -= got.capacity();
        drop(st);
        let want = usize::try_from(size + 1).unwrap_or(usize::MAX);
        if got.capacity() > want.saturating_mul(2).max(256 << 10) {
            return Vec::new();
        }
        got
    }

    fn run(&self) {
        // A reader that panics says so, or the writer would wait for its file for ever.
        struct Failed<'r, 'a>(&'r ReadAhead<'a>);
        impl Drop for Failed<'_, '_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.lock().failed = true;
                    self.0.filled.notify_all();
                }
            }
        }
        let _failed = Failed(self);
        loop {
            let j = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(path) = self.files.get(j) else {
                return;
            };
            let Some(path) = path else { continue };
            let mut st = self.lock();
            while st.at != usize::MAX
                && (j >= st.at + AHEAD_FILES || self.before[j] > self.before[st.at] + AHEAD_BYTES)
            {
                st.waiting.insert(j);
                st = self.moved.wait(st).unwrap_or_else(|e| e.into_inner());
                st.waiting.remove(&j);
            }
            if st.at == usize::MAX {
                return;
            }
            drop(st);
            if self.holds(j) {
                // Hashed here, on the reader's core, while the bytes are hot.
                let buffer = self.buffer(self.size(j));
                let got = read_held_into(buffer, path, self.size(j), true).map(|b| {
                    let digest = self.hash[j].then(|| to_hex(&Sha256::digest(&b)));
                    (b, digest)
                });
                let mut st = self.lock();
                if st.at == usize::MAX {
                    return;
                }
                st.held.insert(j, got);
                let wanted = st.wanted == Some(j);
                drop(st);
                if wanted {
                    self.filled.notify_one();
                }
            } else if let Ok(f) = File::open(path) {
                crate::store::advise(&f, 0, 0, crate::store::Advice::WillNeed);
            }
        }
    }
}

/// Stops the read-ahead threads when the writer leaves, by an error or a panic: without it a
/// panic in the writer's loop would leave them waiting, and the scope joining them for ever.
struct StopOnDrop<'r, 'a>(&'r ReadAhead<'a>);

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// A file of `size` bytes read whole: up to one byte more, so that a file that grew is seen.
fn read_held(path: &Path, size: u64) -> io::Result<Vec<u8>> {
    read_held_into(Vec::new(), path, size, false)
}

/// [`read_held`] into `bytes` (emptied first; its capacity is reused); `drop`: the file's
/// pages leave the page cache once read ([`done_with`]).
fn read_held_into(mut bytes: Vec<u8>, path: &Path, size: u64, drop: bool) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    // Read into a buffer of the expected size and one byte: the file in one `read` and its end
    // in a second (`read_to_end` without a size asked in 8, 16, 32 KiB steps: 7 calls a photo).
    let want = usize::try_from(size + 1).unwrap_or(usize::MAX);
    bytes.clear();
    bytes.resize(want, 0);
    let mut got = 0;
    while got < want {
        match f.read(&mut bytes[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(got);
    if drop {
        done_with(&f);
    }
    Ok(bytes)
}

/// A source read to its end is not read again by the bag: its pages leave the page cache now
/// ([`crate::store::drop_cached`]) rather than push out what the machine holds there, and the
/// pages of the next files reuse them. For every source, small or big, in a bag of any size: a
/// year of 40 000 photos and thumbnails (2.2 GB) otherwise fills the page cache with pages read
/// once, and the bag's own pages cost fresh ones (7.6 s against 12.3 s for its archive here);
/// at 5 000 photos, page cache dropped and its memory given back to the host before each, the
/// archive took 0.84 / 1.35 / 1.38 s with the sources dropped against 1.14 / 1.51 / 1.59 s kept
/// (the 10 000 calls cost about 50 ms of the kernel's time).
fn done_with(f: &File) {
    crate::store::drop_cached(f, 0, 0);
}

/// The whole zip's SHA-256, read back from the temp file by a thread that follows the writer.
/// Once an entry is started, every byte before it is final (the zip writer goes back only to
/// patch the local header of the entry it is finishing; see [`follow`]), so they are read from the file
/// while the next entries are written, on the core the writer leaves idle (it waits for the
/// disk), instead of in a pass of their own after it. The digest is of the file as the kernel
/// returns it, as before. A write below what the follower was given (which the zip writer does
/// not do) voids it, and the reading back computes the digest instead.
struct Follower {
    /// The writer's position in the file.
    pos: AtomicU64,
    /// Bytes `[0, safe)` are final: the follower may read them.
    safe: AtomicU64,
    /// The file's length once it is complete (`u64::MAX` until then).
    end: AtomicU64,
    /// A write below `safe`, or the writer gave up: no digest.
    void: std::sync::atomic::AtomicBool,
    lock: std::sync::Mutex<()>,
    moved: std::sync::Condvar,
    /// The data ranges `[start, end)` of the stored entries written, in the file's order, not
    /// yet reached by the follower.
    stored: std::sync::Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// How many entries may be stored.
    stored_entries: usize,
    /// The stored entries' data ranges whose pages are to leave the page cache once on the
    /// disk and read back (see [`Follower::drop_written`]).
    to_drop: std::sync::Mutex<std::collections::VecDeque<(u64, u64)>>,
    /// Every byte around the stored entries' data read so far is kept ([`Kept`]): the whole of
    /// what was read back may leave the page cache, not only the entries' data.
    kept_all: std::sync::atomic::AtomicBool,
}

/// What the follower read back: the whole file's SHA-256 and length, and the stored entries'
/// data.
struct Followed {
    sha256: String,
    len: u64,
    read_back: ReadBacks,
    kept: std::sync::Arc<Kept>,
}

use std::sync::atomic::{AtomicU64, Ordering};

impl Follower {
    fn new(stored_entries: usize) -> Follower {
        Follower {
            pos: AtomicU64::new(0),
            safe: AtomicU64::new(0),
            end: AtomicU64::new(u64::MAX),
            void: std::sync::atomic::AtomicBool::new(false),
            lock: std::sync::Mutex::new(()),
            moved: std::sync::Condvar::new(),
            stored: std::sync::Mutex::new(std::collections::VecDeque::new()),
            stored_entries,
            to_drop: std::sync::Mutex::new(std::collections::VecDeque::new()),
            kept_all: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Bytes `[start, end)` of the file are a stored entry's data (said before they are final).
    fn stored_data(&self, start: u64, end: u64) {
        self.stored
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((start, end));
        let (from, to) = droppable(start, end);
        if to >= from + DROP_MIN {
            self.to_drop
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_back((from, to));
        }
    }

    /// `[synced, upto)` of the file was read back: once its pages are on the disk (waited for
    /// here, on the follower's thread: the writer started their writeback a step before), it
    /// leaves the page cache, and the writer's next pages reuse the freed ones instead of taking
    /// fresh ones. All of it while the bytes around the stored entries' data are kept in memory
    /// ([`Kept`]: the verification then reads nothing of it again); once they no longer fit
    /// there, only the stored entries' data (see [`droppable`]). Returns the new `synced`
    /// (unchanged when the wait failed: nothing is dropped then).
    fn drop_written(&self, file: &File, synced: u64, upto: u64) -> u64 {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range only reads the descriptor, which `file` keeps open.
        let waited = unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                synced as libc::off64_t,
                (upto - synced) as libc::off64_t,
                libc::SYNC_FILE_RANGE_WAIT_BEFORE
                    | libc::SYNC_FILE_RANGE_WRITE
                    | libc::SYNC_FILE_RANGE_WAIT_AFTER,
            )
        };
        if waited != 0 {
            return synced;
        }
        let whole = self.kept_all.load(Ordering::Acquire);
        let mut q = self.to_drop.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(&(from, to)) = q.front() {
            if to > upto {
                break;
            }
            q.pop_front();
            if !whole {
                crate::store::drop_cached(file, from, to - from);
            }
        }
        if whole {
            crate::store::drop_cached(file, synced, upto - synced);
        }
        upto
    }

    fn wake(&self) {
        drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
        self.moved.notify_all();
    }

    /// The writer is about to write at `at`.
    fn writing_at(&self, at: u64) {
        if at < self.safe.load(Ordering::Acquire) && !self.void.swap(true, Ordering::AcqRel) {
            self.wake();
        }
    }

    /// Bytes `[0, mark)` of the file are final.
    fn final_before(&self, mark: u64) {
        let safe = self.safe.load(Ordering::Relaxed);
        if mark > safe {
            self.safe.store(mark, Ordering::Release);
            // Woken once a MiB, not for each small thumbnail.
            if mark / CHUNK as u64 != safe / CHUNK as u64 {
                self.wake();
            }
        }
    }

    fn complete(&self, len: u64) {
        self.end.store(len, Ordering::Release);
        self.wake();
    }

    fn give_up(&self) {
        self.void.store(true, Ordering::Release);
        self.wake();
    }

    /// Reads `path` up to where the writer allows, until it is complete; `None` when voided.
    /// The whole file's digest is taken here and the stored entries' digests on a thread of
    /// their own, each chunk read once and handed over: two SHA-256 passes over the same bytes
    /// were one core's work, and the writer waited for it at the end.
    fn run(&self, path: &Path) -> Option<Followed> {
        let file = File::open(path).ok()?;
        let (full_tx, full_rx) =
            std::sync::mpsc::sync_channel::<(u64, Vec<u8>, usize)>(FOLLOW_BUFFERS);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        for _ in 0..FOLLOW_BUFFERS {
            let _ = empty_tx.send(vec![0u8; CHUNK]);
        }
        std::thread::scope(|scope| {
            let entries = scope.spawn(move || {
                let mut entries = EntryHashes {
                    current: None,
                    // One allocation: grown by doubling, it was 8 MB more at the archive's peak.
                    done: Vec::with_capacity(self.stored_entries),
                    kept: Kept::default(),
                };
                for (offset, bytes, n) in full_rx {
                    entries.feed(offset, &bytes[..n], &self.stored);
                    // The reader may already have dropped a few chunks whose bytes did not
                    // fit: the verification reads those few headers from the disk.
                    if entries.kept.is_full() {
                        self.kept_all.store(false, Ordering::Release);
                    }
                    let _ = empty_tx.send(bytes);
                }
                (entries.done, entries.kept)
            });
            let read = self.read_back(&file, &full_tx, &empty_rx);
            drop(full_tx);
            let (read_back, kept) = entries.join().ok()?;
            let (sha256, len) = read?;
            // Voided while the last bytes were read: not to be trusted.
            (!self.void.load(Ordering::Acquire)).then_some(Followed {
                sha256,
                len,
                read_back,
                kept: std::sync::Arc::new(kept),
            })
        })
    }

    /// The reading of [`Follower::run`]: every byte once, into the file's digest, each chunk
    /// then sent to the entries' thread (an empty one at the end); the file's digest and
    /// length.
    fn read_back(
        &self,
        file: &File,
        chunks: &std::sync::mpsc::SyncSender<(u64, Vec<u8>, usize)>,
        buffers: &std::sync::mpsc::Receiver<Vec<u8>>,
    ) -> Option<(String, u64)> {
        use std::os::unix::fs::FileExt;
        let mut hasher = Sha256::new();
        let mut done = 0u64;
        let mut synced = 0u64;
        loop {
            let to = {
                let mut g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    if self.void.load(Ordering::Acquire) {
                        return None;
                    }
                    let end = self.end.load(Ordering::Acquire);
                    let safe = self.safe.load(Ordering::Acquire);
                    if end != u64::MAX {
                        break end;
                    }
                    if safe > done {
                        break safe;
                    }
                    g = self.moved.wait(g).unwrap_or_else(|e| e.into_inner());
                }
            };
            while done < to {
                let want = usize::try_from((to - done).min(CHUNK as u64)).unwrap_or(CHUNK);
                let mut buf = buffers.recv().ok()?;
                let n = loop {
                    match file.read_at(&mut buf[..want], done) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return None,
                    }
                };
                if n == 0 {
                    return None;
                }
                hasher.update(&buf[..n]);
                chunks.send((done, buf, n)).ok()?;
                done += n as u64;
                if done >= synced + DROP_STEP {
                    synced = self.drop_written(file, synced, done);
                }
            }
            if to == self.end.load(Ordering::Acquire) {
                chunks.send((to, Vec::new(), 0)).ok()?;
                return Some((to_hex(&hasher.finalize()), to));
            }
        }
    }
}

/// The bag's written pages are dropped behind the follower every this many bytes: the page
/// cache holds a few steps of the bag, not all of it. Dropping only each stored entry's data
/// (its first 8 KiB kept for the header's reading) left all of it cached on a kernel whose page
/// cache holds a big write in large folios, which a range inside one cannot free (Linux 6.18:
/// 2.1 GB of a 2.2 GB bag still cached after the archive); with the bytes around the data kept
/// in memory the whole range goes, 34–47 MB stay cached, and at 40 000 photos the archive took
/// 5.1–5.6 s against 6.6 / 6.8 s while the machine's fresh pages were slow (the same in
/// another hour: 5.1 / 5.2 s against 5.0 / 5.2 s).
const DROP_STEP: u64 = 32 << 20;
/// An entry with fewer droppable bytes (a thumbnail) keeps its pages: not worth the call.
const DROP_MIN: u64 = 16 << 10;
/// The pages of a stored entry's data `[start, end)` that may leave the page cache once the
/// bytes around it are no longer kept in memory: not its first [`super::verify::AT_BUF`]
/// bytes, which the verification reads again with the local header (and would otherwise read
/// from the disk), nor the partial pages at its ends, which hold other entries' headers.
fn droppable(start: u64, end: u64) -> (u64, u64) {
    const PAGE: u64 = 4096;
    let from = (start + super::verify::AT_BUF as u64).div_ceil(PAGE) * PAGE;
    let to = end / PAGE * PAGE;
    (from, to.max(from))
}

/// Chunks of the file read back and not yet hashed by the entries' thread, at most.
const FOLLOW_BUFFERS: usize = 4;

/// The stored entries' data hashed as the follower reads the file in order.
struct EntryHashes {
    /// The entry being read: its range, and its digests so far.
    current: Option<(u64, u64, Sha256, crc32fast::Hasher)>,
    done: ReadBacks,
    /// The bytes between them.
    kept: Kept,
}

impl EntryHashes {
    /// The bytes at `offset` of the file, the next ones after those fed before.
    fn feed(
        &mut self,
        offset: u64,
        bytes: &[u8],
        stored: &std::sync::Mutex<std::collections::VecDeque<(u64, u64)>>,
    ) {
        let end = offset + bytes.len() as u64;
        let mut at = offset;
        loop {
            if self.current.is_none() {
                let mut queue = stored.lock().unwrap_or_else(|e| e.into_inner());
                match queue.front().copied() {
                    // Begins in these bytes (or, empty, where they end).
                    Some((s, e)) if s < end || (s == e && s <= end) => {
                        queue.pop_front();
                        // A range said after its first bytes went by (which the writer does not
                        // do) is left out: the verification reads that entry itself.
                        if s >= at {
                            self.current = Some((s, e, Sha256::new(), crc32fast::Hasher::new()));
                        }
                    }
                    _ => break,
                }
                continue;
            }
            // The bytes before the entry's data: its local header, and what came before it.
            if let Some(start) = self.current.as_ref().map(|c| c.0)
                && start > at
            {
                let to = start.min(end);
                self.kept
                    .push(at, &bytes[(at - offset) as usize..(to - offset) as usize]);
                at = to;
            }
            let Some((s, e, sha, crc)) = self.current.as_mut() else {
                break;
            };
            at = at.max(*s);
            let to = (*e).min(end);
            if to > at {
                let part = &bytes[(at - offset) as usize..(to - offset) as usize];
                sha.update(part);
                crc.update(part);
                at = to;
            }
            if at >= *e {
                if let Some((s, e, sha, crc)) = self.current.take() {
                    self.done.push((
                        s,
                        ReadBack {
                            len: e - s,
                            crc32: crc.finalize(),
                            sha256: sha.finalize().into(),
                        },
                    ));
                }
                continue;
            }
            break;
        }
        if at < end {
            self.kept.push(at, &bytes[(at - offset) as usize..]);
        }
    }
}

/// Voids the follower when the writer leaves without completing the file.
struct GiveUpOnDrop<'f>(&'f Follower);

impl Drop for GiveUpOnDrop<'_> {
    fn drop(&mut self) {
        if self.0.end.load(Ordering::Acquire) == u64::MAX {
            self.0.give_up();
        }
    }
}

/// The bag's temp file behind a buffer of [`CHUNK`] bytes, whose written pages are handed to
/// the disk every [`BEHIND_BYTES`] (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which starts the
/// writeback without waiting), so that the closing fsync finds little left to write.
///
/// The zip writer asks for its position at every entry and goes back to patch each entry's
/// local header once its data is written. Through `std`'s `BufWriter` each of those was a
/// flush and an `lseek` (5 000 photos and their thumbnails: 30 000 `write` and 90 000 `lseek`
/// calls); here the position is known without asking the kernel, a patch within the buffer is
/// made in memory, and the bytes reach the file (`pwrite`, at the offset kept here) a buffer at
/// a time.
struct WriteBehind<'f> {
    file: File,
    /// Where `buf[0]` goes in the file; every byte before it that was written is in the file.
    flushed: u64,
    buf: Vec<u8>,
    /// The writer's position in `buf` (below `buf.len()` while it patches bytes it wrote).
    cursor: usize,
    /// The file's length once the buffer is written: what `SeekFrom::End` counts from.
    len: u64,
    /// Start of the range not yet handed to the disk.
    from: u64,
    follower: &'f Follower,
}

const BEHIND_BYTES: u64 = 16 << 20;

impl<'f> WriteBehind<'f> {
    fn new(file: File, follower: &'f Follower) -> WriteBehind<'f> {
        WriteBehind {
            file,
            flushed: 0,
            buf: Vec::with_capacity(CHUNK),
            cursor: 0,
            len: 0,
            from: 0,
            follower,
        }
    }

    /// Where the next byte written goes in the file.
    fn position(&self) -> u64 {
        self.flushed + self.cursor as u64
    }

    /// Writes `bytes` at `at` in the file (the follower is told first: a write below what it
    /// was given voids its digest) and hands the written pages to the disk every
    /// [`BEHIND_BYTES`].
    fn write_file(&mut self, bytes: &[u8], at: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.follower.writing_at(at);
        self.file.write_all_at(bytes, at)?;
        let end = at + bytes.len() as u64;
        self.len = self.len.max(end);
        self.from = self.from.min(at);
        if end >= self.from + BEHIND_BYTES {
            use std::os::fd::AsRawFd;
            // SAFETY: sync_file_range only reads the descriptor, which `self.file` keeps open.
            // A failure only loses the head start: the closing fsync writes everything.
            unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    self.from as libc::off64_t,
                    (end - self.from) as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                )
            };
            self.from = end;
        }
        Ok(())
    }

    /// The buffer into the file; afterwards the writer is at the end of what it held.
    fn flush_buf(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let buf = std::mem::take(&mut self.buf);
            let written = self.write_file(&buf, self.flushed);
            self.buf = buf;
            written?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        self.cursor = 0;
        self.follower.pos.store(self.flushed, Ordering::Relaxed);
        Ok(())
    }

    /// Writes what is buffered and gives back the file.
    fn into_file(mut self) -> io::Result<File> {
        self.flush_buf()?;
        Ok(self.file)
    }
}

impl Write for WriteBehind<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.cursor < self.buf.len() {
            // A patch of bytes still in the buffer.
            let n = data.len().min(self.buf.len() - self.cursor);
            self.buf[self.cursor..self.cursor + n].copy_from_slice(&data[..n]);
            self.cursor += n;
            return Ok(n);
        }
        if self.buf.len() + data.len() > CHUNK {
            self.flush_buf()?;
        }
        if data.len() >= CHUNK {
            // A big chunk goes straight to the file.
            self.write_file(data, self.flushed)?;
            self.flushed += data.len() as u64;
            self.follower.pos.store(self.flushed, Ordering::Relaxed);
            return Ok(data.len());
        }
        self.buf.extend_from_slice(data);
        self.cursor = self.buf.len();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()
    }
}

impl io::Seek for WriteBehind<'_> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let end = self.len.max(self.flushed + self.buf.len() as u64);
        let target = match pos {
            io::SeekFrom::Start(t) => Some(t),
            io::SeekFrom::Current(d) => self.position().checked_add_signed(d),
            io::SeekFrom::End(d) => end.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "定位到文件开头之前"))?;
        if target >= self.flushed && target <= self.flushed + self.buf.len() as u64 {
            self.cursor = (target - self.flushed) as usize;
        } else {
            // Back to patch a header already in the file (after an entry bigger than the
            // buffer), or forth again: what is buffered goes first.
            self.flush_buf()?;
            self.flushed = target;
            self.follower.pos.store(self.flushed, Ordering::Relaxed);
        }
        Ok(target)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.position())
    }
}

enum CopyError {
    Read(String, io::Error),
    Write(io::Error),
    Bag(BagError),
}

impl CopyError {
    fn into_bag_error(self, tmp_path: &Path, source_path: Option<&PathBuf>) -> BagError {
        match self {
            CopyError::Read(entry, source) => BagError::ReadSource {
                entry,
                source_path: source_path.cloned().unwrap_or_default(),
                source,
            },
            CopyError::Write(source) => BagError::Write {
                path: tmp_path.to_path_buf(),
                source,
            },
            CopyError::Bag(e) => e,
        }
    }
}

/// Streams `src` into the open zip entry; fails as soon as more bytes than expected arrive, and
/// at the end if the length differs, or (with `hash`, when the entry has a planned digest) the
/// digest. With `hash`, returns the digest of the bytes.
fn copy_checked(
    src: &mut dyn Read,
    zip: &mut impl Write,
    e: &Entry<'_>,
    source_desc: &str,
    buf: &mut [u8],
    progress: &dyn Fn(u64),
    hash: bool,
) -> Result<Option<String>, CopyError> {
    let mut hasher = Sha256::new();
    let mut count: u64 = 0;
    loop {
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(CopyError::Read(e.name.clone(), err)),
        };
        count += n as u64;
        if count > e.size {
            return Err(CopyError::Bag(BagError::SizeMismatch {
                entry: e.name.clone(),
                source_desc: source_desc.to_string(),
                expected: e.size,
                actual: count,
            }));
        }
        if hash {
            hasher.update(&buf[..n]);
        }
        zip.write_all(&buf[..n]).map_err(CopyError::Write)?;
        progress(n as u64);
    }
    if count != e.size {
        return Err(CopyError::Bag(BagError::SizeMismatch {
            entry: e.name.clone(),
            source_desc: source_desc.to_string(),
            expected: e.size,
            actual: count,
        }));
    }
    if !hash {
        return Ok(None);
    }
    let actual = to_hex(&hasher.finalize());
    if let Some(expected) = e.sha256.as_deref()
        && actual != expected
    {
        return Err(CopyError::Bag(BagError::DigestMismatch {
            entry: e.name.clone(),
            source_desc: source_desc.to_string(),
            expected: expected.to_string(),
            actual,
        }));
    }
    Ok(Some(actual))
}

/// Removes the temporary zips a killed run left in `dir` (`.dangan-bag-*.zip.tmp`) and returns
/// their paths. A running `write_bag` has one too: call this only while holding the archive
/// lock, so no other run is writing.
pub fn remove_stale_temp_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && entry.file_type()?.is_file()
        {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}

/// SHA-256 (lower-case hex) and length of a whole file, read in chunks: the fixity of an
/// archive as a whole, to compare with what the catalog recorded when it was built.
pub fn zip_sha256(path: &Path) -> io::Result<(String, u64)> {
    sha256_file(path)
}

fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    sha256_reading(path, &mut vec![0u8; CHUNK])
}

fn sha256_reading(path: &Path, buf: &mut [u8]) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let n = match f.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((to_hex(&hasher.finalize()), size))
}

/// Makes the rename durable: the folder's entry is flushed too (a no-op where folders cannot be
/// opened, as on Windows).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries of 4 GiB and more get zip64 sizes; too big to write in a test, so the threshold
    /// is lowered to make every entry one, and the read-back check must still pass.
    #[test]
    fn zip64_sized_entries_verify() {
        use crate::bag::PayloadFile;
        let dir = tempfile::tempdir().unwrap();
        let text = "统计表,1\n".repeat(500).into_bytes();
        let photo = vec![7u8; 10_000];
        let files = [("统计/表.csv", &text, true), ("照片/a.jpg", &photo, false)]
            .into_iter()
            .map(|(path, bytes, compress)| PayloadFile {
                path: path.to_string(),
                source: PayloadSource::Bytes(bytes.clone()),
                size: bytes.len() as u64,
                sha256: Some(to_hex(&Sha256::digest(bytes))),
                compress,
            })
            .collect();
        let plan = plan_of(files);
        let out = dir.path().join("bag.zip");
        let w = write_bag_with(&plan, &out, 0, &|_, _| {}).unwrap();
        assert_eq!(w.payload_files, 2);
        let report = crate::bag::verify_zip(&out);
        assert!(report.ok, "{:?}", report.problems);
        // zip64 extra fields (header id 0x0001) are really there
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.windows(4).any(|w| w == [0x01, 0x00, 0x10, 0x00]
            || w == [0x01, 0x00, 0x08, 0x00]
            || w == [0x01, 0x00, 0x18, 0x00]));
    }

    /// The buffered temp file ends up with the bytes a plain file would have, whatever the
    /// writes and seeks (patches inside the buffer, patches of bytes already in the file after
    /// a write bigger than the buffer, seeks from the end), and says the same positions.
    #[test]
    fn write_behind_gives_the_bytes_of_a_plain_file() {
        use std::io::{Cursor, Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.zip");
        let follower = Follower::new(0);
        let mut behind = WriteBehind::new(File::create(&path).unwrap(), &follower);
        let mut plain = Cursor::new(Vec::new());
        let big: Vec<u8> = (0..CHUNK * 2 + 123).map(|i| (i % 251) as u8).collect();
        let small: Vec<u8> = (0..4000).map(|i| (i % 13) as u8).collect();
        let mut mark = 0;
        for round in 0..6u64 {
            let header = [round as u8; 30];
            let at_header = plain.stream_position().unwrap();
            assert_eq!(behind.stream_position().unwrap(), at_header);
            behind.write_all(&header).unwrap();
            plain.write_all(&header).unwrap();
            let data = if round % 2 == 0 { &small } else { &big };
            for chunk in data.chunks(if round == 3 { 700_000 } else { CHUNK }) {
                behind.write_all(chunk).unwrap();
                plain.write_all(chunk).unwrap();
            }
            let end = plain.stream_position().unwrap();
            // Back to patch the header, as the zip writer does; then on at the end.
            for w in [&mut behind as &mut dyn SeekWrite, &mut plain] {
                assert_eq!(
                    w.seek(SeekFrom::Start(at_header + 14)).unwrap(),
                    at_header + 14
                );
                w.write_all(&[0xAB, 0xCD, 0xEF, round as u8]).unwrap();
                assert_eq!(w.seek(SeekFrom::Start(end)).unwrap(), end);
            }
            if round == 4 {
                mark = at_header;
            }
        }
        // A patch further back, from the end and the current position.
        for w in [&mut behind as &mut dyn SeekWrite, &mut plain] {
            let end = w.seek(SeekFrom::End(0)).unwrap();
            w.seek(SeekFrom::Start(mark + 2)).unwrap();
            w.write_all(b"patched").unwrap();
            assert_eq!(w.seek(SeekFrom::Current(-7)).unwrap(), mark + 2);
            assert_eq!(w.seek(SeekFrom::End(0)).unwrap(), end);
            w.write_all(b"tail").unwrap();
        }
        let file = behind.into_file().unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), plain.into_inner());
    }

    trait SeekWrite: Write + io::Seek {}
    impl<T: Write + io::Seek> SeekWrite for T {}

    fn plan_of(files: Vec<PayloadFile>) -> BagPlan {
        BagPlan {
            bag_name: "bag".to_string(),
            info: crate::bag::BagInfo {
                source_organization: "学院".to_string(),
                external_description: "测试".to_string(),
                bagging_date: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
                software_agent: "dangan test".to_string(),
                extra: vec![],
            },
            files,
            timestamp: 1_767_168_000,
        }
    }

    /// `n` files `照片/000.jpg`… in `dir`, of `len(i)` bytes each, deflated where `compress(i)`.
    fn photos_on_disk(
        dir: &Path,
        n: u32,
        len: impl Fn(u32) -> u32,
        compress: impl Fn(u32) -> bool,
    ) -> Vec<PayloadFile> {
        (0..n)
            .map(|i| {
                let bytes: Vec<u8> = (0..len(i)).map(|b| (b * 7 + i) as u8).collect();
                let path = dir.join(format!("f{i}"));
                std::fs::write(&path, &bytes).unwrap();
                PayloadFile {
                    path: format!("照片/{i:03}.jpg"),
                    source: PayloadSource::File(path),
                    size: bytes.len() as u64,
                    sha256: Some(to_hex(&Sha256::digest(&bytes))),
                    compress: compress(i),
                }
            })
            .collect()
    }

    /// Files on disk go through the read-ahead (small ones read whole by its threads, one above
    /// `HELD_MAX` streamed by the writer), and the zip's digest, read back behind the writer, is
    /// the digest of the file: with zip64 headers (which patch more of each local header) too.
    #[test]
    fn files_on_disk_are_read_ahead_and_the_digest_follows_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = photos_on_disk(dir.path(), 300, |i| i * 97 % 5000, |i| i % 3 == 0);
        let big: Vec<u8> = (0..HELD_MAX + 3 * CHUNK as u64 + 5)
            .map(|b| (b % 251) as u8)
            .collect();
        let big_path = dir.path().join("big");
        std::fs::write(&big_path, &big).unwrap();
        files.push(PayloadFile {
            path: "视频/big.mp4".to_string(),
            source: PayloadSource::File(big_path),
            size: big.len() as u64,
            sha256: Some(to_hex(&Sha256::digest(&big))),
            compress: false,
        });
        let plan = plan_of(files);
        for (name, threshold) in [("a.zip", LARGE_FILE_THRESHOLD), ("zip64.zip", 0)] {
            let out = dir.path().join(name);
            let w = write_bag_with(&plan, &out, threshold, &|_, _| {}).unwrap();
            assert_eq!(w.payload_files, 301);
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(w.size, bytes.len() as u64);
            assert_eq!(w.sha256, to_hex(&Sha256::digest(&bytes)), "{name}");
            let report = crate::bag::verify_zip(&out);
            assert!(report.ok, "{name}: {:?}", report.problems);
        }
    }

    /// A bag past two of the follower's drop steps, so that its stored data is dropped from the
    /// page cache behind the follower: the file, its digest and the verification (which reads
    /// each header again) are those of any bag. Whether the kernel freed the pages is not
    /// checked here (on a tmpfs it does not).
    #[test]
    fn a_bag_dropped_behind_the_follower_is_whole_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let n = (2 * DROP_STEP / (1 << 20) + 4) as u32;
        let files = photos_on_disk(dir.path(), n, |i| (1 << 20) + i * 4099, |i| i % 9 == 0);
        let plan = plan_of(files);
        let out = dir.path().join("big.zip");
        let w = write_bag_with(&plan, &out, LARGE_FILE_THRESHOLD, &|_, _| {}).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.len() as u64 > 2 * DROP_STEP);
        assert_eq!(w.payload_files, u64::from(n));
        assert_eq!(w.sha256, to_hex(&Sha256::digest(&bytes)));
        let report = crate::bag::verify_zip(&out);
        assert!(report.ok, "{:?}", report.problems);
    }

    /// Whole pages only, past the bytes read again with the local header.
    #[test]
    fn only_whole_pages_past_the_header_read_are_dropped() {
        assert_eq!(droppable(100, 100 + 45_000), (12288, 45056));
        assert_eq!(droppable(0, 8192), (8192, 8192));
        assert_eq!(droppable(5000, 9000), (16384, 16384));
    }

    /// The stored entries' data is hashed as the follower reads the zip back behind the writer,
    /// and the verification takes those digests instead of reading the data again: a digest
    /// falsified there is found as a mismatch against the manifest, and a read-back whose CRC-32
    /// differs from the headers' is not trusted (the entry is read).
    #[test]
    fn stored_entries_are_verified_from_what_the_follower_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let files = photos_on_disk(dir.path(), 40, |i| 1 + i * 331 % 9000, |i| i % 4 == 0);
        let plan = plan_of(files);
        for threshold in [LARGE_FILE_THRESHOLD, 0] {
            let prepared = prepare(&plan).unwrap();
            let out = dir.path().join(format!("t{threshold}.zip"));
            let file = File::create(&out).unwrap();
            let followed = write_zip(file, &out, &prepared, plan.timestamp, threshold, &|_| {})
                .unwrap()
                .expect("followed");
            // Every stored entry (photos, the payload folder's none): 30 of the 40 photos.
            let stored: Vec<&Entry> = prepared
                .entries
                .iter()
                .filter(|e| !e.compress && !matches!(e.source, EntrySource::Directory))
                .collect();
            assert_eq!(stored.len(), 30);
            assert_eq!(followed.read_back.len(), stored.len());
            let mut digests: Vec<String> = followed
                .read_back
                .iter()
                .map(|(_, r)| to_hex(&r.sha256))
                .collect();
            let mut expected: Vec<String> = stored
                .iter()
                .map(|e| e.sha256.as_deref().unwrap_or_default().to_string())
                .collect();
            digests.sort();
            expected.sort();
            assert_eq!(digests, expected);
            let bytes = std::fs::read(&out).unwrap();
            for (at, r) in &followed.read_back {
                let data = &bytes[*at as usize..(*at + r.len) as usize];
                assert_eq!(r.sha256, <[u8; 32]>::from(Sha256::digest(data)));
                assert_eq!(r.crc32, crc32fast::hash(data));
            }
            let ok = verify_detailed(
                &out,
                &|_| {},
                false,
                Some(&followed.read_back),
                Some(&followed.kept),
            );
            assert!(ok.report.ok, "{:?}", ok.report.problems);
            // Every stored entry's local header was kept as the follower read it: the
            // verification reads it from there, and the file's pages could all be dropped.
            let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
            let mut headers = 0;
            for i in 0..zip.len() {
                let e = zip.by_index_raw(i).unwrap();
                if e.compression() == zip::CompressionMethod::Stored && !e.is_dir() {
                    let (h, d) = (e.header_start() as usize, e.data_start().unwrap() as usize);
                    let kept = followed.kept.at(h as u64).expect("header kept");
                    assert_eq!(&kept[..d - h], &bytes[h..d]);
                    headers += 1;
                }
            }
            assert!(headers >= stored.len());
            // And the verification takes them from there: a copy of the file whose first
            // stored entry's local header is damaged verifies with what was kept, and not
            // without it (the header read from the file).
            let (h, _) = followed.read_back[0];
            let mut damaged = bytes.clone();
            let header = (0..h as usize)
                .rev()
                .find(|&i| damaged[i..].starts_with(b"PK\x03\x04"))
                .unwrap();
            damaged[header + 14] ^= 0xff; // the CRC-32 the local header says
            let copy = dir.path().join(format!("damaged{threshold}.zip"));
            std::fs::write(&copy, &damaged).unwrap();
            let from_kept = verify_detailed(
                &copy,
                &|_| {},
                false,
                Some(&followed.read_back),
                Some(&followed.kept),
            );
            assert!(from_kept.report.ok, "{:?}", from_kept.report.problems);
            let from_file = verify_detailed(&copy, &|_| {}, false, Some(&followed.read_back), None);
            assert!(!from_file.report.ok);

            let mut falsified = followed.read_back.clone();
            falsified[3].1.sha256[0] ^= 1;
            let bad = verify_detailed(&out, &|_| {}, false, Some(&falsified), Some(&followed.kept));
            assert_eq!(bad.report.problems.len(), 1, "{:?}", bad.report.problems);
            assert!(bad.report.problems[0].entry.starts_with("bag/data/照片/"));

            let mut other_crc = falsified;
            other_crc[3].1.crc32 ^= 1;
            let read =
                verify_detailed(&out, &|_| {}, false, Some(&other_crc), Some(&followed.kept));
            assert!(read.report.ok, "{:?}", read.report.problems);
        }
    }

    /// Files made for the bag have no planned digest: the manifest gets the digest of their bytes
    /// as they were written, whether read ahead by a reader, streamed (above `HELD_MAX`) or in
    /// memory, and the bag verifies.
    #[test]
    fn files_made_for_the_bag_get_the_digest_of_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let small = b"<html>\xe6\x8a\xa5\xe5\x91\x8a</html>".to_vec();
        let thumb = vec![0xd8u8; 12_000];
        let big: Vec<u8> = (0..HELD_MAX + CHUNK as u64 + 7)
            .map(|b| (b % 241) as u8)
            .collect();
        let mut files = Vec::new();
        for (name, bytes, compress) in [
            ("报告/index.html", &small, true),
            ("报告/thumbs/a.jpg", &thumb, false),
            ("报告/big.mp4", &big, false),
        ] {
            let path = dir.path().join(name.replace('/', "_"));
            std::fs::write(&path, bytes).unwrap();
            files.push(PayloadFile {
                path: name.to_string(),
                source: PayloadSource::File(path),
                size: bytes.len() as u64,
                sha256: None,
                compress,
            });
        }
        files.push(PayloadFile {
            path: "统计/表.csv".to_string(),
            source: PayloadSource::Bytes(b"a,b\r\n".to_vec()),
            size: 5,
            sha256: None,
            compress: true,
        });
        let out = dir.path().join("bag.zip");
        let w = write_bag(&plan_of(files), &out).unwrap();
        assert_eq!(w.payload_files, 4);
        let mut archive = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let mut manifest = String::new();
        archive
            .by_name("bag/manifest-sha256.txt")
            .unwrap()
            .read_to_string(&mut manifest)
            .unwrap();
        let sha = |b: &[u8]| to_hex(&Sha256::digest(b));
        assert_eq!(
            manifest,
            format!(
                "{}  data/报告/big.mp4\n{}  data/报告/index.html\n{}  data/报告/thumbs/a.jpg\n{}  data/统计/表.csv\n",
                sha(&big),
                sha(&small),
                sha(&thumb),
                sha(b"a,b\r\n")
            )
        );
        let report = crate::bag::verify_zip(&out);
        assert!(report.ok, "{:?}", report.problems);
    }

    /// A file read ahead that is longer or shorter than planned, or gone, stops the bag with
    /// the entry and the file named; nothing is left at the final path.
    #[test]
    fn a_file_read_ahead_that_changed_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("obj");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = |size| PayloadFile {
            path: "a.jpg".to_string(),
            source: PayloadSource::File(path.clone()),
            size,
            sha256: Some("0".repeat(64)),
            compress: false,
        };
        let out = dir.path().join("bag.zip");
        for (size, actual) in [(4, 10), (12, 10)] {
            match write_bag(&plan_of(vec![file(size)]), &out) {
                Err(BagError::SizeMismatch {
                    entry,
                    expected,
                    actual: got,
                    ..
                }) => {
                    assert_eq!(entry, "bag/data/a.jpg");
                    assert_eq!((expected, got), (size, actual));
                }
                other => panic!("{size}: {other:?}"),
            }
            assert!(!out.exists());
        }
        std::fs::remove_file(&path).unwrap();
        match write_bag(&plan_of(vec![file(10)]), &out) {
            Err(BagError::ReadSource { source, .. }) => {
                assert_eq!(source.kind(), io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            std::fs::read_dir(dir.path()).unwrap().count() == 0,
            "temp files left"
        );
    }

    #[test]
    fn text_is_deflated_and_media_stored() {
        assert!(compress_by_extension("统计/情况统计表.CSV"));
        assert!(compress_by_extension("报告/index.html"));
        assert!(!compress_by_extension("照片/IMG_0001.JPG"));
        assert!(!compress_by_extension("统计/情况统计表.xlsx"));
        assert!(!compress_by_extension("视频/a.mp4"));
        assert!(!compress_by_extension("无扩展名"));
    }

    #[test]
    fn bag_info_values_stay_on_one_line() {
        let plan = BagPlan {
            bag_name: "bag".to_string(),
            info: crate::bag::BagInfo {
                source_organization: "学院\r\n".to_string(),
                external_description: "第一行\n第二行".to_string(),
                bagging_date: chrono::NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                software_agent: "dangan 0.1.0".to_string(),
                extra: vec![("Contact-Name".to_string(), "教务\t科研处".to_string())],
            },
            files: vec![],
            timestamp: 0,
        };
        let text = bag_info_text(&plan, 12, 3).unwrap();
        assert_eq!(
            text,
            "Source-Organization: 学院\nBagging-Date: 2025-01-02\nPayload-Oxum: 12.3\n\
             Bag-Size: 12 B\nExternal-Description: 第一行 第二行\n\
             Bag-Software-Agent: dangan 0.1.0\nContact-Name: 教务 科研处\n"
        );
    }

    #[test]
    fn hex_matches_the_hex_crate() {
        let d = Sha256::digest(b"dangan");
        assert_eq!(to_hex(&d), hex::encode(d));
    }

    #[test]
    fn bag_size_is_human() {
        assert_eq!(bag_size_label(0), "0 B");
        assert_eq!(bag_size_label(999), "999 B");
        assert_eq!(bag_size_label(1000), "1.0 KB");
        assert_eq!(bag_size_label(1_234_567_890), "1.2 GB");
        assert_eq!(bag_size_label(999_950), "1.0 MB");
        assert_eq!(bag_size_label(u64::MAX), "18.4 EB");
    }

    #[test]
    fn zip_time_is_utc_and_clamped() {
        let t = zip_time(1_746_585_600); // 2025-05-07 02:40:00 UTC
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (2025, 5, 7, 2, 40)
        );
        assert_eq!(zip_time(0), DateTime::default());
        assert_eq!(zip_time(i64::MIN), DateTime::default());
        assert_eq!(zip_time(i64::MAX).year(), 2107);
    }
}
