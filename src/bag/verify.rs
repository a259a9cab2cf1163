//! Checking a bag zip: structure, bagit.txt, both manifests, every entry's CRC-32 and SHA-256,
//! Payload-Oxum, and no payload file missing or extra. Every bad entry is named; the check goes
//! on after the first.
//!
//! Never panics, never returns an error (an unreadable zip is a problem in the report), never
//! extracts anything to disk, and never holds an entry whole in memory (tag files are read
//! under a cap). Entries are hashed on all cores, each worker with its own `File` — or, when the
//! whole zip's SHA-256 is wanted too (the fixity record of a new bag, the comparison with it
//! later), read once in file order while a second thread hashes every byte of the file as the
//! first reads it: one pass over the zip gives both. For a bag just written, the stored entries'
//! data that the writer read back behind itself is not read again: their headers are checked
//! here and the digests it took are compared with the manifest.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zip::ZipArchive;
use zip::read::ZipReadOptions;

use super::names::percent_decode_manifest_path;
use super::{EntryProblem, VerifyReport, to_hex};

const CHUNK: usize = 1 << 20;

/// Tag files are read into memory up to this size; a bigger one is reported, not read.
const TAG_FILE_CAP: u64 = 512 << 20;

const MANIFEST: &str = "manifest-sha256.txt";
const TAGMANIFEST: &str = "tagmanifest-sha256.txt";

/// What the writer's follower read back of one stored entry's data (see `write::Follower`):
/// its length, CRC-32 and SHA-256, by the offset in the file where the data starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ReadBack {
    pub len: u64,
    pub crc32: u32,
    pub sha256: [u8; 32],
}

/// In the order of the file (by offset), each once.
pub(super) type ReadBacks = Vec<(u64, ReadBack)>;

/// The bytes of the file around the stored entries' data (local headers, small deflated
/// entries) as the writer's follower read them back, in runs by offset: what the verification
/// after the fsync reads is then here, and the follower can drop the whole file from the page
/// cache behind it instead of keeping every header's page (which, with the kernel's large
/// folios, kept all of the bag cached). A run longer than [`Kept::RUN_MAX`] (the report's
/// deflated pages, the manifests) is not kept, and nothing more once [`Kept::MAX`] bytes are:
/// those bytes are read from the file. Held in blocks of [`Kept::BLOCK`] bytes, never copied
/// to grow. Every byte here is the file's, read after it was final.
#[derive(Debug, Default)]
pub(super) struct Kept {
    blocks: Vec<Vec<u8>>,
    /// `(offset in the file, block, start in the block, length)`, by offset, not overlapping.
    runs: Vec<(u64, u32, u32, u32)>,
    held: usize,
    /// The end of a run being left out (too long), while it goes on.
    skipping_to: Option<u64>,
    full: bool,
}

impl Kept {
    /// A local header with its name and extra fields is well under this.
    pub(super) const RUN_MAX: usize = 4 << 10;
    pub(super) const MAX: usize = 32 << 20;
    const BLOCK: usize = 1 << 20;

    /// The file's bytes at `at`, the next after those given before.
    pub(super) fn push(&mut self, at: u64, bytes: &[u8]) {
        let end = at + bytes.len() as u64;
        if self.skipping_to == Some(at) {
            self.skipping_to = Some(end);
            return;
        }
        self.skipping_to = None;
        let joins = self
            .runs
            .last()
            .is_some_and(|&(s, _, _, len)| s + u64::from(len) == at);
        let before = if joins {
            self.runs.last().map_or(0, |r| r.3 as usize)
        } else {
            0
        };
        if before + bytes.len() > Self::RUN_MAX {
            if joins && let Some((_, block, start, len)) = self.runs.pop() {
                self.blocks[block as usize].truncate(start as usize);
                self.held -= len as usize;
            }
            self.skipping_to = Some(end);
            return;
        }
        if self.full || self.held + bytes.len() > Self::MAX {
            self.full = true;
            return;
        }
        // The run, with what it joins, where it fits in one block.
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.len() + bytes.len() <= b.capacity());
        if joins
            && !fits
            && let Some(run) = self.runs.last_mut()
        {
            let (block, start, len) = (run.1 as usize, run.2 as usize, run.3 as usize);
            let mut fresh = Vec::with_capacity(Self::BLOCK);
            fresh.extend_from_slice(&self.blocks[block][start..start + len]);
            self.blocks[block].truncate(start);
            self.blocks.push(fresh);
            run.1 = (self.blocks.len() - 1) as u32;
            run.2 = 0;
        } else if !fits {
            self.blocks.push(Vec::with_capacity(Self::BLOCK));
        }
        let block = self.blocks.len() - 1;
        let b = &mut self.blocks[block];
        let start = b.len();
        b.extend_from_slice(bytes);
        self.held += bytes.len();
        match self.runs.last_mut() {
            Some(run) if joins => run.3 += bytes.len() as u32,
            _ => self
                .runs
                .push((at, block as u32, start as u32, bytes.len() as u32)),
        }
    }

    /// Whether bytes were left out for want of room (not for a run's length).
    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    /// The kept bytes from `at` to the end of its run.
    pub(super) fn at(&self, at: u64) -> Option<&[u8]> {
        let i = self
            .runs
            .partition_point(|&(s, ..)| s <= at)
            .checked_sub(1)?;
        let (s, block, start, len) = self.runs[i];
        let skip = usize::try_from(at - s).ok().filter(|&k| k < len as usize)?;
        let (start, len) = (start as usize, len as usize);
        Some(&self.blocks[block as usize][start + skip..start + len])
    }
}

