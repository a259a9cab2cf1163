//! Helpers for the integration tests: a temporary inbox and archive, the real binary run on
//! them, and small real files (JPEGs with hand-built EXIF, xlsx) made in the test.
#![allow(dead_code)]

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_dangan");

pub struct Env {
    pub dir: tempfile::TempDir,
    pub inbox: PathBuf,
    pub archive: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let inbox = dir.path().join("inbox");
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(&inbox).unwrap();
        Env {
            dir,
            inbox,
            archive,
        }
    }

    /// Writes a file under the inbox (folders made as needed) and returns its path.
    pub fn put(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.inbox.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Sets a file's modification time (seconds since the epoch).
    pub fn set_mtime(&self, rel: &str, secs: i64) {
        let f = std::fs::File::options()
            .write(true)
            .open(self.inbox.join(rel))
            .unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64))
            .unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .arg("--inbox")
            .arg(&self.inbox)
            .arg("--archive")
            .arg(&self.archive)
            .args(args)
            .env_remove("SOURCE_DATE_EPOCH");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().expect("run dangan").into()
    }

    /// `import --json`, asserting the exit status.
    pub fn import(&self, expect_code: i32) -> Value {
        let r = self.run(&["import", "--json"]);
        assert_eq!(
            r.code, expect_code,
            "stdout: {}\nstderr: {}",
            r.stdout, r.stderr
        );
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
    }

    /// `list --json`: one object per version.
    pub fn list(&self) -> Vec<Value> {
        let r = self.run(&["list", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn entry(&self, path: &str) -> Value {
        let all = self.list();
        let mut hits: Vec<Value> = all.into_iter().filter(|v| v["path"] == path).collect();
        assert!(!hits.is_empty(), "{path} not listed");
        hits.pop().unwrap()
    }

    pub fn rejected(&self) -> Vec<Value> {
        let r = self.run(&["list", "--rejected", "--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Every object file in the store.
    pub fn objects(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let root = self.archive.join("objects");
        for d in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            if d.file_name().as_bytes() == b"tmp" || !d.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.push(f.path());
            }
        }
        out.sort();
        out
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A small real JPEG (decodable) without EXIF; `seed` varies the pixels so contents differ.
pub fn jpeg(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([seed, (x * 4) as u8, (y * 5) as u8 ^ seed])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .unwrap();
    out
}

/// What to put into a hand-built EXIF block.
#[derive(Default, Clone)]
pub struct Exif<'a> {
    pub original: Option<&'a str>,
    pub digitized: Option<&'a str>,
    pub datetime: Option<&'a str>,
    pub offset_original: Option<&'a str>,
}

/// A TIFF (little-endian) EXIF block: IFD0 with DateTime and an ExifIFD pointer; ExifIFD with
/// DateTimeOriginal, DateTimeDigitized and OffsetTimeOriginal, as cameras write them.
pub fn exif_tiff(e: &Exif) -> Vec<u8> {
    fn ascii(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
    // Each entry: (tag, bytes). Values longer than 4 bytes go into a data area.
    let ifd0: Vec<(u16, Vec<u8>)> = e.datetime.iter().map(|d| (0x0132u16, ascii(d))).collect();
    let mut exif: Vec<(u16, Vec<u8>)> = Vec::new();
    if let Some(d) = e.original {
        exif.push((0x9003, ascii(d)));
    }
    if let Some(d) = e.digitized {
        exif.push((0x9004, ascii(d)));
    }
    if let Some(o) = e.offset_original {
        exif.push((0x9011, ascii(o)));
    }
    let ifd0_count = ifd0.len() + 1; // + ExifIFD pointer
    let ifd0_at = 8usize;
    let ifd0_size = 2 + ifd0_count * 12 + 4;
    let exif_at = ifd0_at + ifd0_size;
    let exif_size = 2 + exif.len() * 12 + 4;
    let mut data_at = exif_at + exif_size;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&(ifd0_at as u32).to_le_bytes());
    let mut data = Vec::new();
    let mut write_ifd =
        |out: &mut Vec<u8>, entries: &[(u16, Vec<u8>)], extra: Option<(u16, u32)>| {
            let mut all: Vec<(u16, u16, u32, [u8; 4])> = Vec::new();
            for (tag, bytes) in entries {
                let count = bytes.len() as u32;
                let mut field = [0u8; 4];
                if bytes.len() <= 4 {
                    field[..bytes.len()].copy_from_slice(bytes);
                } else {
                    field = (data_at as u32).to_le_bytes();
                    data.extend_from_slice(bytes);
                    data_at += bytes.len();
                }
                all.push((*tag, 2, count, field));
            }
            if let Some((tag, ptr)) = extra {
                all.push((tag, 4, 1, ptr.to_le_bytes()));
            }
            all.sort_by_key(|a| a.0);
            out.extend_from_slice(&(all.len() as u16).to_le_bytes());
            for (tag, typ, count, field) in all {
                out.extend_from_slice(&tag.to_le_bytes());
                out.extend_from_slice(&typ.to_le_bytes());
                out.extend_from_slice(&count.to_le_bytes());
                out.extend_from_slice(&field);
            }
            out.extend_from_slice(&0u32.to_le_bytes());
        };
    write_ifd(&mut out, &ifd0, Some((0x8769, exif_at as u32)));
    write_ifd(&mut out, &exif, None);
    out.extend_from_slice(&data);
    out
}

/// A real JPEG with an APP1 EXIF segment right after SOI.
pub fn jpeg_with_exif(seed: u8, e: &Exif) -> Vec<u8> {
    let plain = jpeg(seed);
    let tiff = exif_tiff(e);
    let mut seg = b"Exif\0\0".to_vec();
    seg.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((seg.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&seg);
    out.extend_from_slice(&plain[2..]);
    out
}

/// Raw bytes to a path (for names that are not UTF-8).
pub fn raw_path(base: &Path, rel: &[u8]) -> PathBuf {
    base.join(std::ffi::OsStr::from_bytes(rel))
}

pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// One member of a zip made by [`make_zip`].
#[derive(Clone, Default)]
pub struct ZipMember {
    /// The name's bytes exactly as the header holds them (GBK for Windows' built-in zip).
    pub name: Vec<u8>,
    pub data: Vec<u8>,
    pub deflate: bool,
    /// Set the UTF-8 (language encoding) flag.
    pub utf8_flag: bool,
    /// Set the encrypted flag (the data stays as it is: enough for a reader to refuse it).
    pub encrypted: bool,
    /// Write this uncompressed size in both headers instead of the real one.
    pub lie_size: Option<u32>,
}

impl ZipMember {
    pub fn new(name: &[u8], data: Vec<u8>) -> ZipMember {
        ZipMember {
            name: name.to_vec(),
            data,
            ..ZipMember::default()
        }
    }
}

/// A zip as other tools write it: names as raw bytes with or without the UTF-8 flag, stored
/// or deflated, dated 2025-05-07 10:00 (DOS time), optionally flagged encrypted or lying
/// about sizes. Built with the zip crate under placeholder names of the same length, then
/// patched.
pub fn make_zip(members: &[ZipMember]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut placeholders = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let tag = format!("~{i}~");
        assert!(
            m.name.len() >= tag.len(),
            "names of at least {} bytes",
            tag.len()
        );
        let placeholder = format!("{tag}{}", "q".repeat(m.name.len() - tag.len()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(if m.deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            })
            .last_modified_time(zip::DateTime::from_date_and_time(2025, 5, 7, 10, 0, 0).unwrap())
            .large_file(false);
        w.start_file(placeholder.as_str(), opts).unwrap();
        w.write_all(&m.data).unwrap();
        placeholders.push(placeholder.into_bytes());
    }
    let mut bytes = w.finish().unwrap().into_inner();
    // Every central header, with its local header.
    let eocd = bytes
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("end of central directory");
    let le16 = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    let le32 = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let mut at = le32(&bytes, eocd + 16);
    for m in members {
        assert_eq!(&bytes[at..at + 4], b"PK\x01\x02");
        let name_len = le16(&bytes, at + 28);
        let local = le32(&bytes, at + 42);
        let mut flags = le16(&bytes, at + 8) as u16;
        flags &= !0x0800;
        if m.utf8_flag {
            flags |= 0x0800;
        }
        if m.encrypted {
            flags |= 0x0001;
        }
        for (h, flag_at, size_at, name_at) in [(at, 8, 24, 46), (local, 6, 22, 30)] {
            bytes[h + flag_at..h + flag_at + 2].copy_from_slice(&flags.to_le_bytes());
            if let Some(size) = m.lie_size {
                bytes[h + size_at..h + size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
            bytes[h + name_at..h + name_at + m.name.len()].copy_from_slice(&m.name);
        }
        let extra_len = le16(&bytes, at + 30);
        let comment_len = le16(&bytes, at + 32);
        at += 46 + name_len + extra_len + comment_len;
    }
    let _ = placeholders;
    bytes
}

/// GBK bytes of a name, as Windows' built-in zip writes them.
pub fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

/// A folder of `../shared/corpus/` (real files nobody on this team made), or `None` with a note
/// when this checkout has no corpus beside it (the test then skips itself).
pub fn corpus(folder: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(folder);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("note: {} is absent; corpus test skipped", dir.display());
        None
    }
}

/// The bytes of a committed fixture, `tests/fixtures/<folder>/<name>`.
pub fn fixture(folder: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(folder)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `list --json` entry's problems, joined with `；`.
pub fn problems(v: &serde_json::Value) -> String {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("；")
}
