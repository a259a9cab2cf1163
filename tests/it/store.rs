//! The store audits and heals itself, through the real binary: a damaged or missing object is
//! found by the nightly audit and by `verify --store`, named with its inbox paths, and replaced
//! from the inbox (a loose file or a zip member) by the next import.

use crate::support::*;

const EPOCH: &str = "1748736000"; // 2025-06-01

fn nightly(env: &Env, nights: &str) -> Run {
    env.command(&["nightly"])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("DANGAN_AUDIT_NIGHTS", nights)
        .output()
        .unwrap()
        .into()
}

fn launch(seed: u8) -> Vec<u8> {
    jpeg_with_exif(
        seed,
        &Exif {
            original: Some("2025:05:07 09:30:00"),
            ..Default::default()
        },
    )
}

fn object_of(env: &Env, bytes: &[u8]) -> std::path::PathBuf {
    let sha = sha256_hex(bytes);
    env.archive.join("objects").join(&sha[..2]).join(&sha)
}

#[test]
fn a_corrupted_object_is_found_named_healed_and_archived() {
    let env = Env::new();
    let photo = launch(1);
    env.put("教务科研处/启动仪式/IMG_1.jpg", &photo);
    env.put("教务科研处/启动仪式/IMG_2.jpg", &launch(2));
    assert_eq!(nightly(&env, "30").code, 0);
    let victim = object_of(&env, &photo);
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 0xFF;
    std::fs::write(&victim, &bytes).unwrap();

    // The audit re-reads every object tonight: it finds the damage and the night fails.
    let r = nightly(&env, "1");
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let sha = sha256_hex(&photo);
    r.stdout_has(&format!("存档对象 objects/{}/{sha} 内容已损坏", &sha[..2]));
    r.stdout_has("它是收件箱里的：教务科研处/启动仪式/IMG_1.jpg");
    r.stdout_has("会用它自动修复");
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("dangan nightly: 失败：存档对象损坏或丢失 1 个"),
        "{last}"
    );
    assert!(last.contains("核查对象 2/2"), "{last}");
    // verify --store says the same, and status names it too.
    let v = env.run(&["verify", "--store"]);
    assert_eq!(v.code, 1, "{}", v.stdout);
    v.stdout_has("教务科研处/启动仪式/IMG_1.jpg");
    v.stdout_has("存档对象有 1 个损坏或丢失（共核对 2 个）");
    let s = env.run(&["status"]);
    s.stdout_has("存档对象损坏或丢失 1 个");
    // The archive refuses before writing, with the way out.
    let out = env.dir.path().join("y.zip");
    let a = env.run_at(
        EPOCH,
        &["archive", "--year", "2025", "--out", out.to_str().unwrap()],
    );
    assert_eq!(a.code, 1);
    assert!(
        a.stderr.contains("IMG_1.jpg") && a.stderr.contains("自动修复"),
        "{}",
        a.stderr
    );
    assert!(!out.exists());

    // The next import heals it from the inbox (the file itself is unchanged: no new version).
    let i = env.run(&["import"]);
    assert_eq!(i.code, 0, "{}", i.stdout);
    i.stdout_has(&format!(
            "已修复存档对象 objects/{}/{sha}：用收件箱里的 教务科研处/启动仪式/IMG_1.jpg 替换了损坏的副本",
            &sha[..2]
        ));
    assert_eq!(std::fs::read(&victim).unwrap(), photo);
    assert_eq!(env.run(&["verify", "--store"]).code, 0);
    let a = env.run_at(
        EPOCH,
        &["archive", "--year", "2025", "--out", out.to_str().unwrap()],
    );
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(out.exists());
    assert_eq!(nightly(&env, "1").code, 0);
}

#[test]
fn a_damaged_zip_member_is_healed_from_its_zip() {
    let env = Env::new();
    let photo = launch(3);
    env.put(
        "信息工程学院/技能大赛照片.zip",
        &make_zip(&[ZipMember::new(
            gbk("颁奖合影.jpg").as_slice(),
            photo.clone(),
        )]),
    );
    env.import(0);
    let victim = object_of(&env, &photo);
    std::fs::write(&victim, b"not the photo").unwrap();
    let v = env.run(&["verify", "--store"]);
    assert_eq!(v.code, 1);
    v.stdout_has("信息工程学院/技能大赛照片.zip/颁奖合影.jpg");
    let i = env.run(&["import"]);
    i.stdout_has("已修复存档对象");
    assert_eq!(std::fs::read(&victim).unwrap(), photo);
}

#[test]
fn a_missing_object_whose_file_is_gone_says_what_to_do() {
    let env = Env::new();
    let photo = launch(4);
    let p = env.put("教务科研处/启动仪式/IMG_4.jpg", &photo);
    env.import(0);
    std::fs::remove_file(object_of(&env, &photo)).unwrap();
    std::fs::remove_file(p).unwrap();
    let v = env.run(&["verify", "--store"]);
    assert_eq!(v.code, 1);
    v.stdout_has("不见了");
    v.stdout_has("收件箱里已没有这份内容");
    // Nothing to heal from: the import says it is still missing.
    let i = env.run(&["import"]);
    i.stdout_has("仍有 1 个对象损坏或丢失");
    // Put back (same bytes, another name): the import stores it again and closes the finding.
    env.put("教务科研处/启动仪式/找回的.jpg", &photo);
    let i = env.run(&["import"]);
    i.stdout_has("已恢复完好");
    assert_eq!(env.run(&["verify", "--store"]).code, 0);
}

#[test]
fn the_nightly_audit_covers_a_share_and_goes_on_the_next_night() {
    let env = Env::new();
    for i in 0..5 {
        env.put(&format!("教务科研处/启动仪式/IMG_{i}.jpg"), &launch(10 + i));
    }
    let a = nightly(&env, "2");
    assert!(
        a.stdout.lines().last().unwrap().contains("核查对象 3/5"),
        "{}",
        a.stdout
    );
    let j: serde_json::Value = serde_json::from_str(
        env.command(&["nightly", "--json"])
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("DANGAN_AUDIT_NIGHTS", "2")
            .output()
            .unwrap()
            .stdout
            .as_slice()
            .utf8(),
    )
    .unwrap();
    assert_eq!(j["audited"], 3);
    assert_eq!(j["damaged"], 0);
}

trait Utf8 {
    fn utf8(&self) -> &str;
}
impl Utf8 for [u8] {
    fn utf8(&self) -> &str {
        std::str::from_utf8(self).unwrap()
    }
}

#[test]
fn the_report_finds_a_missing_object_and_names_it() {
    let env = Env::new();
    let photo = launch(5);
    env.put("教务科研处/启动仪式/IMG_5.jpg", &photo);
    env.import(0);
    std::fs::remove_file(object_of(&env, &photo)).unwrap();
    let r = env.run(&["report"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stderr_has("不见了（dangan report");
    r.stderr_has("教务科研处/启动仪式/IMG_5.jpg");
    // Recorded: the next import puts it back from the inbox.
    let i = env.run(&["import"]);
    i.stdout_has("替换了丢失的副本");
    assert_eq!(std::fs::read(object_of(&env, &photo)).unwrap(), photo);
}
