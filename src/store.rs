//! The content-addressed store: `archive/objects/<sha256[0..2]>/<sha256>`, each distinct content
//! once. Bytes are hashed while they are copied (one read of every byte) into a temp file on the
//! same file system; durability is paid per batch, not per file: [`Store::finish_batch`] makes
//! the batch's temp files durable, links each into place without ever replacing an existing
//! object, and makes the links durable. An object at its final path is therefore always whole,
//! whatever instant a run (or the power) stops. Knows bytes and hashes only — nothing about
//! departments or activities.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// How much of the start of each file is kept in memory for the later stages (EXIF, magic bytes).
pub const HEAD_BYTES: usize = 256 * 1024;
const CHUNK: usize = 1024 * 1024;

pub struct Store {
    objects: PathBuf,
    tmp: PathBuf,
    /// New contents of the batch, not yet at their final paths: sha256 → temp file.
    pending: Mutex<HashMap<String, tempfile::TempPath>>,
}

/// One file's content, in the store (durable once the batch is finished).
#[derive(Debug)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    /// Where the bytes can be read until [`Store::finish_batch`]: the object itself, or for a
    /// content new in this batch its temp file (the object's path is [`Store::object_path`]).
    pub path: PathBuf,
    /// False when the same content was already there (or already written in this batch).
    pub new_object: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("读取失败：{0}")]
    Read(io::Error),
    #[error("写入存档失败：{0}")]
    Write(io::Error),
    #[error("{0}")]
    Rejected(String),
}

/// Reads `src` to the end in chunks, feeding every chunk to `sink` and keeping the first
/// `HEAD_BYTES` bytes. Returns the SHA-256, the size and the head.
pub fn hash_reader(
    src: &mut impl Read,
    mut sink: impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<(String, u64, Vec<u8>), StoreError> {
    // One buffer per thread, reused: zeroing a fresh 1 MiB for each 45 KB photo was a few
    // percent of an import (taken out, so a nested call would only allocate its own).
    thread_local! {
        static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
    }
    let mut buf = BUF.take();
    buf.resize(CHUNK, 0);
    let out = hash_chunks(src, &mut buf, &mut sink);
    BUF.set(buf);
    out
}

fn hash_chunks(
    src: &mut impl Read,
    buf: &mut [u8],
    sink: &mut impl FnMut(&[u8]) -> io::Result<()>,
) -> Result<(String, u64, Vec<u8>), StoreError> {
    let mut hasher = Sha256::new();
    let mut head = Vec::new();
    let mut size = 0u64;
    loop {
        let n = match src.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::Read(e)),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        if head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - head.len()).min(n);
            head.extend_from_slice(&chunk[..take]);
        }
        sink(chunk).map_err(StoreError::Write)?;
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size, head))
}

/// Objects copied into the store's temp folder, not yet linked into place (see
/// [`Store::take_batch`]). Dropped unfinished, their temp files are removed.
pub struct Batch(HashMap<String, tempfile::TempPath>);

