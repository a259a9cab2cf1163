//! The report's pages as HTML text, from a [`ReportInput`]: pure functions, no I/O. Every text
//! that comes from a file, a sheet or the configuration goes through [`esc`]; the only external
//! links are the media reports' own `http(s)` addresses (`class="media-link"`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{FileRow, Links, ReportInput, thumbs::Thumb};
use crate::materials::Status;
use crate::tally::{BreakdownRow, MediaCounts, UNASSIGNED};

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_esc(&mut out, s);
    out
}

/// [`esc`] appended to `out`.
fn push_esc(out: &mut String, s: &str) {
    // Text with nothing to escape (nearly every name) is copied whole: no `&<>"'`, no ASCII
    // control but tab and newline, no C1 control (U+0080–U+009F, `C2 80`–`C2 9F`).
    let plain = |b: &u8| {
        (*b >= 0x20 || *b == b'\n' || *b == b'\t')
            && !matches!(*b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0x7F | 0xC2)
    };
    if s.as_bytes().iter().all(plain) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// A media report's address when it may be a link: `http://` or `https://` and nothing odd.
pub fn safe_url(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let ok = (lower.starts_with("http://") || lower.starts_with("https://"))
        && u.len() > 8
        && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(u)
}

/// The page file of the `i`-th activity of the catalog (its first page).
pub fn activity_page(i: usize) -> String {
    format!("activity-{:02}.html", i + 1)
}

/// Photos and videos on one page of an activity: more go to its further pages, so a page with
/// thousands of photos stays light.
pub const PHOTOS_PER_PAGE: usize = 300;

/// The file of page `n` (0-based) of the `i`-th activity: the first is [`activity_page`], the
/// others `activity-NN-2.html`, `activity-NN-3.html` …
pub fn activity_page_n(i: usize, n: usize) -> String {
    if n == 0 {
        activity_page(i)
    } else {
        format!("activity-{:02}-{}.html", i + 1, n + 1)
    }
}

/// 上一页 · page numbers · 下一页 between the pages of one activity (nothing for one page).
fn pager(i: usize, n: usize, pages: usize) -> String {
    if pages <= 1 {
        return String::new();
    }
    let mut b = String::from("<nav class=\"pager\">");
    if n > 0 {
        let _ = write!(
            b,
            "<a href=\"{}\" rel=\"prev\">上一页</a>",
            activity_page_n(i, n - 1)
        );
    }
    for k in 0..pages {
        if k == n {
            let _ = write!(b, "<span class=\"current\">{}</span>", k + 1);
        } else {
            let _ = write!(b, "<a href=\"{}\">{}</a>", activity_page_n(i, k), k + 1);
        }
    }
    if n + 1 < pages {
        let _ = write!(
            b,
            "<a href=\"{}\" rel=\"next\">下一页</a>",
            activity_page_n(i, n + 1)
        );
    }
    b.push_str("</nav>\n");
    b
}

pub const UNASSIGNED_PAGE: &str = "unassigned.html";
pub const PROBLEMS_PAGE: &str = "problems.html";

const CSS: &str = r#"
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--accent:#b42318;--ok:#1a7f37}
*{box-sizing:border-box}
body{margin:0;font-family:"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",sans-serif;color:var(--ink);background:#fff;line-height:1.6;font-size:16px}
header{background:#8c1d18;color:#fff;padding:16px 20px}
header h1{margin:0;font-size:1.4em}
header p{margin:4px 0 0;opacity:.9;font-size:.9em}
header a{color:#fff}
main{max-width:1100px;margin:0 auto;padding:12px 16px 40px}
nav{margin:8px 0 16px;display:flex;flex-wrap:wrap;gap:8px}
.pager span.current{padding:4px 10px;font-weight:600}
nav a{padding:4px 10px;border:1px solid var(--line);border-radius:14px;text-decoration:none;color:var(--ink);background:var(--bg)}
h2{font-size:1.2em;border-left:4px solid #8c1d18;padding-left:8px;margin-top:28px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:.95em}
th,td{border:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}
.figures td.n{font-size:1.15em;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px;background:#fff}
.card h3{margin:0 0 4px;font-size:1.1em}
.card .meta,.muted{color:var(--muted);font-size:.9em}
.card .strip{display:flex;gap:4px;margin-top:8px;overflow:hidden}
.card .strip img,.card .strip .ph{width:70px;height:70px;object-fit:cover;border-radius:4px}
.owed{color:var(--accent)}
h3.theme{font-size:1.05em;margin:18px 0 8px;color:#8c1d18}
.done{color:var(--ok)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px}
figure{margin:0;border:1px solid var(--line);border-radius:6px;overflow:hidden;background:var(--bg)}
figure img{display:block;width:100%;height:150px;object-fit:cover;background:#eee}
figure figcaption{padding:4px 6px;font-size:.8em;color:var(--muted);word-break:break-all}
.ph{display:flex;align-items:center;justify-content:center;text-align:center;height:150px;background:#e9ecef;color:var(--muted);font-size:.85em;padding:6px}
blockquote{margin:8px 0;padding:10px 14px;background:var(--bg);border-left:4px solid var(--line);white-space:pre-line}
ul.owed-list{padding-left:1.2em;margin:0}
.url{word-break:break-all;font-size:.85em;color:var(--muted)}
@media (max-width:600px){body{font-size:15px}.grid{grid-template-columns:repeat(2,1fr)}th,td{padding:4px 5px}}
"#;

fn page(title: &str, subtitle: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
         <header><h1>{t}</h1><p>{s}</p></header>\n<main>\n{body}</main>\n</body>\n</html>\n",
        t = esc(title),
        s = subtitle,
    )
}

/// The link to a file's full bytes, relative to the page: in `archive/报告/`, the file under
/// its own name in `archive/按活动/` (else the store's object); the file's own place in a
/// year-end bag. `None`: not in this bag.
fn object_href(links: &Links, f: &FileRow) -> Option<String> {
    let mut out = String::new();
    push_object_href(&mut out, links, f).then_some(out)
}

/// The file's link target appended to `out`; false (nothing appended) where it has none.
fn push_object_href(out: &mut String, links: &Links, f: &FileRow) -> bool {
    let sha = f.sha256.as_str();
    let object = |out: &mut String| {
        out.push_str("../");
        out.push_str(crate::archive_dir::OBJECTS);
        out.push('/');
        push_esc(out, sha.get(..2).unwrap_or(""));
        out.push('/');
        push_esc(out, sha);
    };
    let linked = |out: &mut String, p: &str| {
        out.push_str("../");
        let mut path = String::with_capacity(p.len());
        push_href_path(&mut path, p);
        push_esc(out, &path);
    };
    match links {
        Links::Archive => object(out),
        Links::Originals { files } => match files.get(&f.path) {
            Some(p) => linked(out, p),
            None => object(out),
        },
        Links::Bag { files } => match files.get(sha) {
            Some(p) => linked(out, p),
            None => return false,
        },
    }
    true
}

/// The thumbnail's address appended to `out`.
fn push_thumb_src(out: &mut String, links: &Links, sha: &str) {
    match links {
        Links::Archive | Links::Originals { .. } => {
            out.push_str("../");
            out.push_str(crate::archive_dir::THUMBS);
        }
        Links::Bag { .. } => out.push_str(super::BAG_THUMBS),
    }
    out.push('/');
    push_esc(out, sha);
    out.push_str(".jpg");
}

/// A relative path as a URL path, appended to `out`: the characters that would end or change
/// a URL percent-encoded, everything else (Chinese included) as it is.
fn push_href_path(out: &mut String, p: &str) {
    for c in p.chars() {
        match c {
            ' ' | '#' | '?' | '%' | '"' | '\'' | '<' | '>' | '`' | '[' | ']' | '{' | '}' | '|'
            | '^' | '\\' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "%{b:02X}");
                }
            }
            c if c.is_control() => {
                let _ = write!(out, "%{:02X}", c as u32 & 0xFF);
            }
            c => out.push(c),
        }
    }
}

/// `<a href=…>inner</a>`, or the inner text alone where the file has no link.
fn link(href: Option<String>, title: &str, inner: &str) -> String {
    match href {
        Some(h) => format!("<a href=\"{h}\" title=\"{}\">{inner}</a>", esc(title)),
        None => inner.to_string(),
    }
}

/// The thumbnail (or its placeholder, in a `tag` element) of a photo or video, linked to
/// the full file with `title`, appended to `out`.
fn push_linked_thumb(out: &mut String, f: &FileRow, input: &ReportInput, title: &str, tag: &str) {
    let start = out.len();
    out.push_str("<a href=\"");
    let linked = push_object_href(out, &input.links, f);
    if linked {
        out.push_str("\" title=\"");
        push_esc(out, title);
        out.push_str("\">");
    } else {
        out.truncate(start);
    }
    match input.thumbs.get(&f.sha256) {
        Some(Thumb::Image) => {
            out.push_str("<img src=\"");
            push_thumb_src(out, &input.links, &f.sha256);
            out.push_str("\" alt=\"");
            push_esc(out, &f.file_name);
            out.push_str("\" loading=\"lazy\">");
        }
        Some(Thumb::Placeholder(label)) => {
            let _ = write!(out, "<{tag} class=\"ph\">");
            push_esc(out, label);
            let _ = write!(out, "</{tag}>");
        }
        None => {
            let _ = write!(out, "<{tag} class=\"ph\">无预览</{tag}>");
        }
    }
    if linked {
        out.push_str("</a>");
    }
}

/// A photo or video as a figure: thumbnail (or placeholder) linking to the full file,
/// appended to `out`.
fn figure(out: &mut String, f: &FileRow, input: &ReportInput, caption: bool) {
    out.push_str("<figure>");
    push_linked_thumb(out, f, input, &f.path, "div");
    if caption {
        out.push_str("<figcaption>");
        push_esc(out, f.date.as_deref().unwrap_or(crate::model::NO_DATE));
        out.push_str("<br>");
        push_esc(out, &f.file_name);
        out.push_str("</figcaption>");
    }
    out.push_str("</figure>");
}

/// A photo or video for the grids; a scanned sign-in sheet is listed as a scan instead.
fn is_visual(f: &FileRow) -> bool {
    (f.kind == "photo" || f.kind == "video") && !f.scan
}

/// Photos and videos in date order (undated last), then by path.
fn by_date<'a>(files: impl Iterator<Item = &'a FileRow>) -> Vec<&'a FileRow> {
    let mut v: Vec<&FileRow> = files.filter(|f| is_visual(f)).collect();
    v.sort_by(|a, b| {
        let ka = (
            a.datetime.is_none() && a.date.is_none(),
            &a.datetime,
            &a.date,
            &a.path,
        );
        let kb = (
            b.datetime.is_none() && b.date.is_none(),
            &b.datetime,
            &b.date,
            &b.path,
        );
        ka.cmp(&kb)
    });
    v
}

struct Sums {
    teachers: u64,
    students: u64,
    enterprises: u64,
    visitors: u64,
    participants: u64,
    media: MediaCounts,
}

fn sums<'a>(rows: impl Iterator<Item = &'a BreakdownRow>) -> Sums {
    let mut s = Sums {
        teachers: 0,
        students: 0,
        enterprises: 0,
        visitors: 0,
        participants: 0,
        media: MediaCounts::default(),
    };
    for r in rows {
        s.teachers += r.teachers;
        s.students += r.students;
        s.enterprises += r.enterprises;
        s.visitors += r.visitors;
        s.participants += r.participants;
        s.media.provincial += r.media.provincial;
        s.media.city += r.media.city;
        s.media.county += r.media.county;
        s.media.other += r.media.other;
    }
    s
}

/// Every page: (file name inside `archive/报告/`, HTML).
pub fn render(input: &ReportInput) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    render_each(input, &mut |name, body| {
        pages.push((name, body));
        Ok::<(), std::convert::Infallible>(())
    })
    .unwrap_or_else(|e| match e {});
    pages
}

/// Every page, handed to `sink` one at a time as it is made (name inside `archive/报告/`,
/// HTML): no more than one page is held at once. Stops at the sink's first error.
pub fn render_each<E>(
    input: &ReportInput,
    sink: &mut dyn FnMut(String, String) -> Result<(), E>,
) -> Result<(), E> {
    let groups = group_by_activity(input);
    for page in pages_of(input, &groups) {
        let (name, body) = make_page(input, &groups, page);
        sink(name, body)?;
    }
    Ok(())
}

/// [`render_each`] with the pages made on the I/O pool's threads (each page, once made, is
/// handed to `sink` on its thread and dropped: a few pages are held at once). Returns the
/// pages' names in [`render_each`]'s order, or the first error.
pub fn render_on_threads<E: Send>(
    input: &ReportInput,
    sink: &(dyn Fn(&str, String) -> Result<(), E> + Sync),
) -> Result<Vec<String>, E> {
    use rayon::prelude::*;
    let groups = group_by_activity(input);
    let pages = pages_of(input, &groups);
    crate::parallel::on_io_pool(|| {
        pages
            .into_par_iter()
            .map(|page| {
                let (name, body) = make_page(input, &groups, page);
                sink(&name, body)?;
                Ok(name)
            })
            .collect()
    })
}

/// One page of the report.
#[derive(Clone, Copy)]
enum Page {
    Index,
    /// Activity `.0`'s page `.1`.
    Activity(usize, usize),
    Unassigned,
    Problems,
}

/// Every page, in order: the index, each activity's pages, 未归类, problems.
fn pages_of(input: &ReportInput, groups: &[ActivityFiles]) -> Vec<Page> {
    let mut pages = vec![Page::Index];
    for (i, g) in groups.iter().enumerate().take(input.cfg.activities.len()) {
        pages.extend((0..g.pages()).map(|n| Page::Activity(i, n)));
    }
    pages.extend([Page::Unassigned, Page::Problems]);
    pages
}

/// A page's file name and HTML.
fn make_page(input: &ReportInput, groups: &[ActivityFiles], page: Page) -> (String, String) {
    match page {
        Page::Index => ("index.html".to_string(), index(input, groups)),
        Page::Activity(i, n) => (
            activity_page_n(i, n),
            activity(input, i, &input.cfg.activities[i].name, &groups[i], n),
        ),
        Page::Unassigned => (UNASSIGNED_PAGE.to_string(), unassigned(input)),
        Page::Problems => (PROBLEMS_PAGE.to_string(), problems(input)),
    }
}

/// The files of one activity, gathered once for its card and all its pages.
struct ActivityFiles<'a> {
    /// In the catalog's order.
    files: Vec<&'a FileRow>,
    /// Its photos and videos, by date ([`by_date`]).
    photos: Vec<&'a FileRow>,
}

