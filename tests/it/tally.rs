//! The counting rules of DESIGN.md (*Spreadsheets*, *The provincial table*), the statistics
//! files and the rollup, each proved on hand-made facts with exact numbers.

use std::path::{Path, PathBuf};

use calamine::{Data, Dimensions, Reader, Xlsx, open_workbook};
use chrono::NaiveDate;
use dangan::model::{Kind, RowAt};
use dangan::output::{
    self, ACTIVITY_HEADERS, Cell, CsvEncoding, DEPARTMENT_HEADERS, TABLE_HEADERS, csv_bytes,
    table_json, write_stats,
};
use dangan::rollup::{RollupError, rollup};
use dangan::tally::{
    ActivityInfo, BreakdownRow, CountSource, Coverage, DeclaredFact, FileFact, MediaFact,
    PersonFact, Tally, TallyInput, tally, tally_streamed,
};
use proptest::prelude::*;

const INSTITUTION: &str = "自贡职业技术学院";
const EPOCH: i64 = 1_747_000_000; // 2025-05-11

fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, month, day).unwrap()
}

fn activity(name: &str, dept: &str, start: NaiveDate, end: NaiveDate, exp: bool) -> ActivityInfo {
    ActivityInfo {
        name: name.into(),
        departments: vec![dept.into()],
        start,
        end,
        experience: exp,
    }
}

fn base() -> TallyInput {
    TallyInput {
        institution: INSTITUTION.into(),
        enrolled_students: 4000,
        own_units: vec!["教务科研处".into(), "学生处".into(), "机电工程学院".into()],
        unit_aliases: vec![],
        activities: vec![
            activity("启动仪式", "教务科研处", d(5, 7), d(5, 7), false),
            activity("校园开放日", "学生处", d(5, 12), d(5, 13), true),
            activity("技能展示", "机电工程学院", d(5, 14), d(5, 14), true),
        ],
        files: vec![],
        people: vec![],
        media: vec![],
        declared: vec![],
        report_window: (d(5, 1), d(5, 31)),
    }
}

/// A sign-in row of `sheet` (a source `sheet 第 row 行`).
#[allow(clippy::too_many_arguments)]
fn person(
    act: Option<&str>,
    dept: &str,
    role: Option<&str>,
    name: &str,
    id: Option<&str>,
    unit: Option<&str>,
    sheet: &str,
    row: usize,
) -> PersonFact {
    PersonFact {
        activities: act.map(|a| vec![a.to_string()]).unwrap_or_default(),
        department: dept.into(),
        role: role.map(Into::into),
        role_hint: Some(format!("Sheet1 {}", sheet.rsplit('/').next().unwrap_or(sheet)).into()),
        name: name.into(),
        id: id.map(Into::into),
        unit: unit.map(Into::into),
        at: RowAt {
            path: format!("{dept}/{sheet}"),
            sheet: "Sheet1".into(),
            row: row as u32,
        },
    }
}

fn student(name: &str, id: Option<&str>, unit: Option<&str>) -> PersonFact {
    person(
        Some("启动仪式"),
        "教务科研处",
        Some("学生"),
        name,
        id,
        unit,
        "签到表.xlsx",
        2,
    )
}

fn report(
    act: Option<&str>,
    dept: &str,
    title: &str,
    outlet: &str,
    level: Option<&str>,
    date: Option<NaiveDate>,
    url: Option<&str>,
) -> MediaFact {
    MediaFact {
        activities: act.map(|a| vec![a.to_string()]).unwrap_or_default(),
        department: dept.into(),
        title: title.into(),
        outlet: outlet.into(),
        level: level.map(Into::into),
        date,
        url: url.map(Into::into),
    }
}

fn file(act: Option<&str>, dept: &str, kind: Kind) -> FileFact {
    FileFact {
        department: dept.into(),
        activities: act.map(|a| vec![a.to_string()]).unwrap_or_default(),
        kind,
        date: Some(d(5, 7)),
    }
}

fn row<'a>(t: &'a Tally, act: &str, dept: &str) -> &'a BreakdownRow {
    t.activities
        .iter()
        .find(|r| r.activity == act && r.department == dept)
        .unwrap_or_else(|| panic!("no row {act}/{dept} in {:#?}", t.activities))
}

fn dept_row<'a>(t: &'a Tally, dept: &str) -> &'a BreakdownRow {
    t.departments
        .iter()
        .find(|r| r.department == dept)
        .unwrap_or_else(|| panic!("no department row {dept}"))
}

// ---------------------------------------------------------------- people

