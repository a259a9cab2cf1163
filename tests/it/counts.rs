//! The counts on sheets as offices really make them, through the real binary: merged 身份/单位
//! blocks (xlsx as Excel writes it; xls and ods converted by LibreOffice when it is installed),
//! headers below row 10, IDs that Excel turned into `5.11502E+17`, rows without an ID that are
//! a person with one, office roles, units written as a department's alias, one enterprise
//! written two ways, dates without a year, and a central media register.

use std::process::Command;

use crate::support::*;
use rust_xlsxwriter::{Format, Workbook};

/// A sign-in sheet as a department makes it in Excel: a merged title, then 10 students whose
/// 单位 and 身份 are one merged block each, 5 enterprise staff likewise, and 3 guests whose
/// 单位 and 身份 are one block merged down and across; the sign-in time merged down over all.
fn merged_sign_in() -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("签到").unwrap();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 4, "2025年职业教育活动周启动仪式签到表", &f)
        .unwrap();
    for (c, h) in ["姓名", "学号/工号", "单位", "身份", "签到时间"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for i in 0..10u32 {
        ws.write_string(2 + i, 0, format!("学生{i}")).unwrap();
        ws.write_string(2 + i, 1, format!("20230000{i:02}"))
            .unwrap();
    }
    for i in 0..5u32 {
        ws.write_string(12 + i, 0, format!("企业{i}")).unwrap();
    }
    for i in 0..3u32 {
        ws.write_string(17 + i, 0, format!("嘉宾{i}")).unwrap();
    }
    ws.merge_range(2, 2, 11, 2, "机电2301班", &f).unwrap();
    ws.merge_range(2, 3, 11, 3, "学生", &f).unwrap();
    ws.merge_range(12, 2, 16, 2, "华西能源工业股份有限公司", &f)
        .unwrap();
    ws.merge_range(12, 3, 16, 3, "企业人员", &f).unwrap();
    ws.merge_range(17, 2, 19, 3, "特邀嘉宾", &f).unwrap();
    ws.merge_range(2, 4, 19, 4, "2025-05-07 09:00", &f).unwrap();
    wb.save_to_buffer().unwrap()
}

/// LibreOffice, when installed (`.ci/run` installs it).
fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Converts `bytes` (an xlsx) to `ext` (`xls`, `ods`) with LibreOffice, as an office saves it.
fn convert(bytes: &[u8], ext: &str) -> Option<Vec<u8>> {
    let Some(bin) = soffice() else {
        eprintln!("注意：没有安装 LibreOffice（soffice），跳过 {ext} 的测试");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.xlsx");
    std::fs::write(&src, bytes).unwrap();
    let profile = format!("file://{}", dir.path().join("profile").display());
    let out = Command::new(bin)
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to", ext, "--outdir"])
        .arg(dir.path())
        .arg(&src)
        .output()
        .expect("run soffice");
    let made = dir.path().join(format!("in.{ext}"));
    assert!(
        made.exists(),
        "soffice made no {ext}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(made).unwrap())
}

fn assert_merged_counts(name: &str, bytes: &[u8]) {
    let env = Inbox::new().put(&format!("教务科研处/启动仪式/{name}"), bytes);
    let imported = env.import(0);
    assert_eq!(imported["problems"], 0, "{name}");
    let s = env.json(&["stats", "--json"]);
    assert_eq!(
        s["students"], 10,
        "{name}: the 身份 block covers ten students"
    );
    assert_eq!(s["enterprises"], 1, "{name}");
    assert_eq!(s["teachers"], 0, "{name}");
    assert_eq!(s["participants"], 18, "{name}");
    let rows = activity_rows(&env);
    let row = &rows[&("启动仪式".to_string(), "教务科研处".to_string())];
    assert_eq!(
        row["访客"], "3",
        "{name}: 特邀嘉宾 merged across 单位 and 身份"
    );
    let r = env.run(["stats"]);
    assert!(!r.stdout.contains("未填单位"), "{name}: {}", r.stdout);
    assert!(!r.stdout.contains("没有身份列"), "{name}: {}", r.stdout);
}

#[test]
fn merged_blocks_fill_down_and_across_in_xlsx() {
    assert_merged_counts("签到表.xlsx", &merged_sign_in());
}

#[test]
fn merged_blocks_fill_down_and_across_in_xls() {
    if let Some(xls) = convert(&merged_sign_in(), "xls") {
        assert_merged_counts("签到表.xls", &xls);
    }
}

#[test]
fn merged_blocks_fill_down_and_across_in_ods() {
    if let Some(ods) = convert(&merged_sign_in(), "ods") {
        assert_merged_counts("签到表.ods", &ods);
    }
}

/// One sheet per entry: (sheet name, rows from row 1, each a list of cells).
fn workbook(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    sheets
        .iter()
        .fold(Book::new(), |book, (name, rows)| {
            book.sheet(name).rows(rows)
        })
        .xlsx()
}

#[test]
fn a_header_below_row_ten_is_found_and_a_sheet_naming_names_without_one_is_reported() {
    let env = Env::new();
    let mut rows: Vec<Vec<&str>> = (0..14)
        .map(|_| vec!["填表说明：请用黑色签字笔填写"])
        .collect();
    rows.push(vec!["姓名", "学号", "身份", "班级"]);
    let names = ["甲", "乙", "丙", "丁", "戊"];
    let ids = ["1", "2", "3", "4", "5"];
    for (n, id) in names.iter().zip(ids) {
        rows.push(vec![n, id, "学生", "机电2301班"]);
    }
    let odd = vec![vec!["参会人员", "姓名签字", "备注"], vec!["1", "张三", ""]];
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &workbook(&[("签到", rows), ("登记", odd)]),
    );
    env.import(3);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["students"], 5);
    let status = env.run(&["status"]);
    assert!(
        status
            .stdout
            .contains("第 1 行有“姓名签字”，但前 30 行里找不到可识别的表头"),
        "{}",
        status.stdout
    );
}

