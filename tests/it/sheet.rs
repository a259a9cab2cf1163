//! The `sheet` stage against real files: workbooks written here with rust_xlsxwriter, committed
//! xls/ods fixtures, CSVs in two encodings, hostile files, and every spreadsheet of the shared
//! corpus read through the child process.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::Book;
use chrono::{NaiveDate, NaiveDateTime};
use dangan::model::Format;
use dangan::sheet::{
    ChildLimits, Limits, SheetKind, Workbook, read_workbook, read_workbook_isolated,
    read_workbook_isolated_with, read_workbook_with,
};
use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook as XWorkbook};

const EXE: &str = env!("CARGO_BIN_EXE_dangan");

fn exe() -> &'static Path {
    Path::new(EXE)
}

fn dt(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|x| x.and_hms_opt(h, mi, 0))
        .expect("valid date")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sheets")
        .join(name)
}

fn problems(wb: &Workbook) -> Vec<String> {
    wb.problems.iter().map(|p| p.to_string()).collect()
}

/// 签到 (header on row 3 under a merged title, full-width header variants, dates as Excel
/// dates and as text, an ID typed as a number, a row without a name), 媒体 and 申报.
fn write_event_workbook(path: &Path) {
    let mut wb = XWorkbook::new();
    let date_fmt = XFormat::new().set_num_format("yyyy-mm-dd hh:mm");
    let day_fmt = XFormat::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name("签到").unwrap();
    ws.merge_range(
        0,
        0,
        0,
        6,
        "2025年职业教育活动周 技能竞赛 签到表",
        &XFormat::new(),
    )
    .unwrap();
    let header = [
        "序号",
        "姓　名",
        "学号（工号）",
        "手机号",
        "类别",
        "单位",
        "签到时间",
    ];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(2, c as u16, *h).unwrap();
    }
    // row 4: Excel date, numeric ID
    ws.write_number(3, 0, 1).unwrap();
    ws.write_string(3, 1, "张三").unwrap();
    ws.write_number(3, 2, 2023000001.0).unwrap();
    ws.write_string(3, 3, "13800000000").unwrap();
    ws.write_string(3, 4, "学生").unwrap();
    ws.write_string(3, 5, "机电2301班").unwrap();
    let when = ExcelDateTime::from_ymd(2025, 5, 12)
        .unwrap()
        .and_hms(9, 30, 0)
        .unwrap();
    ws.write_datetime_with_format(3, 6, &when, &date_fmt)
        .unwrap();
    // row 5: date as text, phone only
    ws.write_number(4, 0, 2).unwrap();
    ws.write_string(4, 1, "李四 ").unwrap();
    ws.write_string(4, 3, "13900000000").unwrap();
    ws.write_string(4, 4, "企业导师").unwrap();
    ws.write_string(4, 5, "某某机械有限公司").unwrap();
    ws.write_string(4, 6, "2025年5月11日 14:05").unwrap();
    // row 6: no name
    ws.write_number(5, 0, 3).unwrap();
    ws.write_number(5, 2, 2023000003.0).unwrap();
    ws.write_string(5, 4, "学生").unwrap();
    // row 7: pre-numbered blank line
    ws.write_number(6, 0, 4).unwrap();
    // row 8: not a date
    ws.write_number(7, 0, 5).unwrap();
    ws.write_string(7, 1, "王五").unwrap();
    ws.write_string(7, 2, "T0012").unwrap();
    ws.write_string(7, 4, "教师").unwrap();
    ws.write_string(7, 6, "上午").unwrap();

    let ws = wb.add_worksheet();
    ws.set_name("媒体").unwrap();
    for (c, h) in ["报道标题", "媒体名称", "级别", "发布日期", "网址"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "我校举办技能竞赛").unwrap();
    ws.write_string(1, 1, "四川日报").unwrap();
    ws.write_string(1, 2, "省级").unwrap();
    let d = ExcelDateTime::from_ymd(2025, 5, 13).unwrap();
    ws.write_datetime_with_format(1, 3, &d, &day_fmt).unwrap();
    ws.write_string(1, 4, "https://example.org/1").unwrap();
    ws.write_url_with_text(2, 0, "https://example.org/2", "开放日见闻")
        .unwrap(); // the link is on the title
    ws.write_string(2, 1, "自贡日报").unwrap();
    ws.write_string(2, 2, "市级").unwrap();
    ws.write_number(2, 3, 45790.0).unwrap(); // a serial without a date format
    ws.write_string(3, 1, "学校公众号").unwrap(); // no title
    ws.write_string(4, 0, "校长寄语").unwrap();
    ws.write_string(4, 1, "学校公众号").unwrap();
    ws.write_url_with_text(4, 4, "https://mp.example.org/3", "点击查看")
        .unwrap();

    let ws = wb.add_worksheet();
    ws.set_name("申报").unwrap();
    ws.write_string(0, 0, "各部门申报数").unwrap();
    for (c, h) in [
        "活动名称",
        "承办部门",
        "日期",
        "教师数",
        "学生数",
        "企业数",
        "参与人数",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    ws.write_string(2, 0, "校园开放日").unwrap();
    ws.write_string(2, 1, "招生就业处").unwrap();
    ws.write_string(2, 2, "2025.5.10").unwrap();
    ws.write_number(2, 3, 12).unwrap();
    ws.write_number(2, 4, 300).unwrap();
    ws.write_number(2, 5, 3).unwrap();
    ws.write_number(2, 6, 315).unwrap();
    ws.write_string(3, 0, "送教下乡").unwrap();
    ws.write_string(3, 3, "十二").unwrap();
    ws.write_number(3, 4, 2.5).unwrap();
    ws.write_string(4, 0, "合计").unwrap();
    ws.write_number(4, 3, 12).unwrap();

    let ws = wb.add_worksheet();
    ws.set_name("说明").unwrap();
    ws.write_string(0, 0, "本表由教务科研处汇总").unwrap();
    wb.save(path).unwrap();
}

