//! The originals under their own names: `archive/按活动/<活动>/<部门>/<name>`, one entry per
//! counted file (a file of two activities under each; 未归类 files under `未归类/`), each a hard
//! link to its object in the store (else a relative symlink, else a copy, where the file
//! system refuses links). Kept in step with the catalog at every report: new files added,
//! withdrawn or re-sorted ones removed. The report links here, so that a click on a .docx or
//! .pdf opens it with its name and extension; the office can browse the same tree.
//!
//! Names are those a person reads (GBK names decoded), made safe like the bag's entry names;
//! two different contents that would share a name in one folder get a short-hash suffix. The
//! tree is dangan's: it never touches the inbox or the store's objects, and removes only what
//! its own list (`archive/.按活动.tsv`) says it made.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::os::unix::fs::{DirEntryExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::archive_dir::{ArchiveDir, ORIGINALS};
use crate::classify::ClassifiedFile;
use crate::tally::UNASSIGNED;

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// `<活动>/<部门>/<name>`, under [`ORIGINALS`].
    pub rel: String,
    pub sha256: String,
    /// The inbox path as a person reads it (the report's key).
    pub path: String,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub added: usize,
    pub removed: usize,
    pub kept: usize,
    /// Entries made as symlinks or copies because hard links failed.
    pub fallbacks: usize,
    /// Objects that were not in the store to link (for the catalog's record of damage).
    pub missing: Vec<String>,
}

/// Where every counted file goes in the tree: a pure function of the judged files.
pub fn plan(files: &[ClassifiedFile]) -> Vec<Placed> {
    let mut counted: Vec<&ClassifiedFile> = files.iter().filter(|f| f.counts()).collect();
    counted.sort_by(|a, b| a.version.facts.path.0.cmp(&b.version.facts.path.0));
    // folder → name → sha256: one name per content in a folder.
    let mut taken: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut out = Vec::new();
    for f in counted {
        let sha = f.version.facts.sha256.hex();
        let name = crate::bag::safe_component(f.version.facts.path.file_name_raw());
        let department = crate::bag::safe_component(f.judged.department.as_bytes());
        let activities: Vec<String> = if f.judged.activities.is_empty() {
            vec![UNASSIGNED.to_string()]
        } else {
            f.judged
                .activities
                .iter()
                .map(|a| crate::bag::safe_component(a.as_bytes()))
                .collect()
        };
        for activity in activities {
            let folder = format!("{activity}/{department}");
            let names = taken.entry(folder.clone()).or_default();
            let mut chosen = name.clone();
            match names.get(&chosen) {
                Some(s) if *s == sha => continue, // the same content under the same name
                Some(_) => chosen = with_suffix(&name, &sha),
                None => {}
            }
            if names.get(&chosen).is_some_and(|s| *s == sha) {
                continue;
            }
            names.insert(chosen.clone(), sha.clone());
            out.push(Placed {
                rel: format!("{folder}/{chosen}"),
                sha256: sha.clone(),
                path: f.version.facts.path.shown(),
            });
        }
    }
    out
}

/// `照片.jpg` → `照片~ab12cd34.jpg`.
fn with_suffix(name: &str, sha: &str) -> String {
    let short = &sha[..8.min(sha.len())];
    match name.rfind('.').filter(|i| *i > 0) {
        Some(i) => format!("{}~{short}{}", &name[..i], &name[i..]),
        None => format!("{name}~{short}"),
    }
}

/// The report's links: inbox path (as shown) → path under `archive/` (the first activity's).
pub fn links(placed: &[Placed]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for p in placed {
        out.entry(p.path.clone())
            .or_insert_with(|| format!("{ORIGINALS}/{}", p.rel));
    }
    out
}

