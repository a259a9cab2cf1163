//! Facts and judgements through the real binary: the catalog keeps what was read, and every
//! command judges department, activity and date afresh from (facts, dangan.toml, 更正.xlsx).
//! An edited config or a correction applies at the next run of any command, without an import;
//! an old-schema catalog is migrated with nothing lost.

use std::path::Path;

use crate::support::*;
use dangan::corrections::{PendingRow, pending_xlsx};
use serde_json::Value;

/// A sign-in sheet with `n` students of the college (header on row 1).
fn sign_in(activity: Option<&str>, prefix: &str, n: usize) -> Vec<u8> {
    let mut header = vec!["姓名", "学号", "身份", "单位"];
    header.extend(activity.map(|_| "活动名称"));
    let rows: Vec<Vec<String>> = (0..n)
        .map(|i| {
            let mut row = vec![
                format!("{prefix}{i}"),
                format!("{prefix}-{i:04}"),
                "学生".into(),
                "机电2301班".into(),
            ];
            row.extend(activity.map(String::from));
            row
        })
        .collect();
    Book::new().row(&header).rows(&rows).xlsx()
}

fn owed(check: &Value, activity: &str, department: &str) -> Vec<String> {
    check["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["activity"] == activity && m["department"] == department)
        .flat_map(|m| m["materials"].as_array().unwrap().iter())
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

/// `check --json` on [`JUNE_1`].
fn check_on_june_1(env: &Env) -> Value {
    env.run_at(JUNE_1, &["check", "--json"]).success().json()
}

#[test]
fn an_alias_added_to_the_config_moves_imported_files_without_an_import() {
    let env = Inbox::new()
        // 教务科研处 hosts two activities on 05-28: the date decides nothing, the folder names none.
        .put(
            "教务科研处/职教沙龙/合影.jpg",
            photo(1, "2025:05:28 10:00:00"),
        )
        .put("教务科研处/职教沙龙/签到表.xlsx", sign_in(None, "沙龙", 7));
    env.import(0);
    assert_eq!(
        env.entry("教务科研处/职教沙龙/合影.jpg")["activity"],
        Value::Null
    );

    env.write_config(&builtin_with(
        "aliases = [\"闭幕\"]",
        "aliases = [\"闭幕\", \"职教沙龙\"]",
    ));
    // No import: stats, list and check judge again from the stored facts.
    env.run_at(JUNE_1, &["stats", "--json"]).success();
    let e = env.entry("教务科研处/职教沙龙/合影.jpg");
    assert_eq!(e["activity"], "闭幕式", "{e}");
    assert_eq!(e["activity_rule"], "folder");
    let rows = activity_rows(&env);
    let row = &rows[&("闭幕式".to_string(), "教务科研处".to_string())];
    assert_eq!(row["学生"], "7", "{row:?}");
    assert!(
        !rows.contains_key(&("未归类".to_string(), "教务科研处".to_string())),
        "{rows:?}"
    );
    let check = check_on_june_1(&env);
    let owed = owed(&check, "闭幕式", "教务科研处");
    assert!(!owed.contains(&"照片".to_string()), "{owed:?}");
    assert!(!owed.contains(&"签到表".to_string()), "{owed:?}");
}

#[test]
fn a_renamed_activity_keeps_its_people_materials_and_place_in_the_archive() {
    let env = Inbox::new()
        .put(
            "教务科研处/启动仪式/IMG_20250507_093012.jpg",
            photo(2, "2025:05:07 09:30:12"),
        )
        .put("教务科研处/启动仪式/签到表.xlsx", sign_in(None, "启动", 55));
    env.import(0);
    env.write_config(&builtin_with(
        "name = \"启动仪式\"\naliases = [\"启动\"]",
        "name = \"2025年职业教育活动周启动仪式\"\naliases = [\"启动仪式\", \"启动\"]",
    ));
    let stats = env.json(&["stats", "--json"]);
    assert_eq!(stats["students"], 55);
    let rows = activity_rows(&env);
    let renamed = &rows[&(
        "2025年职业教育活动周启动仪式".to_string(),
        "教务科研处".to_string(),
    )];
    assert_eq!(renamed["学生"], "55");
    assert!(
        rows.keys().all(|(a, _)| a != "启动仪式" && a != "未归类"),
        "an orphan row: {:?}",
        rows.keys().collect::<Vec<_>>()
    );
    let check = check_on_june_1(&env);
    let owed = owed(&check, "2025年职业教育活动周启动仪式", "教务科研处");
    assert!(!owed.contains(&"照片".to_string()), "{owed:?}");
    assert!(!owed.contains(&"签到表".to_string()), "{owed:?}");

    let out = env.dir.path().join("bag.zip");
    env.run_at(
        JUNE_1,
        &["archive", "--year", "2025", "--out", out.to_str().unwrap()],
    )
    .success();
    let names = zip_names(&out);
    assert!(
        names.iter().any(|n| n.ends_with(
            "data/活动/01-2025年职业教育活动周启动仪式/教务科研处/2025-05-07/IMG_20250507_093012.jpg"
        )),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("data/未归类/")),
        "{names:?}"
    );
}

fn fix(path: &str) -> PendingRow {
    PendingRow {
        path: path.into(),
        department: String::new(),
        activity: String::new(),
        date: String::new(),
        date_source: String::new(),
        reason: String::new(),
        fix_department: String::new(),
        fix_activity: String::new(),
        fix_date: String::new(),
        exclude: false,
    }
}

/// Saves `rows` as 更正.xlsx beside dangan.toml, as a person saves 待归类.xlsx after filling it.
fn save_corrections(env: &Env, rows: &[PendingRow]) {
    let bytes = pending_xlsx(rows, &[], &[], 0).unwrap();
    std::fs::write(env.dir.path().join("更正.xlsx"), bytes).unwrap();
}

#[test]
fn corrections_move_date_and_exclude_files_and_bad_rows_are_reported() {
    let env = Inbox::new()
        .put("学生处/杂项/照片1.jpg", jpeg(3))
        .put("学生处/杂项/照片2.jpg", jpeg(4))
        .put("校团委/演讲比赛/签到表.xlsx", sign_in(None, "演讲", 12))
        .put("校团委/演讲比赛/补签.xlsx", sign_in(None, "补签", 5));
    env.import(0);
    assert_eq!(env.json(&["stats", "--json"])["participants"], 17);
    // 待归类.xlsx lists the unassigned photos for a person to fill in.
    let pending = read_sheet(&env.archive.join("统计/待归类.xlsx"));
    assert_eq!(pending[0][0], "文件");
    assert!(
        pending.iter().any(|r| r[0] == "学生处/杂项/照片1.jpg"),
        "{pending:?}"
    );

    let mut moved = fix("学生处/杂项/照片1.jpg");
    moved.fix_activity = "宣传职教政策主题班会".into();
    let mut dated = fix("学生处/杂项/照片2.jpg");
    dated.fix_date = "2025-05-14".into();
    let mut excluded = fix("校团委/演讲比赛/补签.xlsx");
    excluded.exclude = true;
    let mut missing = fix("学生处/不存在.jpg");
    missing.fix_activity = "宣传职教政策主题班会".into();
    let mut unknown = fix("学生处/杂项/照片2.jpg");
    unknown.fix_activity = "没有这个活动".into();
    save_corrections(&env, &[moved, dated, excluded, missing, unknown]);

    let e = env.entry("学生处/杂项/照片1.jpg");
    assert_eq!(e["activity"], "宣传职教政策主题班会", "{e}");
    assert_eq!(e["activity_rule"], "correction");
    let e = env.entry("学生处/杂项/照片2.jpg");
    assert_eq!(e["date"], "2025-05-14", "{e}");
    assert_eq!(e["date_source"], "correction");
    // 学生处 hosts three activities without dates: the corrected date decides none of them.
    assert_eq!(e["activity"], Value::Null, "{e}");
    // Excluded: its 5 people no longer count, the file stays in the catalog.
    let r = env.run(["stats", "--json"]);
    let stats: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(stats["participants"], 12, "{}", r.stdout);
    assert_eq!(env.entry("校团委/演讲比赛/补签.xlsx")["kind"], "sheet");
    // The bad rows are named with their row numbers, in status and stats.
    let status = env.run(["status"]);
    assert!(
        status.stdout.contains("更正.xlsx 第 5 行") && status.stdout.contains("学生处/不存在.jpg"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("更正.xlsx 第 6 行") && status.stdout.contains("没有这个活动"),
        "{}",
        status.stdout
    );
    let stats_text = env.run(["stats"]);
    stats_text.stdout_has("第 5 行");
    // The next 待归类.xlsx carries the corrections, filled in, so saving it loses none.
    let pending = read_sheet(&env.archive.join("统计/待归类.xlsx"));
    let row = pending
        .iter()
        .find(|r| r[0] == "学生处/杂项/照片1.jpg")
        .unwrap();
    assert_eq!(row[7], "宣传职教政策主题班会", "{row:?}");
    let row = pending
        .iter()
        .find(|r| r[0] == "校团委/演讲比赛/补签.xlsx")
        .unwrap();
    assert_eq!(row[9], "是", "{row:?}");
}

/// Every cell of the first sheet as text.
fn read_sheet(path: &Path) -> Vec<Vec<String>> {
    use calamine::{Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    calamine::Data::DateTime(d) => {
                        let (y, m, day, ..) = d.to_ymd_hms_milli();
                        format!("{y:04}-{m:02}-{day:02}")
                    }
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_folder_naming_two_activities_is_evidence_of_both() {
    let env = Inbox::new().put(
        "教务科研处/5.28闭幕式暨教学成果展/IMG_20250528_100000.jpg",
        photo(5, "2025:05:28 10:00:00"),
    );
    env.import(0);
    let e = env.entry("教务科研处/5.28闭幕式暨教学成果展/IMG_20250528_100000.jpg");
    assert_eq!(e["activity"], "闭幕式", "{e}");
    assert_eq!(
        e["activities"],
        serde_json::json!(["闭幕式", "教学成果展"]),
        "{e}"
    );
    let check = check_on_june_1(&env);
    for a in ["闭幕式", "教学成果展"] {
        let owed = owed(&check, a, "教务科研处");
        assert!(!owed.contains(&"照片".to_string()), "{a}: {owed:?}");
    }
    // One photo: once in the department's row, in both activities' rows.
    env.run(["stats"]);
    let rows = activity_rows(&env);
    for a in ["闭幕式", "教学成果展"] {
        assert_eq!(
            rows[&(a.to_string(), "教务科研处".to_string())]["照片"],
            "1",
            "{a}"
        );
    }
}

#[test]
fn a_name_that_names_another_activity_than_its_folder_is_flagged() {
    let env = Inbox::new().put(
        "教务科研处/启动仪式/闭幕式合影.jpg",
        photo(6, "2025:05:07 10:00:00"),
    );
    env.import(0);
    let e = env.entry("教务科研处/启动仪式/闭幕式合影.jpg");
    assert_eq!(e["activity"], "启动仪式");
    assert!(
        e["problems"].to_string().contains("名称与文件夹不一致"),
        "{e}"
    );
    env.run(["stats"]);
    let pending = read_sheet(&env.archive.join("统计/待归类.xlsx"));
    let row = pending
        .iter()
        .find(|r| r[0] == "教务科研处/启动仪式/闭幕式合影.jpg")
        .unwrap_or_else(|| panic!("{pending:?}"));
    assert!(row[5].contains("名称与文件夹不一致"), "{row:?}");
}

#[test]
fn filters_accept_aliases_and_an_unknown_name_lists_the_known_ones() {
    let env = Inbox::new()
        .put(
            "党政办/党政领导讲职教/IMG_20250513_101500.jpg",
            photo(7, "2025:05:13 10:15:00"),
        )
        .put(
            "校团委/演讲比赛/DSC_0001.jpg",
            photo(8, "2025:05:15 10:00:00"),
        );
    env.import(0);
    let e = env.entry("党政办/党政领导讲职教/IMG_20250513_101500.jpg");
    assert_eq!(e["department"], "党政办公室", "{e}");
    let r = env.run(["list", "--json", "--department", "党政办"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let r = env.run(["list", "--json", "--activity", "演讲比赛"]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.contains("DSC_0001.jpg"));
    let r = env.run(["list", "--department", "宣传部"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("宣传部") && r.stderr.contains("党政办公室"),
        "{}",
        r.stderr
    );
    let r = env.run(["list", "--activity", "运动会"]);
    assert_eq!(r.code, 2);
    r.stderr_has("启动仪式");
}

#[test]
fn a_photo_of_0040_is_kept_by_the_0130_run_on_a_utc_server() {
    let env = Inbox::new().put(
        "党政办公室/党政领导讲职教/DSC_0040.jpg",
        photo(9, "2025:05:13 00:40:00"),
    );
    // 2025-05-13 01:30 in +08:00 is 2025-05-12 17:30 UTC: the machine's day is still the 12th.
    let r = env
        .command(&["import", "--json"])
        .env("TZ", "UTC")
        .env("SOURCE_DATE_EPOCH", "1747071000")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let list = env
        .command(&["list", "--json"])
        .env("TZ", "UTC")
        .env("SOURCE_DATE_EPOCH", "1747071000")
        .output()
        .unwrap();
    let e: Value = serde_json::from_slice(
        String::from_utf8_lossy(&list.stdout)
            .lines()
            .next()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(e["date"], "2025-05-13", "{e}");
    assert_eq!(e["date_source"], "exif", "{e}");
}

#[test]
fn a_schema_1_catalog_is_migrated_with_nothing_lost() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog-v1");
    let env = Env::new();
    std::fs::create_dir_all(&env.archive).unwrap();
    std::fs::copy(
        fixture.join("catalog.sqlite"),
        env.archive.join("catalog.sqlite"),
    )
    .unwrap();
    let at = |args: &[&str]| -> String { env.run_at(JUNE_1, args).success_with(args).stdout };
    // The same facts and judgements as the schema-1 binary printed (it had no `activities`).
    let listed: Vec<Value> = at(&["list", "--json"])
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("activities");
            v
        })
        .collect();
    let expected: Vec<Value> = std::fs::read_to_string(fixture.join("expected-list.json"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), 13);
    assert_eq!(listed, expected);
    let stats: Value = serde_json::from_str(at(&["stats", "--json"]).trim()).unwrap();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("expected-stats.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stats, expected);
    // The schema-1 binary had no `week` (the days of the activity week) in its check.
    let mut check: Value = serde_json::from_str(at(&["check", "--json"]).trim()).unwrap();
    check.as_object_mut().unwrap().remove("week");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.join("expected-check.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(check, expected);
    // The rejection of the last schema-1 import and the withdrawn file are still there.
    assert!(at(&["list", "--rejected"]).contains("stray.txt"));
    assert!(at(&["list"]).contains("已撤回"));
    // And the migrated catalog takes a new import.
    env.put(
        "学生处/主题班会/新照片.jpg",
        &photo(10, "2025:05:20 10:00:00"),
    );
    let r = env.run(&["import", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        env.entry("学生处/主题班会/新照片.jpg")["activity"],
        "宣传职教政策主题班会"
    );
}
