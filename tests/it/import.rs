//! The nightly import, run as the real binary on inboxes made here.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;

const MAY_13_2025_NOON_CST: i64 = 1_747_108_800; // 2025-05-13T04:00:00Z

#[test]
fn second_run_reads_nothing_new() {
    let env = Inbox::new()
        .put("教务科研处/启动仪式/a.jpg", jpeg(1))
        .put("学生处/b.jpg", jpeg(2));
    let first = env.import(0);
    assert_eq!(first["seen"], 2);
    assert_eq!(first["new"], 2);
    assert_eq!(first["objects_written"], 2);
    let second = env.import(0);
    assert_eq!(second["new"], 0);
    assert_eq!(second["changed"], 0);
    assert_eq!(second["unchanged"], 2);
    assert_eq!(second["bytes_read"], 0);
    assert_eq!(env.list().len(), 2);
    // The JSON keys are exactly DESIGN.md's.
    let mut keys: Vec<&str> = second
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "bytes_read",
            "changed",
            "new",
            "objects_written",
            "problems",
            "rejected",
            "run_id",
            "seconds",
            "seen",
            "skipped",
            "unchanged"
        ]
    );
}

#[test]
fn a_changed_file_becomes_a_second_version_and_the_first_stays() {
    let env = Env::new();
    let first = jpeg(1);
    env.put("教务科研处/启动仪式/a.jpg", &first);
    env.import(0);
    let second = jpeg(2);
    env.put("教务科研处/启动仪式/a.jpg", &second);
    let s = env.import(0);
    assert_eq!(s["changed"], 1);
    assert_eq!(s["new"], 0);
    let versions: Vec<_> = env
        .list()
        .into_iter()
        .filter(|v| v["path"] == "教务科研处/启动仪式/a.jpg")
        .collect();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["sha256"], sha256_hex(&first));
    assert_eq!(versions[1]["sha256"], sha256_hex(&second));
    assert_eq!(env.objects().len(), 2);
}

#[test]
fn same_bytes_from_two_departments_is_one_object_and_two_entries() {
    let env = Env::new();
    let bytes = jpeg(7);
    env.put("教务科研处/启动仪式/合影.jpg", &bytes);
    env.put("学生处/主题班会/合影.jpg", &bytes);
    let s = env.import(0);
    assert_eq!(s["new"], 2);
    assert_eq!(s["objects_written"], 1);
    let objects = env.objects();
    assert_eq!(objects.len(), 1);
    let name = objects[0]
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(name, sha256_hex(&bytes));
    assert_eq!(std::fs::read(&objects[0]).unwrap(), bytes);
    let listed = env.list();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["department"], "学生处");
    assert_eq!(listed[1]["department"], "教务科研处");
}

#[test]
fn a_removed_file_is_withdrawn_and_counts_again_when_it_comes_back() {
    let env = Env::new();
    let p = env.put("校团委/社团活动/a.jpg", &jpeg(3));
    env.put("校团委/社团活动/b.jpg", &jpeg(4));
    env.import(0);
    let kept = std::fs::read(&p).unwrap();
    std::fs::remove_file(&p).unwrap();
    env.import(0);
    let status = env.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(v["files"], 1);
    assert_eq!(v["withdrawn"], 1);
    assert_eq!(v["last_run"]["summary"]["withdrawn"], 1);
    // Its bytes and catalog rows stay.
    assert_eq!(env.list().len(), 2);
    assert_eq!(env.objects().len(), 2);
    // Back again, unchanged: counts again, no new version.
    std::fs::write(&p, &kept).unwrap();
    let s = env.import(0);
    assert_eq!(s["new"], 0);
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(v["files"], 2);
    assert_eq!(v["withdrawn"], 0);
    assert_eq!(env.list().len(), 2);
}