#[test]
fn role_comes_from_the_file_name_when_there_is_no_role_column() {
    let mut input = base();
    input.people = vec![
        person(
            None,
            "教务科研处",
            None,
            "张三",
            Some("2023000001"),
            Some("机电2301班"),
            "学生签到表.xlsx",
            2,
        ),
        person(
            None,
            "教务科研处",
            None,
            "李老师",
            Some("T001"),
            None,
            "教师签到表.xlsx",
            2,
        ),
        person(
            None,
            "教务科研处",
            None,
            "王五",
            None,
            None,
            "签到表.xlsx",
            2,
        ),
        person(
            None,
            "教务科研处",
            None,
            "赵六",
            None,
            None,
            "签到表.xlsx",
            3,
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 1);
    assert_eq!(t.table.teachers, 1);
    assert_eq!(t.table.participants, 4);
    assert_eq!(t.table.schools, 1);
    let unknown: Vec<&String> = t
        .warnings
        .iter()
        .filter(|w| w.contains("只计入参与总人数"))
        .collect();
    assert_eq!(unknown.len(), 1, "one warning per sheet: {unknown:?}");
    assert!(unknown[0].starts_with("教务科研处/签到表.xlsx 表“Sheet1”："));
    assert!(
        !t.warnings
            .iter()
            .any(|w| w.contains("王五") || w.contains("赵六"))
    );
}

#[test]
fn one_person_in_three_sheets_counts_once_by_id() {
    let mut input = base();
    input.people = vec![
        person(
            Some("启动仪式"),
            "教务科研处",
            Some("学生"),
            "张三",
            Some("2023000001.0"),
            Some("机电2301班"),
            "a.xlsx",
            2,
        ),
        person(
            Some("校园开放日"),
            "学生处",
            Some("学生"),
            "张三",
            Some("2023000001"),
            Some("机电2301班"),
            "b.xlsx",
            5,
        ),
        person(
            Some("校园开放日"),
            "学生处",
            Some("本校学生"),
            "张 三",
            Some(" ２０２３０００００１ "),
            None,
            "c.xlsx",
            9,
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 1);
    assert_eq!(t.table.participants, 1);
    assert_eq!(row(&t, "启动仪式", "教务科研处").students, 1);
    assert_eq!(row(&t, "校园开放日", "学生处").students, 1);
    assert_eq!(row(&t, "校园开放日", "学生处").participants, 1);
    assert_eq!(dept_row(&t, "学生处").students, 1);
    assert_eq!(t.table.coverage.text(), "0.03%");
}

#[test]
fn one_person_without_id_counts_once_by_name_and_unit() {
    let mut input = base();
    input.people = vec![
        student("李四", None, Some("机电2301班")),
        person(
            Some("校园开放日"),
            "学生处",
            Some("学生"),
            " 李四\u{3000}",
            None,
            Some("机电２３０１班"),
            "b.xlsx",
            3,
        ),
        person(
            Some("技能展示"),
            "机电工程学院",
            Some("学生"),
            "李四",
            None,
            Some("机电2301班"),
            "c.xlsx",
            4,
        ),
        // The same name in another class is another person.
        student("李四", None, Some("电子2302班")),
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 2);
    assert_eq!(t.table.participants, 2);
}

#[test]
fn placeholder_ids_units_and_links_merge_nothing() {
    let mut input = base();
    input.people = vec![
        student("张三", Some("无"), Some("无")),
        student("李四", Some("/"), Some("—")),
        student("王五", Some("0"), None),
    ];
    input.media = vec![
        report(
            Some("启动仪式"),
            "教务科研处",
            "甲",
            "自贡日报",
            Some("市级"),
            Some(d(5, 8)),
            Some("无"),
        ),
        report(
            Some("启动仪式"),
            "教务科研处",
            "乙",
            "自贡日报",
            Some("市级"),
            Some(d(5, 8)),
            Some("无"),
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 3, "three own students, not one");
    assert_eq!(t.table.media_city, 2);
}

#[test]
fn an_external_student_counts_only_in_the_total() {
    let mut input = base();
    input.people = vec![
        student("张三", Some("2023000001"), Some("机电2301班")),
        student("钱七", None, Some("荣县中学")),
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 1);
    assert_eq!(t.table.participants, 2);
    assert_eq!(t.table.schools, 1);
}

#[test]
fn vocational_schools_are_the_own_one_and_external_schools_of_non_enterprise_people() {
    let mut input = base();
    let p = |role: &str, name: &str, unit: &str, row: usize| {
        person(
            Some("校园开放日"),
            "学生处",
            Some(role),
            name,
            None,
            Some(unit),
            "开放日签到.xlsx",
            row,
        )
    };
    input.people = vec![
        student("张三", Some("2023000001"), Some("机电2301班")),
        p("教师", "孙老师", "四川卫生康复职业学院", 2),
        p("中职学生", "周八", "自贡市职业技术学校", 3),
        p("中职学生", "吴九", "自贡市职业技术学校", 4),
        p("企业导师", "郑十", "四川职业装备有限公司", 5),
        p("家长", "冯某", "荣县中学", 6),
    ];
    let t = tally(&input);
    assert_eq!(
        t.table.schools, 3,
        "own + 2 external schools, not the company"
    );
    assert_eq!(t.table.enterprises, 1);
    assert_eq!(t.table.teachers, 1);
    assert_eq!(t.table.students, 1, "中职学生 are visitors");
    assert_eq!(t.table.participants, 6);
    let open_day = row(&t, "校园开放日", "学生处");
    assert_eq!(open_day.visitors, 3);
    assert_eq!(open_day.students, 0);
    assert_eq!(open_day.enterprises, 1);
    assert_eq!(open_day.source, CountSource::SignIn);
}

#[test]
fn a_secondary_vocational_student_is_a_visitor() {
    let mut input = base();
    input.people = vec![person(
        None,
        "学生处",
        Some("中职学生"),
        "周八",
        Some("S1"),
        Some("自贡市职业技术学校"),
        "学生签到表.xlsx",
        2,
    )];
    let t = tally(&input);
    assert_eq!(t.table.students, 0);
    assert_eq!(t.table.participants, 1);
    assert_eq!(row(&t, "未归类", "学生处").visitors, 1);
}

#[test]
fn an_unknown_role_seen_elsewhere_with_a_role_is_one_person() {
    let mut input = base();
    input.people = vec![
        person(
            None,
            "学生处",
            None,
            "张三",
            Some("2023000001"),
            None,
            "签到表.xlsx",
            2,
        ),
        student("张三", Some("2023000001.0"), None),
        // An enterprise person without a unit: a person, but no enterprise.
        person(
            None,
            "学生处",
            Some("企业人员"),
            "郑十",
            None,
            None,
            "签到表.xlsx",
            3,
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.participants, 2);
    assert_eq!(t.table.students, 1);
    assert_eq!(t.table.enterprises, 0);
    assert!(t.warnings.iter().any(|w| w.contains("未填单位")));
}

#[test]
fn every_activity_has_a_row_and_unassigned_rows_follow() {
    let mut input = base();
    input.activities.push(ActivityInfo {
        name: "职教宣传".into(),
        departments: vec![],
        start: d(5, 11),
        end: d(5, 17),
        experience: false,
    });
    input.files = vec![
        file(None, "学生处", Kind::Photo),
        file(Some("未知活动"), "学生处", Kind::Photo),
    ];
    let t = tally(&input);
    let names: Vec<(&str, &str)> = t
        .activities
        .iter()
        .map(|r| (r.activity.as_str(), r.department.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("启动仪式", "教务科研处"),
            ("校园开放日", "学生处"),
            ("技能展示", "机电工程学院"),
            ("职教宣传", "未注明部门"),
            ("未知活动", "学生处"),
            ("未归类", "学生处"),
        ]
    );
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("“未知活动”不在活动目录中"))
    );
}

// ---------------------------------------------------------------- media

#[test]
fn each_media_level_lands_in_its_column() {
    let mut input = base();
    let levels = [
        Some("国家级"),
        Some("省级"),
        Some("市（州）级"),
        Some("市(州)级"),
        Some("县（区）级"),
        Some("区级"),
        Some("校级"),
        Some("公众号"),
        None,
    ];
    input.media = levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            report(
                Some("启动仪式"),
                "教务科研处",
                &format!("报道{i}"),
                "某媒体",
                *l,
                Some(d(5, 10)),
                Some(&format!("https://news.example.cn/{i}")),
            )
        })
        .collect();
    let t = tally(&input);
    assert_eq!(
        (
            t.table.media_provincial,
            t.table.media_city,
            t.table.media_county
        ),
        (2, 2, 2)
    );
    let r = row(&t, "启动仪式", "教务科研处");
    assert_eq!(
        (
            r.media.provincial,
            r.media.city,
            r.media.county,
            r.media.other
        ),
        (2, 2, 2, 3)
    );
}