fn check_event_workbook(wb: &Workbook) {
    assert_eq!(wb.error, None);
    let kinds: Vec<_> = wb
        .sheets
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("签到", SheetKind::SignIn),
            ("媒体", SheetKind::MediaRegister),
            ("申报", SheetKind::Declared),
            ("说明", SheetKind::Unrecognised),
        ]
    );
    let s = &wb.sheets[0];
    assert_eq!(s.header_row, Some(3));
    assert_eq!(
        s.title.as_deref(),
        Some("2025年职业教育活动周 技能竞赛 签到表")
    );
    assert_eq!(s.title_date, None);
    let names: Vec<_> = s.sign_in.iter().map(|r| (r.row, r.name.as_str())).collect();
    assert_eq!(names, [(4, "张三"), (5, "李四"), (8, "王五")]);
    let zhang = &s.sign_in[0];
    assert_eq!(zhang.id.as_deref(), Some("2023000001"));
    assert_eq!(zhang.role.as_deref(), Some("学生"));
    assert_eq!(zhang.unit.as_deref(), Some("机电2301班"));
    assert_eq!(zhang.time, Some(dt(2025, 5, 12, 9, 30)));
    let li = &s.sign_in[1];
    assert_eq!(li.id.as_deref(), Some("13900000000"), "phone when no 学号");
    assert_eq!(li.time, Some(dt(2025, 5, 11, 14, 5)));
    assert_eq!(s.sign_in[2].id.as_deref(), Some("T0012"));
    assert_eq!(s.sign_in[2].time, None);

    let m = &wb.sheets[1];
    assert_eq!(m.media.len(), 3);
    assert_eq!(m.media[0].title, "我校举办技能竞赛");
    assert_eq!(m.media[0].outlet, "四川日报");
    assert_eq!(m.media[0].level.as_deref(), Some("省级"));
    assert_eq!(m.media[0].date, NaiveDate::from_ymd_opt(2025, 5, 13));
    assert_eq!(m.media[0].url.as_deref(), Some("https://example.org/1"));
    assert_eq!(m.media[1].date, NaiveDate::from_ymd_opt(2025, 5, 13));
    assert_eq!(m.media[1].url.as_deref(), Some("https://example.org/2"));
    assert_eq!(m.media[2].url.as_deref(), Some("https://mp.example.org/3"));

    let d = &wb.sheets[2];
    assert_eq!(d.header_row, Some(2));
    assert_eq!(d.declared.len(), 2, "the 合计 line is not an activity");
    let open = &d.declared[0];
    assert_eq!(open.activity, "校园开放日");
    assert_eq!(open.department.as_deref(), Some("招生就业处"));
    assert_eq!(open.date, NaiveDate::from_ymd_opt(2025, 5, 10));
    assert_eq!(
        (
            open.teachers,
            open.students,
            open.enterprises,
            open.participants
        ),
        (Some(12), Some(300), Some(3), Some(315))
    );
    assert_eq!(d.declared[1].teachers, None);

    assert_eq!(
        problems(wb),
        [
            "工作表「签到」第 6 行：缺少姓名，已跳过",
            "工作表「签到」第 8 行：签到时间「上午」不是日期，已忽略该日期（本行仍计入）",
            "工作表「媒体」第 4 行：缺少报道标题，已跳过",
            "工作表「申报」第 4 行：教师数「十二」不是非负整数，已忽略该数（本行仍计入）",
            "工作表「申报」第 4 行：学生数「2.5」不是非负整数，已忽略该数（本行仍计入）",
        ]
    );
    assert_eq!(wb.earliest_date(), Some(dt(2025, 5, 10, 0, 0)));
}