impl ActivityFiles<'_> {
    /// How many pages its photos take (at least one).
    fn pages(&self) -> usize {
        self.photos.len().div_ceil(PHOTOS_PER_PAGE).max(1)
    }
}

/// The files of each activity of the config, in the config's order: one pass over the files
/// (not one per page: 40 000 photos make about 150 pages).
fn group_by_activity<'a>(input: &'a ReportInput) -> Vec<ActivityFiles<'a>> {
    let acts = &input.cfg.activities;
    // The config refuses an activity name given twice: one slot per name.
    let slots: HashMap<&str, usize> = acts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let mut files: Vec<Vec<&FileRow>> = vec![Vec::new(); acts.len()];
    for f in input.files.iter() {
        for name in &f.activities {
            if let Some(&i) = slots.get(name.as_str()) {
                // A file is listed once under an activity, however often it names it.
                if !files[i].last().is_some_and(|l| std::ptr::eq(*l, f)) {
                    files[i].push(f);
                }
            }
        }
    }
    files
        .into_iter()
        .map(|files| {
            let photos = by_date(files.iter().copied());
            ActivityFiles { files, photos }
        })
        .collect()
}

fn subtitle(input: &ReportInput) -> String {
    format!(
        "{} · 数据截至 {}",
        esc(&input.cfg.institution),
        esc(&input.date)
    )
}