#[test]
fn a_report_registered_by_two_departments_counts_once() {
    let mut input = base();
    input.media = vec![
        report(
            Some("启动仪式"),
            "教务科研处",
            "我校举办活动周启动仪式",
            "自贡日报",
            Some("市级"),
            Some(d(5, 8)),
            Some("https://News.example.cn/a/1"),
        ),
        report(
            Some("校园开放日"),
            "学生处",
            "活动周启动",
            "自贡日报",
            Some("市（州）级"),
            Some(d(5, 8)),
            Some(" http://news.example.cn/a/1/ "),
        ),
        // No link, but the title and outlet of the linked row: the same report.
        report(
            Some("启动仪式"),
            "教务科研处",
            "我校举办活动周启动仪式",
            "自贡日报",
            Some("市级"),
            None,
            None,
        ),
        // Same title in another outlet: another report.
        report(
            Some("启动仪式"),
            "教务科研处",
            "我校举办活动周启动仪式",
            "自贡网",
            Some("市级"),
            Some(d(5, 9)),
            None,
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.media_city, 2);
    assert_eq!(row(&t, "启动仪式", "教务科研处").media.city, 2);
    assert_eq!(row(&t, "校园开放日", "学生处").media.city, 1);
}

#[test]
fn a_report_outside_the_window_is_not_counted_and_an_undated_one_is_with_a_warning() {
    let mut input = base();
    input.media = vec![
        report(
            Some("启动仪式"),
            "教务科研处",
            "六月回顾",
            "四川日报",
            Some("省级"),
            Some(d(6, 15)),
            Some("https://a.cn/1"),
        ),
        report(
            Some("启动仪式"),
            "教务科研处",
            "四月预告",
            "四川日报",
            Some("省级"),
            Some(d(4, 30)),
            Some("https://a.cn/2"),
        ),
        report(
            Some("启动仪式"),
            "教务科研处",
            "无日期",
            "四川日报",
            Some("省级"),
            None,
            Some("https://a.cn/3"),
        ),
        report(
            Some("启动仪式"),
            "教务科研处",
            "月末",
            "四川日报",
            Some("省级"),
            Some(d(5, 31)),
            Some("https://a.cn/4"),
        ),
    ];
    let t = tally(&input);
    assert_eq!(t.table.media_provincial, 2);
    assert_eq!(
        t.warnings
            .iter()
            .filter(|w| w.contains("不在统计期间"))
            .count(),
        2
    );
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("《无日期》") && w.contains("已计入"))
    );
}

