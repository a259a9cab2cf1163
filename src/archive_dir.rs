//! The archive folder's layout: every name dangan gives a file or folder under `archive/`, in
//! one place. A module that writes under `archive/` asks an [`ArchiveDir`] where; none types a
//! folder name itself.
//!
//! ```text
//! archive/objects/<ab>/<sha256>   the store (objects/tmp/ for its temporary files)
//! archive/catalog.sqlite          the catalog; archive/备份/ its nightly copies
//! archive/统计/                    the statistics, the materials check, the forms
//! archive/报告/  archive/thumbs/   the HTML report and its thumbnail cache
//! archive/按活动/                  the originals under their own names (.按活动.tsv: what it made)
//! archive/.lock                   the run lock
//! archive/.dangan-bag-staging-*   the year-end bag's generated entries while it is written
//! ```
//!
//! (The bag's temporary zip, `.dangan-bag-*.zip.tmp`, is beside its final path, wherever that
//! is: `bag/write.rs` names it.)
//!
//! Never creates, reads or removes anything itself, except [`ArchiveDir::new_bag_staging`] and
//! [`ArchiveDir::remove_stale_bag_staging`] (the `archive` command's own temporary folders).

use std::path::{Path, PathBuf};

/// The store's folder.
pub const OBJECTS: &str = "objects";
/// The store's temporary files, inside [`OBJECTS`].
pub const OBJECTS_TEMP: &str = "tmp";
/// The catalog database.
pub const CATALOG: &str = "catalog.sqlite";
/// The catalog's nightly copies.
pub const BACKUPS: &str = "备份";
/// The statistics, the materials check and the forms (also `data/统计/` in the year's bag).
pub const STATS: &str = "统计";
/// The HTML report (also `data/报告/` in the year's bag).
pub const REPORT: &str = "报告";
/// The report's thumbnail cache.
pub const THUMBS: &str = "thumbs";
/// The originals under their own names.
pub const ORIGINALS: &str = "按活动";
/// The originals tree's own list of what it made.
pub const ORIGINALS_LIST: &str = ".按活动.tsv";
/// The run lock.
pub const LOCK: &str = ".lock";
/// The folders in which `archive` writes the bag's generated entries.
pub const BAG_STAGING_PREFIX: &str = ".dangan-bag-staging-";

/// The `--archive` folder, and where each thing dangan keeps is inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveDir {
    root: PathBuf,
}

impl ArchiveDir {
    pub fn new(root: impl Into<PathBuf>) -> ArchiveDir {
        ArchiveDir { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `objects/`: the store.
    pub fn objects_dir(&self) -> PathBuf {
        self.root.join(OBJECTS)
    }

    /// `objects/tmp/`: the store's files being written.
    pub fn objects_temp_dir(&self) -> PathBuf {
        self.objects_dir().join(OBJECTS_TEMP)
    }

    /// `catalog.sqlite`.
    pub fn catalog_path(&self) -> PathBuf {
        self.root.join(CATALOG)
    }

    /// `备份/`: the catalog's nightly copies.
    pub fn backups_dir(&self) -> PathBuf {
        self.root.join(BACKUPS)
    }

    /// `统计/`.
    pub fn stats_dir(&self) -> PathBuf {
        self.root.join(STATS)
    }

    /// `报告/`.
    pub fn report_dir(&self) -> PathBuf {
        self.root.join(REPORT)
    }

    /// `thumbs/`.
    pub fn thumbs_dir(&self) -> PathBuf {
        self.root.join(THUMBS)
    }

    /// `按活动/`.
    pub fn originals_dir(&self) -> PathBuf {
        self.root.join(ORIGINALS)
    }

    /// `.按活动.tsv`.
    pub fn originals_list_path(&self) -> PathBuf {
        self.root.join(ORIGINALS_LIST)
    }

    /// `.lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join(LOCK)
    }

    /// A new folder for a bag's generated entries; it goes when the value is dropped.
    pub fn new_bag_staging(&self) -> std::io::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix(BAG_STAGING_PREFIX)
            .tempdir_in(&self.root)
    }

    /// Removes the staging folders of `archive` runs that were killed. Only while holding the
    /// lock.
    pub fn remove_stale_bag_staging(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with(BAG_STAGING_PREFIX)
            {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}
