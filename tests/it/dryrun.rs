//! `import --dry-run` shows what the real run will do: the same paths, departments,
//! activities and dates (a sheet's earliest date, not the file's time), a zip's members with
//! their decoded names, and the withdrawals — compared with the real run's `list --json`.

use std::collections::BTreeMap;

use crate::support::*;
use serde_json::Value;

/// (path → department, activities, rule, date, date source, kind, name encoding) of entries.
fn key(v: &Value) -> (String, String) {
    let f = |k: &str| v[k].to_string();
    (
        v["path"].as_str().unwrap().to_string(),
        [
            f("department"),
            f("activities"),
            f("activity_rule"),
            f("date"),
            f("date_source"),
            f("kind"),
            f("name_encoding"),
        ]
        .join(" "),
    )
}

fn plan(env: &Env) -> Value {
    let r = env.run(&["import", "--dry-run", "--json"]);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn of_action(plan: &Value, action: &str) -> Vec<Value> {
    plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

fn sign_in_csv() -> Vec<u8> {
    "姓名,学号,签到时间\n张三,2023001,2025-05-13 09:00\n李四,2023002,2025-05-12 14:30\n"
        .as_bytes()
        .to_vec()
}

fn photo(seed: u8, when: &'static str) -> Vec<u8> {
    jpeg_with_exif(
        seed,
        &Exif {
            original: Some(when),
            ..Default::default()
        },
    )
}

#[test]
fn the_dry_run_plan_is_what_the_real_run_catalogs() {
    let env = Env::new();
    env.put(
        "教务科研处/启动仪式/IMG_1.jpg",
        &photo(1, "2025:05:07 09:30:00"),
    );
    // A sheet's date comes from its rows: the dry run must not show the file's time.
    env.put("校团委/学生签到表.csv", &sign_in_csv());
    env.put("学生处/杂项/说明.txt", "2025年5月20日\n说明\n".as_bytes());
    env.put(
        "信息工程学院/技能大赛/信息工程学院技能大赛照片.zip",
        &make_zip(&[
            ZipMember::new(&gbk("颁奖合影.jpg"), photo(2, "2025:05:14 10:00:00")),
            ZipMember::new(&gbk("签到/学生签到.csv"), sign_in_csv()),
            ZipMember::new(b"IMG_20250515_101500.jpg", jpeg(3)),
        ]),
    );
    env.put("根目录.jpg", &jpeg(9));

    let dry = plan(&env);
    assert!(!env.archive.exists(), "the dry run writes nothing");
    let planned: BTreeMap<String, String> = of_action(&dry, "new").iter().map(key).collect();
    assert_eq!(dry["new"], 7, "{dry}");
    assert_eq!(of_action(&dry, "rejected").len(), 1);
    // The sheet's earliest row date, as the real run has it.
    let sheet = &planned["校团委/学生签到表.csv"];
    assert!(sheet.contains("\"2025-05-12\" \"sheet\""), "{sheet}");
    // Members with their decoded names.
    assert!(
        planned
            .get("信息工程学院/技能大赛/信息工程学院技能大赛照片.zip/颁奖合影.jpg")
            .is_some_and(|v| v.contains("\"gb18030\"") && v.contains("\"2025-05-14\" \"exif\"")),
        "{planned:#?}"
    );

    env.import(3);
    let real: BTreeMap<String, String> = env.list().iter().map(key).collect();
    assert_eq!(planned, real);

    // Then a file goes, and the zip comes back without one of its members.
    std::fs::remove_file(env.inbox.join("学生处/杂项/说明.txt")).unwrap();
    env.put(
        "信息工程学院/技能大赛/信息工程学院技能大赛照片.zip",
        &make_zip(&[
            ZipMember::new(&gbk("颁奖合影.jpg"), photo(2, "2025:05:14 10:00:00")),
            ZipMember::new(b"IMG_20250515_101500.jpg", jpeg(3)),
        ]),
    );
    let dry = plan(&env);
    let mut withdrawn: Vec<String> = of_action(&dry, "withdrawn")
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    withdrawn.sort();
    assert_eq!(
        withdrawn,
        [
            "信息工程学院/技能大赛/信息工程学院技能大赛照片.zip/签到/学生签到.csv",
            "学生处/杂项/说明.txt"
        ]
    );
    assert_eq!(dry["withdrawn"], 2);
    // The text plan says it too.
    let r = env.run(&["import", "--dry-run"]);
    r.stdout_has("撤回\t学生处/杂项/说明.txt");
    r.stdout_has("撤回 2");

    env.import(3);
    let listed = env.run(&["list"]);
    let mut really: Vec<String> = listed
        .stdout
        .lines()
        .filter(|l| l.contains("\t已撤回"))
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    really.sort();
    assert_eq!(really, withdrawn);
}