fn figures_table(input: &ReportInput) -> String {
    let t = &input.tally.table;
    let cells: [(&str, &str, String); 10] = [
        (
            "schools",
            "参与活动的职业学校（含技工院校）数",
            t.schools.to_string(),
        ),
        ("teachers", "参与活动的教师数", t.teachers.to_string()),
        ("students", "参与活动的学生数", t.students.to_string()),
        ("coverage", "参与活动的学生覆盖率", t.coverage.text()),
        ("enterprises", "参与活动的企业数", t.enterprises.to_string()),
        ("participants", "参与总人数", t.participants.to_string()),
        (
            "experience_projects",
            "观摩体验活动项目数",
            t.experience_projects.to_string(),
        ),
        (
            "media_provincial",
            "省级及以上媒体报道数",
            t.media_provincial.to_string(),
        ),
        (
            "media_city",
            "市（州）级媒体报道数",
            t.media_city.to_string(),
        ),
        (
            "media_county",
            "县（区）级媒体报道数",
            t.media_county.to_string(),
        ),
    ];
    let mut s = String::from(
        "<div class=\"scroll\"><table class=\"figures\" id=\"figures\"><tr><th>项目</th><th>数值</th></tr>\n",
    );
    let _ = writeln!(
        s,
        "<tr><td>市（州）/职业学校（含技工院校）</td><td data-key=\"institution\">{}</td></tr>",
        esc(&t.institution)
    );
    for (key, label, value) in cells {
        let _ = writeln!(
            s,
            "<tr><td>{label}</td><td class=\"n\" data-key=\"{key}\">{}</td></tr>",
            esc(&value)
        );
    }
    s.push_str("</table></div>\n");
    s
}