/// Makes `archive/按活动/` hold exactly `placed`: adds what is missing or points at other bytes,
/// removes what its list says it made and is no longer placed, then rewrites the list. Call
/// only while holding the run lock.
pub fn sync(archive: &ArchiveDir, placed: &[Placed]) -> io::Result<Synced> {
    let tree = archive.originals_dir();
    let objects = archive.objects_dir();
    // The tree's own list of what it made (path under the tree, SHA-256, how).
    let list_path = archive.originals_list_path();
    // path → (SHA-256, how it was made: link | symlink | copy)
    let old_list = std::fs::read_to_string(&list_path).unwrap_or_default();
    let old: BTreeMap<String, (String, String)> = old_list
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (rel, sha, how) = (f.next()?, f.next()?, f.next().unwrap_or("link"));
            Some((rel.to_string(), (sha.to_string(), how.to_string())))
        })
        .collect();
    let mut done = Synced::default();
    let wanted: HashSet<&str> = placed.iter().map(|p| p.rel.as_str()).collect();
    for rel in old.keys().filter(|r| !wanted.contains(r.as_str())) {
        if !is_inside(rel) {
            continue;
        }
        let p = tree.join(rel);
        if std::fs::remove_file(&p).is_ok() {
            done.removed += 1;
        }
        remove_empty_parents(&tree, &p);
    }
    let mut list = String::new();
    // The folders whose listings the hard links are checked from (the tree's and the store's:
    // 80 000 names cold at 40 000 photos), read on many threads at once, not one after another.
    let mut listings = Listings::read(
        placed
            .iter()
            .filter(|p| {
                old.get(&p.rel)
                    .is_some_and(|(sha, how)| *sha == p.sha256 && how == "link")
            })
            .flat_map(|p| {
                let object = crate::store::object_path(&objects, &p.sha256);
                [tree.join(&p.rel), object]
                    .into_iter()
                    .filter_map(|f| f.parent().map(Path::to_path_buf))
            })
            .collect(),
    );
    for p in placed {
        let object = crate::store::object_path(&objects, &p.sha256);
        let target = tree.join(&p.rel);
        let how = match old.get(&p.rel) {
            Some((sha, how))
                if *sha == p.sha256 && is_current(&mut listings, &target, &object, how) =>
            {
                done.kept += 1;
                how.clone()
            }
            _ => {
                let Ok(meta) = std::fs::metadata(&object) else {
                    // A missing object: recorded by the caller, named until healed.
                    if !done.missing.contains(&p.sha256) {
                        done.missing.push(p.sha256.clone());
                    }
                    continue;
                };
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let how = place(&object, &target, meta.len())?;
                if how != "link" {
                    done.fallbacks += 1;
                }
                done.added += 1;
                how.to_string()
            }
        };
        list.push_str(&format!("{}\t{}\t{how}\n", p.rel, p.sha256));
    }
    // An unchanged tree leaves its list as it was (5 MB at 40 000 photos).
    if list != old_list {
        let mut tmp = list_path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, list)?;
        std::fs::rename(&tmp, &list_path)?;
    }
    Ok(done)
}

/// A relative path that stays in the tree (the list is ours, but read defensively).
fn is_inside(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != ".." && c != ".")
}

/// The entry still shows the object's bytes: a hard link to the same inode (an object healed
/// since is a new inode: linked again), a symlink that resolves to it, or a copy of its size
/// (a copy is made once; the audit watches the object itself). A hard link, the usual case, is
/// checked from the folders' listings, without a `stat` of either file.
fn is_current(listings: &mut Listings, target: &Path, object: &Path, how: &str) -> bool {
    if how == "link" {
        return match (listings.entry(target), listings.entry(object)) {
            (Some((t, true)), Some((o, true))) => t == o,
            _ => false,
        };
    }
    let Ok(t) = std::fs::symlink_metadata(target) else {
        return false;
    };
    let Ok(o) = std::fs::metadata(object) else {
        return false;
    };
    let same = |m: &std::fs::Metadata| m.ino() == o.ino() && m.dev() == o.dev();
    match how {
        "symlink" => {
            t.file_type().is_symlink() && std::fs::metadata(target).is_ok_and(|m| same(&m))
        }
        _ => t.is_file() && t.len() == o.len(),
    }
}

/// Folder listings read once each: name → (inode number, is a regular file), from `getdents`'
/// `d_ino` and `d_type`. A hard link lives on the store's file system (a link cannot cross one),
/// so equal inode numbers are the same file.
#[derive(Default)]
struct Listings {
    dirs: HashMap<PathBuf, Option<FolderListing>>,
}

/// A folder's names → (inode number, is a regular file); `None` above: the folder is unreadable.
type FolderListing = HashMap<OsString, (u64, bool)>;

impl Listings {
    /// The listings of `dirs`, read on the read pool's threads; a folder not among them is read
    /// when first asked for.
    fn read(dirs: HashSet<PathBuf>) -> Listings {
        use rayon::prelude::*;
        let dirs = crate::parallel::on_read_pool(|| {
            dirs.into_par_iter()
                .map(|d| {
                    let listing = list_folder(&d);
                    (d, listing)
                })
                .collect()
        });
        Listings { dirs }
    }

    fn entry(&mut self, path: &Path) -> Option<(u64, bool)> {
        let (dir, name) = (path.parent()?, path.file_name()?);
        self.dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| list_folder(dir))
            .as_ref()?
            .get(name)
            .copied()
    }
}

fn list_folder(dir: &Path) -> Option<FolderListing> {
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .flatten()
            .map(|e| {
                let file = e.file_type().is_ok_and(|t| t.is_file());
                (e.file_name(), (e.ino(), file))
            })
            .collect(),
    )
}