/// What [`verify_detailed`] found besides the report: the top-level folder, and when asked the
/// SHA-256 and length of the whole file.
pub(super) struct Detailed {
    pub report: VerifyReport,
    pub top: Option<String>,
    pub whole: Option<io::Result<(String, u64)>>,
}

/// Checks the BagIt zip at `path` and reports every problem found (see the module docs).
pub fn verify_zip(path: &Path) -> VerifyReport {
    verify_detailed(path, &|_| {}, false, None, None).report
}

/// [`verify_zip`] and the SHA-256 (lower-case hex) and length of the whole file, from the same
/// reading of it.
pub fn verify_zip_with_digest(path: &Path) -> (VerifyReport, io::Result<(String, u64)>) {
    let d = verify_detailed(path, &|_| {}, true, None, None);
    let whole = d
        .whole
        .unwrap_or_else(|| Err(io::Error::other("未计算整个文件的 SHA-256")));
    (d.report, whole)
}

/// [`verify_zip`], calling `progress` with the uncompressed bytes of each chunk read (from
/// several threads at once).
pub fn verify_zip_with_progress(path: &Path, progress: &(dyn Fn(u64) + Sync)) -> VerifyReport {
    verify_detailed(path, progress, false, None, None).report
}

/// One entry of the zip, as the central directory lists it.
struct Listed {
    index: usize,
    name: String,
    is_dir: bool,
    compressed: u64,
    size: u64,
}

/// What reading one entry to its end gave.
enum Outcome {
    Ok { sha256: String, size: u64 },
    Bad(String),
}

struct Problems(Vec<EntryProblem>);

impl Problems {
    fn add(&mut self, entry: impl Into<String>, reason: impl Into<String>) {
        self.0.push(EntryProblem {
            entry: entry.into(),
            reason: reason.into(),
        });
    }
}

/// `read_back`: the stored entries' data as the writer's follower read it back from this very
/// file; an entry found there (same offset, length and CRC-32 as its headers say) has its
/// headers checked but its data not read again. `kept`: the bytes around them as it read them
/// back ([`Kept`]), read from there instead of from the file.
pub(super) fn verify_detailed(
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
    want_whole: bool,
    read_back: Option<&ReadBacks>,
    kept: Option<&Arc<Kept>>,
) -> Detailed {
    let mut p = Problems(Vec::new());
    let zip_name = path.display().to_string();
    let mut whole = None;
    let slot = want_whole.then_some(&mut whole);
    let (top, payload_files, payload_bytes) =
        examine_zip(path, &zip_name, progress, slot, read_back, kept, &mut p);
    if want_whole && whole.is_none() {
        // The entries were not read (a zip cut short, no central directory): the digest alone.
        whole = Some(super::write::zip_sha256(path));
    }
    let mut problems = p.0;
    problems.sort();
    problems.dedup();
    Detailed {
        report: VerifyReport {
            ok: problems.is_empty(),
            problems,
            payload_files,
            payload_bytes,
        },
        top,
        whole,
    }
}

/// The zip file, opened anew by each clone: every worker reads through its own `File` (its own
/// position), while the parsed central directory is shared, not parsed again per worker.
struct OwnFile {
    path: Arc<PathBuf>,
    file: Result<AtFile, io::ErrorKind>,
    kept: Option<Arc<Kept>>,
}

impl Clone for OwnFile {
    fn clone(&self) -> Self {
        OwnFile {
            path: Arc::clone(&self.path),
            file: File::open(self.path.as_path())
                .map(|f| AtFile::new(f, self.kept.clone()))
                .map_err(|e| e.kind()),
            kept: self.kept.clone(),
        }
    }
}

impl OwnFile {
    fn file(&mut self) -> io::Result<&mut AtFile> {
        match &mut self.file {
            Ok(f) => Ok(f),
            Err(kind) => Err(io::Error::new(*kind, "无法再次打开 zip 文件")),
        }
    }
}

impl Read for OwnFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file()?.read(buf)
    }
}

impl Seek for OwnFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file()?.seek(pos)
    }
}

/// A file read at a position kept here (`pread`), through a small buffer for small reads. The
/// zip reader goes to each entry's local header and reads it in three small pieces: through a
/// `File` that was an `lseek` and three `read` calls an entry (40 000 `lseek` calls for a bag
/// of 5 000 photos and their thumbnails), here it is one `pread`. Reads of a buffer's size or
/// more go straight into the caller's buffer. What was read in order leaves the page cache
/// behind the reader ([`DropBehind`]).
struct AtFile {
    file: File,
    pos: u64,
    buf: Vec<u8>,
    /// Where `buf` was read from.
    buf_at: u64,
    behind: DropBehind,
    /// Bytes of this file read before ([`Kept`]): read from here, not from the file.
    kept: Option<Arc<Kept>>,
}

/// What a small read takes at once (a local header and the first bytes of its data).
pub(super) const AT_BUF: usize = 8 << 10;

impl AtFile {
    fn new(file: File, kept: Option<Arc<Kept>>) -> AtFile {
        AtFile {
            file,
            pos: 0,
            buf: Vec::new(),
            buf_at: 0,
            behind: DropBehind::default(),
            kept,
        }
    }

    fn pread(&mut self, out: &mut [u8], at: u64) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let n = self.file.read_at(out, at)?;
        self.behind.read(&self.file, at, n);
        Ok(n)
    }
}

/// A bag is read once, in order: its pages are dropped from the page cache behind the reader
/// ([`crate::store::drop_cached`], once per [`DROP_STEP`] read in order) instead of filling it
/// with the whole zip. Verifying a bag of 40 000 photos (2.3 GB), page cache dropped and its
/// memory returned to the host before each: 2.6–4.6 s with the pages kept, 1.6–2.8 s with them
/// dropped behind. A run is the bytes read one after the other; a read elsewhere starts another.
#[derive(Debug, Default)]
struct DropBehind {
    /// `[from, to)` was read in order and is still cached.
    from: u64,
    to: u64,
}

