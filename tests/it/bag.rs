//! The year-end BagIt zip, end to end at library level: written from plain data, byte-stable,
//! verified, and every kind of damage named by `verify_zip`.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use dangan::bag::{
    BagError, BagInfo, BagPlan, PayloadFile, PayloadSource, VerifyReport, assign_unique,
    safe_component, verify_zip, write_bag,
};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const BAG: &str = "自贡职业技术学院-2025-职业教育活动周档案";
/// 2025-12-31 08:00:00 UTC
const EPOCH: i64 = 1_767_168_000;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn bytes_file(path: &str, bytes: &[u8], compress: bool) -> PayloadFile {
    PayloadFile {
        path: path.to_string(),
        source: PayloadSource::Bytes(bytes.to_vec()),
        size: bytes.len() as u64,
        sha256: Some(sha(bytes)),
        compress,
    }
}

/// A store-like object on disk.
fn disk_file(dir: &Path, path: &str, bytes: &[u8], compress: bool) -> PayloadFile {
    let digest = sha(bytes);
    let obj = dir.join(&digest);
    fs::write(&obj, bytes).unwrap();
    PayloadFile {
        path: path.to_string(),
        source: PayloadSource::File(obj),
        size: bytes.len() as u64,
        sha256: Some(digest),
        compress,
    }
}

fn plan(files: Vec<PayloadFile>) -> BagPlan {
    BagPlan {
        bag_name: BAG.to_string(),
        info: BagInfo {
            source_organization: "自贡职业技术学院".to_string(),
            external_description: "2025 年职业教育活动周的全部佐证材料、统计表与图文报告。"
                .to_string(),
            bagging_date: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            software_agent: "dangan 0.1.0".to_string(),
            extra: vec![("Contact-Name".to_string(), "教务科研处".to_string())],
        },
        files,
        timestamp: EPOCH,
    }
}