// ---------------------------------------------------------------- declared, coverage, projects

#[test]
fn declared_counts_are_used_only_where_no_sign_in_sheet_exists() {
    let mut input = base();
    input.people = vec![student("张三", Some("2023000001"), None)];
    let declared = |act: &str, t: u64, s: u64, e: u64, p: Option<u64>| DeclaredFact {
        activity: act.into(),
        department: None,
        teachers: Some(t),
        students: Some(s),
        enterprises: Some(e),
        participants: p,
    };
    input.declared = vec![
        declared("启动仪式", 50, 500, 9, Some(600)),
        declared("校园开放日", 10, 200, 3, Some(260)),
        declared("校园开放日", 10, 200, 3, Some(260)), // the same sheet twice
    ];
    let t = tally(&input);
    assert_eq!(t.table.students, 201);
    assert_eq!(t.table.teachers, 10);
    assert_eq!(t.table.enterprises, 3);
    assert_eq!(t.table.participants, 261);
    assert_eq!(
        row(&t, "启动仪式", "教务科研处").source,
        CountSource::SignIn
    );
    assert_eq!(row(&t, "启动仪式", "教务科研处").students, 1);
    let open_day = row(&t, "校园开放日", "学生处");
    assert_eq!(open_day.source, CountSource::Declared);
    assert_eq!(
        (open_day.teachers, open_day.students, open_day.participants),
        (10, 200, 260)
    );
    assert_eq!(
        row(&t, "技能展示", "机电工程学院").source,
        CountSource::None
    );
    assert_eq!(dept_row(&t, "学生处").source, CountSource::Declared);
    assert!(
        t.warnings
            .iter()
            .any(|w| w.contains("“启动仪式”申报参与人数 600，签到表为 1 人"))
    );
}

#[test]
fn coverage_is_distinct_own_students_over_enrolment_rounded_half_up() {
    let mut input = base();
    input.people = (0..525)
        .flat_map(|i| {
            let id = format!("2023{i:06}");
            // Each student signs twice: still 525.
            [
                student("某", Some(&id), Some("机电2301班")),
                student("某", Some(&format!("{id}.0")), Some("机电2301班")),
            ]
        })
        .collect();
    let t = tally(&input);
    assert_eq!(t.table.students, 525);
    assert_eq!(t.table.coverage.text(), "13.13%");
    assert_eq!(table_json(&t)["coverage"], "13.13%");

    for (s, e, want) in [
        (1, 8, "12.50%"),
        (1, 200_000, "0.00%"),
        (5, 100_000, "0.01%"),
        (1, 3, "33.33%"),
        (2, 3, "66.67%"),
    ] {
        assert_eq!(Coverage::percent(s, e).as_deref(), Some(want), "{s}/{e}");
    }
    input.enrolled_students = 0;
    let t = tally(&input);
    assert_eq!(t.table.coverage.text(), "—");
    assert!(table_json(&t)["coverage"].is_null());
}

#[test]
fn experience_projects_are_those_with_evidence() {
    let mut input = base();
    input.files = vec![
        file(Some("校园开放日"), "学生处", Kind::Photo),
        file(Some("校园开放日"), "学生处", Kind::Video),
        file(Some("启动仪式"), "教务科研处", Kind::Document),
        file(None, "机电工程学院", Kind::Photo),
    ];
    let t = tally(&input);
    assert_eq!(t.table.experience_projects, 1);
    let r = row(&t, "校园开放日", "学生处");
    assert_eq!((r.files.photo, r.files.video), (1, 1));
    assert_eq!(row(&t, "未归类", "机电工程学院").files.photo, 1);
    assert_eq!(dept_row(&t, "机电工程学院").files.photo, 1);
    assert_eq!(t.table.schools, 0, "no participant, no school");
}

// ---------------------------------------------------------------- files