const DROP_STEP: u64 = 8 << 20;

impl DropBehind {
    fn read(&mut self, file: &File, at: u64, n: usize) {
        if let Some((from, len)) = self.advance(at, n) {
            crate::store::drop_cached(file, from, len);
        }
    }

    /// Notes a read of `n` bytes at `at`; the range to drop now, if any (start, length).
    fn advance(&mut self, at: u64, n: usize) -> Option<(u64, u64)> {
        let end = at + n as u64;
        // The next local header is read again from the small buffer's start: a read a little
        // behind the end, or just past it, goes on with the run.
        if at > self.to || at + (AT_BUF as u64) < self.to {
            (self.from, self.to) = (at, end);
        } else {
            self.to = self.to.max(end);
        }
        // The last buffer's worth stays: the zip reader may go back into it.
        let keep = AT_BUF as u64;
        if self.to - self.from < DROP_STEP + keep {
            return None;
        }
        let upto = self.to - keep;
        let dropped = (self.from, upto - self.from);
        self.from = upto;
        Some(dropped)
    }
}

impl Read for AtFile {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            if let Some(kept) = self.kept.as_deref().and_then(|k| k.at(self.pos)) {
                let n = out.len().min(kept.len());
                out[..n].copy_from_slice(&kept[..n]);
                self.pos += n as u64;
                return Ok(n);
            }
            if out.len() >= AT_BUF {
                let n = self.pread(out, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            let mut buf = std::mem::take(&mut self.buf);
            buf.resize(AT_BUF, 0);
            let read = self.pread(&mut buf, self.pos);
            self.buf = buf;
            let n = match read {
                Ok(n) => n,
                Err(e) => {
                    self.buf.clear();
                    return Err(e);
                }
            };
            self.buf.truncate(n);
            self.buf_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - from);
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for AtFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(t) => Some(t),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "定位到文件开头之前"))?;
        self.pos = to;
        Ok(to)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

type Archive = ZipArchive<OwnFile>;

use crate::human_error::io_reason;

fn open(path: &Path, kept: Option<&Arc<Kept>>) -> Result<Archive, String> {
    let file = File::open(path).map_err(|e| format!("无法打开文件：{}", io_reason(&e)))?;
    let own = OwnFile {
        path: Arc::new(path.to_path_buf()),
        file: Ok(AtFile::new(file, kept.cloned())),
        kept: kept.cloned(),
    };
    ZipArchive::new(own).map_err(|e| format!("不是可读的 zip（可能已被截断或损坏）：{e}"))
}

