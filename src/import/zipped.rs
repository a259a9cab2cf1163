//! The members of a zip a department dropped, each read into the store as a file of its own:
//! its name decoded (the UTF-8 flag, else the Info-ZIP Unicode Path extra field, else a name
//! that is valid UTF-8, else GB18030 when it decodes cleanly, else the bytes), made safe (an
//! absolute or climbing component becomes `_`), inflated once while it is hashed and copied.
//!
//! Limits are enforced on what is actually inflated, never on what the headers claim: at most
//! [`Limits::max_members`] members, [`Limits::max_total`] bytes in all, a ratio of
//! [`Limits::max_ratio`] per member (past [`Limits::ratio_floor`]), and one zip inside a zip.
//! At a limit the remaining members are not read (those read stay) and the zip carries the
//! reason. An encrypted member, or one compressed by a method this build cannot inflate, is
//! stored as its raw bytes with the reason. Never writes outside the store, never panics on a
//! hostile zip.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::sync::Arc;

use rayon::prelude::*;
use std::os::unix::fs::FileExt;
use std::path::Path;

use chrono::FixedOffset;

use crate::model::{Format, NameEncoding};
use crate::store::{Store, StoreError, Stored};

/// What a zip may cost, checked while inflating.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_members: usize,
    pub max_total: u64,
    pub max_ratio: u64,
    /// A member may always inflate this far whatever its ratio (a small text of spaces).
    pub ratio_floor: u64,
    /// Zips inside the zip that are opened: 1 opens a zip in a zip, not a zip in that.
    pub max_depth: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_members: 10_000,
            max_total: 4 << 30,
            max_ratio: 100,
            ratio_floor: 1 << 20,
            max_depth: 1,
        }
    }
}

/// One member read into the store.
#[derive(Debug)]
pub struct Member {
    /// Relative to the zip, `/`-separated, safe; a member of a zip inside the zip is under that
    /// zip's own path (`内层.zip/IMG_1.jpg`).
    pub path: Vec<u8>,
    /// The name as the zip's header has it.
    pub raw_name: Vec<u8>,
    pub encoding: NameEncoding,
    /// The member (a zip inside the zip) whose member this is; `None`: the zip itself.
    pub container: Option<usize>,
    /// Its modification time in the zip (Unix nanoseconds).
    pub mtime_ns: i64,
    pub stored: Stored,
    /// Stored as its raw (encrypted or not inflatable) bytes: no format can be read from it.
    pub opaque: bool,
    /// Why something about it could not be used, in Chinese.
    pub problems: Vec<String>,
}

/// What opening a zip gave.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub members: Vec<Member>,
    /// The zip's own problems: a limit reached, members that could not be read.
    pub problems: Vec<String>,
}

/// What [`Budget::admit`] says of a member.
pub(super) enum Admit {
    /// Read it, at this path (under the archive's own).
    Read(Vec<u8>),
    /// Junk, or a second member of the same name (said in the problems): not read.
    Skip,
    /// The member count is reached (said): neither it nor any later one is read.
    Stop,
}

impl Budget {
    /// Whether the member at `rel` (safe, relative to the archive at `prefix`) is read: junk
    /// and a second member of one name are skipped, and past the member count nothing is.
    pub(super) fn admit(
        &mut self,
        prefix: &[u8],
        rel: &[u8],
        limits: &Limits,
        out: &mut Unpacked,
    ) -> Admit {
        if is_junk(rel) {
            return Admit::Skip;
        }
        let mut path = prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(rel);
        if !self.seen.insert(path.clone()) {
            out.problems.push(format!(
                "压缩包中有两个成员都叫“{}”，只导入了第一个",
                show(&path)
            ));
            return Admit::Skip;
        }
        if self.members_left == 0 {
            out.problems.push(format!(
                "压缩包的成员超过 {} 个的上限，其余成员未读取；已读取的成员保留",
                limits.max_members
            ));
            self.stopped = true;
            return Admit::Stop;
        }
        self.members_left -= 1;
        Admit::Read(path)
    }
}

pub(super) struct Budget {
    pub(super) members_left: usize,
    pub(super) bytes_left: u64,
    pub(super) stopped: bool,
    /// Member paths read so far (the first of two of the same name is kept).
    pub(super) seen: HashSet<Vec<u8>>,
}