/// A photo-like stored file, a deflated CSV, a report from disk.
fn sample(dir: &Path) -> BagPlan {
    let photo: Vec<u8> = (0..50_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    plan(vec![
        disk_file(
            dir,
            "活动/01-启动仪式/教务科研处/2025-05-07/IMG_20250507_101500.jpg",
            &photo,
            false,
        ),
        bytes_file(
            "统计/情况统计表.csv",
            "\u{FEFF}市（州）/职业学校（含技工院校）,参与活动的教师数\r\n自贡职业技术学院,120\r\n"
                .as_bytes(),
            true,
        ),
        disk_file(
            dir,
            "报告/index.html",
            "<!doctype html><title>报告</title>".repeat(100).as_bytes(),
            true,
        ),
        bytes_file("未归类/学生处/空白.txt", b"", true),
    ])
}

fn problem_entries(r: &VerifyReport) -> Vec<String> {
    r.problems.iter().map(|p| p.entry.clone()).collect()
}

fn entry_names(zip: &Path) -> Vec<String> {
    let a = ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    a.file_names_raw()
        .map(|n| String::from_utf8(n.to_vec()).unwrap())
        .collect()
}

fn read_entry(zip: &Path, name: &str) -> Vec<u8> {
    let mut a = ZipArchive::new(fs::File::open(zip).unwrap()).unwrap();
    let mut e = a.by_name(name).unwrap();
    let mut out = Vec::new();
    e.read_to_end(&mut out).unwrap();
    out
}

enum Edit {
    Keep,
    Drop,
    Replace(Vec<u8>),
}

/// Copies `src` to `dst` entry by entry (raw, without recompressing), applying `edit` by name,
/// then adds `extra` entries.
fn rewrite(src: &Path, dst: &Path, edit: impl Fn(&str) -> Edit, extra: &[(&str, &[u8])]) {
    let mut a = ZipArchive::new(fs::File::open(src).unwrap()).unwrap();
    let mut w = ZipWriter::new(fs::File::create(dst).unwrap());
    for i in 0..a.len() {
        let name = a.name_for_index(i).unwrap().unwrap().into_owned();
        match edit(&name) {
            Edit::Keep => w.raw_copy_file(a.by_index_raw(i).unwrap()).unwrap(),
            Edit::Drop => {}
            Edit::Replace(bytes) => {
                w.start_file(
                    name.as_str(),
                    SimpleFileOptions::default().compression_method(CompressionMethod::Stored),
                )
                .unwrap();
                w.write_all(&bytes).unwrap();
            }
        }
    }
    for (name, bytes) in extra {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

fn python3() -> Option<&'static str> {
    Command::new("python3")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "python3")
}

/// Runs a Python snippet with the zip path as argv[1]; None when python3 is absent.
fn python(code: &str, zip: &Path) -> Option<String> {
    let py = python3()?;
    let out = Command::new(py)
        .arg("-c")
        .arg(code)
        .arg(zip)
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn write_sample(dir: &Path) -> (PathBuf, dangan::bag::WrittenBag) {
    let out = dir.join(format!("{BAG}.zip"));
    let written = write_bag(&sample(dir), &out).unwrap();
    (out, written)
}

#[test]
fn a_bag_has_the_bagit_layout_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (out, written) = write_sample(dir.path());

    assert_eq!(written.path, out);
    assert_eq!(written.payload_files, 4);
    let planned: u64 = sample(dir.path()).files.iter().map(|f| f.size).sum();
    assert_eq!(written.payload_bytes, planned);
    let zip_bytes = fs::read(&out).unwrap();
    assert_eq!(written.size, zip_bytes.len() as u64);
    assert_eq!(written.sha256, sha(&zip_bytes));
    assert_eq!(
        dangan::bag::zip_sha256(&out).unwrap(),
        (written.sha256.clone(), written.size)
    );

    let names = entry_names(&out);
    // The payload first, then the tag files (the manifest is made as the payload is written).
    let expected: Vec<String> = [
        "data/",
        // byte order of the UTF-8 names: 报 (U+62A5) < 未 (U+672A) < 活 (U+6D3B) < 统 (U+7EDF)
        "data/报告/index.html",
        "data/未归类/学生处/空白.txt",
        "data/活动/01-启动仪式/教务科研处/2025-05-07/IMG_20250507_101500.jpg",
        "data/统计/情况统计表.csv",
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    ]
    .iter()
    .map(|n| format!("{BAG}/{n}"))
    .collect();
    assert_eq!(names, expected);

    assert_eq!(
        read_entry(&out, &format!("{BAG}/bagit.txt")),
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    );
    let info = String::from_utf8(read_entry(&out, &format!("{BAG}/bag-info.txt"))).unwrap();
    let lines: Vec<&str> = info.lines().collect();
    assert_eq!(lines[0], "Source-Organization: 自贡职业技术学院");
    assert_eq!(lines[1], "Bagging-Date: 2025-12-31");
    assert_eq!(
        lines[2],
        format!("Payload-Oxum: {}.4", written.payload_bytes)
    );
    assert_eq!(lines[3], "Bag-Size: 53.7 KB");
    assert!(lines[4].starts_with("External-Description: 2025 年职业教育活动周"));
    assert_eq!(lines[5], "Bag-Software-Agent: dangan 0.1.0");
    assert_eq!(lines[6], "Contact-Name: 教务科研处");

    let manifest =
        String::from_utf8(read_entry(&out, &format!("{BAG}/manifest-sha256.txt"))).unwrap();
    let paths: Vec<&str> = manifest
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert!(manifest.contains(&format!("{}  data/未归类/学生处/空白.txt\n", sha(b""))));

    let tagmanifest =
        String::from_utf8(read_entry(&out, &format!("{BAG}/tagmanifest-sha256.txt"))).unwrap();
    let tagged: Vec<&str> = tagmanifest
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    assert_eq!(tagged, ["bag-info.txt", "bagit.txt", "manifest-sha256.txt"]);

    let report = verify_zip(&out);
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.payload_files, 4);
    assert_eq!(report.payload_bytes, written.payload_bytes);

    // Nothing but the zip beside it: the temp file is gone.
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn entries_carry_the_given_time_fixed_permissions_and_compression_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let mut a = ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
    for i in 0..a.len() {
        let e = a.by_index(i).unwrap();
        let name = e.name().unwrap().to_string();
        let t = e.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2025, 12, 31, 8, 0, 0),
            "{name}"
        );
        let mode = e.unix_mode().unwrap() & 0o777;
        assert_eq!(mode, if e.is_dir() { 0o755 } else { 0o644 }, "{name}");
        if name.ends_with(".jpg") || e.is_dir() {
            assert_eq!(e.compression(), CompressionMethod::Stored, "{name}");
        } else if e.size() > 0 {
            assert_eq!(e.compression(), CompressionMethod::Deflated, "{name}");
        }
    }
}