#[test]
fn xlsx_sheets_of_every_kind_are_read_in_process_and_in_a_child() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("技能竞赛.xlsx");
    write_event_workbook(&path);
    check_event_workbook(&read_workbook(&path, Format::Xlsx));
    check_event_workbook(&read_workbook_isolated(&path, Format::Xlsx, exe()));
}

/// Shaped like the provincial form: title, then 活动名称 merged over two lines and 参与人数
/// merged over 教师数/学生数/企业数; and a sign-in sheet printed two people to a line.
#[test]
fn two_line_headers_and_side_by_side_sign_in_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("申报.xlsx");
    let mut wb = XWorkbook::new();
    let plain = XFormat::new();
    let ws = wb.add_worksheet();
    ws.set_name("申报").unwrap();
    ws.merge_range(0, 0, 0, 4, "职业教育活动周情况统计表", &plain)
        .unwrap();
    ws.merge_range(1, 0, 2, 0, "活动名称", &plain).unwrap();
    ws.merge_range(1, 1, 2, 1, "承办部门", &plain).unwrap();
    ws.merge_range(1, 2, 1, 4, "参与人数", &plain).unwrap();
    for (c, h) in ["教师数", "学生数", "企业数"].iter().enumerate() {
        ws.write_string(2, c as u16 + 2, *h).unwrap();
    }
    ws.write_string(3, 0, "企业开放日").unwrap();
    ws.write_string(3, 1, "就业处").unwrap();
    for (c, n) in [6.0, 120.0, 4.0].iter().enumerate() {
        ws.write_number(3, c as u16 + 2, *n).unwrap();
    }
    let ws = wb.add_worksheet();
    ws.set_name("签到").unwrap();
    for (c, h) in ["序号", "姓名", "学号", "序号", "姓名", "学号"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_number(1, 0, 1).unwrap();
    ws.write_string(1, 1, "张三").unwrap();
    ws.write_number(1, 2, 2023000001.0).unwrap();
    ws.write_number(1, 3, 2).unwrap();
    ws.write_string(1, 4, "李四").unwrap();
    ws.write_number(1, 5, 2023000002.0).unwrap();
    wb.save(&path).unwrap();

    let wb = read_workbook_isolated(&path, Format::Xlsx, exe());
    assert_eq!(wb.error, None);
    assert!(wb.problems.is_empty(), "{:?}", problems(&wb));
    let d = &wb.sheets[0];
    assert_eq!((d.kind, d.header_row), (SheetKind::Declared, Some(3)));
    assert_eq!(d.title.as_deref(), Some("职业教育活动周情况统计表"));
    let row = &d.declared[0];
    assert_eq!(row.activity, "企业开放日");
    assert_eq!(row.department.as_deref(), Some("就业处"));
    assert_eq!(
        (
            row.teachers,
            row.students,
            row.enterprises,
            row.participants
        ),
        (Some(6), Some(120), Some(4), None)
    );
    let s = &wb.sheets[1];
    let people: Vec<_> = s
        .sign_in
        .iter()
        .map(|r| (r.name.as_str(), r.id.as_deref()))
        .collect();
    assert_eq!(
        people,
        [("张三", Some("2023000001")), ("李四", Some("2023000002"))]
    );
}