/// The whole check; returns the top folder and the payload found (files, bytes).
fn examine_zip(
    path: &Path,
    zip_name: &str,
    progress: &(dyn Fn(u64) + Sync),
    whole: Option<&mut Option<io::Result<(String, u64)>>>,
    read_back: Option<&ReadBacks>,
    kept: Option<&Arc<Kept>>,
    p: &mut Problems,
) -> (Option<String>, u64, u64) {
    match framing(path) {
        Ok(problems) => {
            for reason in problems {
                p.add(zip_name, reason);
            }
        }
        Err(reason) => {
            // Not read further: a zip cut short would otherwise be described by the central
            // directory of a workbook stored inside it.
            p.add(zip_name, reason);
            return (None, 0, 0);
        }
    }
    let mut archive = match open(path, kept) {
        Ok(a) => a,
        Err(reason) => {
            p.add(zip_name, reason);
            return (None, 0, 0);
        }
    };
    if archive.has_duplicate_names() {
        p.add(zip_name, "zip 中有重名条目（可能被篡改）");
    }

    // The central directory.
    let mut listed = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_data(index) else {
            p.add(zip_name, format!("第 {index} 个条目无法读取"));
            continue;
        };
        let raw = entry.name_raw();
        let name = match std::str::from_utf8(raw) {
            Ok(s) => s.to_string(),
            Err(_) => {
                let lossy = String::from_utf8_lossy(raw).into_owned();
                p.add(&lossy, "条目名不是 UTF-8");
                lossy
            }
        };
        let is_dir = entry.is_dir();
        if let Some(reason) = unsafe_name_reason(&name) {
            p.add(&name, reason);
        }
        if entry.encrypted() {
            p.add(&name, "条目被加密，无法核验");
        }
        listed.push(Listed {
            index,
            name,
            is_dir,
            compressed: entry.compressed_size(),
            size: entry.size(),
        });
    }

    // One top-level folder, named by the folder holding bagit.txt.
    let bagit_dirs: BTreeSet<&str> = listed
        .iter()
        .filter_map(|l| l.name.strip_suffix("/bagit.txt"))
        .filter(|d| !d.contains('/'))
        .collect();
    let top: String = match bagit_dirs.len() {
        0 => {
            p.add(zip_name, "找不到 <包名>/bagit.txt：不是 BagIt 包");
            let mut count: BTreeMap<&str, usize> = BTreeMap::new();
            for l in &listed {
                *count
                    .entry(l.name.split('/').next().unwrap_or(""))
                    .or_default() += 1;
            }
            match count.into_iter().max_by_key(|(_, n)| *n) {
                Some((t, _)) => t.to_string(),
                None => return (None, 0, 0),
            }
        }
        1 => bagit_dirs.first().copied().unwrap_or_default().to_string(),
        _ => {
            p.add(zip_name, "有多个 bagit.txt：zip 中应只有一个顶层文件夹");
            bagit_dirs.first().copied().unwrap_or_default().to_string()
        }
    };
    let prefix = format!("{top}/");
    for l in &listed {
        if !l.name.starts_with(&prefix) && l.name != prefix {
            p.add(&l.name, format!("不在唯一的顶层文件夹 {prefix} 之内"));
        }
    }
    let data_prefix = format!("{top}/data/");

    // Tag files: read whole (they are small), hashed and CRC-checked on the way.
    let mut digest_of: HashMap<&str, (String, u64)> = HashMap::new();
    let mut tag_read: BTreeSet<String> = BTreeSet::new();
    let mut tag = |archive: &mut Archive, rel: &str, p: &mut Problems| {
        let name = format!("{top}/{rel}");
        let got = read_tag(archive, &name, progress, p);
        tag_read.insert(name);
        got
    };
    let bagit = tag(&mut archive, "bagit.txt", p);
    let manifest = tag(&mut archive, MANIFEST, p);
    let tagmanifest = tag(&mut archive, TAGMANIFEST, p);
    let bag_info = tag(&mut archive, "bag-info.txt", p);
    if let Some((bytes, _)) = &bagit {
        check_bagit_txt(bytes, &format!("{top}/bagit.txt"), p);
    }
    let manifest_lines = manifest
        .as_ref()
        .map(|(b, _)| parse_manifest(b, &format!("{top}/{MANIFEST}"), true, p));
    let tagmanifest_lines = tagmanifest
        .as_ref()
        .map(|(b, _)| parse_manifest(b, &format!("{top}/{TAGMANIFEST}"), false, p));

    // Every other file entry read to its end, on all cores.
    let files: Vec<&Listed> = listed.iter().filter(|l| !l.is_dir).collect();
    let rest: Vec<&Listed> = files
        .iter()
        .copied()
        .filter(|l| !tag_read.contains(&l.name))
        .collect();
    for (rel, got) in [
        ("bagit.txt", &bagit),
        (MANIFEST, &manifest),
        (TAGMANIFEST, &tagmanifest),
        ("bag-info.txt", &bag_info),
    ] {
        let name = format!("{top}/{rel}");
        if let (Some((bytes, sha256)), Some(l)) = (got, files.iter().find(|l| l.name == name)) {
            digest_of.insert(l.name.as_str(), (sha256.clone(), bytes.len() as u64));
        }
    }
    let results = match whole {
        Some(slot) => {
            // The reading in order parses the central directory again: this copy goes first
            // (at 80 000 entries, 25 MB of the archive's peak).
            drop(archive);
            let (results, digest) = read_in_order(path, &rest, progress).unwrap_or_else(|| {
                let results = match open(path, kept) {
                    Ok(archive) => read_all(&archive, &rest, read_back, progress),
                    Err(reason) => {
                        p.add(zip_name, reason);
                        Vec::new()
                    }
                };
                (results, zip_sha256(path))
            });
            *slot = Some(digest);
            results
        }
        None => {
            let results = read_all(&archive, &rest, read_back, progress);
            drop(archive);
            results
        }
    };
    for (l, r) in rest.iter().zip(results) {
        match r {
            Outcome::Ok { sha256, size } => {
                digest_of.insert(l.name.as_str(), (sha256, size));
            }
            Outcome::Bad(reason) => p.add(&l.name, reason),
        }
    }

    // Payload found.
    let payload: Vec<&Listed> = files
        .iter()
        .copied()
        .filter(|l| l.name.starts_with(&data_prefix))
        .collect();
    let payload_files = payload.len() as u64;
    let payload_bytes = payload.iter().fold(0u64, |acc, l| {
        let size = digest_of.get(l.name.as_str()).map_or(l.size, |(_, s)| *s);
        acc.saturating_add(size)
    });

    let file_names: HashSet<&str> = files.iter().map(|l| l.name.as_str()).collect();

    // manifest-sha256.txt against the payload.
    match &manifest_lines {
        None => {}
        Some(lines) => {
            for (rel, expected) in lines {
                let entry = format!("{top}/{rel}");
                compare(&entry, expected, &digest_of, &file_names, MANIFEST, p);
            }
            for l in &payload {
                let rel = &l.name[prefix.len()..];
                if !lines.contains_key(rel) {
                    p.add(
                        &l.name,
                        format!("zip 中有此载荷文件，但 {MANIFEST} 未列出（多余）"),
                    );
                }
            }
        }
    }

    // tagmanifest-sha256.txt against the tag files.
    if let Some(lines) = &tagmanifest_lines {
        for (rel, expected) in lines {
            let entry = format!("{top}/{rel}");
            compare(&entry, expected, &digest_of, &file_names, TAGMANIFEST, p);
        }
        for l in &files {
            let Some(rel) = l.name.strip_prefix(&prefix) else {
                continue;
            };
            if rel.starts_with("data/") || rel == TAGMANIFEST {
                continue;
            }
            if !lines.contains_key(rel) {
                p.add(
                    &l.name,
                    if is_other_tag_manifest(rel) {
                        format!("另一种算法的标签清单，本程序不核验，也未列入 {TAGMANIFEST}")
                    } else {
                        format!("不是 BagIt 1.0 定义的标签文件，也未列入 {TAGMANIFEST}（多余）")
                    },
                );
            }
        }
        for required in ["bagit.txt", "bag-info.txt", MANIFEST] {
            if !lines.contains_key(required) {
                p.add(format!("{top}/{TAGMANIFEST}"), format!("未列出 {required}"));
            }
        }
    }

    // Payload-Oxum.
    if let Some((bytes, _)) = &bag_info {
        check_oxum(
            bytes,
            &format!("{top}/bag-info.txt"),
            payload_bytes,
            payload_files,
            p,
        );
    }

    (Some(top), payload_files, payload_bytes)
}