#[test]
fn progress_counts_every_payload_byte_written_and_read_back() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let p = sample(dir.path());
    let planned: u64 = p.files.iter().map(|f| f.size).sum();
    let written_bytes = AtomicU64::new(0);
    let verified_bytes = AtomicU64::new(0);
    let out = dir.path().join("p.zip");
    let w = dangan::bag::write_bag_with_progress(&p, &out, &|stage, n| {
        match stage {
            dangan::bag::Stage::Write => written_bytes.fetch_add(n, Ordering::Relaxed),
            dangan::bag::Stage::Verify => verified_bytes.fetch_add(n, Ordering::Relaxed),
        };
    })
    .unwrap();
    assert_eq!(written_bytes.load(Ordering::Relaxed), planned);
    // Read back: the payload plus the tag files.
    let tags: u64 = [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "tagmanifest-sha256.txt",
    ]
    .iter()
    .map(|t| read_entry(&out, &format!("{BAG}/{t}")).len() as u64)
    .sum();
    assert_eq!(verified_bytes.load(Ordering::Relaxed), planned + tags);
    assert_eq!(w.payload_bytes, planned);

    let again = AtomicU64::new(0);
    let r = dangan::bag::verify_zip_with_progress(&out, &|n| {
        again.fetch_add(n, Ordering::Relaxed);
    });
    assert!(r.ok);
    assert_eq!(again.load(Ordering::Relaxed), planned + tags);
}

#[test]
fn same_plan_and_timestamp_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = sample(dir.path());
    let a = dir.path().join("a.zip");
    let b = dir.path().join("b.zip");
    // Files given in another order make no difference either.
    let mut reversed = p.clone();
    reversed.files.reverse();
    let wa = write_bag(&p, &a).unwrap();
    let wb = write_bag(&reversed, &b).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(wa.sha256, wb.sha256);

    let mut later = p.clone();
    later.timestamp += 3600;
    let c = dir.path().join("c.zip");
    write_bag(&later, &c).unwrap();
    assert_ne!(fs::read(&a).unwrap(), fs::read(&c).unwrap());
}

#[test]
fn a_flipped_byte_in_a_stored_payload_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let target =
        format!("{BAG}/data/活动/01-启动仪式/教务科研处/2025-05-07/IMG_20250507_101500.jpg");
    let offset = {
        let mut a = ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
        let e = a.by_name(&target).unwrap();
        assert_eq!(e.compression(), CompressionMethod::Stored);
        e.data_start().unwrap() + 1234
    };
    let damaged = dir.path().join("damaged.zip");
    let mut bytes = fs::read(&out).unwrap();
    bytes[offset as usize] ^= 0x01;
    fs::write(&damaged, &bytes).unwrap();

    let report = verify_zip(&damaged);
    assert!(!report.ok);
    assert_eq!(problem_entries(&report), vec![target.clone()]);
    assert!(
        report.problems[0].reason.contains("CRC-32"),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_truncated_zip_is_a_problem_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let bytes = fs::read(&out).unwrap();
    let cut = dir.path().join("cut.zip");
    fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let report = verify_zip(&cut);
    assert!(!report.ok);
    assert_eq!(problem_entries(&report), vec![cut.display().to_string()]);
    assert!(report.problems[0].reason.contains("截断"));

    let missing = verify_zip(&dir.path().join("nope.zip"));
    assert!(!missing.ok);
    assert!(missing.problems[0].reason.contains("无法打开"));
}

