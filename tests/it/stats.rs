//! Sheets through the real binary: import reads them once into the catalog, `stats` counts
//! distinct people and reports from the catalog and writes the 附件5 files.

use crate::support::*;

/// An xlsx with a merged title over a header on row 3, like departments make them.
fn xlsx(title: &str, header: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    Book::new().title(title).row(header).rows(rows).xlsx()
}

fn stats_json(env: &Env) -> serde_json::Value {
    env.json(&["stats", "--json"])
}

const SIGN_IN: [&str; 5] = ["姓名", "学号/工号", "身份", "单位", "签到时间"];

#[test]
fn people_are_counted_once_across_sheets_and_the_table_is_written() {
    let env = Inbox::new()
        .put(
            "教务科研处/启动仪式/签到表.xlsx",
            xlsx(
                "启动仪式签到表",
                &SIGN_IN,
                &[
                    vec![
                        "张三",
                        "2023000001",
                        "学生",
                        "机电2301班",
                        "2025-05-07 08:50",
                    ],
                    vec!["李老师", "T001", "教师", "教务科研处", "2025-05-07 08:51"],
                    vec!["", "2023000009", "学生", "机电2301班", "2025-05-07 08:52"],
                    vec!["王五", "", "学生", "自贡市职业技术学校", "2025-05-07 08:53"],
                    vec!["赵总", "", "企业代表", "华西能源", "2025-05-07 08:54"],
                ],
            ),
        )
        // The same student (by ID) and teacher (by name + unit) in two more sheets.
        .put(
            "学生处/主题班会/签到.xlsx",
            xlsx(
                "签到",
                &SIGN_IN,
                &[
                    vec!["张三", "2023000001", "学生", "机电2301班", "2025-05-14"],
                    vec!["李老师", "T001", "教师", "教务科研处", "2025-05-14"],
                ],
            ),
        )
        .put(
            "校团委/演讲比赛/学生签到表.xlsx",
            xlsx(
                "演讲比赛签到",
                &["姓名", "学号", "班级"],
                &[
                    vec!["张三", "2023000001", "机电2301班"],
                    vec!["钱七", "2023000002", "电气2302班"],
                ],
            ),
        );
    // Exit 3: one row (no name) was rejected; the rest count.
    let s = env.import(3);
    assert_eq!(s["new"], 3);
    let r = env.run(["status"]);
    assert!(
        r.stdout.contains("第 6 行") && r.stdout.contains("姓名"),
        "{}",
        r.stdout
    );
    let t = stats_json(&env);
    assert_eq!(t["students"], 2, "{t}"); // 张三, 钱七 (王五 is external)
    assert_eq!(t["teachers"], 1);
    assert_eq!(t["enterprises"], 1);
    assert_eq!(t["participants"], 5); // 张三 李老师 王五 赵总 钱七
    assert_eq!(t["schools"], 2); // own + 自贡市职业技术学校
    // 2 students of 9800 enrolled (the built-in catalog's figure).
    assert_eq!(t["coverage"], "0.02%");

    let csv = std::fs::read(env.archive.join("统计/情况统计表.csv")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "市（州）/职业学校（含技工院校）,参与活动的职业学校（含技工院校）数,参与活动的教师数,参与活动的学生数,参与活动的学生覆盖率,参与活动的企业数,参与总人数,观摩体验活动项目数,省级及以上媒体报道数,市（州）级媒体报道数,县（区）级媒体报道数"
    );
    assert_eq!(
        lines.next().unwrap(),
        "自贡职业技术学院,2,1,2,0.02%,1,5,0,0,0,0"
    );
    for f in ["情况统计表.xlsx", "活动明细.csv", "部门明细.csv"] {
        assert!(env.archive.join("统计").join(f).is_file(), "{f}");
    }
    // No output carries names or ID numbers.
    for f in ["情况统计表.csv", "活动明细.csv", "部门明细.csv"] {
        let text = std::fs::read_to_string(env.archive.join("统计").join(f)).unwrap();
        for secret in ["张三", "2023000001", "李老师", "T001"] {
            assert!(!text.contains(secret), "{f} carries {secret}");
        }
    }
}