/// Puts the object at `target` (via a temp name in the same folder, renamed over whatever is
/// there): a hard link, else a relative symlink, else a copy. Returns which.
fn place(object: &Path, target: &Path, size: u64) -> io::Result<&'static str> {
    let dir = target.parent().unwrap_or(Path::new("."));
    // One fixed temp name per folder: a run killed here leaves at most one, reused next time.
    let tmp = dir.join(".dangan-link.tmp");
    let _ = std::fs::remove_file(&tmp);
    let how = if std::fs::hard_link(object, &tmp).is_ok() {
        "link"
    } else if std::os::unix::fs::symlink(relative(object, dir), &tmp).is_ok() {
        "symlink"
    } else {
        let copied = std::fs::copy(object, &tmp)?;
        if copied != size {
            let _ = std::fs::remove_file(&tmp);
            return Err(io::Error::other("复制原文件时大小不符"));
        }
        "copy"
    };
    std::fs::rename(&tmp, target)?;
    Ok(how)
}

/// `object` as a path relative to `dir` (both under the same archive).
fn relative(object: &Path, dir: &Path) -> PathBuf {
    let abs = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (o, d) = (abs(object), abs(dir));
    let common = o
        .components()
        .zip(d.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in d.components().skip(common) {
        out.push("..");
    }
    for c in o.components().skip(common) {
        out.push(c);
    }
    out
}

/// Removes the folders above `p` that are left empty, up to the tree.
fn remove_empty_parents(tree: &Path, p: &Path) {
    let mut dir = p.parent();
    while let Some(d) = dir {
        if d == tree || !d.starts_with(tree) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_go_before_the_extension() {
        assert_eq!(with_suffix("照片.jpg", "ab12cd34ef"), "照片~ab12cd34.jpg");
        assert_eq!(with_suffix("README", "ab12cd34ef"), "README~ab12cd34");
        assert_eq!(with_suffix(".bashrc", "ab12cd34ef"), ".bashrc~ab12cd34");
    }

    #[test]
    fn relative_paths_climb_to_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let obj = dir.path().join("objects/ab/abc");
        let tree = dir.path().join("按活动/启动仪式/教务科研处");
        std::fs::create_dir_all(obj.parent().unwrap()).unwrap();
        std::fs::create_dir_all(&tree).unwrap();
        std::fs::write(&obj, b"x").unwrap();
        assert_eq!(
            relative(&obj, &tree),
            PathBuf::from("../../../objects/ab/abc")
        );
    }

    #[test]
    fn across_file_systems_the_entry_is_a_symlink_then_kept() {
        // /dev/shm is another file system here: a hard link from it fails (EXDEV).
        let Ok(other) = tempfile::tempdir_in("/dev/shm") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let object = other.path().join("obj");
        std::fs::write(&object, b"bytes").unwrap();
        let o = std::fs::metadata(&object).unwrap();
        if o.dev() == std::fs::metadata(dir.path()).unwrap().dev() {
            return; // one file system after all: nothing to fall back from
        }
        let target = dir.path().join("名字.docx");
        let how = place(&object, &target, 5).unwrap();
        assert_eq!(how, "symlink");
        assert_eq!(std::fs::read(&target).unwrap(), b"bytes");
        assert!(is_current(&mut Listings::default(), &target, &object, how));
        assert!(!is_current(
            &mut Listings::default(),
            &target,
            &object,
            "link"
        ));
    }

    #[test]
    fn a_sync_adds_keeps_and_removes_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path();
        let archive_dir = ArchiveDir::new(archive);
        let store = crate::store::Store::open(&archive_dir).unwrap();
        let mut a = store.ingest(&mut &b"aaa"[..], || Ok(())).unwrap();
        let b = store.ingest(&mut &b"bbb"[..], || Ok(())).unwrap();
        assert_eq!(store.finish_batch().unwrap(), 2);
        a.path = store.object_path(&a.sha256);
        let placed = vec![
            Placed {
                rel: "启动仪式/教务科研处/方案.docx".into(),
                sha256: a.sha256.clone(),
                path: "教务科研处/启动仪式/方案.docx".into(),
            },
            Placed {
                rel: "未归类/学生处/b.txt".into(),
                sha256: b.sha256.clone(),
                path: "学生处/b.txt".into(),
            },
        ];
        let s = sync(&archive_dir, &placed).unwrap();
        assert_eq!((s.added, s.kept, s.removed), (2, 0, 0));
        let doc = archive.join("按活动/启动仪式/教务科研处/方案.docx");
        assert_eq!(std::fs::read(&doc).unwrap(), b"aaa");
        assert_eq!(
            std::fs::metadata(&doc).unwrap().ino(),
            std::fs::metadata(&a.path).unwrap().ino()
        );
        // Someone's own file in the tree is left alone.
        std::fs::write(archive.join("按活动/笔记.txt"), b"mine").unwrap();
        let s = sync(&archive_dir, &placed[..1]).unwrap();
        assert_eq!((s.added, s.kept, s.removed), (0, 1, 1));
        assert!(!archive.join("按活动/未归类").exists());
        assert!(archive.join("按活动/笔记.txt").exists());
    }
}
