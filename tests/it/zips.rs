//! Zips a department drops: each member a file of its own, with its own object, dates and
//! activity, under `…/<archive name>/<member path>`; names decoded; limits while inflating.

use crate::support::*;
use serde_json::Value;

const ZIP: &str = "信息工程学院/技能大赛/信息工程学院技能大赛照片.zip";

fn member(name: &[u8], data: Vec<u8>) -> ZipMember {
    ZipMember {
        deflate: true,
        ..ZipMember::new(name, data)
    }
}

fn listed(env: &Env, path: &str) -> Vec<Value> {
    env.list()
        .into_iter()
        .filter(|v| v["path"] == path)
        .collect()
}

fn list_text(env: &Env) -> String {
    let r = env.run(&["list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn a_windows_zip_with_gbk_names_is_imported_member_by_member() {
    let env = Env::new();
    let zip = make_zip(&[
        member(&gbk("颁奖合影.jpg"), photo(1, "2025:05:20 10:00:00")),
        member(&gbk("现场/选手操作.jpg"), photo(2, "2025:05:21 09:30:00")),
    ]);
    env.put(ZIP, &zip);
    let s = env.import(0);
    assert_eq!(s["new"], 3, "{s}");
    assert_eq!(s["seen"], 3, "{s}");
    assert_eq!(s["objects_written"], 3, "{s}");
    assert_eq!(s["bytes_read"], zip.len(), "{s}");

    let e = env.entry(&format!("{ZIP}/颁奖合影.jpg"));
    assert_eq!(e["kind"], "photo");
    assert_eq!(e["date"], "2025-05-20");
    assert_eq!(e["date_source"], "exif");
    assert_eq!(e["activity"], "学生技能竞赛");
    assert_eq!(e["activity_rule"], "folder");
    assert_eq!(e["department"], "信息工程学院");
    assert_eq!(e["name_encoding"], "gb18030");
    assert_eq!(e["sha256"], sha256_hex(&photo(1, "2025:05:20 10:00:00")));
    let e = env.entry(&format!("{ZIP}/现场/选手操作.jpg"));
    assert_eq!(e["date"], "2025-05-21");
    assert_eq!(e["name_encoding"], "gb18030");
    // The zip itself stays stored as it is, with no name encoding of its own.
    let z = env.entry(ZIP);
    assert_eq!(z["kind"], "other");
    assert_eq!(z["sha256"], sha256_hex(&zip));
    assert!(z.get("name_encoding").is_none(), "{z}");
    assert!(!problems(&z).contains("压缩"), "{z}");

    // Its photos are the activity's 照片.
    let r = env.run(&["check", "--json"]);
    let check: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let owed: Vec<&Value> = check["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["activity"] == "学生技能竞赛")
        .collect();
    assert!(
        owed.iter().all(|m| !m["materials"]
            .as_array()
            .unwrap()
            .contains(&Value::from("照片"))),
        "{owed:?}"
    );

    // An unchanged zip reads nothing the next time, and its members stay current.
    let s = env.import(0);
    assert_eq!(s["new"], 0, "{s}");
    assert_eq!(s["unchanged"], 3, "{s}");
    assert_eq!(s["bytes_read"], 0, "{s}");
    assert!(!list_text(&env).contains("已撤回"));
}

#[test]
fn utf8_names_and_the_same_photo_loose_and_zipped_are_one_object() {
    let env = Env::new();
    let bytes = photo(3, "2025:05:07 09:00:00");
    let zip = make_zip(&[ZipMember {
        utf8_flag: true,
        ..member("启动仪式照片/合影.jpg".as_bytes(), bytes.clone())
    }]);
    env.put("教务科研处/照片.zip", &zip);
    env.put("教务科研处/启动仪式/合影.jpg", &bytes);
    let s = env.import(0);
    assert_eq!(s["new"], 3, "{s}");
    let inside = env.entry("教务科研处/照片.zip/启动仪式照片/合影.jpg");
    let loose = env.entry("教务科研处/启动仪式/合影.jpg");
    assert_eq!(inside["sha256"], loose["sha256"]);
    assert_eq!(inside["name_encoding"], "utf8");
    assert_eq!(inside["activity"], "启动仪式");
    assert!(loose.get("name_encoding").is_none());
    // The zip and one photo.
    assert_eq!(env.objects().len(), 2);
}

#[test]
fn a_changed_zip_is_a_new_version_and_its_members_follow() {
    let env = Env::new();
    let path = "学生处/主题班会/班会照片.zip";
    let a = photo(10, "2025:05:13 08:00:00");
    let b = photo(11, "2025:05:13 08:01:00");
    env.put(
        path,
        &make_zip(&[member(b"a_kept.jpg", a.clone()), member(b"b_gone.jpg", b)]),
    );
    env.import(0);
    let c = photo(12, "2025:05:13 08:02:00");
    env.put(
        path,
        &make_zip(&[member(b"a_kept.jpg", a.clone()), member(b"c_new.jpg", c)]),
    );
    env.set_mtime(path, 1_800_000_000);
    let s = env.import(0);
    assert_eq!(s["changed"], 1, "{s}");
    assert_eq!(s["new"], 1, "{s}");
    assert_eq!(s["unchanged"], 1, "{s}");
    assert_eq!(listed(&env, &format!("{path}/a_kept.jpg")).len(), 1);
    assert_eq!(listed(&env, path).len(), 2);
    let text = list_text(&env);
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{path}/{name}\t")))
            .unwrap_or_else(|| panic!("{name}: {text}"))
            .to_string()
    };
    assert!(line("b_gone.jpg").contains("已撤回"));
    assert!(line("a_kept.jpg").contains("当前"));
    assert!(line("c_new.jpg").contains("当前"));

    // The zip gone: its members go with it; back unchanged: they come back.
    let saved = std::fs::read(env.inbox.join(path)).unwrap();
    std::fs::remove_file(env.inbox.join(path)).unwrap();
    env.import(0);
    assert!(line_of(&env, &format!("{path}/a_kept.jpg")).contains("已撤回"));
    env.put(path, &saved);
    let s = env.import(0);
    assert_eq!(s["bytes_read"], saved.len(), "{s}");
    assert!(line_of(&env, &format!("{path}/a_kept.jpg")).contains("当前"));
    assert!(line_of(&env, &format!("{path}/c_new.jpg")).contains("当前"));
    assert!(line_of(&env, &format!("{path}/b_gone.jpg")).contains("已撤回"));
}

fn line_of(env: &Env, path: &str) -> String {
    list_text(env)
        .lines()
        .find(|l| l.starts_with(&format!("{path}\t")))
        .unwrap_or_else(|| panic!("{path} not listed"))
        .to_string()
}

#[test]
fn zip_bombs_stop_at_the_limits_and_keep_what_was_read() {
    let env = Env::new();
    let zeros = vec![0u8; 50 << 20];
    // Honest sizes: the header says 50 MiB for ~50 KiB: refused before inflating.
    env.put(
        "教务科研处/honest.zip",
        &make_zip(&[
            member(b"first.txt", b"kept".to_vec()),
            member(b"bomb.bin", zeros.clone()),
            member(b"after.txt", b"never read".to_vec()),
        ]),
    );
    // Lying sizes: the header says 1000 bytes; the inflated bytes are counted.
    env.put(
        "教务科研处/lying.zip",
        &make_zip(&[
            member(b"first.txt", b"kept too".to_vec()),
            ZipMember {
                lie_size: Some(1000),
                ..member(b"bomb.bin", zeros)
            },
            member(b"after.txt", b"never read either".to_vec()),
        ]),
    );
    // Nested: a zip in a zip is opened, a zip in that is not.
    let innermost = make_zip(&[member(b"deep.txt", b"too deep".to_vec())]);
    let inner = make_zip(&[
        member(b"inner.txt", b"one level".to_vec()),
        member(b"innermost.zip", innermost),
    ]);
    env.put(
        "教务科研处/nested.zip",
        &make_zip(&[member(b"inner.zip", inner)]),
    );
    let s = env.import(0);
    assert!(s["problems"].as_u64().unwrap() >= 3, "{s}");
    for z in ["honest", "lying"] {
        let zip = env.entry(&format!("教务科研处/{z}.zip"));
        let p = problems(&zip);
        assert!(p.contains("压缩炸弹") && p.contains("bomb.bin"), "{z}: {p}");
        env.entry(&format!("教务科研处/{z}.zip/first.txt"));
        let all = env.list();
        for gone in ["bomb.bin", "after.txt"] {
            let path = format!("教务科研处/{z}.zip/{gone}");
            assert!(!all.iter().any(|v| v["path"] == path.as_str()), "{path}");
        }
    }
    env.entry("教务科研处/nested.zip/inner.zip/inner.txt");
    let innermost = env.entry("教务科研处/nested.zip/inner.zip/innermost.zip");
    assert!(problems(&innermost).contains("超过一层嵌套"), "{innermost}");
    assert!(
        !env.list()
            .iter()
            .any(|v| v["path"] == "教务科研处/nested.zip/inner.zip/innermost.zip/deep.txt")
    );
    // Nothing of the bombs' bytes was kept.
    let stored: u64 = env
        .objects()
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(stored < 8 << 20, "{stored}");
}

#[test]
fn a_climbing_name_is_kept_under_a_safe_name() {
    let env = Inbox::new().put(
        "校团委/志愿服务.zip",
        make_zip(&[
            member(b"../../../evil.txt", b"x".to_vec()),
            member(b"/etc/passwd_copy", b"y".to_vec()),
        ]),
    );
    env.import(0);
    let e = env.entry("校团委/志愿服务.zip/_/_/_/evil.txt");
    assert!(problems(&e).contains("越出压缩包"), "{e}");
    env.entry("校团委/志愿服务.zip/_/etc/passwd_copy");
    assert!(!env.dir.path().join("evil.txt").exists());
    assert!(!env.inbox.join("evil.txt").exists());
}

#[test]
fn an_encrypted_member_is_stored_as_it_is_with_a_reason() {
    let env = Env::new();
    let secret = b"pretend these bytes are ZipCrypto".to_vec();
    env.put(
        "人事处/材料.zip",
        &make_zip(&[
            ZipMember {
                encrypted: true,
                ..ZipMember::new("名单.xlsx".as_bytes(), secret.clone())
            },
            member(b"open.txt", b"readable".to_vec()),
        ]),
    );
    env.import(0);
    let e = env.entry("人事处/材料.zip/名单.xlsx");
    assert_eq!(e["kind"], "other");
    assert_eq!(e["sha256"], sha256_hex(&secret));
    assert!(problems(&e).contains("加密"), "{e}");
    env.entry("人事处/材料.zip/open.txt");
}

#[test]
fn a_rar_is_stored_whole_with_a_note() {
    let env = Env::new();
    let rar = b"Rar!\x1a\x07\x01\x00 not really a rar".to_vec();
    env.put("学生处/照片.rar", &rar);
    let s = env.import(0);
    assert_eq!(s["new"], 1);
    let e = env.entry("学生处/照片.rar");
    assert_eq!(e["sha256"], sha256_hex(&rar));
    assert!(
        problems(&e).contains("请解压后再放入（rar 无法读取）"),
        "{e}"
    );
}

fn archive_fixture(name: &str) -> Vec<u8> {
    crate::support::fixture("archives", name)
}

#[test]
fn a_7z_made_by_7zip_is_imported_member_by_member() {
    let env = Env::new();
    let seven = archive_fixture("photos.7z");
    let path = "信息工程学院/技能大赛/信息工程学院技能大赛照片.7z";
    env.put(path, &seven);
    let e = env.import(0);
    assert_eq!(e["new"], 3, "{e}");
    let z = env.entry(path);
    assert_eq!(z["kind"], "other");
    assert_eq!(z["sha256"], sha256_hex(&seven));
    assert!(!problems(&z).contains("压缩"), "{z}");
    let a = env.entry(&format!("{path}/颁奖合影.jpg"));
    assert_eq!(a["kind"], "photo");
    assert_eq!(a["date"], "2025-05-20");
    assert_eq!(a["date_source"], "exif");
    assert_eq!(a["activity"], "学生技能竞赛");
    assert_eq!(a["department"], "信息工程学院");
    assert_eq!(a["name_encoding"], "utf8");
    let b = env.entry(&format!("{path}/现场/选手操作.jpg"));
    assert_eq!(b["date"], "2025-05-21");
    assert_ne!(a["sha256"], b["sha256"]);
    // Its members are the activity's photos: 照片 is not owed by 信息工程学院.
    let r = env.run(&["check", "--json"]);
    let check: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let owes_photos = check["missing"].as_array().unwrap().iter().any(|m| {
        m["department"] == "信息工程学院"
            && m["activity"] == "学生技能竞赛"
            && m["materials"].to_string().contains("照片")
    });
    assert!(!owes_photos, "{check}");
    // Unchanged: nothing read again.
    let again = env.import(0);
    assert_eq!(again["new"], 0, "{again}");
    assert_eq!(again["bytes_read"], 0, "{again}");
    assert_eq!(env.list().len(), 3);
}

#[test]
fn an_encrypted_7z_is_kept_whole_with_a_reason() {
    let env = Env::new();
    for name in ["enc-headers.7z", "enc-content.7z"] {
        env.put(&format!("学生处/{name}"), &archive_fixture(name));
    }
    env.import(0);
    for name in ["enc-headers.7z", "enc-content.7z"] {
        let e = env.entry(&format!("学生处/{name}"));
        assert_eq!(e["sha256"], sha256_hex(&archive_fixture(name)));
        assert!(problems(&e).contains("设置了密码"), "{name}: {e}");
    }
    // No member of either was cataloged.
    assert_eq!(env.list().len(), 2);
}

#[test]
fn a_7z_bomb_is_refused_before_decoding() {
    let env = Inbox::new()
        .put("教务科研处/bomb.7z", archive_fixture("bomb.7z"))
        .put("教务科研处/plain.txt", b"2025-05-13 activity notes");
    let s = env.import(0);
    assert_eq!(s["new"], 2, "{s}");
    let e = env.entry("教务科研处/bomb.7z");
    assert!(problems(&e).contains("压缩炸弹"), "{e}");
    assert!(problems(&e).contains("zeros.bin"), "{e}");
    let stored: u64 = env
        .objects()
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(stored < 1 << 20, "{stored}");
}

#[test]
fn a_7z_inside_a_zip_is_opened_one_level_deep() {
    let env = Env::new();
    let zip = make_zip(&[member(b"inner.7z", archive_fixture("photos.7z"))]);
    env.put("信息工程学院/技能大赛/打包.zip", &zip);
    env.import(0);
    let e = env.entry("信息工程学院/技能大赛/打包.zip/inner.7z/颁奖合影.jpg");
    assert_eq!(e["date"], "2025-05-20");
}
