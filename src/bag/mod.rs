//! The year-end archive: one deterministic zip that is a BagIt 1.0 bag (RFC 8493), written from
//! plain data and verified entry by entry before it exists at its final path; and the check of
//! such a zip years later.
//!
//! Layout inside the zip (one top-level folder named like the bag, the payload in byte order of
//! its names, then the tag files, whose manifest is made as the payload is written: the digests
//! of the files made for the bag, the report's pages and thumbnails, are taken from their bytes
//! on the way in, not from a reading of their own before):
//!
//! ```text
//! <bag>/data/  <bag>/data/…
//! <bag>/bagit.txt  <bag>/bag-info.txt  <bag>/manifest-sha256.txt  <bag>/tagmanifest-sha256.txt
//! ```
//!
//! Building a plan from the catalog (the `archive` command's job):
//!
//! ```no_run
//! use dangan::bag::{self, BagInfo, BagPlan, PayloadFile, PayloadSource};
//! # fn main() -> Result<(), dangan::bag::BagError> {
//! // raw name bytes as the inbox had them, the object's digest and size
//! let rows: Vec<(Vec<Vec<u8>>, String, u64)> = vec![];
//! let wanted: Vec<(String, String)> = rows
//!     .iter()
//!     .map(|(components, sha, _)| {
//!         let safe: Vec<String> = components.iter().map(|c| bag::safe_component(c)).collect();
//!         (safe.join("/"), sha.clone())
//!     })
//!     .collect();
//! let names = bag::assign_unique(wanted); // same order as `rows`
//! let files = rows
//!     .iter()
//!     .zip(names)
//!     .map(|((_, sha, size), path)| PayloadFile {
//!         compress: bag::compress_by_extension(&path),
//!         source: PayloadSource::File(format!("archive/objects/{}/{sha}", &sha[..2]).into()),
//!         path,
//!         size: *size,
//!         sha256: Some(sha.clone()),
//!     })
//!     .collect();
//! let plan = BagPlan {
//!     bag_name: "自贡职业技术学院-2025-职业教育活动周档案".into(),
//!     info: BagInfo {
//!         source_organization: "自贡职业技术学院".into(),
//!         external_description: "2025 年职业教育活动周（月）佐证材料".into(),
//!         bagging_date: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
//!         software_agent: "dangan 0.1.0".into(),
//!         extra: vec![],
//!     },
//!     files,
//!     timestamp: 1_767_139_200, // SOURCE_DATE_EPOCH
//! };
//! let written = bag::write_bag(&plan, "archive/自贡职业技术学院-2025-职业教育活动周档案.zip".as_ref())?;
//! println!("{} {}", written.sha256, written.size);
//! # Ok(()) }
//! ```
//!
//! This module never reads the catalog or the inbox, never holds a payload file above 4 MiB
//! whole in memory (smaller ones are read ahead of the writer, at most 32 MiB of them at a
//! time), never leaves a half-written or unverified zip at the final path, and never panics on
//! bad input: problems are [`BagError`]s or [`EntryProblem`]s naming the entry, in Chinese.

pub mod names;
pub mod plan;
mod verify;
mod write;

use std::path::PathBuf;

pub use names::{
    assign_unique, is_safe_path, percent_decode_manifest_path, percent_encode_manifest_path,
    safe_component,
};
pub use verify::{verify_zip, verify_zip_with_digest, verify_zip_with_progress};
pub use write::{
    bag_size_label, compress_by_extension, remove_stale_temp_files, write_bag,
    write_bag_with_progress, zip_sha256,
};

/// Lower-case hex of a digest (what the catalog and the manifests hold). A table lookup rather
/// than `hex::encode`, which is slow in debug builds and runs once per entry here.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// What a progress report is about: each call carries the bytes just done in that stage.
///
/// Writing counts payload bytes (total: the sum of the plan's sizes); verifying counts the
/// uncompressed bytes of every entry read back (payload plus the small tag files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Write,
    Verify,
}

/// Where a payload file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadSource {
    /// A file on disk (a store object, a generated report): read in chunks, never whole.
    File(PathBuf),
    /// Bytes already in memory (a small generated CSV or HTML).
    Bytes(Vec<u8>),
}

/// One file of the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFile {
    /// Relative to `data/`, `/`-separated, every component a [`safe_component`], unique (see
    /// [`assign_unique`]). The same path twice with the same known `sha256` is written once.
    pub path: String,
    pub source: PayloadSource,
    /// The size the catalog expects.
    pub size: u64,
    /// Lower-case hex SHA-256 the catalog expects. Bytes that differ are store damage: the bag
    /// is not written. `None` for a file made for the bag (a report page, a thumbnail, an
    /// index): its digest is taken from its bytes as they are written.
    pub sha256: Option<String>,
    /// Deflate (level 6) rather than store: true for text, false for photos, videos, office
    /// files and other already-compressed formats.
    pub compress: bool,
}

