//! Real photos from public test suites (shared/corpus/photos) through detect + extract: no
//! panic on any of them, EXIF DateTimeOriginal equal to what ExifTool reads, and the broken
//! files reported as problems.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use dangan::detect::detect;
use dangan::extract::{ExtractOptions, Extracted, extract};
use dangan::model::{DateSource, Format};

const HEAD: u64 = 256 * 1024;

fn corpus() -> Option<PathBuf> {
    crate::support::corpus("photos")
}

fn head_of(path: &Path) -> Vec<u8> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .take(HEAD)
        .read_to_end(&mut head)
        .unwrap();
    head
}

fn run(path: &Path) -> (Format, Option<String>, Extracted) {
    let head = head_of(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let detected = detect(&head, &name, path);
    let extracted = extract(detected.format, &head, path, &ExtractOptions::default());
    (detected.format, detected.warning, extracted)
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Files whose EXIF DateTimeOriginal we do not read, each for a stated reason.
const KNOWN_EXCEPTIONS: &[(&str, &str)] = &[
    // JPEG XL is not a format dangan catalogs as a photo (no magic for it in DESIGN.md):
    // it is stored as "other", without EXIF.
    ("jxl/test_0001.jxl", "JPEG XL is not detected as a photo"),
];

#[test]
fn every_photo_runs_without_panic_and_exif_dates_match_exiftool() {
    let Some(dir) = corpus() else { return };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for f in reference["files"].as_array().unwrap() {
        if let Some(d) = f["exiftool_g1"]["ExifIFD:DateTimeOriginal"].as_str() {
            expected.insert(f["path"].as_str().unwrap().to_string(), d.to_string());
        }
    }
    let mut matched = 0;
    let mut mismatches = Vec::new();
    for path in all_files(&dir) {
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (format, warning, out) = run(&path);
        if warning.is_some() || !out.problems.is_empty() {
            eprintln!("{rel}: {format:?} {warning:?} {:?}", out.problems);
        }
        let Some(want) = expected.get(&rel) else {
            continue;
        };
        let got = out
            .dates
            .iter()
            .find(|d| d.source == DateSource::Exif)
            .map(|d| d.when.format("%Y:%m:%d %H:%M:%S").to_string());
        if got.as_deref() == Some(want.as_str()) {
            matched += 1;
        } else if !KNOWN_EXCEPTIONS.iter().any(|(p, _)| *p == rel) {
            mismatches.push(format!("{rel} ({format:?}): want {want}, got {got:?}"));
        }
    }
    eprintln!(
        "EXIF DateTimeOriginal matched {matched} / {} files ({} known exceptions)",
        expected.len(),
        KNOWN_EXCEPTIONS.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(matched + KNOWN_EXCEPTIONS.len(), expected.len());
}

/// Compares every field ExifTool reports (EXIF group only) with ours, and lists the
/// differences as `path field: want …, got …`.
fn field_mismatches(rel: &str, reference: &serde_json::Value, out: &Extracted) -> Vec<String> {
    let g = &reference["exiftool_g1"];
    let mut diffs = Vec::new();
    let date_of = |source: DateSource| {
        out.dates
            .iter()
            .find(|d| d.source == source)
            .map(|d| d.when.format("%Y:%m:%d %H:%M:%S").to_string())
    };
    let mut check = |field: &str, want: Option<String>, got: Option<String>| {
        if want.is_some() && want != got {
            diffs.push(format!("{rel} {field}: want {want:?}, got {got:?}"));
        }
    };
    let s = |k: &str| g[k].as_str().map(str::to_string);
    let n = |k: &str| g[k].as_u64().map(|v| v.to_string());
    check(
        "CreateDate",
        s("ExifIFD:CreateDate"),
        date_of(DateSource::ExifDigitized),
    );
    check(
        "ModifyDate",
        s("IFD0:ModifyDate"),
        date_of(DateSource::ExifDatetime),
    );
    let exif_offset = out
        .dates
        .iter()
        .find(|d| d.source == DateSource::Exif)
        .and_then(|d| d.offset.clone());
    check(
        "OffsetTimeOriginal",
        s("ExifIFD:OffsetTimeOriginal"),
        exif_offset,
    );
    check(
        "Orientation",
        n("IFD0:Orientation"),
        out.orientation.map(|o| o.to_string()),
    );
    let width = n("File:ImageWidth").or_else(|| n("IFD0:ImageWidth"));
    let height = n("File:ImageHeight").or_else(|| n("IFD0:ImageHeight"));
    check("ImageWidth", width, out.width.map(|v| v.to_string()));
    check("ImageHeight", height, out.height.map(|v| v.to_string()));
    let thumb = g["IFD1:ThumbnailLength"].as_u64().is_some_and(|l| l > 0);
    check(
        "Thumbnail",
        Some(thumb.to_string()),
        Some(out.has_thumbnail.to_string()),
    );
    diffs
}

#[test]
fn other_exif_fields_match_exiftool() {
    let Some(dir) = corpus() else { return };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let mut diffs = Vec::new();
    let mut compared = 0;
    for f in reference["files"].as_array().unwrap() {
        let rel = f["path"].as_str().unwrap();
        let (format, _, out) = run(&dir.join(rel));
        if format.kind() != dangan::model::Kind::Photo {
            continue;
        }
        compared += 1;
        diffs.extend(field_mismatches(rel, f, &out));
    }
    eprintln!("compared {compared} photos, {} differences", diffs.len());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn iphone_heic_offset_is_kept_not_applied() {
    let Some(dir) = corpus() else { return };
    let (format, _, out) = run(&dir.join("exif-samples/heic/IMG_5195.HEIC"));
    assert_eq!(format, Format::Heic);
    let exif = out
        .dates
        .iter()
        .find(|d| d.source == DateSource::Exif)
        .expect("an EXIF date");
    assert_eq!(exif.offset.as_deref(), Some("-05:00"));
}

#[test]
fn nokia_jpeg_keeps_plus_three_offset_and_size() {
    let Some(dir) = corpus() else { return };
    let (format, _, out) = run(&dir.join("jpg/mobile/HMD_Nokia_8.3_5G.jpg"));
    assert_eq!(format, Format::Jpeg);
    let exif = &out.dates[0];
    assert_eq!(exif.source, DateSource::Exif);
    assert_eq!(exif.when.to_string(), "2022-08-14 14:12:31");
    assert_eq!(exif.offset.as_deref(), Some("+03:00"));
    assert!(out.width.is_some() && out.height.is_some());
    assert_eq!(out.problems, Vec::<String>::new());
}

#[test]
fn orientation_samples_read_their_orientation() {
    let Some(dir) = corpus() else { return };
    for n in 1..=8u16 {
        for kind in ["landscape", "portrait"] {
            let (_, _, out) = run(&dir.join(format!("jpg/orientation/{kind}_{n}.jpg")));
            assert_eq!(out.orientation, Some(n), "{kind}_{n}");
        }
    }
}

/// `jpg/invalid/` is "invalid" for exif-py (an XMP APP1 where it expected EXIF, no EXIF at
/// all), and `corrupted.jpg` is named for an exif-py bug report (ExifTool reads it without a
/// warning): the images themselves are whole — the image crate decodes every one of them. So: no panic, no EXIF date, and no invented problem.
#[test]
fn exif_py_invalid_files_are_whole_images_without_exif() {
    let Some(dir) = corpus() else { return };
    let invalid = all_files(&dir.join("jpg/invalid"));
    let jpegs: Vec<_> = invalid
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    assert_eq!(jpegs.len(), 7);
    for path in jpegs {
        let (format, warning, out) = run(path);
        assert_eq!(format, Format::Jpeg);
        assert_eq!(warning, None);
        assert_eq!(out.dates, vec![], "{}", path.display());
        assert_eq!(out.problems, Vec::<String>::new(), "{}", path.display());
        assert!(out.width.is_some());
    }
    let (_, _, out) = run(&dir.join("jpg/invalid/image00971.jpg"));
    assert_eq!((out.width, out.height), (Some(636), Some(227)));
    let (_, _, out) = run(&dir.join("jpg/corrupted.jpg"));
    assert_eq!(out.dates[0].when.to_string(), "2015-09-08 11:02:17");
    assert!(out.has_thumbnail);
    assert_eq!(out.problems, Vec::<String>::new());
}

/// A real camera JPEG cut short (as by an interrupted copy) is reported, and its EXIF date
/// still counts.
#[test]
fn truncated_camera_jpeg_is_a_problem_and_keeps_its_date() {
    let Some(dir) = corpus() else { return };
    let bytes = std::fs::read(dir.join("jpg/corrupted.jpg")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cut = tmp.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (format, _, out) = run(&cut);
    assert_eq!(format, Format::Jpeg);
    assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
    assert!(out.problems[0].starts_with("图片不完整或已损坏"));
    assert_eq!(out.dates[0].source, DateSource::Exif);
    assert_eq!(out.dates[0].when.to_string(), "2015-09-08 11:02:17");
    assert_eq!((out.width, out.height), (Some(3648), Some(2736)));
}

/// Files of calamine's suite that are not what their extension says, what we make of them,
/// and a word the warning must contain.
const SHEET_EXCEPTIONS: &[(&str, Format, &str)] = &[
    // Password-protected OOXML is an OLE file with an EncryptedPackage stream.
    ("pass_protected.xlsx", Format::Xlsx, "加密"),
    ("pass_protected.xlsb", Format::Xlsb, "加密"),
    // A 68-byte text file ("Attachment … not found!") named .xls.
    ("too_small.xls", Format::Unknown, "纯文本"),
];

/// Spreadsheets from calamine's test suite are detected as what their extension says, except
/// where the content really is something else (each listed with why).
#[test]
fn spreadsheets_are_detected_by_content() {
    let Some(dir) = crate::support::corpus("spreadsheets") else {
        return;
    };
    let mut wrong = Vec::new();
    let mut seen = 0;
    for path in all_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let want = match path.extension().and_then(|e| e.to_str()) {
            Some("xlsx") => Format::Xlsx,
            Some("xlsm") => Format::Xlsm,
            Some("xlsb") => Format::Xlsb,
            Some("xls") => Format::Xls,
            Some("ods") => Format::Ods,
            _ => continue,
        };
        seen += 1;
        let head = head_of(&path);
        let d = detect(&head, &name, &path);
        let exception = SHEET_EXCEPTIONS.iter().find(|(n, ..)| *n == name);
        if let Some((_, format, warning)) = exception {
            assert_eq!(d.format, *format, "{name}");
            assert!(
                d.warning.as_deref().unwrap_or("").contains(warning),
                "{name}: {d:?}"
            );
            continue;
        }
        if d.format != want || d.warning.is_some() {
            wrong.push(format!("{name}: {:?} {:?}", d.format, d.warning));
        }
    }
    eprintln!(
        "{seen} spreadsheets, {} not as their extension says",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// With only the first 4 KiB in memory (a head shorter than the EXIF block), the same dates
/// and sizes come out: what lies beyond the head is read from the full file.
#[test]
fn a_short_head_reads_the_rest_from_the_file() {
    let Some(dir) = corpus() else { return };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let mut compared = 0;
    for f in reference["files"].as_array().unwrap() {
        let rel = f["path"].as_str().unwrap();
        let path = dir.join(rel);
        let head = head_of(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let format = detect(&head, &name, &path).format;
        if format.kind() != dangan::model::Kind::Photo {
            continue;
        }
        let opts = ExtractOptions::default();
        let whole = extract(format, &head, &path, &opts);
        let short = extract(format, &head[..head.len().min(4096)], &path, &opts);
        assert_eq!(short.dates, whole.dates, "{rel}");
        assert_eq!(
            (short.width, short.height),
            (whole.width, whole.height),
            "{rel}"
        );
        assert_eq!(short.problems, whole.problems, "{rel}");
        compared += 1;
    }
    assert!(compared > 100, "{compared}");
}