fn index(input: &ReportInput, groups: &[ActivityFiles]) -> String {
    let mut b = String::new();
    let unassigned = input
        .files
        .iter()
        .filter(|f| f.activities.is_empty())
        .count();
    let problem_count = input
        .files
        .iter()
        .filter(|f| !f.problems.is_empty())
        .count()
        + input.row_problems.len()
        + input.rejections.len();
    let notes = &input.tally.warnings;
    let _ = writeln!(
        b,
        "<nav><a href=\"#figures\">附件5 统计</a><a href=\"#notes\">注意（{}）</a><a href=\"#owed\">欠交材料</a><a href=\"#week\">活动周逐日</a><a href=\"#activities\">各项活动</a>\
         <a href=\"{UNASSIGNED_PAGE}\">未归类文件（{unassigned}）</a><a href=\"{PROBLEMS_PAGE}\">问题与拒收（{problem_count}）</a></nav>",
        notes.len()
    );
    b.push_str("<h2>附件5 情况统计（与 dangan stats 一致）</h2>\n");
    b.push_str(&figures_table(input));

    // What the counting could not decide cleanly (the 注意 lines of dangan stats), all of them.
    let _ = writeln!(b, "<h2 id=\"notes\">注意（{} 条）</h2>", notes.len());
    if notes.is_empty() {
        b.push_str("<p class=\"done\">统计时没有需要注意的情况。</p>\n");
    } else {
        b.push_str("<ul class=\"notes\">\n");
        for w in notes {
            let _ = writeln!(b, "<li>{}</li>", esc(w));
        }
        b.push_str("</ul>\n");
    }

    b.push_str("<h2 id=\"owed\">欠交材料</h2>\n");
    let owed: Vec<_> = input
        .check
        .missing
        .iter()
        .filter(|m| m.status == Status::Owed)
        .collect();
    if owed.is_empty() {
        b.push_str("<p class=\"done\">各部门应交材料均已收到。</p>\n");
    } else {
        let _ = writeln!(
            b,
            "<p class=\"owed\">共欠交 {} 项材料。</p>",
            input.check.owed()
        );
        let mut by_dept: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for m in &owed {
            by_dept.entry(&m.department).or_default().push(format!(
                "{}（{}）：{}",
                esc(&m.activity),
                esc(&m.dates),
                esc(&m.materials.join("、"))
            ));
        }
        b.push_str("<div class=\"scroll\"><table><tr><th>部门</th><th>欠交</th></tr>\n");
        for (dept, items) in by_dept {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td><ul class=\"owed-list\"><li>{}</li></ul></td></tr>",
                esc(dept),
                items.join("</li><li>")
            );
        }
        b.push_str("</table></div>\n");
    }
    let not_due = input.check.not_due();
    if not_due > 0 {
        let _ = writeln!(
            b,
            "<p class=\"muted\">另有 {not_due} 项材料所属活动尚未开始（未到期），见 统计/材料检查.csv。</p>"
        );
    }

    b.push_str(&week_section(input));

    b.push_str("<h2 id=\"activities\">各项活动（按主题活动日）</h2>\n");
    for (title, indices) in theme_groups(input.cfg) {
        let _ = writeln!(
            b,
            "<h3 class=\"theme\">{}</h3>\n<div class=\"cards\">",
            esc(&title)
        );
        for i in indices {
            b.push_str(&card(input, i, &groups[i]));
        }
        b.push_str("</div>\n");
    }
    page("职业教育活动周（月）材料报告", &subtitle(input), &b)
}