#[test]
fn excel_scientific_ids_are_no_ids_and_an_id_less_row_is_the_one_person_with_that_id() {
    let env = Env::new();
    // Excel saved this CSV with the 身份证号 shown as 5.11502E+17: twelve people, one "ID".
    let mut csv = String::from("姓名,身份证号,身份,单位\n");
    for i in 0..12 {
        csv.push_str(&format!("学生{i},5.11502E+17,学生,机电2301班\n"));
    }
    env.put("学生处/主题班会/签到.csv", csv.as_bytes());
    // 张三 signs with his student number in one sheet and without it in another.
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &workbook(&[(
            "签到",
            vec![
                vec!["姓名", "学号", "身份", "班级"],
                vec!["张三", "2023000001", "学生", "机电2301班"],
                vec!["李四", "2023000002", "学生", "机电2301班"],
            ],
        )]),
    );
    env.put(
        "校团委/演讲比赛/签到表.xlsx",
        &workbook(&[(
            "签到",
            vec![
                vec!["姓名", "学号", "身份", "班级"],
                vec!["张三", "", "学生", "机电 2301班"],
                vec!["李四", "", "学生", "电气2302班"],
            ],
        )]),
    );
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    // 12 by name and unit; 张三 once; 李四 of another class is another person.
    assert_eq!(s["students"], 15);
    let r = env.run(&["stats"]);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("科学计数法"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.stdout);
    assert!(
        lines[0].contains(
            "学生处/主题班会/签到.csv：12 行（第 2、3、4、5、6 行…）的编号是 Excel 的科学计数法"
        ),
        "{}",
        lines[0]
    );
}