#[test]
fn only_the_newest_version_of_a_sheet_counts() {
    let env = Env::new();
    let rows = |n: usize| -> Vec<Vec<String>> {
        (0..n)
            .map(|i| {
                vec![
                    format!("学生{i}"),
                    format!("20230{i:05}"),
                    "学生".into(),
                    "机电2301班".into(),
                    "".into(),
                ]
            })
            .collect()
    };
    fn as_refs(rows: &[Vec<String>]) -> Vec<Vec<&str>> {
        rows.iter()
            .map(|r| r.iter().map(String::as_str).collect())
            .collect()
    }
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &xlsx("签到", &SIGN_IN, &as_refs(&rows(5))),
    );
    env.import(0);
    assert_eq!(stats_json(&env)["students"], 5);
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &xlsx("签到", &SIGN_IN, &as_refs(&rows(3))),
    );
    assert_eq!(env.import(0)["changed"], 1);
    assert_eq!(stats_json(&env)["students"], 3);
    // Withdrawn: it no longer counts.
    std::fs::remove_file(env.inbox.join("教务科研处/启动仪式/签到表.xlsx")).unwrap();
    env.import(0);
    assert_eq!(stats_json(&env)["students"], 0);
}

#[test]
fn media_reports_declared_counts_and_the_sheet_rule() {
    let env = Env::new();
    let media = ["报道标题", "媒体名称", "媒体级别", "发布日期", "链接"];
    env.put(
        "校团委/演讲比赛/媒体报道.xlsx",
        &xlsx(
            "媒体报道登记",
            &media,
            &[
                vec![
                    "甲",
                    "四川日报",
                    "省级",
                    "2025-05-12",
                    "https://a.example/1",
                ],
                vec![
                    "乙",
                    "自贡日报",
                    "市（州）级",
                    "2025-05-13",
                    "https://a.example/2",
                ],
                vec!["丙", "区融媒体", "区级", "2025-05-14", ""],
                vec!["丁", "公众号", "校级", "2025-05-14", ""],
                vec![
                    "戊",
                    "四川日报",
                    "省级",
                    "2025-07-14",
                    "https://a.example/9",
                ],
            ],
        ),
    );
    // The same report (same URL) registered by another department counts once.
    env.put(
        "融媒体中心/报道登记.xlsx",
        &xlsx(
            "登记",
            &media,
            &[vec![
                "甲（转载）",
                "四川日报",
                "省级",
                "2025-05-12",
                "https://a.example/1",
            ]],
        ),
    );
    // Declared counts: used for an activity without a sign-in sheet, ignored where one exists.
    let declared = ["活动名称", "教师数", "学生数", "企业数", "参与人数"];
    env.put(
        "就业处/申报统计.xlsx",
        &xlsx(
            "各活动参与人数申报",
            &declared,
            &[
                vec!["企业谈职教", "3", "40", "2", "45"],
                vec!["企业谈职教", "3", "40", "2", "45"],
            ],
        ),
    );
    env.put(
        "教务科研处/启动仪式/申报.xlsx",
        &xlsx(
            "申报",
            &declared,
            &[vec!["启动仪式", "10", "100", "0", "110"]],
        ),
    );
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &xlsx(
            "签到",
            &SIGN_IN,
            &[vec![
                "张三",
                "2023000001",
                "学生",
                "机电2301班",
                "2025-05-07",
            ]],
        ),
    );
    // A sign-in sheet outside any activity folder whose rows name their activity (rule 3).
    env.put(
        "学生处/签到汇总.xlsx",
        &xlsx(
            "签到",
            &["姓名", "学号", "身份", "活动名称"],
            &[vec!["孙八", "2023000003", "学生", "辅导员素质能力大赛"]],
        ),
    );
    env.import(0);
    let e = env.entry("学生处/签到汇总.xlsx");
    assert_eq!(e["activity"], "辅导员素质能力大赛");
    assert_eq!(e["activity_rule"], "sheet");
    let t = stats_json(&env);
    assert_eq!(
        (
            t["media_provincial"].as_u64(),
            t["media_city"].as_u64(),
            t["media_county"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{t}"
    );
    // 企业谈职教 declared: 3 teachers, 40 students, 2 enterprises, 45 people; the launch's
    // declared row is ignored (it has a sign-in sheet): 张三 + 孙八.
    assert_eq!(t["teachers"], 3, "{t}");
    assert_eq!(t["students"], 42);
    assert_eq!(t["enterprises"], 2);
    assert_eq!(t["participants"], 47);
    let detail = std::fs::read_to_string(env.archive.join("统计/活动明细.csv")).unwrap();
    let line = detail
        .lines()
        .find(|l| l.starts_with("企业谈职教,"))
        .unwrap();
    assert!(line.ends_with(",申报"), "{line}");
    let line = detail.lines().find(|l| l.starts_with("启动仪式,")).unwrap();
    assert!(line.ends_with(",签到表"), "{line}");
}

#[test]
fn gb18030_csvs_on_request_and_formulas_neutralised() {
    let env = Inbox::new()
        .put(
            "教务科研处/启动仪式/签到表.xlsx",
            xlsx(
                "签到",
                &SIGN_IN,
                &[vec!["张三", "1", "学生", "机电2301班", ""]],
            ),
        )
        .config(&builtin_with(
            "institution = \"自贡职业技术学院\"",
            "institution = \"=HYPERLINK(\\\"http://x\\\")\"",
        ));
    env.import(0);
    let r = env.run(["stats", "--encoding", "gb18030", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(env.archive.join("统计/情况统计表.csv")).unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
    assert!(!bad);
    assert!(
        text.contains("\n\"'=HYPERLINK(\"\"http://x\"\")\",1,0,1,0.01%,"),
        "{text}"
    );
    assert!(text.contains("参与活动的学生覆盖率"));
}

/// Every spreadsheet of the corpus (calamine's test files, memory bombs included) is imported
/// without a panic: each is stored, recognised or reported.
#[test]
fn corpus_spreadsheets_import_without_a_panic() {
    let Some(corpus) = corpus("spreadsheets") else {
        return;
    };
    let env = Env::new();
    let dept = env.inbox.join("教务科研处");
    std::fs::create_dir_all(&dept).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(&corpus).unwrap().flatten() {
        if e.path().is_file() && std::fs::metadata(e.path()).unwrap().len() > 0 {
            std::fs::copy(e.path(), dept.join(e.file_name())).unwrap();
            n += 1;
        }
    }
    let r = env.run(&["import", "--json"]);
    // Unreadable workbooks (the memory bombs, password-protected files) lose their rows: 3.
    assert_eq!(r.code, 3, "{} {}", r.stdout, r.stderr);
    let status = env.run(&["status"]);
    assert!(
        status
            .stdout
            .contains("issue_594_dos.ods 表“（整个文件）”：表格无法读取"),
        "{}",
        status.stdout
    );
    let s: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(
        s["new"].as_u64().unwrap() + s["rejected"].as_u64().unwrap(),
        n
    );
    let listed = env.list();
    for name in ["issue_594_dos.ods", "OOM_alloc3.xls"] {
        let e = listed
            .iter()
            .find(|v| v["path"] == format!("教务科研处/{name}"))
            .unwrap();
        assert!(e["problems"].to_string().contains("表格"), "{name}: {e}");
    }
    assert_eq!(stats_json(&env)["institution"], "自贡职业技术学院");
}

/// A city's bureau adds two colleges' tables (our own CSV and XLSX) with `dangan rollup`:
/// a row per institution and a 合计 row whose coverage comes from summed students over summed
/// enrolment.
#[test]
fn rollup_adds_two_institutions_tables() {
    let env = Inbox::new().put(
        "教务科研处/启动仪式/签到表.xlsx",
        xlsx(
            "签到",
            &SIGN_IN,
            &[
                vec!["张三", "1", "学生", "机电2301班", ""],
                vec!["李四", "2", "学生", "机电2301班", ""],
                vec!["王老师", "T1", "教师", "教务科研处", ""],
            ],
        ),
    );
    env.import(0);
    assert_eq!(env.run(["stats", "-q"]).code, 0);
    let ours = env.archive.join("统计/情况统计表.csv");
    let text = std::fs::read_to_string(&ours).unwrap();
    let other = env.dir.path().join("乙校.csv");
    std::fs::write(&other, text.replace("自贡职业技术学院", "乙职业学校")).unwrap();
    let enrolment = env.dir.path().join("在校生.csv");
    std::fs::write(
        &enrolment,
        "机构,在校生总数\n自贡职业技术学院,4000\n乙职业学校,4000\n",
    )
    .unwrap();
    let out = env.dir.path().join("全市.csv");
    let r = env.run([
        "rollup",
        ours.to_str().unwrap(),
        other.to_str().unwrap(),
        "--enrolment",
        enrolment.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let total = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = total.lines().collect();
    assert_eq!(rows.len(), 4, "{total}");
    assert!(
        rows[0].starts_with("\u{feff}市（州）/职业学校（含技工院校）,"),
        "{total}"
    );
    assert!(rows[1].starts_with("自贡职业技术学院,"), "{total}");
    assert!(rows[2].starts_with("乙职业学校,"), "{total}");
    // 4 students of 8000 enrolled: 0.05 %; teachers 1 + 1.
    assert!(rows[3].starts_with("合计,"), "{total}");
    let cells: Vec<&str> = rows[3].split(',').collect();
    assert_eq!(cells[2], "2", "{total}");
    assert_eq!(cells[3], "4", "{total}");
    assert_eq!(cells[4], "0.05%", "{total}");
    // Not an enrolment file: bad usage is exit 2, a bad input file exit 1 with its name.
    let r = env.run(["rollup", "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    let r = env.run([
        "rollup",
        enrolment.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1);
    r.stderr_has("在校生.csv");
}

/// A workbook sent in for the rollup is read as the import reads one: through the sheet
/// stage's zip check, before any parser, in its limited child. An xlsx whose shared strings
/// claim 1000 bytes and inflate to 50 MiB (lying sizes), and one whose shared strings say
/// honestly that 64 MiB come from a few KiB (a ratio no real sheet has), are both refused with
/// their name, and nothing is written.
#[test]
fn rollup_refuses_zip_bombs_as_the_import_does() {
    let env = Env::new();
    let bomb = |lie_size: Option<u32>, zeros: usize| {
        let part = |name: &str, data: &[u8]| ZipMember {
            deflate: true,
            ..ZipMember::new(name.as_bytes(), data.to_vec())
        };
        make_zip(&[
            part("[Content_Types].xml", b"<Types/>"),
            part("xl/workbook.xml", b"<workbook/>"),
            ZipMember {
                lie_size,
                ..part("xl/sharedStrings.xml", &vec![b' '; zeros])
            },
        ])
    };
    let out = env.dir.path().join("全市.csv");
    for (name, bytes, says) in [
        (
            "说谎.xlsx",
            bomb(Some(1000), 50 << 20),
            "解压后比声明的大小更大",
        ),
        ("炸弹.xlsx", bomb(None, 64 << 20), "疑似压缩炸弹"),
    ] {
        let path = env.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let r = env.run(&[
            "rollup",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 1, "{name}: {} {}", r.stdout, r.stderr);
        assert!(r.stderr.starts_with("错误："), "{name}: {}", r.stderr);
        for part in [name, "不是可读的 xlsx 文件", "xl/sharedStrings.xml", says] {
            assert!(
                r.stderr.contains(part),
                "{name}: wants {part:?} in {}",
                r.stderr
            );
        }
        assert!(!out.exists(), "{name}: nothing written");
    }
}