fn sample() -> TallyInput {
    let mut input = base();
    input.people = vec![
        student("张三", Some("2023000001"), Some("机电2301班")),
        person(
            Some("校园开放日"),
            "学生处",
            Some("教师"),
            "孙老师",
            Some("13800001111"),
            Some("四川卫生康复职业学院"),
            "s.xlsx",
            2,
        ),
        person(
            Some("校园开放日"),
            "学生处",
            Some("企业代表"),
            "郑十",
            None,
            Some("自贡某公司"),
            "s.xlsx",
            3,
        ),
    ];
    input.media = vec![report(
        Some("启动仪式"),
        "教务科研处",
        "启动",
        "四川日报",
        Some("省级"),
        Some(d(5, 8)),
        Some("https://a.cn/1"),
    )];
    input.files = vec![file(Some("校园开放日"), "学生处", Kind::Photo)];
    input
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = output::decode_csv(bytes);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[test]
fn statistics_files_are_written_with_bom_headers_and_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let t = tally(&sample());
    let paths = write_stats(&t, dir.path(), CsvEncoding::Utf8Bom, EPOCH).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "情况统计表.csv",
            "情况统计表.xlsx",
            "活动明细.csv",
            "部门明细.csv"
        ]
    );

    let table = read(&paths[0]);
    assert!(table.starts_with(b"\xEF\xBB\xBF"));
    let rows = read_csv(&table);
    assert_eq!(rows[0], TABLE_HEADERS);
    assert_eq!(
        rows[1],
        [
            INSTITUTION,
            "2",
            "1",
            "1",
            "0.03%",
            "1",
            "3",
            "1",
            "1",
            "0",
            "0"
        ]
    );
    assert_eq!(rows.len(), 2);

    let acts = read_csv(&read(&paths[2]));
    assert_eq!(acts[0], ACTIVITY_HEADERS);
    assert_eq!(
        acts[1],
        [
            "启动仪式",
            "教务科研处",
            "2025-05-07",
            "2025-05-07",
            "0",
            "0",
            "0",
            "0",
            "0",
            // 教师 学生 校外学生 企业人员 访客 身份不明 参与人数 企业数（家）
            "0",
            "1",
            "0",
            "0",
            "0",
            "0",
            "1",
            "0",
            "1",
            "0",
            "0",
            "0",
            "签到表"
        ]
    );
    let depts = read_csv(&read(&paths[3]));
    assert_eq!(depts[0], DEPARTMENT_HEADERS);
    assert_eq!(depts.len(), 4);
    assert_eq!(
        depts[2],
        [
            "学生处",
            "1",
            "0",
            "0",
            "0",
            "0",
            // 教师 学生 校外学生 企业人员 访客 身份不明 参与人数 企业数（家）
            "1",
            "0",
            "0",
            "1",
            "0",
            "0",
            "2",
            "1",
            "0",
            "0",
            "0",
            "0",
            "签到表"
        ]
    );

    for p in &paths {
        let bytes = read(p);
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["张三", "孙老师", "郑十", "2023000001", "13800001111"] {
            assert!(!text.contains(secret), "{secret} in {}", p.display());
        }
    }
    let mut book: Xlsx<_> = open_workbook(&paths[1]).unwrap();
    let range = book.worksheet_range("情况统计表").unwrap();
    for c in range.used_cells() {
        let s = c.2.to_string();
        assert!(!s.contains("张三") && !s.contains("2023000001"));
    }
}

#[test]
fn a_formula_in_a_text_cell_is_neutralised_and_numbers_stay_numbers() {
    let rows = vec![vec![
        Cell::text("=HYPERLINK(\"http://x\")"),
        Cell::Int(12),
        Cell::text("@SUM(A1)"),
    ]];
    let out = csv_bytes(&["a", "b", "c"], &rows, CsvEncoding::Utf8Bom);
    let parsed = read_csv(&out);
    assert_eq!(parsed[1], ["'=HYPERLINK(\"http://x\")", "12", "'@SUM(A1)"]);

    let mut input = sample();
    input.institution = "=HYPERLINK(\"http://x\")".into();
    let dir = tempfile::tempdir().unwrap();
    let paths = write_stats(&tally(&input), dir.path(), CsvEncoding::Utf8Bom, EPOCH).unwrap();
    let rows = read_csv(&read(&paths[0]));
    assert_eq!(rows[1][0], "'=HYPERLINK(\"http://x\")");
    assert_eq!(rows[1][1], "2");
}

#[test]
fn gb18030_files_decode_and_carry_no_bom() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_stats(&tally(&sample()), dir.path(), CsvEncoding::Gb18030, EPOCH).unwrap();
    let bytes = read(&paths[0]);
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
    assert!(!had_errors);
    assert!(
        text.starts_with("市（州）/职业学校（含技工院校）,参与活动的职业学校（含技工院校）数,")
    );
    assert!(text.contains(INSTITUTION));
}

#[test]
fn the_xlsx_is_the_form_with_merged_headers_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_stats(&tally(&sample()), dir.path(), CsvEncoding::Utf8Bom, EPOCH).unwrap();
    let mut book: Xlsx<_> = open_workbook(&paths[1]).unwrap();
    let r = book.worksheet_range("情况统计表").unwrap();
    let at = |row: u32, col: u32| r.get_value((row, col)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        at(0, 0),
        Data::String("2025 年职业教育活动周情况统计表".into())
    );
    assert_eq!(
        at(1, 0),
        Data::String("填报单位（盖章）： 填报人： 联系电话：".into())
    );
    for (i, h) in TABLE_HEADERS.iter().enumerate().take(8) {
        assert_eq!(at(2, i as u32), Data::String((*h).into()));
    }
    assert_eq!(at(2, 8), Data::String("活动周媒体报道数".into()));
    for (i, h) in TABLE_HEADERS.iter().enumerate().skip(8) {
        assert_eq!(at(3, i as u32), Data::String((*h).into()));
    }
    assert_eq!(at(4, 0), Data::String(INSTITUTION.into()));
    assert_eq!(at(4, 1), Data::Float(2.0));
    assert_eq!(at(4, 3), Data::Float(1.0));
    assert_eq!(at(4, 4), Data::String("0.03%".into()));
    assert_eq!(at(4, 6), Data::Float(3.0));
    assert_eq!(at(4, 8), Data::Float(1.0));
    assert_eq!(at(4, 10), Data::Float(0.0));

    let merged = book.merge_cells_by_sheet_name("情况统计表").unwrap();
    let has = |s: (u32, u32), e: (u32, u32)| merged.contains(&Dimensions { start: s, end: e });
    assert!(has((0, 0), (0, 10)), "title: {merged:?}");
    assert!(has((1, 0), (1, 10)), "填报 line");
    assert!(
        has((2, 8), (2, 10)),
        "活动周媒体报道数 over its three columns"
    );
    for c in 0..8 {
        assert!(has((2, c), (3, c)), "column {c} over two rows");
    }
}