#[test]
fn office_roles_department_aliases_short_names_and_one_enterprise_written_two_ways() {
    let env = Env::new();
    env.write_config(&builtin_with(
        "[[department]]\nname = \"财务处\"",
        "[[department]]\nname = \"经济管理学院\"\naliases = [\"经管学院\"]\n\n[[department]]\nname = \"财务处\"",
    ));
    let mut rows = vec![vec!["姓名", "身份", "单位"]];
    for (n, role) in [
        ("甲", "校领导"),
        ("乙", "领导"),
        ("丙", "职工"),
        ("丁", "管理人员"),
        ("戊", "后勤人员"),
        ("己", "教辅人员"),
    ] {
        rows.push(vec![n, role, "党政办"]);
    }
    rows.push(vec!["学生一", "学生", "经管学院"]);
    rows.push(vec!["学生二", "学生", "经管 学院"]);
    rows.push(vec!["学生三", "学生", "自贡职院"]);
    rows.push(vec!["外校生", "学生", "四川某大学"]);
    rows.push(vec!["王总", "企业代表", "宜宾天原集团"]);
    rows.push(vec!["李工", "企业人员", "宜宾天原集团股份有限公司"]);
    rows.push(vec!["赵工", "企业导师", "宜宾天原集团（有限公司）"]);
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &workbook(&[("签到", rows)]),
    );
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["teachers"], 6);
    assert_eq!(
        s["students"], 3,
        "经管学院 is 经济管理学院; 自贡职院 is the college"
    );
    assert_eq!(s["enterprises"], 1);
    assert_eq!(s["participants"], 13);
    // The breakdown's people columns add up to its total; enterprises are counted as units.
    let rows = activity_rows(&env);
    let row = &rows[&("启动仪式".to_string(), "教务科研处".to_string())];
    let n = |k: &str| row[k].parse::<u64>().unwrap();
    assert_eq!(
        (
            n("教师"),
            n("学生"),
            n("校外学生"),
            n("企业人员"),
            n("访客"),
            n("身份不明")
        ),
        (6, 3, 1, 3, 0, 0)
    );
    assert_eq!(n("参与人数"), 13);
    assert_eq!(n("企业数（家）"), 1);
    // An edit of the config changes the table at the next run, without an import.
    let edited = std::fs::read_to_string(env.dir.path().join("dangan.toml")).unwrap();
    env.write_config(&edited.replacen("short_names = [\"自贡职院\"]", "short_names = []", 1));
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["students"], 2);
}

#[test]
fn dates_without_a_year_take_the_activitys_year_and_raise_no_flood_of_warnings() {
    let env = Env::new();
    let mut rows = vec![vec!["姓名", "学号", "身份", "班级", "签到时间"]];
    let names: Vec<String> = (0..19).map(|i| format!("学生{i}")).collect();
    let ids: Vec<String> = (0..19).map(|i| format!("2023{i:06}")).collect();
    for (n, id) in names.iter().zip(&ids) {
        rows.push(vec![n, id, "学生", "机电2301班", "5月15日 14:00"]);
    }
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &workbook(&[("上午", rows)]),
    );
    env.put(
        "教务科研处/启动仪式/媒体报道登记.xlsx",
        &workbook(&[(
            "登记",
            vec![
                vec!["报道标题", "刊发媒体", "级别", "发布日期"],
                vec!["我校启动职业教育活动周", "自贡日报", "市级", "5月7日"],
                vec!["活动周回顾", "四川日报", "省级", "6月20日"],
            ],
        )]),
    );
    let imported = env.import(0);
    assert_eq!(imported["problems"], 0, "{}", env.run(&["status"]).stdout);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["students"], 19);
    assert_eq!(s["media_city"], 1);
    assert_eq!(
        s["media_provincial"], 0,
        "6月20日 is 2025-06-20, after the window"
    );
    let r = env.run(&["stats"]);
    assert!(!r.stdout.contains("不是日期"), "{}", r.stdout);
    r.stdout_has("日期 2025-06-20 不在统计期间");
}