impl Store {
    /// Opens (creating) `archive/objects` with its 256 fan-out folders (`00` … `ff`), so that
    /// no write needs a `mkdir`: one listing of `objects/` per run, a `mkdir` only for a folder
    /// that is missing, and one fsync of `objects/` when any was made.
    pub fn open(archive: &crate::archive_dir::ArchiveDir) -> io::Result<Store> {
        let objects = archive.objects_dir();
        let tmp = archive.objects_temp_dir();
        std::fs::create_dir_all(&tmp)?;
        let mut have = [false; 256];
        for e in std::fs::read_dir(&objects)? {
            let name = e?.file_name();
            if let Some(i) = name.to_str().and_then(fan_out_index) {
                have[i] = true;
            }
        }
        let mut made = false;
        for (i, _) in have.iter().enumerate().filter(|(_, h)| !**h) {
            match std::fs::create_dir(objects.join(format!("{i:02x}"))) {
                Ok(()) => made = true,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        if made {
            File::open(&objects)?.sync_all()?;
        }
        Ok(Store {
            objects,
            tmp,
            pending: Mutex::new(HashMap::new()),
        })
    }

    /// Where an object lives (whether or not it exists).
    pub fn object_path(&self, sha256: &str) -> PathBuf {
        object_path(&self.objects, sha256)
    }

    /// Removes temp files left by a run that was killed. Call only while holding the run lock.
    pub fn clean_temps(&self) -> io::Result<usize> {
        let mut n = 0;
        for e in std::fs::read_dir(&self.tmp)? {
            let e = e?;
            if std::fs::remove_file(e.path()).is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Copies `src` into the store while hashing it. `still_same` is asked after the last byte
    /// and before the object is linked into place: an `Err(reason)` (the file changed while it
    /// was read) discards the copy.
    pub fn ingest(
        &self,
        src: &mut impl Read,
        still_same: impl FnOnce() -> Result<(), String>,
    ) -> Result<Stored, StoreError> {
        let tmp = tempfile::Builder::new()
            // Readable by the office as the umask allows (0644 under 022), not tempfile's 0600.
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .prefix("in-")
            .tempfile_in(&self.tmp)
            .map_err(StoreError::Write)?;
        let mut writer = io::BufWriter::with_capacity(CHUNK, tmp.as_file());
        let (sha256, size, head) = hash_reader(src, |chunk| writer.write_all(chunk))?;
        writer.flush().map_err(StoreError::Write)?;
        drop(writer);
        still_same().map_err(StoreError::Rejected)?;
        // The temp file is closed here (a batch may hold thousands: a zip's members).
        let tmp = tmp.into_temp_path();
        let mut pending = self.pending.lock().expect("lock");
        if let Some(earlier) = pending.get(&sha256) {
            // The same content twice in one batch: one object (this temp file goes).
            let path = earlier.to_path_buf();
            return Ok(Stored {
                sha256,
                size,
                head,
                path,
                new_object: false,
            });
        }
        let path = self.object_path(&sha256);
        // `symlink_metadata`: one `statx` of the final name, whatever is there.
        if std::fs::symlink_metadata(&path).is_ok() {
            return Ok(Stored {
                sha256,
                size,
                head,
                path,
                new_object: false,
            });
        }
        let path = tmp.to_path_buf();
        pending.insert(sha256.clone(), tmp);
        Ok(Stored {
            sha256,
            size,
            head,
            path,
            new_object: true,
        })
    }

    /// Makes every object of the batch durable at its final path: the temp files' bytes first
    /// (one `syncfs` of the store's file system), then each is linked into place without
    /// replacing anything, then the links (a second `syncfs`). Only after this may the batch's
    /// catalog rows be committed. Returns how many objects were linked.
    pub fn finish_batch(&self) -> io::Result<usize> {
        self.finish(self.take_batch())
    }

    /// The objects copied since the last take, to be finished with [`Store::finish`] while
    /// the next batch is read. An object copied again before its batch is finished gets its
    /// own temp file, which `finish` drops (the first copy is linked).
    pub fn take_batch(&self) -> Batch {
        Batch(std::mem::take(&mut *self.pending.lock().expect("lock")))
    }

    /// [`Store::finish_batch`] for a batch taken earlier.
    pub fn finish(&self, batch: Batch) -> io::Result<usize> {
        self.finish_and_drop(batch, false)
    }

    /// [`Store::finish`]; with `drop_written`, the objects' pages leave the page cache once they
    /// are on the disk ([`drop_cached`]), for a big import whose next batches would otherwise
    /// take fresh pages for every object written.
    pub fn finish_and_drop(&self, batch: Batch, drop_written: bool) -> io::Result<usize> {
        let pending = batch.0;
        if pending.is_empty() {
            return Ok(0);
        }
        let dir = File::open(&self.objects)?;
        if sync_fs(&dir).is_err() {
            // Without syncfs (another kernel, a file system that refuses it): each file.
            for tmp in pending.values() {
                File::open(tmp)?.sync_data()?;
            }
        }
        if drop_written {
            for tmp in pending.values() {
                if let Ok(f) = File::open(tmp) {
                    drop_cached(&f, 0, 0);
                }
            }
        }
        let mut linked = 0;
        let mut folders = [false; 256];
        for (sha256, tmp) in pending {
            let path = self.object_path(&sha256);
            match tmp.persist_noclobber(&path) {
                Ok(()) => linked += 1,
                // Already there (another process's copy): this temp file goes.
                Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.error),
            }
            if let Some(i) = fan_out_index(&sha256[..2.min(sha256.len())]) {
                folders[i] = true;
            }
        }
        if sync_fs(&dir).is_err() {
            for (i, _) in folders.iter().enumerate().filter(|(_, t)| **t) {
                File::open(self.objects.join(format!("{i:02x}")))?.sync_all()?;
            }
        }
        Ok(linked)
    }

    /// Re-hashes an object: true when its name is its SHA-256.
    pub fn rehash_matches(&self, sha256: &str) -> io::Result<bool> {
        let mut f = File::open(self.object_path(sha256))?;
        match hash_reader(&mut f, |_| Ok(())) {
            Ok((h, _, _)) => Ok(h == sha256),
            Err(StoreError::Read(e)) | Err(StoreError::Write(e)) => Err(e),
            Err(StoreError::Rejected(r)) => Err(io::Error::other(r)),
        }
    }
}

/// What re-reading one object found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Examined {
    /// Its bytes hash to its name.
    Intact { size: u64 },
    /// Its bytes no longer match its name: `actual` is what they hash to now.
    Damaged { actual: String, size: u64 },
    /// There is no file at its place.
    Missing,
}

impl Store {
    /// Re-reads an object and says whether its bytes still hash to its name (the audit, `verify
    /// --store`). An unreadable object is an `Err`; an absent one is [`Examined::Missing`].
    pub fn examine(&self, sha256: &str) -> io::Result<Examined> {
        examine(&self.objects, sha256)
    }

    /// Replaces a damaged or missing object with the bytes of `src`, when (and only when) they
    /// hash to its name: copied to a temp file while hashed, fsynced, renamed over the damaged
    /// copy, the folder fsynced. Returns false (nothing changed) when `src` has other bytes.
    /// The one place an existing object is ever replaced; call only while holding the run lock.
    pub fn heal(&self, sha256: &str, src: &mut impl Read) -> Result<bool, StoreError> {
        let tmp = tempfile::Builder::new()
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .prefix("heal-")
            .tempfile_in(&self.tmp)
            .map_err(StoreError::Write)?;
        let mut writer = io::BufWriter::with_capacity(CHUNK, tmp.as_file());
        let (got, _, _) = hash_reader(src, |chunk| writer.write_all(chunk))?;
        writer.flush().map_err(StoreError::Write)?;
        drop(writer);
        if got != sha256 {
            return Ok(false);
        }
        tmp.as_file().sync_all().map_err(StoreError::Write)?;
        let path = self.object_path(sha256);
        let dir = path.parent().expect("objects have a folder").to_path_buf();
        std::fs::create_dir_all(&dir).map_err(StoreError::Write)?;
        tmp.persist(&path).map_err(|e| StoreError::Write(e.error))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::Write)?;
        Ok(true)
    }
}

/// [`Store::examine`] without opening the store (read-only commands).
pub fn examine(objects: &Path, sha256: &str) -> io::Result<Examined> {
    let mut f = match File::open(object_path(objects, sha256)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Examined::Missing),
        Err(e) => return Err(e),
    };
    match hash_reader(&mut f, |_| Ok(())) {
        Ok((h, size, _)) if h == sha256 => Ok(Examined::Intact { size }),
        Ok((actual, size, _)) => Ok(Examined::Damaged { actual, size }),
        Err(StoreError::Read(e)) | Err(StoreError::Write(e)) => Err(e),
        Err(StoreError::Rejected(r)) => Err(io::Error::other(r)),
    }
}