/// Reads every member of the zip (or 7z) open as `file` into `store`. It is read at explicit
/// offsets, so the caller may read the same descriptor at the same time (the import copies the
/// zip itself into the store while its members are inflated). `fallback_mtime_ns`: the zip's
/// own modification time, for members without one; `offset`: the local time of DOS times.
pub fn unpack(
    file: &File,
    store: &Store,
    fallback_mtime_ns: i64,
    offset: FixedOffset,
    limits: &Limits,
) -> Unpacked {
    let mut out = Unpacked::default();
    let mut budget = Budget {
        members_left: limits.max_members,
        bytes_left: limits.max_total,
        stopped: false,
        seen: HashSet::new(),
    };
    let ctx = Ctx {
        store,
        fallback_mtime_ns,
        offset,
        limits,
    };
    let at = file
        .try_clone()
        .and_then(|f| At::new(Arc::new(f)))
        .map_err(|e| format!("压缩包无法打开（{e}），成员未导入"));
    let read = at.and_then(|at| unpack_any(&ctx, at, &[], None, 0, &mut budget, &mut out));
    if let Err(why) = read {
        out.problems.push(why);
    }
    out
}

/// Whether the file open as `file`, named `file_name`, is an archive whose members are read:
/// a 7z, or a zip that is no Office or OpenDocument file. Reads its head and, for a zip, its
/// central directory.
pub fn is_archive_file(file: &File, file_name: &str, path: &Path) -> bool {
    // The first bytes alone first: a photo (nearly every file) is not read further here.
    let mut magic = [0u8; 6];
    if file.read_exact_at(&mut magic, 0).is_err()
        || !(magic == super::sevenz::MAGIC
            || magic.starts_with(b"PK\x03\x04")
            || magic.starts_with(b"PK\x05\x06"))
    {
        return false;
    }
    let mut head = vec![0u8; 64 << 10];
    let mut n = 0;
    while n < head.len() {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    head.truncate(n);
    if head.starts_with(&super::sevenz::MAGIC) {
        return true;
    }
    if !head.starts_with(b"PK\x03\x04") && !head.starts_with(b"PK\x05\x06") {
        return false;
    }
    crate::detect::detect(&head, file_name, path).format == Format::Zip
}

pub(super) struct Ctx<'a> {
    pub(super) store: &'a Store,
    pub(super) fallback_mtime_ns: i64,
    pub(super) offset: FixedOffset,
    pub(super) limits: &'a Limits,
}

/// Reads the archive open as `file` (a zip or a 7z, by its first bytes) into `out`.
pub(super) fn unpack_any(
    ctx: &Ctx,
    file: At,
    prefix: &[u8],
    container: Option<usize>,
    depth: u32,
    budget: &mut Budget,
    out: &mut Unpacked,
) -> Result<(), String> {
    let mut magic = [0u8; 6];
    let is_7z = file.file.read_exact_at(&mut magic, 0).is_ok() && magic == super::sevenz::MAGIC;
    if is_7z {
        super::sevenz::unpack_into(ctx, file, prefix, container, depth, budget, out)
    } else {
        unpack_into(ctx, file, prefix, container, depth, budget, out)
    }
}

/// An inner archive, stored a moment ago, opened to be read in turn.
pub(super) fn unpack_stored(
    ctx: &Ctx,
    object: &Path,
    prefix: &[u8],
    container: Option<usize>,
    depth: u32,
    budget: &mut Budget,
    out: &mut Unpacked,
) -> Result<(), String> {
    let at = File::open(object)
        .and_then(|f| At::new(Arc::new(f)))
        .map_err(|e| format!("压缩包无法打开（{e}），成员未导入"))?;
    unpack_any(ctx, at, prefix, container, depth, budget, out)
}

/// The parts of a central directory header the zip crate does not give as they were written.
struct Central {
    flags: u16,
    name: Vec<u8>,
    unicode_path: Option<Vec<u8>>,
    unix_mtime: Option<u32>,
}

fn central_header(file: &File, at: u64) -> Option<Central> {
    let mut fixed = [0u8; 46];
    file.read_exact_at(&mut fixed, at).ok()?;
    if fixed[0..4] != [0x50, 0x4B, 0x01, 0x02] {
        return None;
    }
    let u16_at = |i: usize| u16::from_le_bytes([fixed[i], fixed[i + 1]]);
    let flags = u16_at(8);
    let name_len = usize::from(u16_at(28));
    let extra_len = usize::from(u16_at(30));
    let mut var = vec![0u8; name_len + extra_len];
    file.read_exact_at(&mut var, at + 46).ok()?;
    let (name, mut extra) = var.split_at(name_len);
    let mut unicode_path = None;
    let mut unix_mtime = None;
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = usize::from(u16::from_le_bytes([extra[2], extra[3]]));
        let Some(body) = extra.get(4..4 + len) else {
            break;
        };
        match id {
            // Info-ZIP Unicode Path: version 1, CRC-32 of the header's name, UTF-8 name.
            0x7075 if body.len() > 5 && body[0] == 1 => {
                let crc = u32::from_le_bytes([body[1], body[2], body[3], body[4]]);
                if crc == crc32(name) {
                    unicode_path = Some(body[5..].to_vec());
                }
            }
            // Extended timestamp: flags, then the modification time when bit 0 is set.
            0x5455 if body.len() >= 5 && body[0] & 1 == 1 => {
                unix_mtime = Some(u32::from_le_bytes([body[1], body[2], body[3], body[4]]));
            }
            _ => {}
        }
        extra = &extra[4 + len..];
    }
    Some(Central {
        flags,
        name: name.to_vec(),
        unicode_path,
        unix_mtime,
    })
}