#[test]
fn a_deleted_entry_is_named_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let gone = format!("{BAG}/data/统计/情况统计表.csv");
    let edited = dir.path().join("deleted.zip");
    rewrite(
        &out,
        &edited,
        |n| if n == gone { Edit::Drop } else { Edit::Keep },
        &[],
    );
    let report = verify_zip(&edited);
    assert!(!report.ok);
    assert!(
        problem_entries(&report).contains(&gone),
        "{:?}",
        report.problems
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.entry == gone && p.reason.contains("缺失"))
    );
    // Payload-Oxum no longer matches either.
    assert!(problem_entries(&report).contains(&format!("{BAG}/bag-info.txt")));
}

#[test]
fn an_added_entry_is_named_extra() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let added = format!("{BAG}/data/活动/偷偷加的.jpg");
    let stray = "别处/readme.txt";
    let tag = format!("{BAG}/notes.txt");
    let edited = dir.path().join("added.zip");
    rewrite(
        &out,
        &edited,
        |_| Edit::Keep,
        &[
            (added.as_str(), b"extra"),
            (stray, b"outside"),
            (tag.as_str(), b"unlisted tag file"),
        ],
    );
    let report = verify_zip(&edited);
    assert!(!report.ok);
    let named = problem_entries(&report);
    for e in [&added, &stray.to_string(), &tag] {
        assert!(named.contains(e), "{e} not in {:?}", report.problems);
    }
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.entry == added && p.reason.contains("多余"))
    );
}

#[test]
fn a_changed_manifest_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let manifest_name = format!("{BAG}/manifest-sha256.txt");
    let manifest = String::from_utf8(read_entry(&out, &manifest_name)).unwrap();
    let victim = format!("{BAG}/data/报告/index.html");
    let changed: String = manifest
        .lines()
        .map(|l| {
            if l.ends_with("data/报告/index.html") {
                format!("{}{}\n", "0".repeat(64), &l[64..])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert_ne!(changed, manifest);
    let edited = dir.path().join("manifest.zip");
    rewrite(
        &out,
        &edited,
        |n| {
            if n == manifest_name {
                Edit::Replace(changed.clone().into_bytes())
            } else {
                Edit::Keep
            }
        },
        &[],
    );
    let report = verify_zip(&edited);
    assert!(!report.ok);
    let named = problem_entries(&report);
    // The payload file no longer matches its line, and the manifest no longer matches the
    // tag manifest.
    assert!(named.contains(&victim), "{:?}", report.problems);
    assert!(named.contains(&manifest_name), "{:?}", report.problems);
    assert_eq!(named.len(), 2, "{:?}", report.problems);
}

#[test]
fn every_bad_entry_is_named_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PayloadFile> = (0..20)
        .map(|i| bytes_file(&format!("照片/{i:02}.jpg"), &[i as u8; 3000], false))
        .collect();
    let out = dir.path().join("many.zip");
    write_bag(&plan(files), &out).unwrap();
    let mut bytes = fs::read(&out).unwrap();
    let mut damaged_names = Vec::new();
    {
        let mut a = ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
        for i in [3, 9, 17] {
            let name = format!("{BAG}/data/照片/{i:02}.jpg");
            let start = a.by_name(&name).unwrap().data_start().unwrap() as usize;
            bytes[start + 10] ^= 0xFF;
            damaged_names.push(name);
        }
    }
    let damaged = dir.path().join("damaged.zip");
    fs::write(&damaged, &bytes).unwrap();
    let report = verify_zip(&damaged);
    assert_eq!(problem_entries(&report), damaged_names);
}

#[test]
fn awkward_names_survive_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{}.jpg", "长".repeat(82));
    assert_eq!(long.len(), 250);
    let raw_names: Vec<Vec<u8>> = vec![
        b"line\nbreak.txt".to_vec(),
        b"100%.txt".to_vec(),
        b"back\\slash.txt".to_vec(),
        b"gbk-\xd5\xd5\xc6\xac.jpg".to_vec(), // 照片 in GB18030: not UTF-8
        b"bad-\xd5\xd5\xc6\xac\xff.jpg".to_vec(), // neither UTF-8 nor GB18030
        long.clone().into_bytes(),
        b"..".to_vec(),
        b"tab\there.txt".to_vec(),
    ];
    let wanted: Vec<(String, String)> = raw_names
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            (
                format!("未归类/学生处/{}", safe_component(raw)),
                sha(&[i as u8]),
            )
        })
        .collect();
    let names = assign_unique(wanted.clone());
    let files: Vec<PayloadFile> = names
        .iter()
        .enumerate()
        .map(|(i, n)| bytes_file(n, &[i as u8], false))
        .collect();
    let out = dir.path().join("awkward.zip");
    write_bag(&plan(files), &out).unwrap();
    let report = verify_zip(&out);
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.payload_files, raw_names.len() as u64);

    let in_zip = entry_names(&out);
    for n in &in_zip {
        assert!(!n.contains(['%', '\\', '\n', '\r', '\t']), "{n:?}");
        assert!(!n.split('/').any(|c| c == ".." || c == "."), "{n:?}");
    }
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/{long}")));
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/100％.txt")));
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/back＼slash.txt")));
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/line_break.txt")));
    // A GBK name reads as written (issue 10); bytes that are neither UTF-8 nor GB18030 are
    // decoded lossily: visible U+FFFD, never dropped.
    assert_eq!(safe_component(b"gbk-\xd5\xd5\xc6\xac.jpg"), "gbk-照片.jpg");
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/gbk-照片.jpg")));
    let lossy = safe_component(b"bad-\xd5\xd5\xc6\xac\xff.jpg");
    assert!(lossy.contains('\u{FFFD}'));
    assert!(in_zip.contains(&format!("{BAG}/data/未归类/学生处/{lossy}")));
}