/// The activities of the catalog grouped by 主题活动日 (附件3's order), then those without one,
/// each group in catalog order: (heading, catalog indices).
fn theme_groups(cfg: &crate::config::Config) -> Vec<(String, Vec<usize>)> {
    let days = crate::config::THEME_DAYS.len();
    let mut groups: BTreeMap<usize, (Vec<String>, Vec<usize>)> = BTreeMap::new();
    for (i, a) in cfg.activities.iter().enumerate() {
        let day = a
            .theme_day
            .as_deref()
            .and_then(crate::config::theme_day_index)
            .unwrap_or(days);
        let g = groups.entry(day).or_default();
        if let Some(name) = &a.theme_day
            && !g.0.contains(name)
        {
            g.0.push(name.clone());
        }
        g.1.push(i);
    }
    groups
        .into_iter()
        .map(|(day, (names, indices))| {
            let title = if day < days {
                format!(
                    "{} {}",
                    crate::config::theme_day_ordinal(day),
                    names.join("／")
                )
            } else {
                "其他活动（未设主题活动日）".to_string()
            };
            (title, indices)
        })
        .collect()
}

/// Each day of the configured week with the activities that have evidence dated that day; a
/// day with none is flagged.
fn week_section(input: &ReportInput) -> String {
    let evidence: Vec<(&[String], chrono::NaiveDate)> = input
        .files
        .iter()
        .filter_map(|f| {
            let d = chrono::NaiveDate::parse_from_str(f.date.as_deref()?, "%Y-%m-%d").ok()?;
            Some((&f.activities[..], d))
        })
        .collect();
    let days = crate::forms::week_days(input.cfg, evidence);
    let empty = days.iter().filter(|d| d.is_empty()).count();
    let mut b = String::from("<h2 id=\"week\">活动周逐日</h2>\n");
    if empty > 0 {
        let _ = writeln!(
            b,
            "<p class=\"owed\">活动周有 {empty} 天没有注明日期的活动材料（通知要求“活动周期间天天有活动”）。</p>"
        );
    }
    b.push_str(
        "<div class=\"scroll\"><table class=\"week\"><tr><th>日期</th><th>有材料的活动</th></tr>\n",
    );
    for d in &days {
        let cell = if d.is_empty() {
            format!("<td class=\"owed empty-day\">{}</td>", esc(&d.text()))
        } else {
            format!("<td>{}</td>", esc(&d.text()))
        };
        let _ = writeln!(
            b,
            "<tr data-date=\"{}\"><td>{}</td>{cell}</tr>",
            d.date,
            esc(&d.label())
        );
    }
    b.push_str("</table></div>\n");
    b
}

