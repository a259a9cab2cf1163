//! The submissions to the province through the real binary: `dangan forms` writes 附件4 (xlsx
//! and txt) and the draft 工作总结报告.docx from a generated inbox; 附件5's xlsx carries the
//! contact line and its 填表说明; the week's days are shown by `check` and the report; the
//! year-end bag carries the forms.

use std::io::Read;
use std::path::Path;

use crate::support::*;
use calamine::{Data, Dimensions, Reader, Xlsx, open_workbook};

/// A run on [`JUNE_1`] that must succeed.
fn run_ok(env: &Env, args: &[&str]) -> Run {
    env.run_at(JUNE_1, args).success_with(args)
}

/// An xlsx with a header row and string cells.
fn xlsx(header: &[&str], rows: &[Vec<&str>]) -> Vec<u8> {
    Book::new().row(header).rows(rows).xlsx()
}

/// The built-in catalog with `[contact]` filled in except 手机 and QQ号, featuring 启动仪式 and
/// 党政领导讲职教.
fn contact_config() -> String {
    dangan::config::DEFAULT_TOML
        .replace("filler = \"\"", "filler = \"王梦霞\"")
        .replace("phone = \"\"", "phone = \"0813-1234567\"")
        .replace("contact = \"\"", "contact = \"王梦霞\"")
        .replace("title = \"\"", "title = \"秘书\"")
        .replace("website = \"\"", "website = \"https://jwc.example.cn/zjz\"")
        .replace(
            "featured = []",
            "featured = [\"启动仪式\", \"党政领导讲职教\"]",
        )
}

const SIGN_IN: [&str; 5] = ["姓名", "学号/工号", "身份", "单位", "签到时间"];
const MEDIA: [&str; 5] = ["报道标题", "媒体名称", "媒体级别", "发布日期", "链接"];

/// The launch with four photos, a sign-in sheet and a 总结; the leaders' lectures with two
/// photos; the speech contest with one; a central media register.
fn inbox() -> Inbox {
    let mut env = Inbox::new().config(&contact_config());
    for i in 0..4u8 {
        env = env.photo(
            &format!("教务科研处/启动仪式/IMG_{i}.jpg"),
            10 + i,
            &format!("2025:05:07 09:3{i}:00"),
        );
    }
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        xlsx(
            &SIGN_IN,
            &[
                vec![
                    "张三",
                    "2023000001",
                    "学生",
                    "机电2301班",
                    "2025-05-07 08:50",
                ],
                vec![
                    "李四",
                    "2023000002",
                    "学生",
                    "机电2301班",
                    "2025-05-07 08:51",
                ],
                vec!["王老师", "T001", "教师", "教务科研处", "2025-05-07 08:52"],
            ],
        ),
    )
        .put(
        "教务科研处/启动仪式/启动仪式总结.txt",
        "启动仪式总结\n5月7日上午，学院在体育馆举行职业教育活动月启动仪式。全院师生代表三百余人参加。执行院长讲话并宣布活动月正式启动。\n"
            .as_bytes(),
    )
        .photo("党政办/党政领导讲职教/a.jpg",
        30,
        "2025:05:12 10:00:00",
    )
        .photo("党政办/党政领导讲职教/b.jpg",
        31,
        "2025:05:13 10:00:00",
    )
        .put(
        "党政办/党政领导讲职教/签到.xlsx",
        xlsx(
            &SIGN_IN,
            &[vec![
                "赵老师",
                "T002",
                "教师",
                "党政办公室",
                "2025-05-12 14:00",
            ]],
        ),
    )
        .photo("校团委/演讲比赛/c.jpg", 40, "2025:05:15 15:00:00")
        .put(
        "融媒体中心/报道登记.xlsx",
        xlsx(
            &MEDIA,
            &[
                vec![
                    "学院启动活动月",
                    "四川日报",
                    "省级",
                    "2025-05-08",
                    "https://a.example/1",
                ],
                vec![
                    "学院启动活动月（转载）",
                    "四川日报",
                    "省级",
                    "2025-05-08",
                    "https://a.example/1",
                ],
                vec!["党政领导讲职教", "自贡日报", "市级", "2025-05-13", ""],
                vec!["演讲比赛", "区融媒体", "区级", "2025-05-15", ""],
                vec!["公众号推文", "学院公众号", "校级", "2025-05-15", ""],
                vec![
                    "旧闻",
                    "四川日报",
                    "省级",
                    "2025-07-14",
                    "https://a.example/9",
                ],
            ],
        ),
    )
}