#[test]
fn two_contents_wanting_one_name_both_get_a_short_hash() {
    let dir = tempfile::tempdir().unwrap();
    let a = b"first version".to_vec();
    let b = b"second version".to_vec();
    let path = "活动/01-启动仪式/教务科研处/2025-05-07/合影.jpg".to_string();
    let names = assign_unique(vec![
        (path.clone(), sha(&a)),
        (path.clone(), sha(&b)),
        (path.clone(), sha(&a)),
    ]);
    assert_eq!(names[0], names[2]);
    assert_ne!(names[0], names[1]);
    assert!(names[0].ends_with(&format!("合影~{}.jpg", &sha(&a)[..8])));
    let files = vec![
        bytes_file(&names[0], &a, false),
        bytes_file(&names[1], &b, false),
        bytes_file(&names[2], &a, false), // the same content twice: written once
    ];
    let out = dir.path().join("dups.zip");
    let written = write_bag(&plan(files), &out).unwrap();
    assert_eq!(written.payload_files, 2);
    assert!(verify_zip(&out).ok);
}

#[test]
fn a_payload_that_does_not_match_its_digest_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = sample(dir.path());
    // Damage the store object behind the photo.
    let PayloadSource::File(obj) = &p.files[0].source else {
        panic!("sample starts with a file")
    };
    let mut bytes = fs::read(obj).unwrap();
    bytes[100] ^= 0x55;
    fs::write(obj, &bytes).unwrap();

    let out = dir.path().join("out.zip");
    let err = write_bag(&p, &out).unwrap_err();
    match &err {
        BagError::DigestMismatch { entry, .. } => {
            assert!(entry.ends_with("IMG_20250507_101500.jpg"), "{entry}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("IMG_20250507_101500.jpg"));
    assert!(!out.exists());
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".zip"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A file longer than the catalog says fails too.
    p.files[0].size -= 1;
    assert!(matches!(
        write_bag(&p, &out),
        Err(BagError::SizeMismatch { .. })
    ));
    assert!(!out.exists());
}

#[test]
fn a_failed_rebuild_keeps_the_previous_zip() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let before = fs::read(&out).unwrap();
    let mut broken = sample(dir.path());
    broken.files[1].sha256 = Some(sha(b"something else"));
    assert!(write_bag(&broken, &out).is_err());
    assert_eq!(fs::read(&out).unwrap(), before);
}

#[test]
fn unsafe_or_conflicting_plans_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.zip");
    for bad in [
        "../etc/passwd",
        "/abs.txt",
        "a/../b",
        "a\\b",
        "100%.txt",
        "a//b",
        "",
    ] {
        let err = write_bag(&plan(vec![bytes_file(bad, b"x", true)]), &out).unwrap_err();
        assert!(matches!(err, BagError::Plan { .. }), "{bad}: {err}");
    }
    let err = write_bag(
        &plan(vec![
            bytes_file("a.txt", b"1", true),
            bytes_file("a.txt", b"2", true),
        ]),
        &out,
    )
    .unwrap_err();
    assert!(err.to_string().contains("a.txt"), "{err}");
    let err = write_bag(
        &plan(vec![
            bytes_file("a", b"1", true),
            bytes_file("a/b", b"2", true),
        ]),
        &out,
    )
    .unwrap_err();
    assert!(matches!(err, BagError::Plan { .. }), "{err}");
    let mut upper = plan(vec![]);
    upper.files = vec![PayloadFile {
        sha256: Some(sha(b"x").to_uppercase()),
        ..bytes_file("a.txt", b"x", true)
    }];
    assert!(matches!(
        write_bag(&upper, &out),
        Err(BagError::Plan { .. })
    ));
    let mut clash = plan(vec![]);
    clash
        .info
        .extra
        .push(("payload-oxum".to_string(), "1.1".to_string()));
    assert!(matches!(
        write_bag(&clash, &out),
        Err(BagError::Plan { .. })
    ));
    let mut bad_label = plan(vec![]);
    bad_label
        .info
        .extra
        .push(("Contact Name".to_string(), "x".to_string()));
    assert!(matches!(
        write_bag(&bad_label, &out),
        Err(BagError::Plan { .. })
    ));
    let mut bad_name = plan(vec![]);
    bad_name.bag_name = "a/b".to_string();
    assert!(matches!(
        write_bag(&bad_name, &out),
        Err(BagError::Plan { .. })
    ));
    assert!(!out.exists());
}