#[test]
fn a_central_register_puts_each_report_on_the_activity_its_title_names() {
    let env = Inbox::new().put(
        "融媒体中心/2025活动周媒体报道汇总.xlsx",
        workbook(&[(
            "汇总",
            vec![
                vec![
                    "序号",
                    "报道标题",
                    "媒体名称",
                    "媒体级别",
                    "报道日期",
                    "链接",
                ],
                vec![
                    "1",
                    "我校举行2025年职业教育活动周启动仪式",
                    "自贡日报",
                    "市级",
                    "2025-05-07",
                    "https://a.example/1",
                ],
                vec![
                    "2",
                    "学生技能竞赛圆满落幕",
                    "四川日报",
                    "省级",
                    "2025-05-20",
                    "https://a.example/2",
                ],
                vec![
                    "3",
                    "技能大赛获奖名单公布",
                    "自贡网",
                    "市级",
                    "2025-05-21",
                    "https://a.example/3",
                ],
                vec![
                    "4",
                    "校园风采",
                    "公众号",
                    "校级",
                    "2025-05-22",
                    "https://a.example/4",
                ],
            ],
        )]),
    );
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["media_city"], 2);
    assert_eq!(s["media_provincial"], 1);
    let rows = activity_rows(&env);
    let start = &rows[&("启动仪式".to_string(), "融媒体中心".to_string())];
    assert_eq!(start["市（州）级"], "1");
    let contest = &rows[&("学生技能竞赛".to_string(), "融媒体中心".to_string())];
    assert_eq!(contest["省级及以上"], "1");
    assert_eq!(contest["市（州）级"], "1");
    let rest = &rows[&("未归类".to_string(), "融媒体中心".to_string())];
    assert_eq!(rest["其他媒体"], "1");
}

#[test]
fn warnings_are_grouped_per_sheet_and_reason_and_nightly_and_the_report_show_them() {
    let env = Env::new();
    let mut rows = vec![vec!["姓名", "学号", "身份", "班级", "签到时间"]];
    let names: Vec<String> = (0..19).map(|i| format!("学生{i}")).collect();
    let ids: Vec<String> = (0..19).map(|i| format!("2023{i:06}")).collect();
    for (n, id) in names.iter().zip(&ids) {
        rows.push(vec![n, id, "学生", "机电2301班", "待定"]);
    }
    env.put(
        "教务科研处/启动仪式/签到表.xlsx",
        &workbook(&[("上午", rows)]),
    );
    let r = env.run(&["nightly"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let grouped = "注意：教务科研处/启动仪式/签到表.xlsx 表“上午”：19 行签到时间不是日期，已忽略该日期（这些行仍计入）（第 2、3、4、5、6 行…；如「待定」）";
    let notes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("注意："))
        .collect();
    assert!(notes.contains(&grouped), "{}", r.stdout);
    assert!(notes.len() <= 6, "{}", r.stdout);
    assert!(!r.stdout.contains("第 7 行：签到时间"), "{}", r.stdout);
    let stats = env.run(&["stats"]);
    let all: Vec<&str> = stats
        .stdout
        .lines()
        .filter(|l| l.starts_with("注意："))
        .collect();
    assert!(all.contains(&grouped), "{}", stats.stdout);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.contains(&format!("· 注意 {} 条 ·", all.len())),
        "{last}"
    );
    let html = std::fs::read_to_string(env.archive.join("报告/index.html")).unwrap();
    assert!(
        html.contains(&format!("<h2 id=\"notes\">注意（{} 条）</h2>", all.len())),
        "no 注意 section"
    );
    for line in &all {
        let text = line.trim_start_matches("注意：");
        assert!(html.contains(text), "report misses {text}");
    }
}

/// 2025-05-07 10:00 at +08:00: the day the files were saved.
const MAY_7: i64 = 1_746_583_200;

/// What a 教务系统 exports as "xls": an HTML page with one table, in GB18030 with a meta
/// charset, the 单位 merged down with rowspan.
fn html_xls(teachers: usize) -> Vec<u8> {
    let mut html = String::from(
        "<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><head>\
         <meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head><body>\
         <table border=1><tr><td colspan=4>教师签到表</td></tr>\
         <tr><td>姓名</td><td>工号</td><td>身份</td><td>单位</td></tr>",
    );
    for i in 0..teachers {
        let unit = if i == 0 {
            format!("<td rowspan={teachers}>机电工程学院</td>")
        } else {
            String::new()
        };
        html.push_str(&format!(
            "<tr><td>教师{i}</td><td x:str>T{i:03}</td><td>教师</td>{unit}</tr>"
        ));
    }
    html.push_str("</table></body></html>");
    encoding_rs::GB18030.encode(&html).0.into_owned()
}

