//! Walks the inbox: every regular file under `inbox/<部门>/…`, with its raw (possibly non-UTF-8)
//! path kept losslessly, its stat data, and its department. Junk is skipped silently; files
//! directly in the inbox, symlinks, empty files and unreadable entries are rejected with a
//! reason. Never follows a symlink, never opens a file, never writes anything.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// A file found in the inbox.
#[derive(Debug, Clone)]
pub struct WalkEntry {
    /// Path relative to the inbox, `/`-separated, raw bytes (lossless).
    pub rel: Vec<u8>,
    pub abs: PathBuf,
    /// The department: the first folder's name.
    pub department: String,
    /// Folders between the department folder and the file, top first (display text).
    pub folders: Vec<String>,
    /// The file's own name (display text).
    pub file_name: String,
    pub size: u64,
    pub mtime_ns: i64,
    /// Device and inode as walked: what is opened must be this file.
    pub dev: u64,
    pub inode: u64,
}

impl WalkEntry {
    /// The path as a person reads it ([`show_bytes`]).
    pub fn display(&self) -> String {
        show_bytes(&self.rel)
    }
}

/// Something in the inbox that will not be stored, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub rel: Vec<u8>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct WalkResult {
    pub files: Vec<WalkEntry>,
    pub rejected: Vec<Rejected>,
    /// Junk skipped silently (dot-files, Thumbs.db, desktop.ini, `~$*`, .DS_Store).
    pub skipped: u64,
}