#[test]
fn an_empty_payload_is_still_a_valid_bag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("empty.zip");
    let w = write_bag(&plan(vec![]), &out).unwrap();
    assert_eq!((w.payload_files, w.payload_bytes), (0, 0));
    let r = verify_zip(&out);
    assert!(r.ok, "{:?}", r.problems);
    assert!(entry_names(&out).contains(&format!("{BAG}/data/")));
}

#[test]
fn chinese_names_are_readable_by_python_zipfile() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let Some(listing) = python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint('\\n'.join(z.namelist()))",
        &out,
    ) else {
        eprintln!("python3 absent: skipped");
        return;
    };
    assert!(listing.contains(&format!(
        "{BAG}/data/活动/01-启动仪式/教务科研处/2025-05-07/IMG_20250507_101500.jpg"
    )));
    assert!(listing.contains(&format!("{BAG}/data/统计/情况统计表.csv")));
}

#[test]
fn seventy_thousand_entries_make_a_valid_zip64() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PayloadFile> = (0..70_000u32)
        .map(|i| {
            bytes_file(
                &format!("照片/{:03}/{i:05}.jpg", i / 1000),
                &i.to_le_bytes(),
                false,
            )
        })
        .collect();
    let out = dir.path().join("big.zip");
    // write_bag has read the zip back and verified every entry before returning.
    let w = write_bag(&plan(files), &out).unwrap();
    assert_eq!(w.payload_files, 70_000);
    let a = ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
    assert_eq!(a.len(), 70_005);
    drop(a);
    // The zip64 end-of-central-directory record and its locator end the file.
    let bytes = fs::read(&out).unwrap();
    let tail = &bytes[bytes.len() - 200..];
    assert!(tail.windows(4).any(|w| w == b"PK\x06\x06"));
    assert!(tail.windows(4).any(|w| w == b"PK\x06\x07"));
    if let Some(n) = python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(len(z.namelist()))",
        &out,
    ) {
        assert_eq!(n.trim(), "70005");
    }
    // 7-Zip too, where it is installed (.ci/run installs p7zip-full).
    match std::process::Command::new("7z").arg("t").arg(&out).output() {
        Ok(o) => assert!(
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains("Everything is Ok"),
            "7z t: {}",
            String::from_utf8_lossy(&o.stdout)
        ),
        Err(_) => eprintln!("note: 7z not installed; its check of the zip64 archive skipped"),
    }
}