#[test]
fn an_html_table_saved_as_xls_is_read_as_a_sheet() {
    let env = Inbox::new().put("教务科研处/启动仪式/教师签到表.xls", html_xls(8));
    env.set_mtime("教务科研处/启动仪式/教师签到表.xls", MAY_7);
    // Exit 0: no row or file was lost.
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["teachers"], 8);
    let entry = env.entry("教务科研处/启动仪式/教师签到表.xls");
    assert_eq!(entry["kind"], "sheet");
}

#[test]
fn an_xml_spreadsheet_2003_saved_as_xls_is_read_as_a_sheet() {
    let env = Env::new();
    let mut rows = String::new();
    for i in 0..6 {
        let unit = if i == 0 {
            "<Cell ss:MergeDown=\"5\"><Data ss:Type=\"String\">机电2301班</Data></Cell>"
        } else {
            "<Cell ss:Index=\"4\"/>"
        };
        rows.push_str(&format!(
            "<Row><Cell><Data ss:Type=\"String\">学生{i}</Data></Cell>\
             <Cell><Data ss:Type=\"Number\">20230000{i:02}</Data></Cell>\
             <Cell><Data ss:Type=\"String\">学生</Data></Cell>{unit}</Row>\n"
        ));
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<?mso-application progid=\"Excel.Sheet\"?>\n\
         <Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\" \
         xmlns:ss=\"urn:schemas-microsoft-com:office:spreadsheet\">\n\
         <Worksheet ss:Name=\"签到\"><Table>\n\
         <Row><Cell><Data ss:Type=\"String\">姓名</Data></Cell><Cell><Data ss:Type=\"String\">学号</Data></Cell>\
         <Cell><Data ss:Type=\"String\">身份</Data></Cell><Cell><Data ss:Type=\"String\">班级</Data></Cell></Row>\n\
         {rows}</Table></Worksheet></Workbook>"
    );
    env.put("学生处/主题班会/签到.xls", xml.as_bytes());
    env.set_mtime("学生处/主题班会/签到.xls", MAY_7);
    // Exit 0: no row or file was lost.
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["students"], 6);
}

/// A docx as Word saves it, reduced to its two needed parts.
fn docx(body: &str) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("[Content_Types].xml", opts).unwrap();
    z.write_all(
        br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#,
    )
    .unwrap();
    z.start_file("word/document.xml", opts).unwrap();
    write!(
        z,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    )
    .unwrap();
    z.finish().unwrap();
    out.into_inner()
}

fn word_table(rows: &[Vec<(&str, &str)>]) -> String {
    let mut t = String::from("<w:tbl>");
    for r in rows {
        t.push_str("<w:tr>");
        for (text, props) in r {
            t.push_str(&format!(
                "<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"
            ));
        }
        t.push_str("</w:tr>");
    }
    t.push_str("</w:tbl>");
    t
}

#[test]
fn a_sign_in_sheet_made_in_word_counts_and_a_plan_s_tables_do_not() {
    let env = Env::new();
    let restart = "<w:vMerge w:val=\"restart\"/>";
    let cont = "<w:vMerge/>";
    let mut rows = vec![vec![("姓名", ""), ("学号", ""), ("身份", ""), ("班级", "")]];
    let names: Vec<String> = (0..4).map(|i| format!("学生{i}")).collect();
    let ids: Vec<String> = (0..4).map(|i| format!("202300000{i}")).collect();
    for (i, (n, id)) in names.iter().zip(&ids).enumerate() {
        let merge = if i == 0 { restart } else { cont };
        let role = if i == 0 { "学生" } else { "" };
        rows.push(vec![(n, ""), (id, ""), (role, merge), ("机电2301班", "")]);
    }
    let body = format!(
        "<w:p><w:r><w:t>启动仪式签到表</w:t></w:r></w:p>{}",
        word_table(&rows)
    );
    env.put("教务科研处/启动仪式/签到表.docx", &docx(&body));
    // A plan lists its working group with 姓名 and 职务: not participants.
    let plan = word_table(&[
        vec![("姓名", ""), ("职务", "")],
        vec![("王校长", ""), ("组长", "")],
    ]);
    env.put("教务科研处/启动仪式/启动仪式方案.docx", &docx(&plan));
    env.import(0);
    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["students"], 4);
    assert_eq!(s["participants"], 4);
}