/// `tagmanifest-<algorithm>.txt` for an algorithm BagIt 1.0 names other than SHA-256.
fn is_other_tag_manifest(rel: &str) -> bool {
    ["md5", "sha1", "sha224", "sha384", "sha512"]
        .iter()
        .any(|a| rel == format!("tagmanifest-{a}.txt"))
}

/// The zip's frame: the first entry at byte 0, the end-of-central-directory record the last
/// bytes of the file, no comment. `Err`: the file is cut short (no end record at the end, nor
/// one followed only by junk), and is not read further.
fn framing(path: &Path) -> Result<Vec<String>, String> {
    use std::io::{Read, Seek};
    const EOCD: &[u8; 4] = b"PK\x05\x06";
    const MAX_TAIL: u64 = 22 + 65_535;
    let mut f = File::open(path).map_err(|e| format!("无法打开文件：{}", io_reason(&e)))?;
    let len = f
        .metadata()
        .map_err(|e| format!("无法读取文件信息：{}", io_reason(&e)))?
        .len();
    if len < 22 {
        return Err(format!("zip 不完整：只有 {len} 字节（文件被截断）"));
    }
    let mut problems = Vec::new();
    let mut head = [0u8; 4];
    f.read_exact(&mut head)
        .map_err(|e| format!("无法读取：{}", io_reason(&e)))?;
    let prepended = &head != b"PK\x03\x04";
    if prepended {
        problems.push("zip 第一个条目之前有多余的字节（文件开头被加了内容）".to_string());
    }
    let tail_len = len.min(MAX_TAIL);
    f.seek(std::io::SeekFrom::Start(len - tail_len))
        .map_err(|e| format!("无法读取：{}", io_reason(&e)))?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail)
        .map_err(|e| format!("无法读取：{}", io_reason(&e)))?;
    // End records in the tail, last first: (position in tail, comment length).
    let records: Vec<(usize, usize)> = (0..tail.len().saturating_sub(21))
        .rev()
        .filter(|&i| &tail[i..i + 4] == EOCD)
        .map(|i| (i, u16::from_le_bytes([tail[i + 20], tail[i + 21]]) as usize))
        .collect();
    let end = tail.len();
    match records.first() {
        Some(&(i, 0)) if i + 22 == end => {}
        _ => {
            if let Some(&(_, c)) = records.iter().find(|(i, c)| i + 22 + c == end && *c > 0) {
                problems.push(format!("zip 带有注释（{c} 字节）：年度档案不带注释"));
            } else if let Some(&(i, _)) = records
                .iter()
                .find(|&&(i, c)| c == 0 && is_outer_end(&tail, i, len - tail_len, prepended))
            {
                problems.push(format!(
                    "zip 结尾之后还有 {} 字节多余的数据",
                    end - (i + 22)
                ));
            } else {
                return Err("zip 不完整：结尾的中央目录不在文件末尾（文件被截断）".to_string());
            }
        }
    }
    Ok(problems)
}

/// Whether the end record at `i` of `tail` (which starts at byte `tail_start` of the file) is
/// the zip's own, not that of a workbook stored inside it: its central directory ends where the
/// record starts (anywhere before it when bytes were prepended), or a zip64 locator precedes it.
fn is_outer_end(tail: &[u8], i: usize, tail_start: u64, prepended: bool) -> bool {
    let u32_at = |k: usize| u32::from_le_bytes([tail[k], tail[k + 1], tail[k + 2], tail[k + 3]]);
    if i >= 20 && &tail[i - 20..i - 16] == b"PK\x06\x07" {
        return true;
    }
    let cd_end = u64::from(u32_at(i + 16)) + u64::from(u32_at(i + 12));
    let at = tail_start + i as u64;
    if prepended {
        cd_end <= at
    } else {
        cd_end == at
    }
}

/// Why an entry name is unsafe to unpack, if it is.
fn unsafe_name_reason(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if b.first() == Some(&b'/') || b.iter().any(|&c| c == b'\\' || c == b':') {
        return Some("条目名不安全：绝对路径、反斜杠或盘符");
    }
    // C0 and DEL are single bytes; C1 (U+0080..U+009F) is encoded C2 80..C2 9F.
    let c1 = b
        .windows(2)
        .any(|w| w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]));
    if c1 || b.iter().any(|&c| c < 0x20 || c == 0x7F) {
        return Some("条目名含控制字符");
    }
    let trimmed = name.strip_suffix('/').unwrap_or(name);
    if trimmed
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Some("条目名含空的、“.” 或 “..” 路径段");
    }
    None
}

/// Reads a tag file whole (under a cap) with its SHA-256, reporting it missing, too big or
/// corrupt (the CRC is checked on reaching its end).
fn read_tag(
    archive: &mut Archive,
    name: &str,
    progress: &(dyn Fn(u64) + Sync),
    p: &mut Problems,
) -> Option<(Vec<u8>, String)> {
    let Some(index) = archive.index_for_name(name) else {
        p.add(name, "缺少此标签文件");
        return None;
    };
    let size = archive.by_index_data(index).map(|e| e.size()).unwrap_or(0);
    if size > TAG_FILE_CAP {
        p.add(name, format!("标签文件过大（{size} 字节），未读取"));
        return None;
    }
    let mut bytes = Vec::new();
    let outcome = read_entry(archive, index, &mut |chunk| {
        bytes.extend_from_slice(chunk);
        progress(chunk.len() as u64);
    });
    match outcome {
        Outcome::Ok { sha256, .. } => Some((bytes, sha256)),
        Outcome::Bad(reason) => {
            p.add(name, reason);
            None
        }
    }
}