/// bagit-python's own validation of the unpacked bag. Needs `pip install bagit`; CI runs it with
/// `--include-ignored`.
#[test]
#[ignore = "needs python3 with bagit-python (pip install bagit)"]
fn bagit_python_validates_the_unpacked_bag() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{}.jpg", "长".repeat(82));
    let mut p = sample(dir.path());
    for (i, raw) in [
        b"line\nbreak.txt".to_vec(),
        b"100%.txt".to_vec(),
        b"back\\slash.txt".to_vec(),
        b"gbk-\xd5\xd5\xc6\xac.jpg".to_vec(),
        long.into_bytes(),
        "全角　空格　.txt".as_bytes().to_vec(),
    ]
    .iter()
    .enumerate()
    {
        p.files.push(bytes_file(
            &format!("未归类/学生处/{}", safe_component(raw)),
            &[i as u8; 10],
            false,
        ));
    }
    let out = dir.path().join(format!("{BAG}.zip"));
    write_bag(&p, &out).unwrap();
    let unpacked = dir.path().join("unpacked");
    python(
        "import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[1] + '.d')",
        &out,
    )
    .expect("python3 is needed");
    fs::rename(format!("{}.d", out.display()), &unpacked).unwrap();
    let bag_dir = unpacked.join(BAG);
    // `python3 -m bagit` works with the single-module releases; calling main() works with both
    // the module and the package layout.
    let status = Command::new("python3")
        .arg("-c")
        .arg("import sys, bagit; sys.argv = ['bagit', '--validate', sys.argv[1]]; bagit.main()")
        .arg(&bag_dir)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "bagit-python rejected {}",
        bag_dir.display()
    );
}

#[test]
fn hostile_entry_names_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let edited = dir.path().join("hostile.zip");
    let evil = [
        format!("{BAG}/data/../../etc/passwd"),
        "/abs/path.txt".to_string(),
        format!("{BAG}/data/back\\slash.txt"),
        format!("{BAG}/data/ctl\u{1}.txt"),
    ];
    let extra: Vec<(&str, &[u8])> = evil.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    rewrite(&out, &edited, |_| Edit::Keep, &extra);
    let report = verify_zip(&edited);
    assert!(!report.ok);
    let named = problem_entries(&report);
    for e in &evil {
        assert!(
            named.contains(e),
            "{e:?} not named in {:?}",
            report.problems
        );
    }
}

/// Whatever bytes of a bag get damaged, verify reports instead of panicking; a flipped bit
/// inside any entry's data, or a cut anywhere, is never reported as a clean bag.
#[test]
fn random_damage_never_panics_and_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let good = fs::read(&out).unwrap();
    let data_ranges: Vec<std::ops::Range<usize>> = {
        let mut a = ZipArchive::new(fs::File::open(&out).unwrap()).unwrap();
        (0..a.len())
            .map(|i| {
                let e = a.by_index(i).unwrap();
                let start = e.data_start().unwrap() as usize;
                start..start + e.compressed_size() as usize
            })
            .collect()
    };
    let damaged = dir.path().join("random.zip");
    let mut seed: u64 = 0x2025_0507;
    let mut in_data = 0;
    for round in 0..150 {
        // xorshift: a fixed sequence, so a failure repeats
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut bytes = good.clone();
        let at = (seed % bytes.len() as u64) as usize;
        let cut = round % 10 == 0;
        if cut {
            bytes.truncate(at);
        } else {
            bytes[at] ^= 1 << (seed >> 61);
        }
        fs::write(&damaged, &bytes).unwrap();
        let report = verify_zip(&damaged);
        if cut {
            assert!(!report.ok, "round {round}: cut at {at} but ok");
        } else if data_ranges.iter().any(|r| r.contains(&at)) {
            in_data += 1;
            assert!(!report.ok, "round {round}: bit flipped at {at} but ok");
        }
    }
    assert!(in_data > 50, "only {in_data} flips landed in entry data");
}