/// An activity's card on the index page.
fn card(input: &ReportInput, i: usize, g: &ActivityFiles) -> String {
    let a = &input.cfg.activities[i];
    let mut b = String::new();
    let (files, photos) = (&g.files, &g.photos);
    let rows = input
        .tally
        .activities
        .iter()
        .filter(|r| r.activity == a.name);
    let s = sums(rows);
    let depts = crate::materials::host_departments_text(a);
    let _ = write!(
        b,
        "<div class=\"card\"><h3><a href=\"{}\">{}</a>{}</h3>\
         <div class=\"meta\">{} · {}</div>\
         <div>文件 {} 个，其中照片/视频 {} 个</div>\
         <div>参与 {} 人：教师 {}、学生 {}、企业 {} 家、其他来宾 {}</div>\
         <div>媒体报道：省级及以上 {}、市（州）级 {}、县（区）级 {}、其他 {}</div>",
        activity_page(i),
        esc(&a.name),
        if a.experience {
            " <small>（观摩体验）</small>"
        } else {
            ""
        },
        esc(&crate::materials::dates_text(a, input.cfg)),
        esc(&depts),
        files.len(),
        photos.len(),
        s.participants,
        s.teachers,
        s.students,
        s.enterprises,
        s.visitors,
        s.media.provincial,
        s.media.city,
        s.media.county,
        s.media.other,
    );
    if files.is_empty() {
        b.push_str("<div class=\"muted\">尚无材料</div>");
    }
    if !photos.is_empty() {
        b.push_str("<div class=\"strip\">");
        for f in photos.iter().take(4) {
            push_linked_thumb(&mut b, f, input, &f.file_name, "span");
        }
        b.push_str("</div>");
    }
    b.push_str("</div>\n");
    b
}

fn back() -> &'static str {
    "<nav><a href=\"index.html\">← 返回总览</a></nav>\n"
}