/// What `bag-info.txt` says about the bag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagInfo {
    /// 机构名称.
    pub source_organization: String,
    /// A Chinese sentence saying what the bag holds.
    pub external_description: String,
    pub bagging_date: chrono::NaiveDate,
    /// e.g. `dangan 0.1.0`.
    pub software_agent: String,
    /// More `Label: value` lines, in this order, after the standard ones.
    pub extra: Vec<(String, String)>,
}

/// Everything needed to write one bag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagPlan {
    /// The top-level folder inside the zip, normally the zip's file name without `.zip`.
    pub bag_name: String,
    pub info: BagInfo,
    pub files: Vec<PayloadFile>,
    /// Seconds since 1970-01-01 of the wall-clock time given to every entry as its modification
    /// time (a zip time has no zone: the year's plan passes SOURCE_DATE_EPOCH shifted to the
    /// configured offset), clamped to the zip range 1980-01-01..=2107-12-31.
    pub timestamp: i64,
}

/// A bag written, verified and in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBag {
    pub path: PathBuf,
    /// Size of the zip in bytes.
    pub size: u64,
    /// SHA-256 of the whole zip, lower-case hex: what the catalog records for later audits.
    pub sha256: String,
    pub payload_files: u64,
    pub payload_bytes: u64,
}

/// The outcome of checking a bag zip: every problem found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    pub ok: bool,
    /// Sorted by entry, then reason.
    pub problems: Vec<EntryProblem>,
    /// Payload entries found in the zip (files under `<bag>/data/`).
    pub payload_files: u64,
    /// Their total uncompressed size.
    pub payload_bytes: u64,
}

/// One thing wrong with one entry (or with the zip itself, then `entry` is the zip's path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryProblem {
    /// The entry's full name in the zip, e.g. `档案-2025/data/活动/….jpg`.
    pub entry: String,
    /// What is wrong, in Chinese.
    pub reason: String,
}

impl std::fmt::Display for EntryProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.entry, self.reason)
    }
}

/// Why a bag could not be written. Nothing new is left at the final path in any of these cases
/// but [`BagError::Durability`].
#[derive(Debug, thiserror::Error)]
pub enum BagError {
    /// The plan itself is wrong (unsafe name, conflicting duplicates, malformed digest…).
    #[error("打包计划有误：{entry}：{reason}")]
    Plan { entry: String, reason: String },

    /// A payload source could not be opened or read.
    #[error("读取 {entry}（来源 {source_path}）失败：{source}")]
    ReadSource {
        entry: String,
        source_path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A payload's bytes are not what the catalog says: store damage.
    #[error(
        "{entry}（来源 {source_desc}）的内容与目录记录不符，可能是存储已损坏：应为 SHA-256 {expected}，实际为 {actual}"
    )]
    DigestMismatch {
        entry: String,
        source_desc: String,
        expected: String,
        actual: String,
    },

    /// A payload's length is not what the catalog says: store damage.
    #[error(
        "{entry}（来源 {source_desc}）的大小与目录记录不符，可能是存储已损坏：应为 {expected} 字节，实际读到 {actual} 字节"
    )]
    SizeMismatch {
        entry: String,
        source_desc: String,
        expected: u64,
        actual: u64,
    },

    /// The temporary zip beside the final path could not be created or written.
    #[error("写入临时文件 {path} 失败：{source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The zip library refused an entry.
    #[error("写入 zip 条目 {entry} 失败：{source}")]
    Zip {
        entry: String,
        #[source]
        source: zip::result::ZipError,
    },

    /// The written zip, read back from disk, did not verify. It was deleted.
    #[error("写好的 zip 复查未通过，已删除，未放到 {path}：{summary}")]
    Verify {
        path: PathBuf,
        summary: String,
        problems: Vec<EntryProblem>,
    },

    /// The verified zip could not be moved to its final path.
    #[error("无法把已核验的 zip 放到 {path}：{source}")]
    Persist {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The verified zip is at its final path, but its folder could not be flushed to disk: a
    /// power cut now could lose the rename. The disk itself may be failing.
    #[error("已核验的 zip 已放到 {path}，但无法确保其目录项写入磁盘（磁盘可能有故障）：{source}")]
    Durability {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