#[test]
fn committed_xls_fixture_is_read() {
    let wb = read_workbook_isolated(&fixture("签到表.xls"), Format::Xls, exe());
    assert_eq!(wb.error, None);
    let s = &wb.sheets[0];
    assert_eq!((s.kind, s.header_row), (SheetKind::SignIn, Some(3)));
    let rows: Vec<_> = s
        .sign_in
        .iter()
        .map(|r| (r.row, r.name.as_str(), r.id.as_deref(), r.time))
        .collect();
    assert_eq!(
        rows,
        [
            (4, "张三", Some("2023000001"), Some(dt(2025, 5, 7, 9, 30))),
            (5, "李老师", Some("T0012"), Some(dt(2025, 5, 7, 0, 0))),
            (7, "王五", None, None),
        ]
    );
    assert_eq!(s.sign_in[2].role.as_deref(), Some("企业导师"));
    assert_eq!(
        problems(&wb),
        [
            "工作表「签到」第 6 行：缺少姓名，已跳过",
            "工作表「签到」第 7 行：签到时间「待定」不是日期，已忽略该日期（本行仍计入）",
        ]
    );
}

#[test]
fn many_threads_share_a_bounded_number_of_children() {
    let handles: Vec<_> = (0..6)
        .map(|_| {
            std::thread::spawn(|| {
                read_workbook_isolated(&fixture("签到表.xls"), Format::Xls, exe())
            })
        })
        .collect();
    for h in handles {
        let wb = h.join().expect("thread");
        assert_eq!(wb.error, None);
        assert_eq!(wb.sheets[0].sign_in.len(), 3);
    }
}

#[test]
fn committed_ods_fixture_is_read() {
    let wb = read_workbook_isolated(&fixture("媒体报道.ods"), Format::Ods, exe());
    assert_eq!(wb.error, None);
    let s = &wb.sheets[0];
    assert_eq!((s.kind, s.header_row), (SheetKind::MediaRegister, Some(2)));
    let rows: Vec<_> = s
        .media
        .iter()
        .map(|r| (r.row, r.outlet.as_str(), r.level.as_deref(), r.date))
        .collect();
    assert_eq!(
        rows,
        [
            (
                3,
                "四川日报",
                Some("省级"),
                NaiveDate::from_ymd_opt(2025, 5, 8)
            ),
            (
                4,
                "自贡日报",
                Some("市级"),
                NaiveDate::from_ymd_opt(2025, 5, 12)
            ),
        ]
    );
    assert_eq!(s.media[0].url.as_deref(), Some("https://example.org/a"));
    assert_eq!(
        problems(&wb),
        ["工作表「媒体报道」第 5 行：缺少报道标题，已跳过"]
    );
}

#[test]
fn csv_in_gb18030_and_utf8_with_bom() {
    let dir = tempfile::tempdir().unwrap();
    let text = "学生签到表,,\r\n姓名,学号,签到时间\r\n张三,2023000001,2025/5/12 9:30\r\n,2023000002,\r\n李四,2023000004,2025-05-12\r\n";
    let gb = dir.path().join("签到_gbk.csv");
    std::fs::write(&gb, encoding_rs::GB18030.encode(text).0).unwrap();
    let bom = dir.path().join("签到_bom.csv");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat()).unwrap();
    for (path, stem) in [(&gb, "签到_gbk"), (&bom, "签到_bom")] {
        let wb = read_workbook_isolated(path, Format::Csv, exe());
        assert_eq!(wb.error, None);
        let s = &wb.sheets[0];
        assert_eq!(s.name, stem);
        assert_eq!((s.kind, s.header_row), (SheetKind::SignIn, Some(2)));
        let rows: Vec<_> = s
            .sign_in
            .iter()
            .map(|r| (r.row, r.name.as_str(), r.id.as_deref(), r.time))
            .collect();
        assert_eq!(
            rows,
            [
                (3, "张三", Some("2023000001"), Some(dt(2025, 5, 12, 9, 30))),
                (5, "李四", Some("2023000004"), Some(dt(2025, 5, 12, 0, 0))),
            ]
        );
        assert_eq!(
            problems(&wb),
            [format!("工作表「{stem}」第 4 行：缺少姓名，已跳过")]
        );
    }
}