/// Page `n` of `pages` of an activity: the first holds everything about it and its first
/// [`PHOTOS_PER_PAGE`] photos; the others continue the photos.
fn activity(input: &ReportInput, i: usize, name: &str, g: &ActivityFiles, n: usize) -> String {
    let cfg = input.cfg;
    let a = &cfg.activities[i];
    let (files, photos, pages) = (&g.files, &g.photos, g.pages());
    let mut b = String::from(back());
    if n > 0 {
        let from = n * PHOTOS_PER_PAGE;
        let shown = &photos[from.min(photos.len())..(from + PHOTOS_PER_PAGE).min(photos.len())];
        let _ = writeln!(
            b,
            "<h2>照片与视频（共 {} 个，第 {} 页，第 {}–{} 个）</h2>",
            photos.len(),
            n + 1,
            from + 1,
            from + shown.len()
        );
        b.push_str(&pager(i, n, pages));
        b.push_str("<div class=\"grid\">\n");
        for f in shown {
            figure(&mut b, f, input, true);
            b.push('\n');
        }
        b.push_str("</div>\n");
        b.push_str(&pager(i, n, pages));
        return page(&format!("{name}（第 {} 页）", n + 1), &subtitle(input), &b);
    }
    let depts = crate::materials::host_departments_text(a);
    let _ = writeln!(
        b,
        "<p>日期：{} · 承办部门：{}{}{}</p>",
        esc(&crate::materials::dates_text(a, cfg)),
        esc(&depts),
        match &a.theme_day {
            Some(t) => format!(" · 主题活动日：{}", esc(t)),
            None => String::new(),
        },
        if a.experience {
            " · 观摩体验项目"
        } else {
            ""
        }
    );
    let owed: Vec<_> = input
        .check
        .missing
        .iter()
        .filter(|m| m.activity == name)
        .collect();
    for m in &owed {
        let _ = writeln!(
            b,
            "<p class=\"owed\">{}{}：{}</p>",
            esc(&m.department),
            if m.status == Status::Owed {
                " 欠交"
            } else {
                " 未到期，届时需交"
            },
            esc(&m.materials.join("、"))
        );
    }

    b.push_str("<h2>活动总结（节选）</h2>\n");
    match input.summaries.get(name) {
        Some(e) if e.note.is_some() => {
            let _ = writeln!(
                b,
                "<p class=\"muted\">已收到 {}：{}。</p>",
                esc(&e.file_name),
                esc(e.note.unwrap_or_default())
            );
        }
        Some(e) => {
            let _ = writeln!(
                b,
                "<blockquote>{}{}</blockquote><p class=\"muted\">摘自 {}</p>",
                esc(&e.text),
                if e.truncated { "……" } else { "" },
                esc(&e.file_name)
            );
        }
        None => b.push_str("<p class=\"muted\">尚未收到总结（文件名含“总结”的文档）。</p>\n"),
    }

    b.push_str("<h2>签到人数（按部门）</h2>\n");
    let rows: Vec<&BreakdownRow> = input
        .tally
        .activities
        .iter()
        .filter(|r| r.activity == name)
        .collect();
    if rows.iter().all(|r| r.participants == 0) {
        b.push_str("<p class=\"muted\">尚无签到或申报人数。</p>\n");
    } else {
        b.push_str(
            "<div class=\"scroll\"><table><tr><th>部门</th><th>教师</th><th>学生</th><th>企业</th><th>其他来宾</th><th>参与总人数</th><th>计数来源</th></tr>\n",
        );
        for r in rows.iter().filter(|r| r.participants > 0) {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&r.department),
                r.teachers,
                r.students,
                r.enterprises,
                r.visitors,
                r.participants,
                r.source.label()
            );
        }
        b.push_str("</table></div>\n");
    }

    b.push_str("<h2>媒体报道</h2>\n");
    let media: Vec<_> = input
        .media
        .iter()
        .filter(|m| m.activities.iter().any(|x| x == name))
        .collect();
    if media.is_empty() {
        b.push_str("<p class=\"muted\">尚无媒体报道登记。</p>\n");
    } else {
        b.push_str("<div class=\"scroll\"><table><tr><th>日期</th><th>级别</th><th>媒体</th><th>标题</th></tr>\n");
        for m in media {
            let title = match m.url.as_deref().and_then(safe_url) {
                Some(u) => format!(
                    "<a class=\"media-link\" href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                    esc(u),
                    esc(&m.title)
                ),
                None => match m.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                    Some(u) => format!("{}<div class=\"url\">{}</div>", esc(&m.title), esc(u)),
                    None => esc(&m.title),
                },
            };
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{title}</td></tr>",
                esc(m.date.as_deref().unwrap_or("")),
                esc(m.level.as_deref().unwrap_or("")),
                esc(&m.outlet)
            );
        }
        b.push_str("</table></div>\n");
    }

    let _ = writeln!(b, "<h2>照片与视频（{} 个，按日期）</h2>", photos.len());
    if photos.is_empty() {
        b.push_str("<p class=\"muted\">尚无照片或视频。</p>\n");
    } else {
        if pages > 1 {
            let _ = writeln!(
                b,
                "<p class=\"muted\">每页 {PHOTOS_PER_PAGE} 个，共 {pages} 页；本页为第 1–{} 个。</p>",
                PHOTOS_PER_PAGE.min(photos.len())
            );
        }
        b.push_str(&pager(i, 0, pages));
        b.push_str("<div class=\"grid\">\n");
        for f in photos.iter().take(PHOTOS_PER_PAGE) {
            figure(&mut b, f, input, true);
            b.push('\n');
        }
        b.push_str("</div>\n");
        b.push_str(&pager(i, 0, pages));
    }

    let scans: Vec<&&FileRow> = files.iter().filter(|f| f.scan).collect();
    if !scans.is_empty() {
        let _ = writeln!(b, "<h2>签到表扫描件（{} 个）</h2>", scans.len());
        b.push_str(
            "<p class=\"muted\">扫描件算作签到表材料；其中的人数无法读取，不计入统计。</p>\n",
        );
        b.push_str(&file_table(&input.links, scans.into_iter().copied()));
    }

    let others: Vec<&&FileRow> = files.iter().filter(|f| !is_visual(f) && !f.scan).collect();
    if !others.is_empty() {
        let _ = writeln!(b, "<h2>其他材料（{} 个）</h2>", others.len());
        b.push_str(&file_table(&input.links, others.into_iter().copied()));
    }
    page(name, &subtitle(input), &b)
}

fn kind_label(kind: &str) -> &'static str {
    crate::model::Kind::parse(kind)
        .map(crate::model::Kind::label)
        .unwrap_or("其他")
}