/// CRC-32 (IEEE), for the Unicode Path field's check of the name it replaces.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What a member's password means for the office, in Chinese.
const ENCRYPTED_MEMBER: &str =
    "压缩包成员设置了密码（已加密），按原样保存，无法读取内容；请部门提供未加密的文件";

/// One member as the zip's central directory describes it: what the import and the dry run
/// both read of it before any byte is inflated.
struct Entry {
    raw_name: Vec<u8>,
    decoded: Vec<u8>,
    encoding: NameEncoding,
    /// The safe relative path, and whether making it safe replaced anything.
    rel: Vec<u8>,
    replaced: bool,
    mtime_ns: i64,
    encrypted: bool,
    method: zip::CompressionMethod,
    compressed: u64,
    declared: u64,
}

impl Entry {
    /// Stored as its raw bytes: encrypted, or compressed by a method this build cannot inflate.
    fn opaque(&self) -> bool {
        self.encrypted
            || !matches!(
                self.method,
                zip::CompressionMethod::Stored | zip::CompressionMethod::Deflated
            )
    }

    /// What its name gave to say, in Chinese.
    fn name_problems(&self) -> Vec<String> {
        if !self.replaced {
            return Vec::new();
        }
        vec![format!(
            "压缩包内的名称“{}”是绝对路径或含“..”（会越出压缩包），已改为“{}”",
            show(&self.decoded),
            show(&self.rel)
        )]
    }
}

/// What the central directory gave for one index.
enum Listed {
    Entry(Entry),
    /// A folder entry, or a name with nothing left once made safe.
    Skip,
    Unreadable,
}

/// Member `i` of `archive` as its central directory (read again at `headers`, for what the zip
/// crate does not give as written) describes it; DOS times are local wall clock at `offset`.
fn list_entry<R: Read + io::Seek>(
    archive: &zip::ZipArchive<R>,
    i: usize,
    headers: &File,
    offset: FixedOffset,
    fallback_mtime_ns: i64,
) -> Listed {
    let Ok(entry) = archive.by_index_data(i) else {
        return Listed::Unreadable;
    };
    if entry.is_dir() {
        return Listed::Skip;
    }
    let central = central_header(headers, entry.central_header_start());
    let (raw_name, decoded, encoding, unix_mtime) = member_name(central.as_ref(), entry.name_raw());
    let Some((rel, replaced)) = safe_path(&decoded, encoding) else {
        return Listed::Skip;
    };
    Listed::Entry(Entry {
        mtime_ns: unix_mtime
            .map(|t| i64::from(t) * 1_000_000_000)
            .or_else(|| dos_time_ns(entry.last_modified(), offset))
            .unwrap_or(fallback_mtime_ns),
        encrypted: entry.encrypted() || central.as_ref().is_some_and(|c| c.flags & 0x0001 != 0),
        method: entry.compression(),
        compressed: entry.compressed_size(),
        declared: entry.size(),
        raw_name,
        decoded,
        encoding,
        rel,
        replaced,
    })
}

/// A member's name as its central header has it (else as the zip crate read it), decoded, and
/// its Unix time from the extended timestamp when there is one.
fn member_name(
    central: Option<&Central>,
    fallback: &[u8],
) -> (Vec<u8>, Vec<u8>, NameEncoding, Option<u32>) {
    let (raw_name, utf8_flag, unicode_path, unix_mtime) = match central {
        Some(c) => (
            c.name.clone(),
            c.flags & 0x0800 != 0,
            c.unicode_path.clone(),
            c.unix_mtime,
        ),
        None => (fallback.to_vec(), false, None, None),
    };
    let (decoded, encoding) = decode_name(&raw_name, utf8_flag, unicode_path.as_deref());
    (raw_name, decoded, encoding, unix_mtime)
}