fn check_bagit_txt(bytes: &[u8], entry: &str, p: &mut Problems) {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        p.add(entry, "bagit.txt 不得以字节顺序标记（BOM）开头");
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        p.add(entry, "bagit.txt 不是 UTF-8");
        return;
    };
    let lines: Vec<&str> = text
        .trim_start_matches('\u{FEFF}')
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .collect();
    let version_ok = matches!(
        lines.first().map(|l| l.trim()),
        Some("BagIt-Version: 1.0") | Some("BagIt-Version: 0.97")
    );
    let encoding_ok = lines
        .get(1)
        .and_then(|l| l.trim().strip_prefix("Tag-File-Character-Encoding:"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("UTF-8"));
    if !version_ok || !encoding_ok || lines.len() != 2 {
        p.add(
            entry,
            "bagit.txt 内容不对：应为 “BagIt-Version: 1.0” 与 “Tag-File-Character-Encoding: UTF-8” 两行",
        );
    }
}

/// `path → lower-case digest` from a manifest; bad lines are reported.
fn parse_manifest(
    bytes: &[u8],
    entry: &str,
    payload: bool,
    p: &mut Problems,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            p.add(entry, "清单不是 UTF-8");
            return out;
        }
    };
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let lineno = n + 1;
        let Some(gap) = line.bytes().position(|c| c == b' ' || c == b'\t') else {
            p.add(entry, format!("第 {lineno} 行格式不对：应为“摘要  路径”"));
            continue;
        };
        let (digest, rest) = line.split_at(gap);
        let rel = percent_decode_manifest_path(rest.trim_start_matches([' ', '\t']));
        let digest = digest.to_ascii_lowercase();
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            p.add(
                entry,
                format!("第 {lineno} 行的 SHA-256 不是 64 位十六进制"),
            );
            continue;
        }
        if unsafe_name_reason(&rel).is_some() || rel.is_empty() {
            p.add(entry, format!("第 {lineno} 行的路径不安全：{rel}"));
            continue;
        }
        if payload && !rel.starts_with("data/") {
            p.add(entry, format!("第 {lineno} 行的路径不在 data/ 之下：{rel}"));
            continue;
        }
        if out.insert(rel.clone(), digest).is_some() {
            p.add(entry, format!("第 {lineno} 行重复列出 {rel}"));
        }
    }
    out
}

/// Compares one manifest line with what reading its entry gave.
fn compare(
    entry: &str,
    expected: &str,
    digest_of: &HashMap<&str, (String, u64)>,
    file_names: &HashSet<&str>,
    manifest: &str,
    p: &mut Problems,
) {
    match digest_of.get(entry) {
        Some((actual, _)) if actual == expected => {}
        Some((actual, _)) => p.add(
            entry,
            format!("SHA-256 与 {manifest} 不符：清单为 {expected}，实际为 {actual}"),
        ),
        None => {
            // Listed but unreadable entries are already reported; absent ones are missing.
            if !file_names.contains(entry) {
                p.add(
                    entry,
                    format!("{manifest} 列出了此文件，但 zip 中没有（缺失）"),
                );
            }
        }
    }
}

fn check_oxum(bytes: &[u8], entry: &str, found_bytes: u64, found_files: u64, p: &mut Problems) {
    let text = String::from_utf8_lossy(bytes);
    let value = text.lines().find_map(|l| {
        let (label, value) = l.split_once(':')?;
        (label.trim() == "Payload-Oxum").then(|| value.trim().to_string())
    });
    let Some(value) = value else {
        p.add(entry, "缺少 Payload-Oxum");
        return;
    };
    let parsed = value
        .split_once('.')
        .and_then(|(b, n)| Some((b.parse::<u64>().ok()?, n.parse::<u64>().ok()?)));
    match parsed {
        None => p.add(entry, format!("Payload-Oxum “{value}” 格式不对")),
        Some((b, n)) if b != found_bytes || n != found_files => p.add(
            entry,
            format!(
                "Payload-Oxum 为 {b} 字节 {n} 个文件，zip 中实为 {found_bytes} 字节 {found_files} 个文件"
            ),
        ),
        Some(_) => {}
    }
}