#[test]
fn temp_files_of_a_killed_run_can_be_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let stale = dir.path().join(".dangan-bag-AbC123.zip.tmp");
    fs::write(&stale, b"half a zip").unwrap();
    let (out, _) = write_sample(dir.path());
    let removed = dangan::bag::remove_stale_temp_files(dir.path()).unwrap();
    assert_eq!(removed, vec![stale.clone()]);
    assert!(!stale.exists());
    assert!(out.exists());
}

/// `verify` of `bytes` written to a file beside the sample.
fn verify_bytes(dir: &Path, bytes: &[u8]) -> VerifyReport {
    let path = dir.join("altered.zip");
    fs::write(&path, bytes).unwrap();
    verify_zip(&path)
}

fn reasons(r: &VerifyReport) -> String {
    r.problems
        .iter()
        .map(|p| format!("{}: {}", p.entry, p.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn verify_is_strict_about_the_frame_and_the_tag_files() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write_sample(dir.path());
    let good = fs::read(&out).unwrap();
    assert!(verify_bytes(dir.path(), &good).ok);

    // An extra tag file, not in the tag manifest, named like one.
    let extra = dir.path().join("extra.zip");
    fs::write(&extra, &good).unwrap();
    {
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&extra)
            .unwrap();
        let mut w = ZipWriter::new_append(f).unwrap();
        w.start_file(
            format!("{BAG}/tagmanifest-evil.txt"),
            SimpleFileOptions::default(),
        )
        .unwrap();
        w.write_all(b"evil\n").unwrap();
        w.finish().unwrap();
    }
    let r = verify_zip(&extra);
    assert!(!r.ok);
    assert!(
        reasons(&r).contains("tagmanifest-evil.txt: 不是 BagIt 1.0 定义的标签文件"),
        "{}",
        reasons(&r)
    );

    // Junk before the first entry.
    let mut prepended = b"MZ junk before the zip".to_vec();
    prepended.extend_from_slice(&good);
    let r = verify_bytes(dir.path(), &prepended);
    assert!(
        !r.ok && reasons(&r).contains("第一个条目之前有多余的字节"),
        "{}",
        reasons(&r)
    );

    // Junk after the end of the central directory.
    let mut appended = good.clone();
    appended.extend_from_slice(b"trailing junk");
    let r = verify_bytes(dir.path(), &appended);
    assert!(
        !r.ok && reasons(&r).contains("结尾之后还有 13 字节"),
        "{}",
        reasons(&r)
    );

    // A zip comment.
    let mut commented = good.clone();
    let n = commented.len();
    commented[n - 2..].copy_from_slice(&7u16.to_le_bytes());
    commented.extend_from_slice(b"comment");
    let r = verify_bytes(dir.path(), &commented);
    assert!(
        !r.ok && reasons(&r).contains("带有注释（7 字节）"),
        "{}",
        reasons(&r)
    );

    // Cut by 100 bytes: said to be truncated, and nothing else (no inner workbook's entries).
    let cut = &good[..good.len() - 100];
    let r = verify_bytes(dir.path(), cut);
    assert!(!r.ok);
    assert_eq!(r.problems.len(), 1, "{}", reasons(&r));
    assert!(reasons(&r).contains("截断"), "{}", reasons(&r));
}