/// A member's name as text: the UTF-8 flag, else the Unicode Path field, else valid UTF-8
/// (macOS writes UTF-8 without the flag), else GB18030 when it decodes cleanly (Windows'
/// built-in zip), else the bytes as they are.
pub fn decode_name(
    raw: &[u8],
    utf8_flag: bool,
    unicode_path: Option<&[u8]>,
) -> (Vec<u8>, NameEncoding) {
    if utf8_flag && std::str::from_utf8(raw).is_ok() {
        return (raw.to_vec(), NameEncoding::Utf8);
    }
    if let Some(u) = unicode_path.filter(|u| std::str::from_utf8(u).is_ok() && !u.is_empty()) {
        return (u.to_vec(), NameEncoding::UnicodePath);
    }
    if std::str::from_utf8(raw).is_ok() {
        return (raw.to_vec(), NameEncoding::Utf8);
    }
    match crate::walk::decode_gb18030(raw) {
        Some(s) => (s.into_bytes(), NameEncoding::Gb18030),
        None => (raw.to_vec(), NameEncoding::Bytes),
    }
}

/// A decoded name as a safe relative path: `\` is a separator (DOS tools write it), empty and
/// `.` components go, and a component that is absolute or climbs out (`..`, a leading `/`, a
/// drive `C:`) becomes `_`. Returns the path and whether anything was replaced; `None` for a
/// folder entry or a name with nothing left.
pub fn safe_path(decoded: &[u8], encoding: NameEncoding) -> Option<(Vec<u8>, bool)> {
    let text_separators = encoding != NameEncoding::Bytes;
    let is_sep = |b: &u8| *b == b'/' || (text_separators && *b == b'\\');
    if decoded.last().is_some_and(is_sep) {
        return None;
    }
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut replaced = false;
    for (i, c) in decoded.split(is_sep).enumerate() {
        let drive = i == 0 && c.len() == 2 && c[1] == b':' && c[0].is_ascii_alphabetic();
        if (i == 0 && c.is_empty()) || c == b".." || drive {
            parts.push(b"_".to_vec());
            replaced = true;
        } else if c.is_empty() || c == b"." {
            continue;
        } else {
            parts.push(c.to_vec());
        }
    }
    let last = parts.last()?;
    if last.as_slice() == b"_" && replaced {
        return None;
    }
    Some((parts.join(&b'/'), replaced))
}

/// Folders and files that zip tools add and nobody sent: `__MACOSX/`, dot-files, Thumbs.db…
pub(super) fn is_junk(path: &[u8]) -> bool {
    path.split(|b| *b == b'/')
        .any(|c| c == b"__MACOSX" || crate::walk::is_junk(c))
}

pub(super) fn show(path: &[u8]) -> String {
    crate::walk::display_bytes(path)
}

pub(super) fn stop_total(limits: &Limits) -> String {
    format!(
        "压缩包解压后超过 {} GiB 的上限（疑似压缩炸弹），其余成员未读取；已读取的成员保留",
        limits.max_total >> 30
    )
}

/// A member to read, as the central directory describes it.
struct Job {
    index: usize,
    path: Vec<u8>,
    rel: Vec<u8>,
    raw_name: Vec<u8>,
    encoding: NameEncoding,
    mtime_ns: i64,
    problems: Vec<String>,
    encrypted: bool,
    opaque: bool,
    method: zip::CompressionMethod,
    /// What the member may inflate to: its ratio cap, or its raw size when opaque.
    cap: u64,
    declared: u64,
}

/// What reading one member gave.
enum Read1 {
    Stored(Stored),
    /// More came out than its ratio allows.
    Hit,
    /// More came out than its header declared.
    Lied,
    Damaged(String),
    Unreadable(String),
    WriteFailed(String),
}

/// A file read at explicit offsets: clones share the descriptor, each with its own position,
/// so that both cores can inflate members of one zip at once.
#[derive(Clone)]
pub(super) struct At {
    pub(super) file: Arc<File>,
    pos: u64,
    pub(super) len: u64,
}

impl At {
    pub(super) fn new(file: Arc<File>) -> io::Result<At> {
        let len = file.metadata()?.len();
        Ok(At { file, pos: 0, len })
    }
}