#[test]
fn the_same_tally_and_epoch_give_the_same_bytes() {
    let t = tally(&sample());
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pa = write_stats(&t, a.path(), CsvEncoding::Utf8Bom, EPOCH).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let pb = write_stats(&tally(&sample()), b.path(), CsvEncoding::Utf8Bom, EPOCH).unwrap();
    for (x, y) in pa.iter().zip(&pb) {
        assert_eq!(read(x), read(y), "{}", x.display());
    }
    let first = output::xlsx::table_xlsx(std::slice::from_ref(&t.table), t.year, EPOCH).unwrap();
    for _ in 0..10 {
        let again =
            output::xlsx::table_xlsx(std::slice::from_ref(&t.table), t.year, EPOCH).unwrap();
        assert_eq!(first, again);
    }
    assert_eq!(first, read(&pa[1]));
    let c = tempfile::tempdir().unwrap();
    let pc = write_stats(&t, c.path(), CsvEncoding::Utf8Bom, EPOCH + 86_400).unwrap();
    assert_ne!(read(&pa[1]), read(&pc[1]), "the epoch is the creation time");
}

#[test]
fn table_json_has_stable_english_keys() {
    let v = table_json(&tally(&sample()));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = [
        "institution",
        "schools",
        "teachers",
        "students",
        "coverage",
        "enterprises",
        "participants",
        "experience_projects",
        "media_provincial",
        "media_city",
        "media_county",
    ];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(v["participants"], 3);
    assert_eq!(v["institution"], INSTITUTION);
}

// ---------------------------------------------------------------- rollup

/// An institution's statistics written by `write_stats`: `students` own students over
/// `enrolled`, plus `teachers` teachers.
fn institution_table(
    dir: &Path,
    name: &str,
    students: u64,
    enrolled: u64,
    enc: CsvEncoding,
) -> Vec<PathBuf> {
    let mut input = base();
    input.institution = name.into();
    input.enrolled_students = enrolled;
    input.people = (0..students)
        .map(|i| student("某", Some(&format!("S{i}")), None))
        .chain([person(
            Some("启动仪式"),
            "教务科研处",
            Some("教师"),
            "某",
            Some("T1"),
            None,
            "t.xlsx",
            2,
        )])
        .collect();
    input.media = vec![report(
        Some("启动仪式"),
        "教务科研处",
        name,
        "四川日报",
        Some("省级"),
        Some(d(5, 9)),
        None,
    )];
    write_stats(&tally(&input), dir, enc, EPOCH).unwrap()
}

fn rollup_inputs(dir: &Path) -> Vec<PathBuf> {
    let a = institution_table(
        &dir.join("a"),
        "甲职业技术学院",
        525,
        4000,
        CsvEncoding::Utf8Bom,
    );
    let b = institution_table(&dir.join("b"), "乙技师学院", 1, 8, CsvEncoding::Gb18030);
    let c = institution_table(&dir.join("c"), "丙职业学院", 2, 3, CsvEncoding::Utf8Bom);
    vec![a[0].clone(), b[0].clone(), c[1].clone()] // two CSVs and one XLSX
}

#[test]
fn rollup_without_enrolment_estimates_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = rollup_inputs(dir.path());
    let out = dir.path().join("汇总.csv");
    let rep = rollup(&inputs, None, &out, CsvEncoding::Utf8Bom, EPOCH).unwrap();
    assert_eq!(rep.institutions.len(), 3);
    assert!(rep.coverage_estimated);
    // Estimated enrolment: 525/13.13% → 3998, 1/12.50% → 8, 2/66.67% → 3; 528 / 4009.
    assert_eq!(rep.total.coverage.text(), "13.17%（估算）");
    let rows = read_csv(&read(&out));
    assert_eq!(rows[0], TABLE_HEADERS);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[1][..5], ["甲职业技术学院", "1", "1", "525", "13.13%"]);
    assert_eq!(rows[2][..5], ["乙技师学院", "1", "1", "1", "12.50%"]);
    assert_eq!(rows[3][..5], ["丙职业学院", "1", "1", "2", "66.67%"]);
    assert_eq!(
        rows[4],
        [
            "合计",
            "3",
            "3",
            "528",
            "13.17%（估算）",
            "0",
            "531",
            "0",
            "3",
            "0",
            "0"
        ]
    );
}

