//! What departments send besides photos and sheets: scans of sign-in sheets, PDF and Word
//! 97–2003 documents, GBK names.

use crate::support::*;
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
    r.stdout_has("教务科研处/启动仪式/颁奖合影.jpg\t");
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
    let r = env.run_at(
        "1767139200",
        &["archive", "--year", "2025", "--out", out.to_str().unwrap()],
    );
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

fn fixture(name: &str) -> Vec<u8> {
    crate::support::fixture("documents", name)
}

/// The report page of the activity whose page contains `needle`.
fn page_with(env: &Env, needle: &str) -> String {
    let r = env.run(&["report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for e in std::fs::read_dir(env.archive.join("报告"))
        .unwrap()
        .flatten()
    {
        let page = std::fs::read_to_string(e.path()).unwrap_or_default();
        if e.file_name().to_string_lossy().starts_with("activity-") && page.contains(needle) {
            return page;
        }
    }
    panic!("no activity page contains {needle}");
}

#[test]
fn a_text_pdf_gives_its_date_and_the_summary_excerpt() {
    let env = Env::new();
    let path = "马克思主义学院/红色思政课/五四红色思政课活动总结.pdf";
    env.put(path, &fixture("summary.pdf"));
    env.import(0);
    let e = env.entry(path);
    assert_eq!(e["kind"], "document");
    assert_eq!(e["date"], "2025-05-04", "{e}");
    assert_eq!(e["date_source"], "document");
    let page = page_with(&env, "红色思政课活动总结.pdf");
    assert!(page.contains("马克思主义学院组织师生开展"), "{page}");
    assert!(!page.contains("尚未收到总结"), "{page}");
}

#[test]
fn a_scanned_pdf_says_it_is_a_scan_instead_of_not_received() {
    let env = Inbox::new().put(
        "马克思主义学院/红色思政课/活动总结（扫描）.pdf",
        fixture("scan.pdf"),
    );
    env.import(0);
    let page = page_with(&env, "活动总结（扫描）.pdf");
    assert!(page.contains("扫描件，无文字"), "{page}");
    assert!(!page.contains("尚未收到总结"), "{page}");
}

#[test]
fn word_97_and_wps_documents_give_their_text_and_date() {
    let env = Env::new();
    let doc = fixture("plan.doc");
    env.put("党政办公室/职教发展研讨/活动方案.doc", &doc);
    env.put("党政办公室/职教发展研讨/活动方案（WPS）.wps", &doc);
    let s = env.import(0);
    assert_eq!(s["problems"], 0, "{s}");
    for p in ["活动方案.doc", "活动方案（WPS）.wps"] {
        let e = env.entry(&format!("党政办公室/职教发展研讨/{p}"));
        assert_eq!(e["kind"], "document", "{e}");
        assert_eq!(e["date"], "2025-05-12", "{e}");
        assert_eq!(e["date_source"], "document", "{e}");
    }
}

#[test]
fn a_hostile_pdf_costs_its_own_text_only() {
    let env = Inbox::new()
        .put("学生处/主题班会/总结.pdf", fixture("bomb.pdf"))
        .put(
            "学生处/主题班会/坏的总结.pdf",
            b"%PDF-1.7\n garbage \x00\xff",
        )
        .put("学生处/主题班会/合影.jpg", jpeg(9));
    let s = env.import(0);
    assert_eq!(s["new"], 3, "{s}");
    let bomb = env.entry("学生处/主题班会/总结.pdf");
    assert!(problems(&bomb).contains("未提取文字"), "{bomb}");
    let bad = env.entry("学生处/主题班会/坏的总结.pdf");
    assert!(problems(&bad).contains("未提取文字"), "{bad}");
}

#[test]
fn a_document_titled_with_the_material_counts_whatever_its_name() {
    let env = Inbox::new()
        .put("党政办公室/职教发展研讨/材料一.doc", fixture("plan.doc"))
        .put("党政办公室/职教发展研讨/附件.pdf", fixture("summary.pdf"));
    env.import(0);
    let owed: Vec<String> = check(&env)["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["activity"] == "党政领导讲职教")
        .flat_map(|m| m["materials"].as_array().unwrap().clone())
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(!owed.contains(&"方案".to_string()), "{owed:?}");
    assert!(!owed.contains(&"总结".to_string()), "{owed:?}");
    assert!(owed.contains(&"照片".to_string()), "{owed:?}");
}