impl io::Read for At {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for At {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let pos = match to {
            io::SeekFrom::Start(p) => Some(p),
            io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek"))?;
        Ok(self.pos)
    }
}

/// The zip's members: the central directory is read first (names, limits on count and
/// declared sizes), then the members are inflated in parallel, then their results are taken
/// in the zip's order, so that where a limit stops the zip does not depend on which core was
/// faster. Inner zips are opened after the members of this one.
fn unpack_into(
    ctx: &Ctx,
    reader: At,
    prefix: &[u8],
    container: Option<usize>,
    depth: u32,
    budget: &mut Budget,
    out: &mut Unpacked,
) -> Result<(), String> {
    let limits = ctx.limits;
    let file = Arc::clone(&reader.file);
    let archive = zip::ZipArchive::new(reader)
        .map_err(|e| format!("压缩包结构无法读取（{e}），成员未导入；请重新压缩后再放入"))?;

    // 1. The central directory, in order: which members are read, and where a limit stops.
    let mut jobs = Vec::new();
    let mut declared_left = budget.bytes_left;
    for i in 0..archive.len() {
        if budget.stopped {
            break;
        }
        let entry = match list_entry(&archive, i, &file, ctx.offset, ctx.fallback_mtime_ns) {
            Listed::Entry(e) => e,
            Listed::Skip => continue,
            Listed::Unreadable => {
                out.problems
                    .push(format!("压缩包第 {} 个成员的目录项无法读取，已跳过", i + 1));
                continue;
            }
        };
        let path = match budget.admit(prefix, &entry.rel, limits, out) {
            Admit::Read(path) => path,
            Admit::Skip => continue,
            Admit::Stop => break,
        };
        let problems = entry.name_problems();
        let opaque = entry.opaque();
        let Entry {
            raw_name,
            encoding,
            rel,
            mtime_ns,
            encrypted,
            method,
            compressed,
            declared,
            ..
        } = entry;
        // The zip crate stops a member at its declared size, so what comes out of all members
        // is at most the sum of the declared sizes: that sum is held to the total here.
        let size = if opaque { compressed } else { declared };
        if size > declared_left {
            out.problems.push(stop_total(limits));
            budget.stopped = true;
            break;
        }
        declared_left -= size;
        let ratio_cap = compressed
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor);
        if !opaque && declared > ratio_cap {
            // The header says it honestly: refused before inflating.
            out.problems.push(ratio_problem(&path, limits));
            budget.stopped = true;
            break;
        }
        jobs.push(Job {
            index: i,
            path,
            rel,
            raw_name,
            encoding,
            mtime_ns,
            problems,
            encrypted,
            opaque,
            method,
            cap: if opaque { compressed } else { ratio_cap },
            declared,
        });
    }

    // 2. The members inflated, hashed and stored, on every core of the import's pool.
    let results: Vec<Read1> = jobs
        .par_iter()
        .map(|job| read_member(ctx.store, archive.clone(), job))
        .collect();

    // 3. Taken in order: the first member that hits a limit stops the zip there.
    let mut inner = Vec::new();
    for (job, result) in jobs.into_iter().zip(results) {
        let stored = match result {
            Read1::Stored(s) => s,
            Read1::Hit => {
                out.problems.push(ratio_problem(&job.path, limits));
                budget.stopped = true;
                break;
            }
            Read1::Lied => {
                out.problems.push(format!(
                    "压缩包成员“{}”解压后超过它声明的大小（疑似压缩炸弹），它和其余成员未读取；已读取的成员保留",
                    show(&job.path)
                ));
                budget.stopped = true;
                break;
            }
            Read1::WriteFailed(why) => return Err(why),
            Read1::Damaged(why) | Read1::Unreadable(why) => {
                out.problems.push(why);
                continue;
            }
        };
        budget.bytes_left = budget.bytes_left.saturating_sub(stored.size);
        let mut problems = job.problems;
        if job.encrypted {
            problems.push(ENCRYPTED_MEMBER.into());
        } else if job.opaque {
            problems.push(format!(
                "压缩包成员的压缩方式（{:?}）无法解压，按原样保存；请用常见的 zip 格式重新压缩",
                job.method
            ));
        }
        let nested = !job.opaque && is_archive(&stored, &job.rel);
        if nested && depth >= limits.max_depth {
            problems.push(
                "压缩包里的压缩包又套了一层压缩包，超过一层嵌套，未解开；请解压后再放入".into(),
            );
        }
        let index = out.members.len();
        if nested && depth < limits.max_depth {
            inner.push((index, stored.path.clone(), job.path.clone()));
        }
        out.members.push(Member {
            path: job.path,
            raw_name: job.raw_name,
            encoding: job.encoding,
            container,
            mtime_ns: job.mtime_ns,
            stored,
            opaque: job.opaque,
            problems,
        });
    }
    open_inner(ctx, inner, depth, budget, out);
    Ok(())
}

/// Archives found inside an archive (`(member index, stored object, member path)`), opened in
/// turn one level deeper, after the members of the outer one; a failure is the inner one's.
pub(super) fn open_inner(
    ctx: &Ctx,
    inner: Vec<(usize, std::path::PathBuf, Vec<u8>)>,
    depth: u32,
    budget: &mut Budget,
    out: &mut Unpacked,
) {
    for (index, object, path) in inner {
        if budget.stopped {
            break;
        }
        if let Err(why) = unpack_stored(ctx, &object, &path, Some(index), depth + 1, budget, out) {
            out.members[index].problems.push(why);
        }
    }
}