fn file_table<'a>(links: &Links, files: impl Iterator<Item = &'a FileRow>) -> String {
    let mut b = String::from(
        "<div class=\"scroll\"><table><tr><th>文件</th><th>部门</th><th>类型</th><th>日期</th></tr>\n",
    );
    for f in files {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            link(object_href(links, f), &f.file_name, &esc(&f.path)),
            esc(&f.department),
            if f.scan {
                "签到表扫描件"
            } else {
                kind_label(&f.kind)
            },
            esc(f.date.as_deref().unwrap_or(crate::model::NO_DATE))
        );
    }
    b.push_str("</table></div>\n");
    b
}

fn unassigned(input: &ReportInput) -> String {
    let files: Vec<&FileRow> = input
        .files
        .iter()
        .filter(|f| f.activities.is_empty())
        .collect();
    let mut b = String::from(back());
    if files.is_empty() {
        b.push_str("<p class=\"done\">没有未归类的文件。</p>\n");
    } else {
        let _ = writeln!(
            b,
            "<p>以下 {} 个文件无法判断属于哪个活动。收件箱属于各部门，不必移动其中的文件：\
             打开 <code>统计/待归类.xlsx</code>，在“更正活动”（或“更正部门”“更正日期”）列从下拉列表中选好，\
             不该计入统计的在“不计入”列选“是”，然后把这个工作簿另存为 <code>更正.xlsx</code>，\
             放在 <code>dangan.toml</code> 旁边（没有 dangan.toml 时放在运行 dangan 的文件夹）。\
             下一次运行（每晚任务或任何命令）就会按更正归类，不需要重新导入。</p>",
            files.len()
        );
        b.push_str(&file_table(&input.links, files.iter().copied()));
        let photos = by_date(files.iter().copied());
        if !photos.is_empty() {
            b.push_str("<h2>照片与视频</h2>\n<div class=\"grid\">\n");
            for f in photos {
                figure(&mut b, f, input, true);
                b.push('\n');
            }
            b.push_str("</div>\n");
        }
    }
    page(&format!("{UNASSIGNED}文件"), &subtitle(input), &b)
}

fn problems(input: &ReportInput) -> String {
    let mut b = String::from(back());
    let with_problems: Vec<&FileRow> = input
        .files
        .iter()
        .filter(|f| !f.problems.is_empty())
        .collect();
    let _ = writeln!(
        b,
        "<h2>有问题的文件（{} 个，已保存）</h2>",
        with_problems.len()
    );
    if with_problems.is_empty() {
        b.push_str("<p class=\"done\">无。</p>\n");
    } else {
        b.push_str("<div class=\"scroll\"><table><tr><th>文件</th><th>问题</th></tr>\n");
        for f in with_problems {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td></tr>",
                link(object_href(&input.links, f), &f.path, &esc(&f.path)),
                esc(&f.problems.join("；"))
            );
        }
        b.push_str("</table></div>\n");
    }
    let _ = writeln!(
        b,
        "<h2>无法读取的表格行（{} 行，已跳过）</h2>",
        input.row_problems.len()
    );
    if input.row_problems.is_empty() {
        b.push_str("<p class=\"done\">无。</p>\n");
    } else {
        b.push_str("<div class=\"scroll\"><table><tr><th>文件</th><th>工作表</th><th>行</th><th>原因</th></tr>\n");
        for p in input.row_problems {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&p.path),
                esc(&p.sheet),
                p.row,
                esc(&p.reason)
            );
        }
        b.push_str("</table></div>\n");
    }
    let _ = writeln!(
        b,
        "<h2>最近一次导入拒收的文件（{} 个，未保存）</h2>",
        input.rejections.len()
    );
    if input.rejections.is_empty() {
        b.push_str("<p class=\"done\">无。</p>\n");
    } else {
        b.push_str("<div class=\"scroll\"><table><tr><th>文件</th><th>原因</th></tr>\n");
        for (path, reason) in input.rejections {
            let _ = writeln!(b, "<tr><td>{}</td><td>{}</td></tr>", esc(path), esc(reason));
        }
        b.push_str("</table></div>\n");
    }
    page("问题与拒收", &subtitle(input), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_urls() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        // Controls (C0 but tab and newline, DEL, C1) become U+FFFD; other text is kept whole,
        // `¢` (C2 A2) included.
        assert_eq!(
            esc("a\u{1}b\u{7f}c\u{85}d\te\nf"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\te\nf"
        );
        assert_eq!(esc("颁奖 ¢ é.jpg"), "颁奖 ¢ é.jpg");
        assert_eq!(safe_url(" https://x.cn/a?b=1 "), Some("https://x.cn/a?b=1"));
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(safe_url("//evil.example/x"), None);
        assert_eq!(safe_url("http://a b"), None);
    }
}
