//! The nightly job end to end, with the real binary: the materials check (present, missing,
//! withdrawn, not yet due), the illustrated report (parses, every link stays inside archive/,
//! a page per activity with evidence, the same 附件5 figures as `stats --json`, deterministic,
//! thumbnails made once), and `dangan nightly`'s summary line and exit status.
//!
//! Sheet rows (sign-in, media) are written into the catalog directly after the import, so these
//! tests do not depend on the sheet reader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use crate::support::{Env, Exif, Inbox, jpeg, jpeg_with_exif};
use rusqlite::{Connection, params};
use serde_json::Value;
use std::process::Command;

const CONFIG: &str = r#"institution = "测试职业技术学院"
enrolled_students = 1000
period = { start = 2025-05-01, end = 2025-05-31 }

[[activity]]
name = "启动仪式"
departments = ["教务科研处"]
start = 2025-05-07
end = 2025-05-07
materials = ["方案", "照片", "签到表", "总结", "媒体报道", "案例"]

[[activity]]
name = "技能展示"
departments = ["机电工程学院"]
start = 2025-05-14
end = 2025-05-14
experience = true

[[activity]]
name = "无人认领"
start = 2025-05-02
end = 2025-05-02
materials = ["照片"]
"#;

/// 2025-05-10 12:00 +08:00: 启动仪式 is due, 技能展示 is not yet.
const MAY_10: &str = "1746849600";

fn env() -> Env {
    Inbox::new().config(CONFIG).into_env()
}

fn json_at(e: &Env, epoch: &str, args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let r = e.run_at(epoch, &all);
    assert_eq!(
        r.code, code,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|err| panic!("{err}: {}", r.stdout))
}

fn catalog(e: &Env) -> Connection {
    Connection::open(e.archive.join("catalog.sqlite")).unwrap()
}

fn version_of(conn: &Connection, path: &str) -> i64 {
    conn.query_row(
        "SELECT current_version FROM files WHERE path = ?1",
        [path],
        |r| r.get(0),
    )
    .unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// Makes sure the file's current version has a sheet of `kind` (the sheet reader may have
/// found it already).
fn ensure_sheet(conn: &Connection, path: &str, kind: &str) -> i64 {
    let v = version_of(conn, path);
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sheets WHERE version_id = ?1 AND kind = ?2",
            params![v, kind],
            |r| r.get(0),
        )
        .unwrap();
    if n == 0 {
        conn.execute(
            "INSERT INTO sheets(version_id, name, kind, header_row) VALUES (?1, 'Sheet1', ?2, 1)",
            params![v, kind],
        )
        .unwrap();
    }
    v
}

/// Replaces the people rows of a file's current version.
fn set_people(conn: &Connection, path: &str, people: &[(&str, &str, &str)]) {
    let v = ensure_sheet(conn, path, "sign_in");
    conn.execute("DELETE FROM people WHERE version_id = ?1", [v])
        .unwrap();
    for (i, (name, id, role)) in people.iter().enumerate() {
        conn.execute(
            "INSERT INTO people(version_id, sheet, row, name, person_id, role) VALUES (?1, 'Sheet1', ?2, ?3, ?4, ?5)",
            params![v, i as i64 + 2, name, id, role],
        )
        .unwrap();
    }
}

/// Replaces the media rows of a file's current version: (title, outlet, level, url).
fn set_media(conn: &Connection, path: &str, rows: &[(&str, &str, &str, &str)]) {
    let v = ensure_sheet(conn, path, "media");
    conn.execute("DELETE FROM media_reports WHERE version_id = ?1", [v])
        .unwrap();
    for (i, (title, outlet, level, url)) in rows.iter().enumerate() {
        conn.execute(
            "INSERT INTO media_reports(version_id, sheet, row, title, outlet, level, date, url)
             VALUES (?1, 'Sheet1', ?2, ?3, ?4, ?5, '2025-05-08', ?6)",
            params![v, i as i64 + 2, title, outlet, level, url],
        )
        .unwrap();
    }
}