/// Text for a person: valid UTF-8 as is, every invalid byte as `\xNN`.
pub fn display_bytes(raw: &[u8]) -> String {
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// `raw` as GB18030 (what Windows writes for Chinese names) when every byte decodes cleanly
/// and it is not plain UTF-8 or ASCII; `None` otherwise.
pub fn decode_gb18030(raw: &[u8]) -> Option<String> {
    if std::str::from_utf8(raw).is_ok() {
        return None;
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(raw);
    (!had_errors).then(|| text.into_owned())
}

/// Text for a person: each `/`-separated component that is valid UTF-8 as is, else decoded as
/// GB18030 when it decodes cleanly, else with every invalid byte as `\xNN`.
pub fn show_bytes(raw: &[u8]) -> String {
    // Valid UTF-8 as a whole is valid in every component (`/` is ASCII).
    if let Ok(text) = std::str::from_utf8(raw) {
        return text.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    for (i, c) in raw.split(|b| *b == b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        match decode_gb18030(c) {
            Some(s) => out.push_str(&s),
            None => out.push_str(&display_bytes(c)),
        }
    }
    out
}

/// Junk that departments' computers leave behind.
pub fn is_junk(name: &[u8]) -> bool {
    name.first() == Some(&b'.')
        || name.starts_with(b"~$")
        || name.eq_ignore_ascii_case(b"Thumbs.db")
        || name.eq_ignore_ascii_case(b"desktop.ini")
}

fn rel_bytes(root: &Path, path: &Path) -> Vec<u8> {
    // The walk's paths are the root joined with plain names: its bytes, then `/` and the rest.
    let (root_b, path_b) = (root.as_os_str().as_bytes(), path.as_os_str().as_bytes());
    if let Some(rest) = path_b.strip_prefix(root_b)
        && (root_b.ends_with(b"/") || rest.starts_with(b"/"))
    {
        let rest = rest.strip_prefix(b"/").unwrap_or(rest);
        if !rest.is_empty()
            && rest
                .split(|b| *b == b'/')
                .all(|c| !c.is_empty() && c != b"." && c != b"..")
        {
            return rest.to_vec();
        }
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = Vec::new();
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(c.as_os_str().as_bytes());
    }
    out
}

/// The sort key that puts paths in the order of a walk that visits each folder's entries by
/// name: `/` below every byte a name can hold, so that `a/x` comes before `a b/x` and a
/// folder's files stay together.
fn walk_order(rel: &[u8]) -> Vec<u8> {
    rel.iter().map(|&b| if b == b'/' { 0 } else { b }).collect()
}

/// Walks `inbox`. An inbox that does not exist is an error; anything inside it that cannot
/// be read is a rejection.
pub fn walk(inbox: &Path) -> std::io::Result<WalkResult> {
    let meta = std::fs::metadata(inbox)?;
    if !meta.is_dir() {
        return Err(std::io::Error::other(format!(
            "收件箱 {} 不是文件夹",
            inbox.display()
        )));
    }
    // An inbox the user may not list is the inbox's problem, not a rejected file without
    // a name.
    std::fs::read_dir(inbox)?;
    let mut result = WalkResult::default();
    // The files found, in the walk's order, their metadata read afterwards.
    let mut found: Vec<(Vec<u8>, PathBuf)> = Vec::new();
    // Walked in the folders' own order and sorted once afterwards (walkdir's per-folder
    // `sort_by` parses both paths' last component at every comparison: a fifth of an
    // unchanged nightly's walk at 40 000 files).
    let walker = WalkDir::new(inbox)
        .follow_links(false)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| !(e.file_type().is_dir() && is_junk(e.file_name().as_bytes())));
    for item in walker {
        let entry = match item {
            Ok(e) => e,
            Err(err) => {
                let rel = err
                    .path()
                    .map(|p| rel_bytes(inbox, p))
                    .unwrap_or_else(|| b"?".to_vec());
                let why = err
                    .io_error()
                    .map(crate::human_error::io_reason)
                    .unwrap_or_else(|| err.to_string());
                result.rejected.push(Rejected {
                    rel,
                    reason: format!("无法读取：{why}"),
                });
                continue;
            }
        };
        let name = entry.file_name().as_bytes();
        if is_junk(name) {
            result.skipped += 1;
            continue;
        }
        let ft = entry.file_type();
        if ft.is_dir() {
            continue;
        }
        let rel = rel_bytes(inbox, entry.path());
        if ft.is_symlink() {
            result.rejected.push(Rejected {
                rel,
                reason: "符号链接（symlink），不跟随，未存档".into(),
            });
            continue;
        }
        if !ft.is_file() {
            result.rejected.push(Rejected {
                rel,
                reason: "不是普通文件（设备、管道或套接字），未存档".into(),
            });
            continue;
        }
        if entry.depth() == 1 {
            result.rejected.push(Rejected {
                rel,
                reason: "文件直接放在收件箱根目录，没有部门文件夹，无法确定部门；请放入“收件箱/部门名/”下".into(),
            });
            continue;
        }
        found.push((rel, entry.into_path()));
    }
    found.sort_by_cached_key(|(rel, _)| walk_order(rel));
    result.rejected.sort_by_cached_key(|r| walk_order(&r.rel));
    // The files' metadata read on many threads at once: 40 000 cold `lstat`s one after another
    // were most of an unchanged nightly's listing of the inbox.
    let metadata: Vec<std::io::Result<std::fs::Metadata>> = {
        use rayon::prelude::*;
        crate::parallel::on_read_pool(|| {
            found
                .par_iter()
                .map(|(_, abs)| std::fs::symlink_metadata(abs))
                .collect()
        })
    };
    for ((rel, abs), md) in found.into_iter().zip(metadata) {
        let md = match md {
            Ok(m) if m.is_file() => m,
            // Replaced between the listing and now by a folder (walked next run) or by
            // something that is not a file.
            Ok(m) if m.is_dir() => continue,
            Ok(m) => {
                result.rejected.push(Rejected {
                    rel,
                    reason: if m.file_type().is_symlink() {
                        "符号链接（symlink），不跟随，未存档".into()
                    } else {
                        "不是普通文件（设备、管道或套接字），未存档".into()
                    },
                });
                continue;
            }
            Err(e) => {
                result.rejected.push(Rejected {
                    rel,
                    reason: format!("无法读取文件信息：{e}"),
                });
                continue;
            }
        };
        if md.len() == 0 {
            result.rejected.push(Rejected {
                rel,
                reason: "空文件（0 字节），没有内容可存档".into(),
            });
            continue;
        }
        let parts: Vec<String> = rel.split(|b| *b == b'/').map(show_bytes).collect();
        let (department, rest) = parts.split_first().expect("depth ≥ 2 has a department");
        let (file_name, folders) = rest.split_last().expect("depth ≥ 2 has a file name");
        result.files.push(WalkEntry {
            rel,
            abs,
            department: department.clone(),
            folders: folders.to_vec(),
            file_name: file_name.clone(),
            size: md.len(),
            mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
            dev: md.dev(),
            inode: md.ino(),
        });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_are_shown_escaped() {
        assert_eq!(display_bytes(b"a\xffb/\xe5\x90\x8d"), "a\\xFFb/名");
    }

    #[test]
    fn gbk_names_are_shown_decoded_per_component() {
        let gbk = encoding_rs::GBK.encode("颁奖合影.jpg").0.into_owned();
        let mut raw = "教务科研处/".as_bytes().to_vec();
        raw.extend_from_slice(&gbk);
        assert_eq!(show_bytes(&raw), "教务科研处/颁奖合影.jpg");
        assert_eq!(show_bytes(b"a\xffb/\xe5\x90\x8d"), "a\\xFFb/名");
        assert_eq!(decode_gb18030(b"plain"), None);
    }

    #[test]
    fn files_come_in_the_order_of_a_walk_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        for f in [
            "部门/a b/x.jpg",
            "部门/a/y/z.jpg",
            "部门/a/x.jpg",
            "部门/a.b",
            "部门/a-c/1.jpg",
            "人事处/1.jpg",
        ] {
            let p = inbox.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
        }
        let walked = walk(&inbox).unwrap();
        let got: Vec<String> = walked.files.iter().map(|e| e.display()).collect();
        // Each folder's entries by name (bytes), a folder's files right after its name.
        assert_eq!(
            got,
            [
                "人事处/1.jpg",
                "部门/a/x.jpg",
                "部门/a/y/z.jpg",
                "部门/a b/x.jpg",
                "部门/a-c/1.jpg",
                "部门/a.b"
            ]
        );
        assert_eq!(walked.files[1].rel, "部门/a/x.jpg".as_bytes());
        assert_eq!(walked.files[1].folders, ["a"]);
        // A root given with a trailing slash or a dot walks to the same relative paths.
        for root in [
            format!("{}/", inbox.display()),
            format!("{}/.", inbox.display()),
        ] {
            let again = walk(Path::new(&root)).unwrap();
            let rels: Vec<String> = again.files.iter().map(|e| e.display()).collect();
            assert_eq!(rels, got);
        }
    }

    #[test]
    fn junk_names() {
        assert!(is_junk(b".DS_Store"));
        assert!(is_junk(b"~$plan.docx"));
        assert!(is_junk(b"thumbs.db"));
        assert!(is_junk(b"Desktop.ini"));
        assert!(!is_junk(b"IMG_1.jpg"));
    }
}
