//! Every step of the date chain, through the real binary: the date a file gets and the step
//! that gave it, as `dangan list --json` reports them.

use crate::support::*;

/// A minimal MP4: ftyp, a large mdat, then moov/mvhd (version 0) with `created` seconds since 1904.
fn mp4(created_1904: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&20u32.to_be_bytes());
    out.extend_from_slice(b"ftypisom\0\0\x02\0isom");
    let mdat = vec![0u8; 300 * 1024];
    out.extend_from_slice(&((mdat.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    out.extend_from_slice(&mdat);
    let mut mvhd = vec![0u8; 4]; // version 0, flags
    mvhd.extend_from_slice(&created_1904.to_be_bytes());
    mvhd.extend_from_slice(&created_1904.to_be_bytes()); // modified
    mvhd.extend_from_slice(&1000u32.to_be_bytes()); // timescale
    mvhd.extend_from_slice(&5000u32.to_be_bytes()); // duration
    mvhd.extend_from_slice(&[0u8; 80]);
    let mvhd_box_len = (mvhd.len() + 8) as u32;
    out.extend_from_slice(&(mvhd_box_len + 8).to_be_bytes());
    out.extend_from_slice(b"moov");
    out.extend_from_slice(&mvhd_box_len.to_be_bytes());
    out.extend_from_slice(b"mvhd");
    out.extend_from_slice(&mvhd);
    out
}

const SECONDS_1904_TO_1970: u32 = 2_082_844_800;

#[test]
fn each_step_of_the_chain_names_its_source() {
    let env = Env::new();
    let d = "学生处/材料/";
    let full = Exif {
        original: Some("2025:05:12 10:00:00"),
        digitized: Some("2025:05:13 10:00:00"),
        datetime: Some("2025:05:14 10:00:00"),
        offset_original: Some("+08:00"),
        ..Default::default()
    };
    env.put(&format!("{d}a_exif.jpg"), &jpeg_with_exif(1, &full));
    let digitized = Exif {
        digitized: Some("2025:05:13 10:00:00"),
        datetime: Some("2025:05:14 10:00:00"),
        ..Default::default()
    };
    env.put(
        &format!("{d}b_digitized.jpg"),
        &jpeg_with_exif(2, &digitized),
    );
    let datetime = Exif {
        datetime: Some("2025:05:14 10:00:00"),
        ..Default::default()
    };
    env.put(&format!("{d}c_datetime.jpg"), &jpeg_with_exif(3, &datetime));
    // 2025-05-15T02:00:00Z = 10:00 in +08:00.
    env.put(
        &format!("{d}d_video.mp4"),
        &mp4(SECONDS_1904_TO_1970 + 1_747_274_400),
    );
    env.put(&format!("{d}IMG_20250516_101500.jpg"), &jpeg(5));
    env.put(
        &format!("{d}f_summary.txt"),
        "活动总结\n2025年5月17日\n内容……".as_bytes(),
    );
    env.put(&format!("{d}g_mtime.jpg"), &jpeg(7));
    env.set_mtime(&format!("{d}g_mtime.jpg"), 1_747_447_200); // 2025-05-17T02:00Z
    env.import(0);
    let check = |name: &str, date: &str, source: &str| {
        let e = env.entry(&format!("{d}{name}"));
        assert_eq!(
            (e["date"].as_str(), e["date_source"].as_str()),
            (Some(date), Some(source)),
            "{name}: {e}"
        );
    };
    check("a_exif.jpg", "2025-05-12", "exif");
    check("b_digitized.jpg", "2025-05-13", "exif_digitized");
    check("c_datetime.jpg", "2025-05-14", "exif_datetime");
    check("d_video.mp4", "2025-05-15", "video");
    check("IMG_20250516_101500.jpg", "2025-05-16", "filename");
    check("f_summary.txt", "2025-05-17", "document");
    check("g_mtime.jpg", "2025-05-17", "mtime");
    let e = env.entry(&format!("{d}d_video.mp4"));
    assert_eq!(e["kind"], "video");
}

#[test]
fn an_unset_camera_clock_is_skipped_for_the_file_name_date() {
    let env = Env::new();
    let unset = Exif {
        original: Some("1970:01:01 08:00:00"),
        ..Default::default()
    };
    env.put(
        "教务科研处/IMG_20250507_093000.jpg",
        &jpeg_with_exif(1, &unset),
    );
    env.import(0);
    let e = env.entry("教务科研处/IMG_20250507_093000.jpg");
    assert_eq!(e["date"], "2025-05-07");
    assert_eq!(e["date_source"], "filename");
    // The ignored date is reported, and the date decides the activity (the launch on 05-07).
    assert_eq!(e["activity"], "启动仪式");
    assert_eq!(e["activity_rule"], "date");
    assert!(e["problems"].to_string().contains("1970"), "{e}");
}

#[test]
fn an_mmexport_stamp_is_read_in_local_time() {
    let env = Inbox::new()
        // 1746554400000 ms = 2025-05-06T18:00:00Z = 2025-05-07 02:00 in +08:00.
        .put("教务科研处/mmexport1746554400000.jpg", jpeg(1))
        .put("教务科研处/wx_camera_1746554400000.jpg", jpeg(2));
    env.import(0);
    for name in ["mmexport1746554400000.jpg", "wx_camera_1746554400000.jpg"] {
        let e = env.entry(&format!("教务科研处/{name}"));
        assert_eq!(e["date"], "2025-05-07", "{e}");
        assert_eq!(e["date_source"], "filename");
    }
    // Another configured offset moves the day, at the next run, without importing again: the
    // date is a judgement of the stored facts.
    env.write_config(&builtin_with(
        "utc_offset = \"+08:00\"",
        "utc_offset = \"+00:00\"",
    ));
    assert_eq!(
        env.entry("教务科研处/mmexport1746554400000.jpg")["date"],
        "2025-05-06"
    );
}

#[test]
fn content_decides_the_kind_with_a_warning() {
    let env = Env::new();
    // A .jpg that is a PNG, and a .xlsx that is text.
    let mut png = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    env.put("学生处/photo.jpg", &png);
    env.put("学生处/签到表.xlsx", "姓名,学号\n张三,1\n".as_bytes());
    // A truncated JPEG is stored, with a problem.
    let whole = jpeg(9);
    env.put("学生处/cut.jpg", &whole[..whole.len() / 2]);
    let s = env.import(0);
    assert_eq!(s["new"], 3);
    assert_eq!(s["problems"], 3);
    let e = env.entry("学生处/photo.jpg");
    assert_eq!(e["kind"], "photo");
    assert!(e["problems"].to_string().contains("PNG"), "{e}");
    let e = env.entry("学生处/签到表.xlsx");
    assert_eq!(e["kind"], "other");
    assert!(e["problems"].to_string().contains("文本"), "{e}");
    let e = env.entry("学生处/cut.jpg");
    assert_eq!(e["kind"], "photo");
    assert!(e["problems"].to_string().contains("不完整"), "{e}");
}

/// The real photos of the corpus import without a panic, and where ExifTool reports an EXIF
/// DateTimeOriginal (a plausible one: from 2000-01-02 on), our date is its day.
#[test]
fn corpus_photos_import_with_exiftools_dates() {
    let Some(corpus) = corpus("photos") else {
        return;
    };
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(corpus.join("reference.json")).unwrap()).unwrap();
    let env = Env::new();
    let dept = env.inbox.join("融媒体中心");
    let mut expected = Vec::new();
    for f in reference["files"].as_array().unwrap() {
        let rel = f["path"].as_str().unwrap();
        let src = corpus.join(rel);
        if !src.is_file() {
            continue;
        }
        let dst = dept.join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
        // The summary's EXIF DateTimeOriginal (ExifTool's EXIF groups; not XMP, PNG or maker notes).
        let original = f["summary"]["exif_DateTimeOriginal"]
            .as_str()
            .map(String::from);
        if let Some(o) = original {
            let day = o.get(..10).unwrap_or("").replace(':', "-");
            if day.as_str() >= "2000-01-02" && day.as_str() < "2026-01-01" {
                expected.push((format!("融媒体中心/{rel}"), day));
            }
        }
    }
    let r = env.run(&["import", "--json"]);
    assert!(r.code == 0 || r.code == 3, "{} {}", r.stdout, r.stderr);
    let listed = env.list();
    assert!(listed.len() >= 100, "only {} listed", listed.len());
    let mut matched = 0;
    for (path, day) in &expected {
        let e = listed.iter().find(|v| v["path"] == path.as_str());
        let e = e.unwrap_or_else(|| panic!("{path} not cataloged"));
        if path.ends_with(".jxl") {
            continue; // JPEG XL is no photo format of DESIGN.md: stored, not read.
        }
        assert_eq!(e["date"].as_str(), Some(day.as_str()), "{path}: {e}");
        matched += 1;
    }
    assert!(matched >= 50, "only {matched} reference dates compared");
}
