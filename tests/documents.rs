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