fn missing_of(check: &Value) -> BTreeMap<(String, String), (Vec<String>, String)> {
    check["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                (
                    m["department"].as_str().unwrap().to_string(),
                    m["activity"].as_str().unwrap().to_string(),
                ),
                (
                    m["materials"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                    m["status"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn key(d: &str, a: &str) -> (String, String) {
    (d.to_string(), a.to_string())
}

fn mats(m: &[&str], status: &str) -> (Vec<String>, String) {
    (
        m.iter().map(|s| s.to_string()).collect(),
        status.to_string(),
    )
}

const LAUNCH: &str = "教务科研处/启动仪式";

fn launch_inbox(e: &Env) {
    e.put(
        &format!("{LAUNCH}/启动仪式方案.txt"),
        "启动仪式方案\n2025年5月1日\n".as_bytes(),
    );
    e.put(
        &format!("{LAUNCH}/启动仪式总结.txt"),
        "启动仪式总结\n2025年5月8日\n5月7日上午，学校举行职业教育活动周启动仪式。<script>alert(1)</script>\n"
            .as_bytes(),
    );
    e.put(
        &format!("{LAUNCH}/IMG_20250507_101500.jpg"),
        &jpeg_with_exif(
            1,
            &Exif {
                original: Some("2025:05:07 10:15:00"),
                ..Exif::default()
            },
        ),
    );
    e.put(
        &format!("{LAUNCH}/签到表.csv"),
        "姓名,学号,身份\n张三,2023001,学生\n李四,T01,教师\n".as_bytes(),
    );
    e.put(
        &format!("{LAUNCH}/媒体报道登记.csv"),
        "标题,媒体,级别,链接\n启动仪式举行,自贡日报,市级,https://news.example.cn/a\n".as_bytes(),
    );
}

fn launch_rows(e: &Env) {
    let conn = catalog(e);
    set_people(
        &conn,
        &format!("{LAUNCH}/签到表.csv"),
        &[("张三", "2023001", "学生"), ("李四", "T01", "教师")],
    );
    set_media(
        &conn,
        &format!("{LAUNCH}/媒体报道登记.csv"),
        &[
            (
                "启动仪式举行",
                "自贡日报",
                "市级",
                "https://news.example.cn/a",
            ),
            (
                "职教周<b>开幕</b>",
                "四川教育",
                "省级",
                "javascript:alert(1)",
            ),
        ],
    );
}

#[test]
fn materials_present_missing_withdrawn_and_not_yet_due() {
    let e = env();
    launch_inbox(&e);
    e.import(0);
    launch_rows(&e);

    let check = json_at(&e, MAY_10, &["check"], 0);
    let got = missing_of(&check);
    let want: BTreeMap<_, _> = [
        (key("教务科研处", "启动仪式"), mats(&["案例"], "owed")),
        (
            key("机电工程学院", "技能展示"),
            mats(&["照片", "总结"], "not_due"),
        ),
        (
            key("（未配置承办部门）", "无人认领"),
            mats(&["照片"], "owed"),
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    assert_eq!(check["owed"], 2);
    assert_eq!(check["not_due"], 2);

    // The CSV: BOM, one row per material.
    let csv = std::fs::read(e.archive.join("统计/材料检查.csv")).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("\u{feff}部门,活动,活动日期,缺少的材料,状态\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("教务科研处,启动仪式,2025-05-07,案例,欠交\r\n"),
        "{csv}"
    );
    assert!(
        csv.contains("机电工程学院,技能展示,2025-05-14,照片,未到期\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 4);

    // The terminal text is grouped by department.
    let r = e.run_at(MAY_10, &["check"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout_has("【教务科研处】\n  启动仪式（2025-05-07）：欠交 案例\n");
    assert!(
        r.stdout
            .contains("【机电工程学院】\n  技能展示（2025-05-14）：未到期")
    );

    // A withdrawn summary no longer counts; once 技能展示 has started it is owed.
    std::fs::remove_file(e.inbox.join(format!("{LAUNCH}/启动仪式总结.txt"))).unwrap();
    e.import(0);
    let check = json_at(&e, "1747224000", &["check"], 0); // 2025-05-14 20:00 +08:00
    let got = missing_of(&check);
    assert_eq!(
        got[&key("教务科研处", "启动仪式")],
        mats(&["总结", "案例"], "owed")
    );
    assert_eq!(
        got[&key("机电工程学院", "技能展示")],
        mats(&["照片", "总结"], "owed")
    );

    // A photo from another department does not count for the host; one from the host does.
    e.put("机电工程学院/技能展示/现场.jpg", &jpeg(7));
    e.put("教务科研处/技能展示/现场.jpg", &jpeg(8));
    e.import(0);
    let got = missing_of(&json_at(&e, "1747224000", &["check"], 0));
    assert_eq!(
        got[&key("机电工程学院", "技能展示")],
        mats(&["总结"], "owed")
    );
}

/// Every `src`/`href` of a page: (attribute value, is a media link).
fn links(html: &scraper::Html) -> Vec<(String, bool)> {
    let sel = scraper::Selector::parse("img[src], a[href], link[href], script[src]").unwrap();
    html.select(&sel)
        .map(|el| {
            let v = el.value();
            let url = v.attr("src").or(v.attr("href")).unwrap().to_string();
            let media = v.classes().any(|c| c == "media-link");
            (url, media)
        })
        .collect()
}

/// `rel` resolved against `dir` without touching the file system, `..` applied.
fn resolve(dir: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in dir.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn select_text(html: &scraper::Html, css: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(css).unwrap();
    html.select(&sel)
        .map(|e| e.text().collect::<String>())
        .collect()
}

#[test]
fn report_links_stay_inside_the_archive_and_figures_match_stats() {
    let e = env();
    launch_inbox(&e);
    for (i, t) in ["2025:05:07 09:00:00", "2025:05:07 15:30:00"]
        .iter()
        .enumerate()
    {
        e.put(
            &format!("{LAUNCH}/现场{i}.jpg"),
            &jpeg_with_exif(
                10 + i as u8,
                &Exif {
                    original: Some(t),
                    ..Exif::default()
                },
            ),
        );
    }
    // A HEIC (no decoder here: a placeholder), a photo no rule assigns, a rejected empty file.
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend_from_slice(&[0u8; 64]);
    e.put("机电工程学院/技能展示/IMG_0001.heic", &heic);
    e.put("学生处/杂项/随手拍.jpg", &jpeg(3));
    e.put("机电工程学院/空文件.jpg", b"");
    e.import(3);
    launch_rows(&e);

    let r = e.run_at(MAY_10, &["report", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let first: Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(first["thumbs_made"], 4, "{first}");
    assert_eq!(first["pages_written"], first["pages"]);
    let report_dir = e.archive.join("报告");
    let archive = resolve(&e.archive, ".");

    // Every page parses; every link is relative and lands on a file inside archive/, except
    // the media reports' own http(s) links.
    let media_urls: BTreeSet<&str> = ["https://news.example.cn/a"].into_iter().collect();
    let mut pages = BTreeMap::new();
    for entry in std::fs::read_dir(&report_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "html") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            pages.insert(name, scraper::Html::parse_document(&text));
        }
    }
    let mut media_seen = 0;
    for (name, html) in &pages {
        assert!(html.errors.is_empty(), "{name}: {:?}", html.errors);
        assert!(
            select_text(html, "script").is_empty(),
            "{name} has a script"
        );
        for (url, media) in links(html) {
            if media {
                assert!(media_urls.contains(url.as_str()), "{name}: {url}");
                media_seen += 1;
                continue;
            }
            assert!(!url.contains(':') && !url.starts_with('/'), "{name}: {url}");
            let file = url.split('#').next().unwrap();
            if file.is_empty() {
                continue;
            }
            let target = resolve(&report_dir, file);
            assert!(
                target.starts_with(&archive),
                "{name}: {url} leaves the archive"
            );
            assert!(
                target.is_file(),
                "{name}: {url} → {} missing",
                target.display()
            );
        }
    }
    assert_eq!(media_seen, 1, "only the https report is a link");

    // The escaped script from the summary is shown as text.
    let launch = &pages["activity-01.html"];
    let quote = select_text(launch, "blockquote").join("");
    assert!(quote.contains("<script>alert(1)</script>"), "{quote}");
    assert!(quote.starts_with("启动仪式总结"), "{quote}");
    assert!(
        select_text(launch, "td")
            .iter()
            .any(|t| t.contains("职教周<b>开幕</b>"))
    );
    assert!(
        select_text(launch, ".url")
            .iter()
            .any(|t| t == "javascript:alert(1)")
    );
    // Photos by date: 09:00, 10:15, 15:30.
    let captions = select_text(launch, "figcaption");
    let order: Vec<&str> = captions
        .iter()
        .map(|c| c.split("2025-05-07").nth(1).unwrap_or(c))
        .collect();
    assert_eq!(
        order,
        vec!["现场0.jpg", "IMG_20250507_101500.jpg", "现场1.jpg"]
    );

    // Every activity with evidence has its page, linked from the index under its name.
    let index = &pages["index.html"];
    let card_links: BTreeMap<String, String> = {
        let sel = scraper::Selector::parse(".card h3 a").unwrap();
        index
            .select(&sel)
            .map(|a| {
                (
                    a.text().collect::<String>(),
                    a.value().attr("href").unwrap().to_string(),
                )
            })
            .collect()
    };
    let with_evidence: BTreeSet<String> = e
        .list()
        .iter()
        .filter_map(|v| v["activity"].as_str().map(str::to_string))
        .collect();
    assert_eq!(
        with_evidence,
        ["启动仪式", "技能展示"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    for a in &with_evidence {
        let page = &pages[&card_links[a]];
        assert_eq!(select_text(page, "title"), vec![a.clone()]);
    }
    // HEIC shows a labelled placeholder.
    let skill = &pages[&card_links["技能展示"]];
    assert!(select_text(skill, ".ph").iter().any(|t| t.contains("HEIC")));
    // The unassigned photo is on the 未归类 page.
    assert!(
        select_text(&pages["unassigned.html"], "td")
            .iter()
            .any(|t| t == "学生处/杂项/随手拍.jpg")
    );
    assert!(
        select_text(&pages["problems.html"], "td")
            .iter()
            .any(|t| t == "机电工程学院/空文件.jpg")
    );

    // The 附件5 figures on the index equal `stats --json`.
    let stats = json_at(&e, MAY_10, &["stats"], 0);
    let sel = scraper::Selector::parse("td[data-key]").unwrap();
    let mut compared = 0;
    for td in index.select(&sel) {
        let k = td.value().attr("data-key").unwrap();
        let shown = td.text().collect::<String>();
        let want = match &stats[k] {
            Value::String(s) => s.clone(),
            Value::Null => "—".to_string(),
            v => v.to_string(),
        };
        assert_eq!(shown, want, "{k}");
        compared += 1;
    }
    assert_eq!(compared, 11);
    assert_eq!(stats["students"], 1);
    assert_eq!(stats["teachers"], 1);
    assert_eq!(stats["media_city"], 1);

    // Same catalog, same epoch: same bytes; the thumbnails are not made again.
    let before: Vec<Vec<u8>> = pages
        .keys()
        .map(|n| std::fs::read(report_dir.join(n)).unwrap())
        .collect();
    let again: Value = json_at(&e, MAY_10, &["report"], 0);
    assert_eq!(again["thumbs_made"], 0);
    assert_eq!(again["thumbs_cached"], 4);
    assert_eq!(
        again["pages_written"], 0,
        "unchanged pages are not rewritten"
    );
    let after: Vec<Vec<u8>> = pages
        .keys()
        .map(|n| std::fs::read(report_dir.join(n)).unwrap())
        .collect();
    assert!(
        before == after,
        "the report changed without a change in the catalog"
    );
}

#[test]
fn nightly_runs_everything_and_ends_with_one_summary_line() {
    let e = env();
    launch_inbox(&e);
    e.put("机电工程学院/空文件.jpg", b"");
    let r = e.run_at(MAY_10, &["nightly"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let last = r.stdout.lines().last().unwrap();
    assert!(last.starts_with("dangan nightly: 新增 5 "), "{last}");
    // 启动仪式 lacks 签到表 and 媒体报道 without the sheet reader, and 案例; 无人认领 lacks 照片
    assert!(last.contains("欠交材料 "), "{last}");
    r.stdout_has("拒收\t机电工程学院/空文件.jpg\t");
    for f in [
        "统计/情况统计表.csv",
        "统计/材料检查.csv",
        "报告/index.html",
        "报告/activity-01.html",
        "报告/unassigned.html",
        "报告/problems.html",
    ] {
        assert!(e.archive.join(f).is_file(), "{f}");
    }
    // The lock is free afterwards, and a clean inbox gives 0.
    std::fs::remove_file(e.inbox.join("机电工程学院/空文件.jpg")).unwrap();
    let v = json_at(&e, MAY_10, &["nightly"], 0);
    assert_eq!(v["new"], 0);
    assert_eq!(v["unchanged"], 5);
    assert!(v["owed"].as_u64().unwrap() >= 2, "{v}");
    assert_eq!(v["report"]["thumbs_made"], 0);
}

/// A minimal docx: content types plus word/document.xml with one paragraph per line.
fn docx(lines: &[&str]) -> Vec<u8> {
    use std::io::Write;
    let mut body = String::new();
    for l in lines {
        body.push_str(&format!("<w:p><w:r><w:t>{l}</w:t></w:r></w:p>"));
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, part) in [
        ("[Content_Types].xml", types),
        ("word/document.xml", &document),
    ] {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(part.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn summary_excerpts_come_from_docx_and_text_in_every_encoding() {
    let e = Env::new();
    let mut config = String::from(
        "institution = \"测试职业技术学院\"\nperiod = { start = 2025-05-01, end = 2025-05-31 }\n",
    );
    let names = ["甲活动", "乙活动", "丙活动", "丁活动", "戊活动", "己活动"];
    for n in names {
        config.push_str(&format!(
            "[[activity]]\nname = \"{n}\"\ndepartments = [\"教务科研处\"]\nstart = 2025-05-07\nend = 2025-05-07\n"
        ));
    }
    e.write_config(&config);
    let text = "活动总结\n本次活动共有师生参加，效果良好。\n";
    let utf16 = |le: bool| -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text.encode_utf16() {
            out.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    };
    let (gb, _, _) = encoding_rs::GB18030.encode(text);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(text.as_bytes());
    let files: [(&str, Vec<u8>); 6] = [
        (
            "甲活动/甲活动总结.docx",
            docx(&["活动总结", "本次活动共有师生参加，效果良好。"]),
        ),
        ("乙活动/总结.txt", text.as_bytes().to_vec()),
        ("丙活动/总结.txt", bom),
        ("丁活动/总结.txt", utf16(true)),
        ("戊活动/总结.md", utf16(false)),
        ("己活动/总结.txt", gb.into_owned()),
    ];
    for (path, bytes) in &files {
        e.put(&format!("教务科研处/{path}"), bytes);
    }
    e.import(0);
    json_at(&e, MAY_10, &["report"], 0);
    for (i, n) in names.iter().enumerate() {
        let page =
            std::fs::read_to_string(e.archive.join(format!("报告/activity-{:02}.html", i + 1)))
                .unwrap();
        let html = scraper::Html::parse_document(&page);
        assert_eq!(select_text(&html, "title"), vec![n.to_string()]);
        assert_eq!(
            select_text(&html, "blockquote"),
            vec!["活动总结\n本次活动共有师生参加，效果良好。".to_string()],
            "{n}: {}",
            files[i].0
        );
    }
}

#[test]
fn nightly_refuses_and_writes_nothing_while_another_run_holds_the_archive() {
    let e = env();
    launch_inbox(&e);
    std::fs::create_dir_all(&e.archive).unwrap();
    let lock = std::fs::File::create(e.archive.join(".lock")).unwrap();
    lock.try_lock().unwrap();
    let r = e.run_at(MAY_10, &["nightly"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    r.stderr_has("另一个 dangan 正在使用存档");
    assert!(!e.archive.join("报告").exists());
    drop(lock);
    let r = e.run_at(MAY_10, &["nightly", "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(e.archive.join("报告/index.html").is_file());
}

/// Every file and folder under `dir` with its mode bits.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).min_depth(1) {
        let e = e.unwrap();
        let m = e.metadata().unwrap().permissions().mode() & 0o777;
        out.push((e.path().display().to_string(), m));
    }
    out
}

#[test]
fn what_dangan_writes_is_readable_as_the_umask_allows() {
    for (umask, file_mode, dir_mode) in [("022", 0o644, 0o755), ("077", 0o600, 0o700)] {
        let e = env();
        e.put("教务科研处/启动仪式/IMG_20250507_093000.jpg", &jpeg(1));
        e.put("教务科研处/启动仪式/启动仪式总结.txt", "总结\n".as_bytes());
        let run = |args: &[&str]| {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
                .arg(crate::support::BIN)
                .current_dir(e.dir.path())
                .arg("--inbox")
                .arg(&e.inbox)
                .arg("--archive")
                .arg(&e.archive)
                .args(args)
                .env("SOURCE_DATE_EPOCH", MAY_10)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["nightly", "-q"]);
        run(&["archive", "--year", "2025", "-q"]);
        let all = modes(&e.archive);
        assert!(all.iter().any(|(p, _)| p.ends_with(".zip")), "no bag");
        for kind in [
            "objects/",
            "统计/",
            "报告/",
            "thumbs/",
            "catalog.sqlite",
            "备份/",
        ] {
            assert!(
                all.iter().any(|(p, _)| p.contains(kind)),
                "nothing under {kind}"
            );
        }
        for (path, mode) in &all {
            if path.ends_with(".lock") || path.contains("/objects/tmp") {
                continue;
            }
            let want = if Path::new(path).is_dir() {
                dir_mode
            } else {
                file_mode
            };
            assert_eq!(*mode, want, "umask {umask}: {path} is {mode:o}");
        }
    }
}

/// Issue 12: an activity page with hundreds of photos is split into pages of at most
/// `PHOTOS_PER_PAGE` (300), linked by 上一页 / page numbers / 下一页; every image loads lazily;
/// the first page keeps its name; the bag carries every page.
#[test]
fn an_activity_with_hundreds_of_photos_is_split_into_linked_pages() {
    let e = env();
    for i in 0..650u32 {
        let day = 1 + i / 100;
        e.put(
            &format!(
                "教务科研处/启动仪式/IMG_202505{:02}_10{:02}{:02}_{i:03}.jpg",
                day.min(9),
                (i / 60) % 60,
                i % 60
            ),
            &jpeg((i % 7) as u8),
        );
    }
    assert_eq!(e.run_at(MAY_10, &["import", "-q"]).code, 0);
    let r = e.run_at(MAY_10, &["report", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = e.archive.join("报告");
    let page = |name: &str| {
        scraper::Html::parse_document(&std::fs::read_to_string(dir.join(name)).unwrap())
    };
    let figures = |html: &scraper::Html| select_text(html, "div.grid figure").len();
    let pager_links = |html: &scraper::Html| -> Vec<(String, String)> {
        let sel = scraper::Selector::parse("nav.pager a").unwrap();
        let mut v: Vec<(String, String)> = html
            .select(&sel)
            .map(|a| {
                (
                    a.text().collect::<String>(),
                    a.value().attr("href").unwrap().to_string(),
                )
            })
            .collect();
        v.dedup();
        v
    };
    let first = page("activity-01.html");
    let second = page("activity-01-2.html");
    let third = page("activity-01-3.html");
    assert!(!dir.join("activity-01-4.html").exists());
    assert_eq!(
        (figures(&first), figures(&second), figures(&third)),
        (300, 300, 50)
    );
    // Both pagers of a page (above and below the photos) say the same.
    let p1 = pager_links(&first);
    assert!(
        p1.contains(&("下一页".into(), "activity-01-2.html".into())),
        "{p1:?}"
    );
    assert!(
        p1.contains(&("3".into(), "activity-01-3.html".into())),
        "{p1:?}"
    );
    assert!(!p1.iter().any(|(t, _)| t == "上一页"), "{p1:?}");
    let p2 = pager_links(&second);
    assert!(
        p2.contains(&("上一页".into(), "activity-01.html".into())),
        "{p2:?}"
    );
    assert!(
        p2.contains(&("下一页".into(), "activity-01-3.html".into())),
        "{p2:?}"
    );
    let p3 = pager_links(&third);
    assert!(
        p3.contains(&("上一页".into(), "activity-01-2.html".into())),
        "{p3:?}"
    );
    assert!(!p3.iter().any(|(t, _)| t == "下一页"), "{p3:?}");
    // Every image of every page loads lazily, and every link resolves inside archive/.
    for html in [&first, &second, &third, &page("index.html")] {
        let sel = scraper::Selector::parse("img").unwrap();
        let imgs: Vec<_> = html.select(&sel).collect();
        assert!(
            imgs.iter()
                .all(|i| i.value().attr("loading") == Some("lazy")),
            "an <img> without loading=lazy"
        );
    }
    for html in [&first, &second, &third] {
        for (url, _) in links(html) {
            assert!(resolve(&dir, &url).exists(), "{url}");
        }
    }
    // The first page still has everything else about the activity.
    assert!(
        first
            .root_element()
            .text()
            .collect::<String>()
            .contains("照片与视频（650 个，按日期）")
    );
    // A report after the photos went back under 300 removes the pages no longer needed.
    for i in 300..650u32 {
        let day = 1 + i / 100;
        let rel = format!(
            "教务科研处/启动仪式/IMG_202505{:02}_10{:02}{:02}_{i:03}.jpg",
            day.min(9),
            (i / 60) % 60,
            i % 60
        );
        std::fs::remove_file(e.inbox.join(rel)).unwrap();
    }
    assert_eq!(e.run_at(MAY_10, &["import", "-q"]).code, 0);
    assert_eq!(e.run_at(MAY_10, &["report", "-q"]).code, 0);
    assert!(dir.join("activity-01.html").exists());
    assert!(!dir.join("activity-01-2.html").exists());
    assert_eq!(figures(&page("activity-01.html")), 300);
}