#[test]
fn rollup_with_an_enrolment_file_is_exact_and_writes_xlsx() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = rollup_inputs(dir.path());
    let enrol = dir.path().join("在校生.csv");
    // Written by Excel on a Chinese Windows: GB18030, no BOM.
    let (gb, _, _) = encoding_rs::GB18030
        .encode("机构,在校生总数\r\n甲职业技术学院,4000\r\n乙技师学院,8\r\n丙职业学院,3\r\n");
    std::fs::write(&enrol, &gb).unwrap();
    let out = dir.path().join("汇总.xlsx");
    let rep = rollup(&inputs, Some(&enrol), &out, CsvEncoding::Utf8Bom, EPOCH).unwrap();
    assert!(!rep.coverage_estimated);
    assert_eq!(rep.total.coverage.text(), "13.16%"); // 528 / 4011
    assert_eq!(rep.total.students, 528);

    let mut book: Xlsx<_> = open_workbook(&out).unwrap();
    let r = book.worksheet_range("情况统计表").unwrap();
    assert_eq!(r.get_value((7, 0)), Some(&Data::String("合计".into())));
    assert_eq!(r.get_value((7, 3)), Some(&Data::Float(528.0)));
    assert_eq!(r.get_value((7, 4)), Some(&Data::String("13.16%".into())));
    assert_eq!(r.get_value((5, 4)), Some(&Data::String("12.50%".into())));

    // The rollup's own XLSX reads back in as an input (its 合计 row is recomputed, not summed).
    let again = dir.path().join("再汇总.csv");
    let rep2 = rollup(&[out], Some(&enrol), &again, CsvEncoding::Utf8Bom, EPOCH).unwrap();
    assert_eq!(rep2.institutions.len(), 3);
    assert_eq!(rep2.total.students, 528);
}

#[test]
fn rollup_reads_a_hand_filled_xlsx() {
    use rust_xlsxwriter::{Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("手填.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let f = Format::new();
    ws.merge_range(0, 0, 0, 10, "2025年职业教育活动周情况统计表", &f)
        .unwrap();
    ws.write_string(1, 0, "填报单位（盖章）：丁学校").unwrap();
    let heads = [
        "市(州)/职业学校\n(含技工院校)",
        "参与活动的\n职业学校(含技工院校)数",
        "参与活动\n的教师数",
        "参与活动\n的学生数",
        "参与活动的\n学生覆盖率",
        "参与\n活动\n的企\n业数",
        "参与\n总人数",
        "观摩体\n验活动\n项目数",
    ];
    for (i, h) in heads.iter().enumerate() {
        ws.merge_range(2, i as u16, 3, i as u16, h, &f).unwrap();
    }
    ws.merge_range(2, 8, 2, 10, "活动周媒体报道数", &f).unwrap();
    ws.write_string(3, 8, "省级及以\n上媒体报\n道数").unwrap();
    ws.write_string(3, 9, "市(州)\n级媒体报\n道数").unwrap();
    ws.write_string(3, 10, "县(区)\n级媒体报\n道数").unwrap();
    ws.write_string(4, 0, "丁中等专业学校").unwrap();
    for (c, n) in [
        (1u16, 2.0),
        (2, 30.0),
        (3, 250.0),
        (5, 4.0),
        (6, 300.0),
        (7, 1.0),
        (8, 0.0),
        (9, 2.0),
        (10, 3.0),
    ] {
        ws.write_number(4, c, n).unwrap();
    }
    ws.write_number(4, 4, 0.25).unwrap(); // a percentage-formatted 25%
    ws.write_string(6, 0, "填表说明：请各市（州）…").unwrap();
    wb.save(&path).unwrap();

    let out = dir.path().join("汇总.csv");
    let rep = rollup(&[path], None, &out, CsvEncoding::Utf8Bom, EPOCH).unwrap();
    assert_eq!(rep.institutions.len(), 1);
    let r = &rep.institutions[0];
    assert_eq!(
        (r.schools, r.teachers, r.students, r.participants),
        (2, 30, 250, 300)
    );
    assert_eq!(
        (r.media_provincial, r.media_city, r.media_county),
        (0, 2, 3)
    );
    assert_eq!(r.coverage.text(), "25.00%");
    assert_eq!(rep.total.coverage.text(), "25.00%（估算）"); // 250 / 1000
}

#[test]
fn rollup_refuses_a_duplicate_institution_and_a_bad_number() {
    let dir = tempfile::tempdir().unwrap();
    let a = institution_table(
        &dir.path().join("a"),
        "甲职业技术学院",
        3,
        100,
        CsvEncoding::Utf8Bom,
    );
    let out = dir.path().join("汇总.csv");
    let err = rollup(
        &[a[0].clone(), a[1].clone()],
        None,
        &out,
        CsvEncoding::Utf8Bom,
        EPOCH,
    )
    .unwrap_err();
    assert!(matches!(err, RollupError::Duplicate { .. }), "{err}");
    assert!(!out.exists(), "nothing written on error");

    let bad = dir.path().join("bad.csv");
    let mut text = TABLE_HEADERS.join(",");
    text.push_str("\n乙学院,1,很多,3,3.00%,0,4,0,0,0,0\n");
    std::fs::write(&bad, text).unwrap();
    let err = rollup(&[bad], None, &out, CsvEncoding::Utf8Bom, EPOCH).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("第 2 行") && msg.contains("参与活动的教师数") && msg.contains("很多"),
        "{msg}"
    );
}

// ---------------------------------------------------------------- invariance

fn counts(t: &Tally) -> String {
    format!("{:?}\n{:?}\n{:?}", t.table, t.activities, t.departments)
}

const ROLES: [Option<&str>; 6] = [
    Some("学生"),
    Some("教师"),
    Some("企业代表"),
    Some("中职学生"),
    None,
    Some("家长"),
];
const UNITS: [Option<&str>; 5] = [
    None,
    Some("机电2301班"),
    Some("四川某职业学院"),
    Some("自贡某公司"),
    Some("荣县中学"),
];
const ACTS: [Option<&str>; 3] = [Some("启动仪式"), Some("校园开放日"), None];
const DEPTS: [&str; 2] = ["教务科研处", "学生处"];
const LEVELS: [Option<&str>; 4] = [Some("省级"), Some("市（州）级"), Some("县级"), None];

fn people_strategy() -> impl Strategy<Value = Vec<PersonFact>> {
    prop::collection::vec(
        (
            0..6usize,
            0..8usize,
            0..3usize,
            0..5usize,
            0..3usize,
            0..2usize,
            0..3usize,
        ),
        0..40,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (role, name, id, unit, act, dept, sheet))| {
                let id = match id {
                    0 => None,
                    1 => Some(format!("{}", 2023000000 + name)),
                    _ => Some(format!("{}.0", 2023000000 + name)),
                };
                person(
                    ACTS[act],
                    DEPTS[dept],
                    ROLES[role],
                    &format!("人{name}"),
                    id.as_deref(),
                    UNITS[unit],
                    &format!("表{sheet}.xlsx"),
                    i + 2,
                )
            })
            .collect()
    })
}

