//! The content-addressed store: `archive/objects/<sha256[0..2]>/<sha256>`, each distinct content
//! once. Bytes are hashed while they are copied (one read of every byte), written to a temp file
//! on the same file system, fsynced, then linked into place without ever replacing an existing
//! object. Knows bytes and hashes only — nothing about departments or activities.

use std::collections::BTreeSet;
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
    /// Object folders written to since the last `sync_dirs`.
    touched: Mutex<BTreeSet<PathBuf>>,
}

/// One file's content, now durable in the store.
#[derive(Debug)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
    pub head: Vec<u8>,
    pub path: PathBuf,
    /// False when the same content was already there.
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
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut head = Vec::new();
    let mut size = 0u64;
    loop {
        let n = match src.read(&mut buf) {
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

impl Store {
    /// Opens (creating) `archive/objects`.
    pub fn open(archive: &Path) -> io::Result<Store> {
        let objects = archive.join("objects");
        let tmp = objects.join("tmp");
        std::fs::create_dir_all(&tmp)?;
        Ok(Store {
            objects,
            tmp,
            touched: Mutex::new(BTreeSet::new()),
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
        let path = self.object_path(&sha256);
        if path.exists() {
            return Ok(Stored {
                sha256,
                size,
                head,
                path,
                new_object: false,
            });
        }
        tmp.as_file().sync_all().map_err(StoreError::Write)?;
        let dir = path.parent().expect("objects have a folder").to_path_buf();
        std::fs::create_dir_all(&dir).map_err(StoreError::Write)?;
        let new_object = match tmp.persist_noclobber(&path) {
            Ok(_) => true,
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(StoreError::Write(e.error)),
        };
        if new_object {
            self.touched.lock().expect("lock").insert(dir);
        }
        Ok(Stored {
            sha256,
            size,
            head,
            path,
            new_object,
        })
    }

    /// Makes the renames of every object written since the last call durable.
    pub fn sync_dirs(&self) -> io::Result<()> {
        let dirs = std::mem::take(&mut *self.touched.lock().expect("lock"));
        for d in dirs.iter().chain(std::iter::once(&self.objects)) {
            File::open(d)?.sync_all()?;
        }
        Ok(())
    }

    /// Re-hashes an object: true when its name is its SHA-256.
    pub fn check(&self, sha256: &str) -> io::Result<bool> {
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

pub fn object_path(objects: &Path, sha256: &str) -> PathBuf {
    objects.join(&sha256[..2.min(sha256.len())]).join(sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_content_is_one_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        let b = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
        assert_eq!(
            a.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(a.new_object && !b.new_object);
        assert_eq!(std::fs::read(&a.path).unwrap(), b"hello");
        assert!(store.check(&a.sha256).unwrap());
        store.sync_dirs().unwrap();
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
        let store = Store::open(dir.path()).unwrap();
        let a = store.ingest(&mut &b"hello"[..], || Ok(())).unwrap();
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
        assert!(store.check(&a.sha256).unwrap());
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
        let store = Store::open(dir.path()).unwrap();
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