/// `syncfs(2)` of the file system holding `f`: every dirty page and inode of it reaches the disk
/// in one call (and one journal commit), as `sync` does for all of them.
pub(crate) fn sync_fs(f: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs only reads the descriptor, which `f` keeps open for the call.
    if unsafe { libc::syncfs(f.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Drops `[from, from + len)` of `f` from the page cache (`len` 0: to the end), for bytes read
/// once and not again: `POSIX_FADV_DONTNEED` frees the clean pages at once (dirty ones are only
/// handed to the disk), so they neither push out what the machine keeps cached nor leave the
/// next reads to take fresh pages (on a virtual machine whose freed memory goes back to the
/// host, a fresh page costs a fault of the host's: reading 2.3 GB in order took 3.3–5.0 s here
/// with the pages kept, 1.0–2.6 s with them dropped behind). A failure only leaves them cached.
pub(crate) fn drop_cached(f: &File, from: u64, len: u64) {
    advise(f, from, len, Advice::DontNeed);
}

/// What the kernel is told of a file's pages ([`advise`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Advice {
    /// Read them ahead now (`POSIX_FADV_WILLNEED`).
    WillNeed,
    /// Only small pieces will be read: no read-ahead (`POSIX_FADV_RANDOM`).
    Random,
    /// Not read again: drop the clean ones (`POSIX_FADV_DONTNEED`).
    DontNeed,
}

/// `posix_fadvise` of `[from, from + len)` of `f` (`len` 0: to the end). Advice only: a failure
/// (or a range past what `off_t` holds) changes nothing but the speed.
pub(crate) fn advise(f: &File, from: u64, len: u64, advice: Advice) {
    use std::os::fd::AsRawFd;
    let (Ok(from), Ok(len)) = (libc::off_t::try_from(from), libc::off_t::try_from(len)) else {
        return;
    };
    let advice = match advice {
        Advice::WillNeed => libc::POSIX_FADV_WILLNEED,
        Advice::Random => libc::POSIX_FADV_RANDOM,
        Advice::DontNeed => libc::POSIX_FADV_DONTNEED,
    };
    // SAFETY: posix_fadvise only reads the descriptor, which `f` keeps open; its advice concerns
    // the file's pages, which outlive the descriptor.
    unsafe { libc::posix_fadvise(f.as_raw_fd(), from, len, advice) };
}

/// Above this many bytes read by one import each inbox file is dropped from the page cache once
/// read, and each object once durable ([`drop_cached`]). A smaller import (a night's files)
/// keeps them: the report reads the new photos for their thumbnails right after it.
pub const DROP_READ_ABOVE: u64 = 1 << 30;

/// `00` … `ff` → 0 … 255; anything else (`tmp`) → `None`.
fn fan_out_index(name: &str) -> Option<usize> {
    let b = name.as_bytes();
    if b.len() != 2 || !b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    usize::from_str_radix(name, 16).ok()
}

pub fn object_path(objects: &Path, sha256: &str) -> PathBuf {
    objects.join(&sha256[..2.min(sha256.len())]).join(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_is_one_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        let a = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        let b = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(a.new_object && !b.new_object);
        // Until the batch is finished the bytes are read from the temp file.
        assert_eq!(std::fs::read(&a.path).unwrap(), b"hello");
        assert_eq!(a.path, b.path);
        assert!(!store.object_path(&a.sha256).exists());
        assert_eq!(store.finish_batch().unwrap(), 1);
        assert!(store.rehash_matches(&a.sha256).unwrap());
        let c = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        assert!(!c.new_object);
        assert_eq!(c.path, store.object_path(&a.sha256));
        assert_eq!(store.finish_batch().unwrap(), 0);
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects/tmp"))
                .unwrap()
                .count(),
            0
        );
    }

    /// A big import's batch, its pages dropped once on the disk: the same objects, whole.
    #[test]
    fn a_batch_finished_with_its_pages_dropped_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        let a = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        let b = store
            .ingest(&mut &vec![7u8; 300_000][..], || Ok(()))
            .unwrap();
        assert_eq!(store.finish_and_drop(store.take_batch(), true).unwrap(), 2);
        assert_eq!(
            std::fs::read(store.object_path(&a.sha256)).unwrap(),
            b"hello"
        );
        assert!(store.rehash_matches(&b.sha256).unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects/tmp"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn a_damaged_object_is_found_and_healed_only_from_its_own_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        let mut a = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        store.finish_batch().unwrap();
        a.path = store.object_path(&a.sha256);
        assert_eq!(
            store.examine(&a.sha256).unwrap(),
            Examined::Intact { size: 5 }
        );
        std::fs::write(&a.path, b"jello").unwrap();
        assert!(matches!(
            store.examine(&a.sha256).unwrap(),
            Examined::Damaged { size: 5, .. }
        ));
        // Other bytes never replace it.
        assert!(!store.heal(&a.sha256, &mut &b"yellow"[..]).unwrap());
        assert_eq!(std::fs::read(&a.path).unwrap(), b"jello");
        assert!(store.heal(&a.sha256, &mut &b"hello"[..]).unwrap());
        assert_eq!(std::fs::read(&a.path).unwrap(), b"hello");
        std::fs::remove_file(&a.path).unwrap();
        assert_eq!(store.examine(&a.sha256).unwrap(), Examined::Missing);
        assert!(store.heal(&a.sha256, &mut &b"hello"[..]).unwrap());
        assert!(store.rehash_matches(&a.sha256).unwrap());
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects/tmp"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn a_file_that_changed_while_read_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        let r = store.ingest(&mut &b"x"[..], || Err("变了".into()));
        assert!(matches!(r, Err(StoreError::Rejected(_))));
        assert_eq!(
            std::fs::read_dir(dir.path().join("objects/tmp"))
                .unwrap()
                .count(),
            0
        );
        assert!(
            !store
                .object_path("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")
                .exists()
        );
    }
}