/// One member as the dry run sees it: its name and time from the central directory, and the
/// first bytes (or, where its kind needs more — an Office file, a sheet, a document, a video —
/// all of them, within the zip's limits) in a scratch file outside the archive.
#[derive(Debug)]
pub struct PlannedMember {
    pub path: Vec<u8>,
    pub encoding: NameEncoding,
    pub mtime_ns: i64,
    /// The size the central directory declares.
    pub size: u64,
    pub head: Vec<u8>,
    pub opaque: bool,
    pub problems: Vec<String>,
}

/// The dry run's view of a zip: every member it would import, in order, each handed to `visit`
/// with a scratch copy of what its kind needs (removed after the call). A zip inside the zip
/// is listed as a file; its own members appear at the real import. Returns the zip's problems.
pub fn plan(
    zip: &Path,
    fallback_mtime_ns: i64,
    offset: FixedOffset,
    limits: &Limits,
    head_bytes: usize,
    visit: &mut dyn FnMut(PlannedMember, &Path),
) -> Vec<String> {
    let mut problems = Vec::new();
    let Ok(file) = File::open(zip) else {
        problems.push("压缩包无法打开，成员未列出".into());
        return problems;
    };
    let Ok(headers) = file.try_clone() else {
        return problems;
    };
    let mut archive = match zip::ZipArchive::new(BufReader::with_capacity(64 << 10, file)) {
        Ok(a) => a,
        Err(e) => {
            problems.push(format!(
                "压缩包结构无法读取（{e}），成员未导入；请重新压缩后再放入"
            ));
            return problems;
        }
    };
    let Ok(scratch) = tempfile::tempdir() else {
        problems.push("无法建立临时文件夹，成员未列出".into());
        return problems;
    };
    // The same admission as the import (junk, a second of one name, the member count).
    let mut budget = Budget {
        members_left: limits.max_members,
        bytes_left: limits.max_total,
        stopped: false,
        seen: HashSet::new(),
    };
    let mut listed = Unpacked::default();
    let mut bytes_left = limits.max_total;
    for i in 0..archive.len() {
        let entry = match list_entry(&archive, i, &headers, offset, fallback_mtime_ns) {
            Listed::Entry(e) => e,
            Listed::Skip | Listed::Unreadable => continue,
        };
        let path = match budget.admit(&[], &entry.rel, limits, &mut listed) {
            Admit::Read(path) => path,
            Admit::Skip => continue,
            Admit::Stop => break,
        };
        let mtime_ns = entry.mtime_ns;
        let encrypted = entry.encrypted;
        let opaque = entry.opaque();
        let size = entry.declared;
        let cap = entry
            .compressed
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor)
            .min(bytes_left);
        let mut member_problems = entry.name_problems();
        if encrypted {
            member_problems.push(ENCRYPTED_MEMBER.into());
        }
        let encoding = entry.encoding;
        let scratch_file = scratch.path().join(format!("m{i}"));
        let mut head = Vec::new();
        if !opaque && size <= cap {
            if let Ok(r) = archive.by_index(i) {
                let mut r = crate::extract::document::Limited::new(r, cap);
                let _ = std::io::Read::by_ref(&mut r)
                    .take(head_bytes as u64)
                    .read_to_end(&mut head);
                let needs_all = !is_image(&head);
                let written = if needs_all {
                    File::create(&scratch_file).and_then(|mut f| {
                        std::io::Write::write_all(&mut f, &head)?;
                        std::io::copy(&mut r, &mut f)
                    })
                } else {
                    std::fs::write(&scratch_file, &head).map(|_| 0)
                };
                if let Ok(n) = written {
                    bytes_left = bytes_left.saturating_sub(head.len() as u64 + n);
                }
            }
        } else {
            let _ = std::fs::write(&scratch_file, b"");
        }
        visit(
            PlannedMember {
                path,
                encoding,
                mtime_ns,
                size,
                head,
                opaque,
                problems: member_problems,
            },
            &scratch_file,
        );
        let _ = std::fs::remove_file(&scratch_file);
    }
    problems.extend(listed.problems);
    problems
}

/// A photo format whose metadata is in its first bytes: the dry run reads no further.
fn is_image(head: &[u8]) -> bool {
    head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"\x89PNG")
        || head.starts_with(b"GIF8")
        || head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
}

