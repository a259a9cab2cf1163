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