fn media_strategy() -> impl Strategy<Value = Vec<MediaFact>> {
    prop::collection::vec(
        (
            0..5usize,
            0..3usize,
            0..4usize,
            0..3usize,
            0..2usize,
            0..3usize,
        ),
        0..20,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .map(|(title, url, level, act, dept, date)| {
                let url = match url {
                    0 => None,
                    1 => Some(format!("https://n.cn/{title}")),
                    _ => Some(format!("HTTP://N.cn/{title}/")),
                };
                let date = [Some(d(5, 9)), Some(d(6, 9)), None][date];
                report(
                    ACTS[act],
                    DEPTS[dept],
                    &format!("题{title}"),
                    "报",
                    LEVELS[level],
                    date,
                    url.as_deref(),
                )
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn shuffling_splitting_or_repeating_rows_changes_no_count(
        people in people_strategy(),
        media in media_strategy(),
        seed in any::<u64>(),
    ) {
        let mut input = base();
        input.people = people.clone();
        input.media = media.clone();
        let want = counts(&tally(&input));

        // Shuffled (a fixed permutation from the seed).
        let mut shuffled = input.clone();
        let n = shuffled.people.len().max(1);
        shuffled.people.rotate_left((seed as usize) % n);
        shuffled.people.reverse();
        let m = shuffled.media.len().max(1);
        shuffled.media.rotate_left((seed as usize / 7) % m);
        shuffled.media.reverse();
        prop_assert_eq!(&counts(&tally(&shuffled)), &want);

        // One sheet's rows split over two sources.
        let mut split = input.clone();
        for (i, p) in split.people.iter_mut().enumerate() {
            if i % 2 == seed as usize % 2 {
                p.at.sheet = "Sheet2".into();
            }
        }
        prop_assert_eq!(&counts(&tally(&split)), &want);

        // The same rows submitted twice.
        let mut twice = input.clone();
        twice.people.extend(people.iter().cloned().map(|mut p| { p.at.sheet.push_str("（重复）"); p }));
        twice.media.extend(media.iter().cloned());
        prop_assert_eq!(&counts(&tally(&twice)), &want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    // The catalog's rows are streamed to the tally in passes, never held: the same rows held in
    // the input or handed over by a stream (some of each) give the same tally, warnings included.
    #[test]
    fn a_streamed_tally_is_the_held_one(
        people in people_strategy(),
        media in media_strategy(),
        held in 0..40usize,
    ) {
        let mut input = base();
        input.people = people.clone();
        input.media = media;
        let want = tally(&input);
        let streamed = input.people.split_off(held.min(input.people.len()));
        let mut passes = 0;
        let got = tally_streamed(&input, &mut |f: &mut dyn FnMut(&PersonFact)| {
            passes += 1;
            streamed.iter().for_each(&mut *f);
            Ok::<(), ()>(())
        });
        prop_assert_eq!(got, Ok(want));
        prop_assert!((2..=3).contains(&passes), "{passes} passes");
    }
}
