//! What departments send besides photos and sheets: scans of sign-in sheets, PDF and Word
//! 97–2003 documents, GBK names.

mod common;

use common::*;
use serde_json::Value;

fn check(env: &Env) -> Value {
    let r = env.run(&["check", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(r.stdout.trim()).unwrap()
}

/// What 启动仪式 (教务科研处) still lacks.
fn lacking(env: &Env) -> Vec<String> {
    check(env)["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["activity"] == "启动仪式" && m["department"] == "教务科研处")
        .flat_map(|m| m["materials"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_scanned_sign_in_sheet_is_the_sign_in_material_not_a_photo() {
    let env = Env::new();
    env.put("教务科研处/启动仪式/会场.jpg", &jpeg(1));
    let before = {
        env.import(0);
        lacking(&env)
    };
    assert!(before.contains(&"签到表".to_string()), "{before:?}");
    // A scanned TIFF alone: 签到表 is there, 照片 is not.
    let env = Env::new();
    env.put(
        "教务科研处/启动仪式/签到表.tif",
        b"II*\0\x08\0\0\0\0\0\0\0\0\0\0\0",
    );
    env.import(0);
    let owed = lacking(&env);
    assert!(!owed.contains(&"签到表".to_string()), "{owed:?}");
    assert!(owed.contains(&"照片".to_string()), "{owed:?}");
    // A scanned PDF counts the same way, and neither adds people.
    env.put(
        "教务科研处/启动仪式/签到表扫描件.pdf",
        b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    );
    env.import(0);
    let r = env.run(&["stats", "--json"]);
    let stats: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(stats["participants"], 0, "{stats}");
    // The report lists both as scans, not among the photos.
    let r = env.run(&["report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(env.archive.join("报告/activity-01.html")).unwrap();
    assert!(page.contains("签到表扫描件（2 个）"), "{page}");
    assert!(page.contains("照片与视频（0 个"), "{page}");
}

#[test]
fn gbk_names_are_shown_decoded_and_kept_raw() {
    let env = Env::new();
    let mut rel = "教务科研处/启动仪式/".as_bytes().to_vec();
    rel.extend(gbk("颁奖合影.jpg"));
    let p = raw_path(&env.inbox, &rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &p,
        jpeg_with_exif(
            5,
            &Exif {
                original: Some("2025:05:07 10:00:00"),
                ..Exif::default()
            },
        ),
    )
    .unwrap();
    env.import(0);
    // The terminal reads the name; list --json keeps the lossless \xNN form.
    let r = env.run(&["list"]);
    assert!(
        r.stdout.contains("教务科研处/启动仪式/颁奖合影.jpg\t"),
        "{}",
        r.stdout
    );
    let escaped = "教务科研处/启动仪式/\\xB0佱\\xBA\\xCFӰ.jpg";
    let e = env.entry(escaped);
    assert_eq!(e["activity"], "启动仪式");
    // The report.
    let r = env.run(&["report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(env.archive.join("报告/activity-01.html")).unwrap();
    assert!(page.contains("颁奖合影.jpg"), "{page}");
    assert!(!page.contains("\\xB0"), "{page}");
    // The year-end bag names the entry as written; 文件索引.csv keeps the raw path.
    let out = env.dir.path().join("bag.zip");
    let mut c = env.command(&["archive", "--year", "2025", "--out", out.to_str().unwrap()]);
    c.env("SOURCE_DATE_EPOCH", "1767139200");
    let r: Run = c.output().unwrap().into();
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let mut z = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = z.file_names().map(|n| n.unwrap().into_owned()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.ends_with("/教务科研处/2025-05-07/颁奖合影.jpg")),
        "{names:?}"
    );
    let index = names
        .iter()
        .find(|n| n.ends_with("data/统计/文件索引.csv"))
        .unwrap()
        .clone();
    let mut csv = String::new();
    std::io::Read::read_to_string(&mut z.by_name(&index).unwrap(), &mut csv).unwrap();
    assert!(csv.contains(escaped), "{csv}");
}