/// Reads every listed file entry to its end on all cores: contiguous chunks of about equal
/// compressed size, each read through its own clone of the archive (its own `File`).
fn read_all(
    archive: &Archive,
    files: &[&Listed],
    read_back: Option<&ReadBacks>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Outcome> {
    if files.is_empty() {
        return Vec::new();
    }
    let workers = rayon::current_num_threads().max(1) * 2;
    let total: u64 = files.iter().map(|l| l.compressed.max(1)).sum();
    let target = total.div_ceil(workers as u64).max(1);
    let mut chunks: Vec<&[&Listed]> = Vec::new();
    let mut start = 0;
    let mut acc = 0u64;
    for (i, l) in files.iter().enumerate() {
        acc += l.compressed.max(1);
        if acc >= target {
            chunks.push(&files[start..=i]);
            start = i + 1;
            acc = 0;
        }
    }
    if start < files.len() {
        chunks.push(&files[start..]);
    }
    chunks
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut own = archive.clone();
            chunk
                .iter()
                .map(|l| {
                    read_back
                        .and_then(|known| read_back_outcome(&mut own, l.index, known, progress))
                        .unwrap_or_else(|| {
                            read_entry(&mut own, l.index, &mut |c| progress(c.len() as u64))
                        })
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Reads one entry to its end in chunks, handing each chunk to `sink`: SHA-256 and length, or
/// why it could not be read (CRC-32 mismatch, corrupt data, a local header that disagrees
/// with the central directory).
/// The zip file read through one `File`, every byte of it handed once and in order to a hasher
/// on another thread: bytes skipped by a seek forward (headers, folders, the tag files already
/// read) are read for the hasher alone, bytes read again after a seek back are not handed twice,
/// and [`Tee::finish`] hands what follows the last read (the central directory).
struct Tee {
    file: AtFile,
    /// For the skipped bytes, so that `file`'s position stays the zip reader's.
    gaps: File,
    pos: u64,
    /// Bytes `[0, hashed)` went to the hasher.
    hashed: u64,
    len: u64,
    active: Arc<std::sync::atomic::AtomicBool>,
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl Tee {
    fn active(&self) -> bool {
        self.active.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hands `[self.hashed, to)` to the hasher, read through `gaps`.
    fn fill(&mut self, to: u64) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        // Most gaps are one folder entry's header: no MiB buffer zeroed for each.
        let gap = usize::try_from(to.saturating_sub(self.hashed)).unwrap_or(CHUNK);
        let mut buf = vec![0u8; gap.min(CHUNK)];
        while self.hashed < to {
            let want = usize::try_from((to - self.hashed).min(CHUNK as u64)).unwrap_or(CHUNK);
            let n = self.gaps.read_at(&mut buf[..want], self.hashed)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "zip 文件变短了",
                ));
            }
            self.send(buf[..n].to_vec())?;
            self.hashed += n as u64;
        }
        Ok(())
    }

    fn send(&self, bytes: Vec<u8>) -> io::Result<()> {
        self.tx
            .send(bytes)
            .map_err(|_| io::Error::other("计算整个文件 SHA-256 的线程已退出"))
    }

    /// Hands the rest of the file; then every byte went to the hasher exactly once.
    fn finish(mut self) -> io::Result<()> {
        let len = self.len;
        self.fill(len)
    }
}

impl Read for Tee {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        if self.active() && end > self.hashed {
            if start > self.hashed {
                self.fill(start)?;
            }
            let from = usize::try_from(self.hashed - start).unwrap_or(0);
            self.send(buf[from..n].to_vec())?;
            self.hashed = end;
        }
        self.pos = end;
        Ok(n)
    }
}

impl Seek for Tee {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.pos = self.file.seek(pos)?;
        Ok(self.pos)
    }
}

/// The SHA-256 (lower-case hex) and length of a whole file, or why it could not be read.
type WholeDigest = io::Result<(String, u64)>;

/// Reads `files` (in the order of the zip) through one [`Tee`], and the whole file's digest
/// from the same reading. `None`: the zip could not be opened that way (the caller falls back).
fn read_in_order(
    path: &Path,
    files: &[&Listed],
    progress: &(dyn Fn(u64) + Sync),
) -> Option<(Vec<Outcome>, WholeDigest)> {
    let file = File::open(path).ok()?;
    let gaps = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(32);
    let active = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tee = Tee {
        file: AtFile::new(file, None),
        gaps,
        pos: 0,
        hashed: 0,
        len,
        active: Arc::clone(&active),
        tx,
    };
    std::thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut h = Sha256::new();
            let mut n = 0u64;
            for chunk in rx {
                n += chunk.len() as u64;
                h.update(&chunk);
            }
            (to_hex(&h.finalize()), n)
        });
        // The central directory is parsed before hashing starts (it is read at the end).
        let mut archive = ZipArchive::new(tee).ok()?;
        active.store(true, std::sync::atomic::Ordering::Relaxed);
        // In the central directory's order, which is the file's for a zip dangan wrote; any
        // other order still gives the right digest (at worst reading some bytes twice).
        let results: Vec<Outcome> = files
            .iter()
            .map(|l| read_entry(&mut archive, l.index, &mut |c| progress(c.len() as u64)))
            .collect();
        let tee = archive.into_inner();
        let finished = tee.finish();
        let digest = hasher
            .join()
            .map_err(|_| io::Error::other("SHA-256 线程异常"));
        let whole = match (finished, digest) {
            (Ok(()), Ok((sha, n))) if n == len => Ok((sha, n)),
            (Ok(()), Ok((_, n))) => Err(io::Error::other(format!(
                "整个文件读到 {n} 字节，应为 {len} 字节"
            ))),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        Some((results, whole))
    })
}

fn zip_sha256(path: &Path) -> io::Result<(String, u64)> {
    super::write::zip_sha256(path)
}

/// The outcome of an entry whose data the writer's follower read back from this file, its
/// local header read and checked against the central directory here; `None` (the entry is
/// read) when it is compressed, was not read back, or was read back with another length or
/// CRC-32 than its headers say.
fn read_back_outcome<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    read_back: &ReadBacks,
    progress: &(dyn Fn(u64) + Sync),
) -> Option<Outcome> {
    if archive.has_duplicate_names() {
        return None;
    }
    let options = ZipReadOptions::new().enforce_header_consistency(true);
    let entry = archive.by_index_with_options(index, options).ok()?;
    if entry.compression() != zip::CompressionMethod::Stored {
        return None;
    }
    let start = entry.data_start()?;
    let got = &read_back
        .get(read_back.binary_search_by_key(&start, |(at, _)| *at).ok()?)?
        .1;
    let same =
        got.len == entry.size() && got.len == entry.compressed_size() && got.crc32 == entry.crc32();
    same.then(|| {
        progress(got.len);
        Outcome::Ok {
            sha256: to_hex(&got.sha256),
            size: got.len,
        }
    })
}