/// Inflates one member (or copies its raw bytes) into the store, hashing it on the way.
fn read_member(store: &Store, mut archive: zip::ZipArchive<At>, job: &Job) -> Read1 {
    let reader = if job.opaque {
        archive.by_index_raw(job.index)
    } else {
        archive.by_index(job.index)
    };
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            return Read1::Unreadable(format!(
                "压缩包成员“{}”无法读取（{e}），未导入",
                show(&job.path)
            ));
        }
    };
    let mut capped = crate::extract::document::Limited::new(reader, job.cap);
    let stored = store.ingest(&mut capped, || Ok(()));
    let hit = capped.exceeded;
    let lied = !job.opaque
        && match &stored {
            Err(StoreError::Read(e)) => {
                capped.count > job.declared || e.to_string().contains("declared uncompressed size")
            }
            _ => false,
        };
    match stored {
        Ok(s) => Read1::Stored(s),
        Err(_) if hit => Read1::Hit,
        Err(_) if lied => Read1::Lied,
        Err(StoreError::Write(e)) => {
            Read1::WriteFailed(format!("写入存档失败：{e}；压缩包其余成员未读取"))
        }
        Err(e) => Read1::Damaged(format!(
            "压缩包成员“{}”已损坏，无法解压（{e}），未导入",
            show(&job.path)
        )),
    }
}

fn ratio_problem(path: &[u8], limits: &Limits) -> String {
    format!(
        "压缩包成员“{}”解压后超过压缩大小的 {} 倍（疑似压缩炸弹），它和其余成员未读取；已读取的成员保留",
        show(path),
        limits.max_ratio
    )
}

/// A stored member that is itself a 7z or a plain zip (not an Office or OpenDocument file).
pub(super) fn is_archive(stored: &Stored, rel: &[u8]) -> bool {
    if stored.head.starts_with(&super::sevenz::MAGIC) {
        return true;
    }
    if !stored.head.starts_with(b"PK\x03\x04") && !stored.head.starts_with(b"PK\x05\x06") {
        return false;
    }
    let name = crate::walk::display_bytes(rel.rsplit(|b| *b == b'/').next().unwrap_or(rel));
    crate::detect::detect(&stored.head, &name, &stored.path).format == Format::Zip
}