fn setup() -> Inbox {
    let env = inbox();
    run_ok(&env, &["import", "-q"]);
    env
}

fn stats(env: &Env) -> serde_json::Value {
    run_ok(env, &["stats", "--json"]).json()
}

fn forms_json(env: &Env) -> serde_json::Value {
    run_ok(env, &["forms", "--json"]).json()
}

fn stat_file(env: &Env, name: &str) -> std::path::PathBuf {
    env.archive.join("统计").join(name)
}

fn zip_entry(path: &Path, name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut e = z.by_name(name).unwrap();
    let mut v = Vec::new();
    e.read_to_end(&mut v).unwrap();
    v
}

/// The text of document.xml without its tags.
fn docx_text(xml: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in xml.chars() {
        match c {
            '<' => tag = true,
            '>' => tag = false,
            c if !tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn info_xlsx_has_the_seed_labels_the_contact_row_and_the_two_blocks() {
    let env = setup();
    let s = forms_json(&env);
    assert_eq!(
        s["empty_contact"],
        serde_json::json!(["手机", "QQ号"]),
        "{s}"
    );
    let path = stat_file(&env, "信息采集表.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    let r = book.worksheet_range("信息采集表").unwrap();
    let at = |row: u32, col: u32| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    let text = |row: u32, col: u32| match at(row, col) {
        Data::String(s) => s,
        other => panic!("({row}, {col}): {other:?}"),
    };
    assert_eq!(text(0, 0), "2025 年职业教育活动周信息采集表");
    assert_eq!(
        text(1, 0),
        "填报单位（盖章）：自贡职业技术学院 填报人：王梦霞 联系电话：0813-1234567"
    );
    let header = [
        "市（州）/职业学校（含技学校）",
        "联系人",
        "职务",
        "手机",
        "QQ号",
        "专题网站（专栏）链接地址",
    ];
    for (c, h) in header.iter().enumerate() {
        assert_eq!(text(2, c as u32), *h);
    }
    assert_eq!(text(3, 0), "自贡职业技术学院");
    assert_eq!(text(3, 1), "王梦霞");
    assert_eq!(text(3, 2), "秘书");
    assert_eq!(at(3, 3), Data::Empty, "手机 not configured: empty");
    assert_eq!(at(3, 4), Data::Empty, "QQ号 not configured: empty");
    assert_eq!(text(3, 5), "https://jwc.example.cn/zjz");
    assert_eq!(text(4, 0), "活动周工作计划\n（300 字以内）");
    assert_eq!(text(5, 0), "特色活动简介\n（300字以内）");
    let plan = text(4, 1);
    let featured = text(5, 1);
    assert!(plan.chars().count() <= 300 && featured.chars().count() <= 300);
    assert!(plan.contains("5月7日，启动仪式"), "{plan}");
    assert!(
        featured.starts_with("启动仪式（5月7日，教务科研处承办）。5月7日上午，学院在体育馆举行"),
        "{featured}"
    );
    assert!(
        featured.contains("党政领导讲职教（5月12日至16日，党政办公室承办）"),
        "{featured}"
    );
    assert!(text(6, 0).starts_with(
        "填表说明：请各市（州）教育主管部门、各高职学校（含职教本科学校）2025 年 5 月 13 日前"
    ));

    let merged = book.merge_cells_by_sheet_name("信息采集表").unwrap();
    let has = |s: (u32, u32), e: (u32, u32)| merged.contains(&Dimensions { start: s, end: e });
    assert!(has((0, 0), (0, 5)), "title: {merged:?}");
    assert!(has((1, 0), (1, 5)), "填报 line");
    assert!(has((4, 1), (4, 5)), "plan block");
    assert!(has((5, 1), (5, 5)), "featured block");
    assert!(has((6, 0), (6, 5)), "填表说明");

    // The txt has both texts as they are in the workbook.
    let txt = std::fs::read_to_string(stat_file(&env, "信息采集表.txt")).unwrap();
    assert!(txt.contains(&plan) && txt.contains(&featured), "{txt}");

    // 附件5's form: the same contact line, and its 填表说明 under the table.
    run_ok(&env, &["stats", "-q"]);
    let mut book: Xlsx<_> = open_workbook(stat_file(&env, "情况统计表.xlsx")).unwrap();
    let r = book.worksheet_range("情况统计表").unwrap();
    assert_eq!(
        r.get_value((1, 0)),
        Some(&Data::String(
            "填报单位（盖章）：自贡职业技术学院 填报人：王梦霞 联系电话：0813-1234567".into()
        ))
    );
    match r.get_value((5, 0)) {
        Some(Data::String(s)) => assert!(
            s.starts_with("填表说明：请各市（州）教育主管部门、各高职学校在活动周结束后一周内")
                && s.ends_with("人力资源社会保障厅职业能力建设处邮箱。"),
            "{s}"
        ),
        other => panic!("{other:?}"),
    }
    let merged = book.merge_cells_by_sheet_name("情况统计表").unwrap();
    assert!(merged.contains(&Dimensions {
        start: (5, 0),
        end: (5, 10)
    }));
    // A4 landscape, one page.
    let sheet = String::from_utf8(zip_entry(
        &stat_file(&env, "情况统计表.xlsx"),
        "xl/worksheets/sheet1.xml",
    ))
    .unwrap();
    assert!(
        sheet.contains("paperSize=\"9\"") && sheet.contains("orientation=\"landscape\""),
        "{sheet}"
    );
    assert!(
        sheet.contains("fitToWidth") || sheet.contains("fitToPage=\"1\""),
        "{sheet}"
    );
}

#[test]
fn docx_has_the_seven_headings_the_figures_the_photos_and_the_media_table() {
    let env = setup();
    let t = stats(&env);
    let s = forms_json(&env);
    assert_eq!(
        s["featured"],
        serde_json::json!(["启动仪式", "党政领导讲职教"])
    );
    assert_eq!(s["photos"], 5, "{s}");
    let path = stat_file(&env, "工作总结报告.docx");
    let xml = String::from_utf8(zip_entry(&path, "word/document.xml")).unwrap();
    let text = docx_text(&xml);
    let mut from = 0;
    for h in [
        "基本情况",
        "主要做法和措施",
        "取得成效",
        "活动亮点",
        "典型案例",
        "媒体宣传情况",
        "存在问题及建议",
    ] {
        let at = text[from..]
            .find(h)
            .unwrap_or_else(|| panic!("{h} after {from}: {text}"));
        from += at + h.len();
    }
    // The 附件5 figures, as `stats --json` gives them.
    for (key, phrase) in [
        ("schools", "参与活动的职业学校（含技工院校）{} 所"),
        ("teachers", "参与活动的教师 {} 人"),
        ("students", "参与活动的学生 {} 人"),
        ("enterprises", "参与活动的企业 {} 家"),
        ("participants", "参与总人数 {} 人"),
        ("experience_projects", "观摩体验活动项目 {} 项"),
        ("media_provincial", "省级及以上媒体报道 {} 篇"),
        ("media_city", "市（州）级媒体报道 {} 篇"),
        ("media_county", "县（区）级媒体报道 {} 篇"),
    ] {
        let want = phrase.replace("{}", &t[key].to_string());
        assert!(text.contains(&want), "{want} in {text}");
    }
    assert!(text.contains(&format!(
        "参与活动的学生覆盖率 {}",
        t["coverage"].as_str().unwrap()
    )));
    assert_eq!(t["teachers"], 2);
    assert_eq!(t["media_provincial"], 1);
    // 主要做法和措施 by 主题活动日.
    assert!(text.contains("第一天：职教发展研讨日"), "{text}");
    assert!(text.contains("第五天：技能人才风采日"), "{text}");
    assert!(text.contains("其他活动"));
    // One image per chosen photo: three of the launch's four, both of the lectures'.
    assert_eq!(xml.matches("<pic:pic").count(), 5);
    let media: Vec<String> = zip_names(&path)
        .into_iter()
        .filter(|n| n.starts_with("word/media/"))
        .filter(|n| !n.ends_with('/'))
        .collect();
    assert_eq!(media.len(), 5, "{media:?}");
    for m in &media {
        let bytes = zip_entry(&path, m);
        assert!(bytes.starts_with(b"\x89PNG"), "{m}");
        assert!(bytes.len() < 200_000, "a thumbnail, not an original: {m}");
    }
    // A table row per counted report (+ the header): the duplicate and the July report are
    // not counted; the 校级 one is listed as 其他.
    let rows = xml.matches("<w:tr>").count() + xml.matches("<w:tr ").count();
    assert_eq!(rows, 1 + 4, "{xml}");
    assert!(text.contains("学院启动活动月") && !text.contains("旧闻"));
    // 存在问题及建议: the empty days of the week, as facts.
    assert!(text.contains("5月11日（周日）"), "{text}");
}

#[test]
fn the_same_epoch_gives_byte_identical_forms() {
    let env = setup();
    run_ok(&env, &["forms", "-q"]);
    let names = ["信息采集表.xlsx", "信息采集表.txt", "工作总结报告.docx"];
    let first: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(stat_file(&env, n)).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    run_ok(&env, &["nightly", "-q"]);
    for (n, before) in names.iter().zip(&first) {
        assert_eq!(&std::fs::read(stat_file(&env, n)).unwrap(), before, "{n}");
    }
    let r = env.run_at("1748822400", &["forms", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(
        std::fs::read(stat_file(&env, names[2])).unwrap(),
        first[2],
        "the epoch dates the document"
    );
}

#[test]
fn an_empty_day_of_the_week_is_flagged_by_check_and_the_report() {
    let env = setup();
    let r = run_ok(&env, &["check"]);
    r.stdout_has("活动周逐日（5月11日至17日）：4 天没有活动材料");
    r.stdout_has("⚠ 5月11日（周日） 没有注明这一天的活动材料");
    r.stdout_has("  5月12日（周一） 党政领导讲职教（2 个文件）");
    let r = run_ok(&env, &["check", "--json"]);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let week = v["week"].as_array().unwrap();
    assert_eq!(week.len(), 7);
    assert_eq!(week[0]["date"], "2025-05-11");
    assert_eq!(week[0]["empty"], true);
    assert_eq!(
        week[4]["activities"][0]["activity"],
        "“职教学生谈职教”演讲比赛"
    );

    run_ok(&env, &["report", "-q"]);
    let html = std::fs::read_to_string(env.archive.join("报告/index.html")).unwrap();
    assert!(
        html.contains(
            "<tr data-date=\"2025-05-11\"><td>5月11日（周日）</td><td class=\"owed empty-day\">"
        ),
        "{html}"
    );
    assert_eq!(html.matches("empty-day").count(), 4);
    // Cards grouped by theme day, in 附件3's order, then the rest.
    let first = html.find("第一天 职教发展研讨日").unwrap();
    let fourth = html.find("第四天 职教技能展示日").unwrap();
    let other = html.find("其他活动（未设主题活动日）").unwrap();
    assert!(first < fourth && fourth < other);
    let lecture = html.find("党政领导讲职教</a>").unwrap();
    assert!(first < lecture && lecture < fourth);
}

#[test]
fn the_plan_lists_the_activities_held_in_date_order_within_300_characters() {
    let env = Env::new();
    let cfg = dangan::config::Config::builtin();
    // A photo in every activity's folder, dated in its range.
    for (i, a) in cfg.activities.iter().enumerate() {
        let day = a.dates.as_ref().map(|r| r.start).unwrap_or_else(|| {
            chrono::NaiveDate::from_ymd_opt(2025, 5, 20 - i as u32 % 7).unwrap()
        });
        env.put(
            &format!("教务科研处/{}/p.jpg", a.name),
            &photo(i as u8, &day.format("%Y:%m:%d 10:00:00").to_string()),
        );
    }
    run_ok(&env, &["import", "-q"]);
    let r = run_ok(&env, &["forms"]);
    r.stdout_has("未填写 填报人、联系电话");
    let txt = std::fs::read_to_string(stat_file(&env, "信息采集表.txt")).unwrap();
    let plan = txt.lines().nth(4).unwrap();
    assert!(plan.chars().count() <= 300, "{}", plan.chars().count());
    assert!(plan.chars().count() > 200, "cut near the limit: {plan}");
    assert!(plan.starts_with(
        "自贡职业技术学院2025年职业教育活动月为5月1日至31日，活动周为5月11日至17日。"
    ));
    assert!(plan.ends_with('。'));
    assert!(plan.contains("5月7日，启动仪式"), "{plan}");
    // The listed activities are the first of all held ones in date order.
    let mut held: Vec<(chrono::NaiveDate, usize, &str)> = cfg
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let d = a.dates.as_ref().map(|r| r.start).unwrap_or_else(|| {
                chrono::NaiveDate::from_ymd_opt(2025, 5, 20 - i as u32 % 7).unwrap()
            });
            (d, i, a.name.as_str())
        })
        .collect();
    held.sort();
    let listed: Vec<&str> = held
        .iter()
        .map(|(_, _, n)| *n)
        .take_while(|n| plan.contains(&format!("，{n}")))
        .collect();
    assert!(listed.len() >= 5, "{plan}");
    let mut last = 0;
    for n in &listed {
        let at = plan.find(&format!("，{n}")).unwrap();
        assert!(at > last, "{n} out of order in {plan}");
        last = at;
    }
    assert!(
        !plan.contains(&format!("，{}", held[listed.len()].2)),
        "nothing after the cut: {plan}"
    );
}

#[test]
fn the_year_bag_carries_the_forms() {
    let env = setup();
    let out = env.dir.path().join("bag.zip");
    let r = env.run_at(
        JUNE_1,
        &["archive", "--year", "2025", "--out", out.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
    let names = zip_names(&out);
    for f in ["信息采集表.xlsx", "信息采集表.txt", "工作总结报告.docx"] {
        let want = format!("自贡职业技术学院-2025-职业教育活动周档案/data/统计/{f}");
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let r = env.run(["verify", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{} {}", r.stdout, r.stderr);
}

/// A person opens the draft in WPS or Word: LibreOffice (installed by .ci/run) converts it to
/// a PDF with pages. Skips itself where soffice is absent.
#[test]
fn the_docx_converts_to_a_pdf_with_pages() {
    let Ok(found) = std::process::Command::new("sh")
        .args(["-c", "command -v soffice"])
        .output()
    else {
        return;
    };
    if !found.status.success() {
        eprintln!("skipped: soffice (LibreOffice) is not installed");
        return;
    }
    let env = setup();
    run_ok(&env, &["forms", "-q"]);
    let out = env.dir.path().join("pdf");
    let profile = env.dir.path().join("lo-profile");
    let r = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&out)
        .arg(stat_file(&env, "工作总结报告.docx"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let pdf = std::fs::read(out.join("工作总结报告.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let text = String::from_utf8_lossy(&pdf).replace("/Type/Page", "/Type /Page");
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert!(pages >= 1, "pages: {pages}");
}