#[test]
fn a_cell_at_xfd1048576_does_not_abort() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.xlsx");
    let mut wb = XWorkbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "姓名").unwrap();
    ws.write_string(1, 0, "张三").unwrap();
    ws.write_string(1_048_575, 16_383, "far away").unwrap();
    wb.save(&path).unwrap();
    for wb in [
        read_workbook(&path, Format::Xlsx),
        read_workbook_isolated(&path, Format::Xlsx, exe()),
    ] {
        assert_eq!(wb.error, None);
        assert_eq!(wb.sheets[0].sign_in.len(), 1);
    }
}

#[test]
fn a_part_bigger_than_the_cap_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.xlsx");
    let rows = vec![vec!["张三张三张三张三张三张三张三张三张三张三"]; 2999];
    std::fs::write(&path, Book::new().row(&["姓名"]).rows(&rows).xlsx()).unwrap();
    let limits = Limits {
        max_part_bytes: 64 * 1024,
        ..Limits::default()
    };
    let read = read_workbook_with(&path, Format::Xlsx, &limits);
    let err = read.error.expect("refused");
    assert!(
        err.starts_with("表格解压后过大（疑似压缩炸弹），拒绝读取"),
        "{err}"
    );
    assert!(read.sheets.is_empty());

    // Within the part cap but over the row cap: what was read is kept, the rest reported.
    let limits = Limits {
        max_rows: 100,
        ..Limits::default()
    };
    let read = read_workbook_with(&path, Format::Xlsx, &limits);
    assert_eq!(read.error, None);
    assert_eq!(read.sheets[0].sign_in.len(), 99);
    assert_eq!(
        problems(&read),
        ["工作表「Sheet1」：表格过大：超过 100 行的上限，其余内容未读取"]
    );
}

/// The sparse ods below keeps calamine busy for about a second: past a 50 ms limit the child
/// is killed.
#[test]
fn a_child_past_its_time_is_killed_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slow.ods");
    write_sparse_ods(&path, 2000, 2400);
    let limits = ChildLimits {
        timeout: Duration::from_millis(50),
        ..ChildLimits::default()
    };
    let start = Instant::now();
    let wb = read_workbook_isolated_with(&path, Format::Ods, exe(), &limits);
    let err = wb.error.expect("killed");
    assert_eq!(
        err,
        "读取表格的子进程异常退出（可能是恶意或损坏的表格）：超过 0.05 秒仍未读完，已终止"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn not_a_spreadsheet_and_empty_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.xlsx");
    std::fs::write(&empty, b"").unwrap();
    let text = dir.path().join("text.xlsx");
    std::fs::write(&text, "这不是表格").unwrap();
    for (path, format) in [
        (&empty, Format::Xlsx),
        (&text, Format::Xlsx),
        (&text, Format::Xls),
        (&text, Format::Ods),
    ] {
        let wb = read_workbook_isolated(path, format, exe());
        assert!(wb.error.is_some(), "{path:?} {format:?}");
    }
}

/// An ods of two cells, `X` at A1 and `Y` after `rows` repeated empty rows and `cols`
/// repeated empty cells: calamine expands every repetition between them.
fn write_sparse_ods(path: &Path, rows: u32, cols: u32) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored).unwrap();
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    zip.start_file("META-INF/manifest.xml", stored).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#).unwrap();
    zip.start_file("content.xml", stored).unwrap();
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row><table:table-cell office:value-type="string"><text:p>X</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="{rows}"><table:table-cell/></table:table-row><table:table-row><table:table-cell table:number-columns-repeated="{cols}"/><table:table-cell office:value-type="string"><text:p>Y</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#
    );
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
}

/// 2 002 rows × 2 401 columns: under the cell cap, so it reaches calamine, which needs some
/// 300 MB for it. In a child limited to 128 MiB the allocation fails and the child aborts;
/// it costs one file, and this process goes on.
#[test]
fn an_ods_that_makes_calamine_abort_only_kills_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("abort.ods");
    write_sparse_ods(&path, 2000, 2400);
    let start = Instant::now();
    let limits = ChildLimits {
        memory_bytes: 128 * 1024 * 1024,
        ..ChildLimits::default()
    };
    let wb = read_workbook_isolated_with(&path, Format::Ods, exe(), &limits);
    let err = wb.error.expect("the child must fail");
    eprintln!("{err} ({:?})", start.elapsed());
    assert!(err.starts_with("读取表格的子进程异常退出"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(20));
}