#[test]
fn junk_is_skipped_silently() {
    let env = Inbox::new()
        .put("教务科研处/a.jpg", jpeg(1))
        .put("教务科研处/Thumbs.db", b"junk")
        .put("教务科研处/desktop.ini", b"junk")
        .put("教务科研处/.DS_Store", b"junk")
        .put("教务科研处/~$方案.docx", b"junk")
        .put("教务科研处/.hidden/x.jpg", jpeg(2));
    let s = env.import(0);
    assert_eq!(s["new"], 1);
    assert_eq!(s["skipped"], 4);
    assert_eq!(s["rejected"], 0);
    assert_eq!(env.list().len(), 1);
}

#[test]
fn every_rejection_has_a_reason_and_the_run_goes_on() {
    let env = Inbox::new()
        .put("教务科研处/好的.jpg", jpeg(1))
        .put("教务科研处/空文件.jpg", b"")
        .put("根目录文件.jpg", jpeg(2));
    std::os::unix::fs::symlink(
        env.inbox.join("教务科研处/好的.jpg"),
        env.inbox.join("教务科研处/链接.jpg"),
    )
    .unwrap();
    let s = env.import(3);
    assert_eq!(s["new"], 1);
    assert_eq!(s["rejected"], 3);
    let rejected = env.rejected();
    let reason = |p: &str| -> String {
        rejected
            .iter()
            .find(|r| r["path"] == p)
            .unwrap_or_else(|| panic!("{p} not rejected: {rejected:?}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason("教务科研处/空文件.jpg").contains("空文件"));
    assert!(reason("根目录文件.jpg").contains("部门"));
    assert!(reason("教务科研处/链接.jpg").contains("符号链接"));
    // The inbox is untouched.
    assert!(env.inbox.join("根目录文件.jpg").exists());
    assert!(env.inbox.join("教务科研处/空文件.jpg").exists());
}

#[test]
fn a_file_that_cannot_be_read_is_rejected_and_tried_again() {
    let env = Env::new();
    env.put("教务科研处/好的.jpg", &jpeg(1));
    let locked = env.put("教务科研处/锁住的.jpg", &jpeg(2));
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut cmd = env.command(&["import", "--json"]);
    if is_root() {
        // Root reads anything: run as nobody, with an archive nobody may write.
        std::fs::create_dir_all(&env.archive).unwrap();
        for d in [env.dir.path(), env.archive.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .current_dir(env.dir.path())
            .arg("--inbox")
            .arg(&env.inbox)
            .arg("--archive")
            .arg(&env.archive)
            .args(["import", "--json"]);
        cmd = c;
    }
    let r: Run = cmd.output().unwrap().into();
    assert_eq!(r.code, 3, "{} {}", r.stdout, r.stderr);
    let s: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(s["new"], 1);
    assert_eq!(s["rejected"], 1);
    let r = env.run(&["list", "--rejected"]);
    assert!(
        r.stdout.contains("锁住的.jpg") && r.stdout.contains("无法打开"),
        "{}",
        r.stdout
    );
    // Readable again: the next run takes it.
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = env.import(0);
    assert_eq!(s["new"], 1);
}

#[test]
fn odd_names_and_deep_folders_are_kept_losslessly() {
    let env = Env::new();
    // Not UTF-8 (a GBK name from an old Windows share).
    let raw = raw_path(
        &env.inbox,
        b"\xbd\xcc\xce\xf1\xbf\xc6\xd1\xd0\xb4\xa6/\xd5\xd5\xc6\xac.jpg",
    );
    std::fs::create_dir_all(raw.parent().unwrap()).unwrap();
    std::fs::write(&raw, jpeg(1)).unwrap();
    // A 250-byte name.
    let long = format!("学生处/{}.jpg", "长".repeat(82));
    assert_eq!(long.rsplit('/').next().unwrap().len(), 250);
    env.put(&long, &jpeg(2));
    // A 40-deep folder.
    let deep = format!("校团委/{}x.jpg", "层/".repeat(40));
    env.put(&deep, &jpeg(3));
    let s = env.import(0);
    assert_eq!(s["new"], 3, "{s}");
    let listed = env.list();
    let paths: Vec<&str> = listed.iter().map(|v| v["path"].as_str().unwrap()).collect();
    // Shown with every byte that is not UTF-8 as \xNN (some GBK pairs happen to be UTF-8).
    assert!(
        paths.contains(&"\\xBD\\xCC\\xCE\\xF1\\xBF\\xC6\\xD1д\\xA6/\\xD5\\xD5Ƭ.jpg"),
        "{paths:?}"
    );
    assert!(paths.contains(&long.as_str()));
    assert!(paths.contains(&deep.as_str()));
    // The raw name is what the next run compares: nothing new.
    let s = env.import(0);
    assert_eq!(s["unchanged"], 3);
}

#[test]
fn a_second_run_is_refused_while_the_lock_is_held() {
    let env = Inbox::new().put("教务科研处/a.jpg", jpeg(1));
    std::fs::create_dir_all(&env.archive).unwrap();
    let lock = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(env.archive.join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    std::fs::write(
        env.archive.join(".lock"),
        "进程 4242 在 office 上运行 dangan import",
    )
    .unwrap();
    let r = env.run(["import"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("另一个 dangan") && r.stderr.contains("4242"),
        "{}",
        r.stderr
    );
    assert!(!env.archive.join("catalog.sqlite").exists());
    drop(lock);
    env.import(0);
}

#[test]
fn dry_run_writes_nothing_and_prints_the_plan() {
    let env = Inbox::new()
        .put("党政办公室/党政领导讲职教/a.jpg", jpeg(1))
        .put("根目录.jpg", jpeg(2));
    let r = env.run(["import", "--dry-run"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    r.stdout_has("新增\t党政办公室/党政领导讲职教/a.jpg\t党政办公室\t照片\t党政领导讲职教");
    r.stdout_has("拒收\t根目录.jpg");
    assert!(!env.archive.exists());
}

#[test]
fn activity_rules_folder_filename_date_none() {
    let env = Env::new();
    env.put("校团委/2025活动/演讲 比赛/a.jpg", &jpeg(1));
    env.put("校团委/演讲比赛_微信图片_x.jpg", &jpeg(2));
    env.put("党政办公室/c.jpg", &jpeg(3));
    env.set_mtime("党政办公室/c.jpg", MAY_13_2025_NOON_CST);
    env.put("党政办公室/d.jpg", &jpeg(4));
    env.set_mtime("党政办公室/d.jpg", MAY_13_2025_NOON_CST + 40 * 86400);
    env.import(0);
    let a = env.entry("校团委/2025活动/演讲 比赛/a.jpg");
    assert_eq!(a["activity"], "“职教学生谈职教”演讲比赛");
    assert_eq!(a["activity_rule"], "folder");
    let b = env.entry("校团委/演讲比赛_微信图片_x.jpg");
    assert_eq!(b["activity_rule"], "filename");
    let c = env.entry("党政办公室/c.jpg");
    assert_eq!(c["activity"], "党政领导讲职教");
    assert_eq!(c["activity_rule"], "date");
    assert_eq!(c["date"], "2025-05-13");
    assert_eq!(c["date_source"], "mtime");
    let d = env.entry("党政办公室/d.jpg");
    assert_eq!(d["activity"], serde_json::Value::Null);
    assert_eq!(d["activity_rule"], "none");
    let r = env.run(&["list", "--activity", "未归类"]);
    assert!(r.stdout.contains("党政办公室/d.jpg") && !r.stdout.contains("c.jpg"));
}

#[test]
fn bad_usage_exits_2() {
    let env = Env::new();
    assert_eq!(env.run(&["import", "--no-such-flag"]).code, 2);
    assert_eq!(env.run(&["no-such-command"]).code, 2);
}

#[test]
fn a_bad_config_names_its_line() {
    let env = Env::new();
    let cfg = env.dir.path().join("dangan.toml");
    std::fs::write(
        &cfg,
        "institution = \"X\"\nperiod = { start = 2025-05-01, end = 2025-05-31 }\n[[activity]]\nname = \"甲\"\nstart = 2025-05-09\nend = 2025-05-01\n",
    )
    .unwrap();
    let r = env.run(&["import"]);
    assert_eq!(r.code, 1);
    r.stderr_has("dangan.toml 第 6 行");
    // init refuses to overwrite it.
    assert_eq!(env.run(&["init"]).code, 1);
    assert_eq!(env.run(&["init", "--force"]).code, 0);
    assert!(
        std::fs::read_to_string(&cfg)
            .unwrap()
            .contains("党政领导讲职教")
    );
}

#[test]
fn a_run_killed_part_way_is_completed_by_the_next_with_nothing_lost_or_doubled() {
    let env = Env::new();
    let n = 240;
    let mut block = vec![0u8; 256 * 1024];
    for i in 0..n {
        for (j, b) in block.iter_mut().enumerate() {
            *b = (j as u32).wrapping_mul(2654435761).wrapping_add(i) as u8;
        }
        block[..4].copy_from_slice(&i.to_le_bytes());
        env.put(&format!("学生处/批量/{i:04}.bin"), &block);
    }
    let mut child = env.command(&["import", "-q"]).spawn().unwrap();
    // Kill it once some objects are durable but (almost surely) not all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let stored = env.objects().len();
        if stored >= 20 || std::time::Instant::now() > deadline {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // The test proves something only if the run was still going: not every object stored yet.
    let stored_at_kill = env.objects().len();
    assert!(
        child.try_wait().unwrap().is_none() && stored_at_kill < n as usize,
        "the import finished before it could be killed ({stored_at_kill} objects)"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let s = env.import(0);
    assert_eq!(
        s["new"].as_u64().unwrap() + s["unchanged"].as_u64().unwrap(),
        n as u64
    );
    let listed = env.list();
    assert_eq!(listed.len(), n as usize, "every file cataloged once");
    let mut paths: Vec<&str> = listed.iter().map(|v| v["path"].as_str().unwrap()).collect();
    paths.dedup();
    assert_eq!(paths.len(), n as usize);
    let objects = env.objects();
    assert_eq!(objects.len(), n as usize);
    for o in &objects {
        let name = o.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            name,
            sha256_hex(&std::fs::read(o).unwrap()),
            "object named by its hash"
        );
    }
    // No temp file is left behind.
    assert_eq!(
        std::fs::read_dir(env.archive.join("objects/tmp"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(env.import(0)["unchanged"], n as u64);
}

fn nightly_at(env: &Env, epoch: i64) -> Run {
    env.run_at(&epoch.to_string(), &["nightly", "-q"])
}

#[test]
fn each_nightly_backs_the_catalog_up_and_seven_copies_are_kept() {
    let env = Inbox::new().put("教务科研处/启动仪式/a.jpg", jpeg(1));
    for night in 0..9 {
        let r = nightly_at(&env, MAY_13_2025_NOON_CST + night * 86_400);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let mut copies: Vec<String> = std::fs::read_dir(env.archive.join("备份"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    copies.sort();
    assert_eq!(copies.len(), 7, "{copies:?}");
    assert_eq!(copies[0], "catalog-20250515-120000.sqlite");
    assert_eq!(copies[6], "catalog-20250521-120000.sqlite");
    // A copy is a whole catalog.
    let conn = rusqlite::Connection::open(env.archive.join("备份").join(&copies[6])).unwrap();
    let files: i64 = conn
        .query_row("SELECT COUNT(*) FROM files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(files, 1);
}

#[test]
fn an_emptied_catalog_is_refused_and_restored_from_the_backup_with_nothing_lost() {
    let env = Inbox::new()
        .put("教务科研处/启动仪式/a.jpg", jpeg(1))
        .put("学生处/b.jpg", jpeg(2));
    assert_eq!(nightly_at(&env, MAY_13_2025_NOON_CST).code, 0);
    std::fs::remove_file(env.inbox.join("学生处/b.jpg")).unwrap();
    assert_eq!(nightly_at(&env, MAY_13_2025_NOON_CST + 86_400).code, 0);
    let before = env.list();
    assert_eq!(before.len(), 2);
    // Truncated to 0 bytes (a full disk, a bad copy): refused, not started afresh.
    std::fs::write(env.archive.join("catalog.sqlite"), b"").unwrap();
    for args in [
        &["nightly"][..],
        &["import"],
        &["stats"],
        &["status"],
        &["list"],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stderr.contains("是空的") && r.stderr.contains("备份/catalog-20250514-120000.sqlite"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // Not a database at all: the same.
    std::fs::write(env.archive.join("catalog.sqlite"), b"garbage, not sqlite").unwrap();
    let r = env.run(["nightly"]);
    assert_eq!(r.code, 1);
    r.stderr_has("已损坏");
    // Restored as the message says: every version and the withdrawal are back.
    std::fs::copy(
        env.archive.join("备份/catalog-20250514-120000.sqlite"),
        env.archive.join("catalog.sqlite"),
    )
    .unwrap();
    assert_eq!(env.list(), before);
    assert_eq!(nightly_at(&env, MAY_13_2025_NOON_CST + 2 * 86_400).code, 0);
}

#[test]
fn a_run_killed_part_way_is_marked_interrupted_at_the_next_start() {
    let env = Inbox::new().put("教务科研处/启动仪式/a.jpg", jpeg(1));
    env.import(0);
    {
        let conn = rusqlite::Connection::open(env.archive.join("catalog.sqlite")).unwrap();
        conn.execute(
            "INSERT INTO runs(command, started, status, tool_version) VALUES ('import', '2025-05-13T01:30:00+08:00', 'running', 'x')",
            [],
        )
        .unwrap();
    }
    env.import(0);
    let conn = rusqlite::Connection::open(env.archive.join("catalog.sqlite")).unwrap();
    let states: Vec<String> = conn
        .prepare("SELECT status FROM runs ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(states, ["done", "interrupted", "done"]);
}

#[test]
fn a_read_only_archive_can_be_audited() {
    if !is_root() {
        eprintln!("skipped: needs root to run as nobody on a copy nobody may not write");
        return;
    }
    let env = Inbox::new().put("教务科研处/启动仪式/a.jpg", jpeg(1));
    env.import(0);
    // A copy of the archive that the reader cannot write (as over a read-only share).
    let copy = env.dir.path().join("只读存档");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(
        env.archive.join("catalog.sqlite"),
        copy.join("catalog.sqlite"),
    )
    .unwrap();
    for p in [copy.join("catalog.sqlite"), copy.clone()] {
        let mode = if p.is_dir() { 0o555 } else { 0o444 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    for args in [&["status", "--json"][..], &["list", "--json"], &["verify"]] {
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
            .current_dir(env.dir.path())
            .arg("--archive")
            .arg(&copy)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "list" {
            assert!(String::from_utf8_lossy(&out.stdout).contains("a.jpg"));
        }
    }
}

#[test]
fn control_characters_in_names_are_printed_escaped_and_cannot_forge_a_log_line() {
    let env = Env::new();
    env.put("教务科研处/启动仪式/a.jpg", &jpeg(1));
    // An empty file (rejected, so printed) whose name carries ESC and a forged summary line.
    let name = "教务科研处/x\u{1b}[2J\ndangan nightly: 新增 0 拒收 0.jpg";
    env.put(name, b"");
    let r = env.run(&["nightly"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(!r.stdout.contains('\u{1b}'), "{:?}", r.stdout);
    r.stdout_has("x\\x1b[2J\\ndangan nightly: 新增 0 拒收 0.jpg");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("dangan nightly:"))
            .count(),
        1,
        "{}",
        r.stdout
    );
    for args in [
        &["status"][..],
        &["list", "--rejected"],
        &["import", "--dry-run"],
    ] {
        let r = env.run(args);
        assert!(!r.stdout.contains('\u{1b}'), "{args:?}: {:?}", r.stdout);
        assert!(r.stdout.contains("x\\x1b[2J\\n"), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn nightly_removes_the_temp_zip_of_a_killed_archive() {
    let env = Inbox::new().put("教务科研处/启动仪式/a.jpg", jpeg(1));
    assert_eq!(env.run(["nightly", "-q"]).code, 0);
    let stale = env.archive.join(".dangan-bag-abc123.zip.tmp");
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    assert_eq!(env.run(["nightly", "-q"]).code, 0);
    assert!(!stale.exists());
}