/// A DOS time (local wall clock) as Unix nanoseconds at `offset`.
fn dos_time_ns(t: Option<zip::DateTime>, offset: FixedOffset) -> Option<i64> {
    let t = t?;
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::from(t.year()), t.month().into(), t.day().into())?;
    let when = date.and_hms_opt(t.hour().into(), t.minute().into(), t.second().into())?;
    let utc = when.and_utc().timestamp() - i64::from(offset.local_minus_utc());
    Some(utc * 1_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode_in_design_order() {
        let gbk = encoding_rs::GBK.encode("照片/颁奖合影.jpg").0.into_owned();
        assert_eq!(
            decode_name(&gbk, false, None),
            (
                "照片/颁奖合影.jpg".as_bytes().to_vec(),
                NameEncoding::Gb18030
            )
        );
        assert_eq!(
            decode_name("合影.jpg".as_bytes(), true, None).1,
            NameEncoding::Utf8
        );
        assert_eq!(
            decode_name(&gbk, false, Some("合影.jpg".as_bytes())),
            ("合影.jpg".as_bytes().to_vec(), NameEncoding::UnicodePath)
        );
        assert_eq!(decode_name(b"IMG_1.jpg", false, None).1, NameEncoding::Utf8);
        // A lone lead byte at the end: not GB18030.
        assert_eq!(
            decode_name(b"a\x81", false, None),
            (b"a\x81".to_vec(), NameEncoding::Bytes)
        );
    }

    #[test]
    fn climbing_and_absolute_names_are_made_safe() {
        let safe = |s: &str| safe_path(s.as_bytes(), NameEncoding::Utf8);
        assert_eq!(safe("a/b.jpg"), Some((b"a/b.jpg".to_vec(), false)));
        assert_eq!(safe("../../etc/x"), Some((b"_/_/etc/x".to_vec(), true)));
        assert_eq!(safe("/etc/passwd"), Some((b"_/etc/passwd".to_vec(), true)));
        assert_eq!(
            safe("C:\\Windows\\a.txt"),
            Some((b"_/Windows/a.txt".to_vec(), true))
        );
        assert_eq!(safe("./a//b"), Some((b"a/b".to_vec(), false)));
        assert_eq!(safe("folder/"), None);
        assert_eq!(safe(".."), None);
        // Undecodable bytes: a backslash is not a separator (it may be half a character).
        assert_eq!(
            safe_path(b"\x81\\x", NameEncoding::Bytes),
            Some((b"\x81\\x".to_vec(), false))
        );
    }

    fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn unpack_with(bytes: &[u8], limits: Limits) -> Unpacked {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::archive_dir::ArchiveDir::new(
            dir.path().join("archive"),
        ))
        .unwrap();
        let zip = dir.path().join("x.zip");
        std::fs::write(&zip, bytes).unwrap();
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        unpack(&File::open(&zip).unwrap(), &store, 0, offset, &limits)
    }

    #[test]
    fn the_member_count_limit_keeps_the_first_members() {
        let members: Vec<(String, Vec<u8>)> = (0..5)
            .map(|i| (format!("f{i}.txt"), vec![b'a' + i as u8]))
            .collect();
        let refs: Vec<(&str, Vec<u8>)> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.clone()))
            .collect();
        let out = unpack_with(
            &zip_of(&refs),
            Limits {
                max_members: 3,
                ..Limits::default()
            },
        );
        let names: Vec<&[u8]> = out.members.iter().map(|m| m.path.as_slice()).collect();
        assert_eq!(names, [&b"f0.txt"[..], b"f1.txt", b"f2.txt"]);
        assert!(out.problems[0].contains("超过 3 个"), "{:?}", out.problems);
    }

    #[test]
    fn the_total_limit_is_counted_on_inflated_bytes() {
        let bytes = zip_of(&[
            ("a.bin", vec![1u8; 3000]),
            ("b.bin", vec![2u8; 3000]),
            ("c.bin", vec![3u8; 3000]),
        ]);
        let out = unpack_with(
            &bytes,
            Limits {
                max_total: 5000,
                ..Limits::default()
            },
        );
        assert_eq!(out.members.len(), 1);
        assert_eq!(out.members[0].stored.size, 3000);
        assert!(out.problems[0].contains("压缩炸弹"), "{:?}", out.problems);
    }

    #[test]
    fn a_broken_zip_is_a_problem_not_a_panic() {
        let out = unpack_with(b"PK\x03\x04 broken", Limits::default());
        assert!(out.members.is_empty());
        assert!(out.problems[0].contains("成员未导入"), "{:?}", out.problems);
        let mut cut = zip_of(&[("a.txt", b"hello".to_vec())]);
        cut.truncate(cut.len() - 10);
        let out = unpack_with(&cut, Limits::default());
        assert!(out.members.is_empty() && !out.problems.is_empty());
    }

    #[test]
    fn the_central_header_gives_the_written_name_flag_unicode_path_and_time() {
        let gbk = encoding_rs::GBK.encode("合影.jpg").0.into_owned();
        let utf8 = "合影.jpg".as_bytes();
        let mut extra = Vec::new();
        // Unicode Path: version 1, CRC-32 of the header's name, the UTF-8 name.
        extra.extend_from_slice(&0x7075u16.to_le_bytes());
        extra.extend_from_slice(&((5 + utf8.len()) as u16).to_le_bytes());
        extra.push(1);
        extra.extend_from_slice(&crc32(&gbk).to_le_bytes());
        extra.extend_from_slice(utf8);
        // Extended timestamp with a modification time.
        extra.extend_from_slice(&0x5455u16.to_le_bytes());
        extra.extend_from_slice(&5u16.to_le_bytes());
        extra.push(1);
        extra.extend_from_slice(&1_746_583_200u32.to_le_bytes());
        let mut header = vec![0u8; 46];
        header[0..4].copy_from_slice(b"PK\x01\x02");
        header[8..10].copy_from_slice(&0u16.to_le_bytes());
        header[28..30].copy_from_slice(&(gbk.len() as u16).to_le_bytes());
        header[30..32].copy_from_slice(&(extra.len() as u16).to_le_bytes());
        header.extend_from_slice(&gbk);
        header.extend_from_slice(&extra);
        let mut bytes = vec![0xAAu8; 7];
        bytes.extend_from_slice(&header);
        let file = tempfile::tempfile().unwrap();
        file.write_all_at(&bytes, 0).unwrap();
        let c = central_header(&file, 7).unwrap();
        assert_eq!(c.name, gbk);
        assert_eq!(c.flags & 0x0800, 0);
        assert_eq!(c.unicode_path.as_deref(), Some(utf8));
        assert_eq!(c.unix_mtime, Some(1_746_583_200));
        assert_eq!(
            decode_name(&c.name, false, c.unicode_path.as_deref()).1,
            NameEncoding::UnicodePath
        );
        // A Unicode Path whose CRC is not the name's is ignored (the name was renamed).
        let mut stale = bytes.clone();
        let crc_at = 7 + 46 + gbk.len() + 5;
        stale[crc_at] ^= 0xFF;
        file.write_all_at(&stale, 0).unwrap();
        assert_eq!(central_header(&file, 7).unwrap().unicode_path, None);
        assert!(central_header(&file, 0).is_none());
    }

    #[test]
    fn crc32_is_ieee() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }
}