/// 19 002 rows × 5 001 columns would be 95 M cells (3 GB) in calamine: refused before it
/// parses, in-process, with a reason.
#[test]
fn an_ods_whose_repeats_span_too_many_cells_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.ods");
    write_sparse_ods(&path, 19_000, 5_000);
    let wb = read_workbook(&path, Format::Ods);
    let err = wb.error.expect("refused");
    assert!(err.starts_with("表格声明的单元格范围过大"), "{err}");
    // A real sheet with trailing repeated empty rows and columns is not refused.
    write_sparse_ods(&path, 100, 20);
    let wb = read_workbook(&path, Format::Ods);
    assert_eq!(wb.error, None);
    assert_eq!(wb.sheets[0].kind, SheetKind::Unrecognised);
}

fn corpus() -> Option<PathBuf> {
    crate::support::corpus("spreadsheets")
}

fn format_of(path: &Path) -> Option<Format> {
    Some(match path.extension()?.to_str()? {
        "xlsx" => Format::Xlsx,
        "xlsm" => Format::Xlsm,
        "xlsb" => Format::Xlsb,
        "xls" => Format::Xls,
        "ods" => Format::Ods,
        "csv" => Format::Csv,
        _ => return None,
    })
}

#[test]
fn every_corpus_spreadsheet_is_read_or_refused_without_killing_the_run() {
    let Some(dir) = corpus() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| format_of(p).is_some())
        .collect();
    files.sort();
    assert!(files.len() > 100);
    let start = Instant::now();
    let mut errors = Vec::new();
    let limits = ChildLimits {
        timeout: Duration::from_secs(20),
        ..ChildLimits::default()
    };
    for path in &files {
        let format = format_of(path).unwrap();
        let t = Instant::now();
        let wb = read_workbook_isolated_with(path, format, exe(), &limits);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        eprintln!(
            "{name}: {:?} sheets={} problems={} error={:?} ({:?})",
            wb.sheets.iter().map(|s| s.kind).collect::<Vec<_>>(),
            wb.sheets.len(),
            wb.problems.len(),
            wb.error,
            t.elapsed()
        );
        match &wb.error {
            Some(e) => {
                assert!(!e.is_empty());
                errors.push(name);
            }
            None => assert!(!wb.sheets.is_empty() || name.contains("empty"), "{name}"),
        }
    }
    // The bombs: OOM_alloc3.xls has a sector chain pointing past the file, issue_594_dos.ods
    // asks for 999999999 × 999999999 cells. Both must come back as errors.
    for bomb in ["OOM_alloc3.xls", "issue_594_dos.ods"] {
        assert!(errors.iter().any(|e| e == bomb), "{bomb} must be refused");
    }
    let dos = read_workbook(&dir.join("issue_594_dos.ods"), Format::Ods);
    assert!(
        dos.error
            .as_deref()
            .is_some_and(|e| e.starts_with("表格声明的单元格范围过大")),
        "{:?}",
        dos.error
    );
    // OOM_alloc.xls and OOM_alloc2.xls made old calamine allocate without bound; calamine
    // 0.38 reads them in a few MiB (its own suite expects them to open), so they are
    // ordinary, unrecognised workbooks here. What matters is that the run went on.
    for old_bomb in ["OOM_alloc.xls", "OOM_alloc2.xls"] {
        assert!(!errors.iter().any(|e| e == old_bomb), "{old_bomb}");
    }
    for locked in [
        "pass_protected.xlsx",
        "pass_protected.xlsb",
        "pass_protected.ods",
    ] {
        let format = format_of(Path::new(locked)).unwrap();
        let wb = read_workbook_isolated(&dir.join(locked), format, exe());
        let err = wb.error.unwrap_or_default();
        assert!(err.contains("密码"), "{locked}: {err}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "corpus took {:?}",
        start.elapsed()
    );
}
