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

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
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
pub fn plan<'a>(files: &'a [ClassifiedFile]) -> Vec<Placed> {
    let mut counted: Vec<&'a ClassifiedFile> = files.iter().filter(|f| f.counts()).collect();
    counted.sort_by(|a, b| a.version.facts.path.0.cmp(&b.version.facts.path.0));
    // folder → name → sha256: one name per content in a folder.
    let mut taken: HashMap<String, HashMap<String, String>> = HashMap::new();
    // The few departments' and activities' safe forms, made once each.
    let mut safe: HashMap<&str, String> = HashMap::new();
    let mut safe_of = |s: &'a str| -> String {
        safe.entry(s)
            .or_insert_with(|| crate::bag::safe_component(s.as_bytes()))
            .clone()
    };
    let mut out = Vec::with_capacity(counted.len());
    for f in counted {
        let sha = f.version.facts.sha256.hex();
        let name = crate::bag::safe_component(f.version.facts.path.file_name_raw());
        let department = safe_of(&f.judged.department);
        let activities: Vec<String> = if f.judged.activities.is_empty() {
            vec![UNASSIGNED.to_string()]
        } else {
            f.judged.activities.iter().map(|a| safe_of(a)).collect()
        };
        for activity in activities {
            let folder = format!("{activity}/{department}");
            if !taken.contains_key(&folder) {
                taken.insert(folder.clone(), HashMap::new());
            }
            let names = taken.get_mut(&folder).expect("inserted above");
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
    // path → (SHA-256, how it was made: link | symlink | copy), in the list's order.
    let old_list = std::fs::read_to_string(&list_path).unwrap_or_default();
    let old_lines: Vec<(&str, &str, &str)> = old_list
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.next()?, f.next().unwrap_or("link")))
        })
        .collect();
    let old: HashMap<&str, (&str, &str)> = old_lines
        .iter()
        .map(|&(rel, sha, how)| (rel, (sha, how)))
        .collect();
    let mut done = Synced::default();
    let wanted: HashSet<&str> = placed.iter().map(|p| p.rel.as_str()).collect();
    for (rel, _, _) in old_lines.iter().filter(|(r, _, _)| !wanted.contains(r)) {
        if !is_inside(rel) {
            continue;
        }
        let p = tree.join(rel);
        if std::fs::remove_file(&p).is_ok() {
            done.removed += 1;
        }
        remove_empty_parents(&tree, &p);
    }
    let unchanged = |p: &Placed| {
        old.get(p.rel.as_str())
            .filter(|(sha, _)| *sha == p.sha256)
            .map(|(_, how)| *how)
    };
    let mut list = String::with_capacity(old_list.len());
    // The folders whose listings the hard links are checked from (the tree's and the store's:
    // 80 000 names cold at 40 000 photos), read on many threads at once, not one after another.
    let mut listings = Listings::read(
        &tree,
        &objects,
        placed.iter().filter(|p| unchanged(p) == Some("link")),
    );
    for p in placed {
        let how = match unchanged(p) {
            Some(how) if is_current(&mut listings, p, how) => {
                done.kept += 1;
                how
            }
            _ => {
                let object = crate::store::object_path(&objects, &p.sha256);
                let target = tree.join(&p.rel);
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
                how
            }
        };
        for part in [p.rel.as_str(), "\t", p.sha256.as_str(), "\t", how, "\n"] {
            list.push_str(part);
        }
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
fn is_current(listings: &mut Listings, p: &Placed, how: &str) -> bool {
    if how == "link" {
        return match (listings.in_tree(&p.rel), listings.in_store(&p.sha256)) {
            (Some((t, true)), Some((o, true))) => t == o,
            _ => false,
        };
    }
    let target = listings.tree.join(&p.rel);
    let object = crate::store::object_path(&listings.objects, &p.sha256);
    let Ok(t) = std::fs::symlink_metadata(&target) else {
        return false;
    };
    let Ok(o) = std::fs::metadata(&object) else {
        return false;
    };
    let same = |m: &std::fs::Metadata| m.ino() == o.ino() && m.dev() == o.dev();
    match how {
        "symlink" => {
            t.file_type().is_symlink() && std::fs::metadata(&target).is_ok_and(|m| same(&m))
        }
        _ => t.is_file() && t.len() == o.len(),
    }
}

/// Folder listings read once each: name → (inode number, is a regular file), from `getdents`'
/// `d_ino` and `d_type`. A hard link lives on the store's file system (a link cannot cross one),
/// so equal inode numbers are the same file. The tree's folders are keyed by their path under
/// the tree, the store's by their two hex digits.
struct Listings {
    tree: PathBuf,
    objects: PathBuf,
    folders: HashMap<String, Option<FolderListing>>,
    shards: HashMap<String, Option<FolderListing>>,
}

/// A folder's names → (inode number, is a regular file); `None` above: the folder is unreadable.
type FolderListing = HashMap<OsString, (u64, bool)>;

/// `a/b/name` → (`a/b`, `name`).
fn split_folder(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

/// The store's folder of an object: its SHA-256's first two hex digits.
fn shard(sha256: &str) -> &str {
    &sha256[..2.min(sha256.len())]
}

impl Listings {
    /// The listings of the folders that hold `entries` and their objects, read on the read
    /// pool's threads; a folder not among them is read when first asked for.
    fn read<'a>(
        tree: &Path,
        objects: &Path,
        entries: impl Iterator<Item = &'a Placed>,
    ) -> Listings {
        use rayon::prelude::*;
        let mut folders: HashSet<&str> = HashSet::new();
        let mut shards: HashSet<&str> = HashSet::new();
        for p in entries {
            folders.insert(split_folder(&p.rel).0);
            shards.insert(shard(&p.sha256));
        }
        let dirs: Vec<(bool, &str, PathBuf)> = folders
            .into_iter()
            .map(|f| (true, f, tree.join(f)))
            .chain(shards.into_iter().map(|s| (false, s, objects.join(s))))
            .collect();
        let read: Vec<(bool, String, Option<FolderListing>)> =
            crate::parallel::on_read_pool(|| {
                dirs.into_par_iter()
                    .map(|(in_tree, key, dir)| (in_tree, key.to_string(), list_folder(&dir)))
                    .collect()
            });
        let mut out = Listings {
            tree: tree.to_path_buf(),
            objects: objects.to_path_buf(),
            folders: HashMap::new(),
            shards: HashMap::new(),
        };
        for (in_tree, key, listing) in read {
            if in_tree {
                out.folders.insert(key, listing);
            } else {
                out.shards.insert(key, listing);
            }
        }
        out
    }

    /// The tree's entry at `rel`.
    fn in_tree(&mut self, rel: &str) -> Option<(u64, bool)> {
        let (folder, name) = split_folder(rel);
        listed(&mut self.folders, &self.tree, folder, name)
    }

    /// The store's object `sha256`.
    fn in_store(&mut self, sha256: &str) -> Option<(u64, bool)> {
        listed(&mut self.shards, &self.objects, shard(sha256), sha256)
    }
}

/// `name` in the listing of `under/key`, read into `listings` when first asked for.
fn listed(
    listings: &mut HashMap<String, Option<FolderListing>>,
    under: &Path,
    key: &str,
    name: &str,
) -> Option<(u64, bool)> {
    if !listings.contains_key(key) {
        listings.insert(key.to_string(), list_folder(&under.join(key)));
    }
    listings.get(key)?.as_ref()?.get(OsStr::new(name)).copied()
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
        let (tree, objects) = (dir.path().join("按活动"), other.path().join("objects"));
        let sha = format!("ab{}", "0".repeat(62));
        let object = crate::store::object_path(&objects, &sha);
        std::fs::create_dir_all(object.parent().unwrap()).unwrap();
        std::fs::write(&object, b"bytes").unwrap();
        let o = std::fs::metadata(&object).unwrap();
        if o.dev() == std::fs::metadata(dir.path()).unwrap().dev() {
            return; // one file system after all: nothing to fall back from
        }
        let p = Placed {
            rel: "启动仪式/教务科研处/名字.docx".into(),
            sha256: sha.clone(),
            path: "教务科研处/名字.docx".into(),
        };
        let target = tree.join(&p.rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let how = place(&object, &target, 5).unwrap();
        assert_eq!(how, "symlink");
        assert_eq!(std::fs::read(&target).unwrap(), b"bytes");
        let mut listings = Listings::read(&tree, &objects, [&p].into_iter());
        assert!(is_current(&mut listings, &p, how));
        assert!(!is_current(&mut listings, &p, "link"));
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