fn read_entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    index: usize,
    sink: &mut dyn FnMut(&[u8]),
) -> Outcome {
    let consistent = !archive.has_duplicate_names();
    let options = ZipReadOptions::new().enforce_header_consistency(consistent);
    let mut entry = match archive.by_index_with_options(index, options) {
        Ok(e) => e,
        Err(e) => return Outcome::Bad(format!("无法读取条目（头部损坏或不一致）：{e}")),
    };
    let declared = entry.size();
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(declared).unwrap_or(CHUNK).max(4096))];
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        match entry.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                size += n as u64;
                hasher.update(&buf[..n]);
                sink(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.to_string().contains("Invalid checksum") => {
                return Outcome::Bad("CRC-32 校验失败：内容已损坏".to_string());
            }
            Err(e) => return Outcome::Bad(format!("读取失败（数据损坏或被截断）：{e}")),
        }
    }
    if size != declared {
        return Outcome::Bad(format!(
            "读出 {size} 字节，与 zip 目录记录的 {declared} 字节不符"
        ));
    }
    Outcome::Ok {
        sha256: to_hex(&hasher.finalize()),
        size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs given in pieces join, a run longer than `RUN_MAX` is left out whole (also when it
    /// grows past it piece by piece), a run that does not fit in its block moves to the next,
    /// and only kept bytes are found.
    #[test]
    fn kept_bytes_are_found_by_offset() {
        let mut k = Kept::default();
        let bytes: Vec<u8> = (0..3 * Kept::BLOCK).map(|i| (i % 251) as u8).collect();
        let piece = |at: usize, n: usize| &bytes[at..at + n];
        k.push(100, piece(100, 30));
        k.push(130, piece(130, 70));
        k.push(1000, piece(1000, Kept::RUN_MAX + 1));
        k.push(5000, piece(5000, Kept::RUN_MAX - 10));
        k.push(
            5000 + Kept::RUN_MAX as u64 - 10,
            piece(5000 + Kept::RUN_MAX - 10, 20),
        );
        k.push(
            5000 + Kept::RUN_MAX as u64 + 10,
            piece(5000 + Kept::RUN_MAX + 10, 5),
        );
        assert_eq!(k.at(100), Some(piece(100, 100)));
        assert_eq!(k.at(150), Some(piece(150, 50)));
        assert_eq!(k.at(200), None);
        assert_eq!(k.at(99), None);
        assert_eq!(k.at(1000), None);
        assert_eq!(k.at(5000), None);
        assert_eq!(k.at(5000 + Kept::RUN_MAX as u64 + 10), None);
        // Runs of 4 KiB fill the first block; the one across its end moves to a second.
        let mut at = 2 * Kept::BLOCK as u64;
        let mut runs = Vec::new();
        while k.blocks.len() < 2 {
            let n = 3000;
            let a = at as usize - Kept::BLOCK;
            k.push(at, piece(a, 1000));
            k.push(at + 1000, piece(a + 1000, n - 1000));
            runs.push((at, a, n));
            at += n as u64 + 1;
        }
        for (at, a, n) in runs {
            assert_eq!(k.at(at), Some(piece(a, n)), "{at}");
        }
        assert!(!k.is_full());
    }

    /// Reads in order are dropped behind in steps, the last buffer's worth kept; a read just
    /// behind the end goes on with the run, one elsewhere starts a new run.
    #[test]
    fn pages_are_dropped_behind_reads_in_order() {
        let mut d = DropBehind::default();
        let step = DROP_STEP as usize;
        let keep = AT_BUF as u64;
        assert_eq!(d.advance(0, step), None);
        // The local header read again from the buffer's start: the same run.
        assert_eq!(
            d.advance(DROP_STEP - 100, 100 + AT_BUF),
            Some((0, DROP_STEP))
        );
        assert_eq!(d.advance(DROP_STEP + keep, 1), None);
        // Far ahead (the central directory), then back to the start: new runs, nothing dropped.
        assert_eq!(d.advance(10 * DROP_STEP, step), None);
        assert_eq!(d.advance(0, 4096), None);
        assert_eq!(d.advance(4096, step + AT_BUF), Some((0, DROP_STEP + 4096)));
    }

    /// Small reads through the buffer, big ones past it, seeks back into the buffer and beyond
    /// the end: the bytes a plain `File` gives.
    #[test]
    fn at_file_reads_what_a_file_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bin");
        let bytes: Vec<u8> = (0..3 * AT_BUF + 517).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let mut at = AtFile::new(File::open(&path).unwrap(), None);
        let mut plain = File::open(&path).unwrap();
        let steps: [(SeekFrom, usize); 9] = [
            (SeekFrom::Start(0), 30),
            (SeekFrom::Current(0), 4),
            (SeekFrom::Current(-10), 100),
            (SeekFrom::Start(AT_BUF as u64 - 3), 2 * AT_BUF),
            (SeekFrom::Start(5), AT_BUF),
            (SeekFrom::End(-20), 64),
            (SeekFrom::End(0), 8),
            (SeekFrom::End(40), 8),
            (SeekFrom::Start(2 * AT_BUF as u64), 1),
        ];
        for (seek, len) in steps {
            assert_eq!(at.seek(seek).unwrap(), plain.seek(seek).unwrap());
            assert_eq!(
                at.stream_position().unwrap(),
                plain.stream_position().unwrap()
            );
            let (mut a, mut p) = (Vec::new(), Vec::new());
            (&mut at).take(len as u64).read_to_end(&mut a).unwrap();
            (&mut plain).take(len as u64).read_to_end(&mut p).unwrap();
            assert_eq!(a, p, "{seek:?} {len}");
        }
        assert!(at.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
