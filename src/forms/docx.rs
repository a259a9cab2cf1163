//! The draft 活动周工作总结报告 (docx, written with the `docx-rs` crate): a title and the seven
//! headings the notice asks for, in its order — 基本情况、主要做法和措施、取得成效、活动亮点、
//! 典型案例、媒体宣传情况、存在问题及建议 — filled from the catalog for the office to edit.
//! 典型案例 are illustrated with the photos the caller hands over (thumbnails as PNG, never the
//! originals).
//!
//! Deterministic: the creation time is the epoch, image ids are numbered in document order,
//! and the zip entries carry docx-rs's fixed 1980 time, so the same input and epoch give the
//! same bytes.

use std::collections::BTreeMap;
use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Pic, Run, RunFonts, Shading,
    SpecialIndentType, Style, StyleType, Table, TableCell, TableRow, WidthType,
};

use super::text::{month_day, span};
use super::{ActivityFacts, FormsInput};
use crate::config::{THEME_DAYS, theme_day_ordinal};
use crate::tally::MediaLevel;

/// The seven headings, in the notice's order.
pub const HEADINGS: [&str; 7] = [
    "一、基本情况",
    "二、主要做法和措施",
    "三、取得成效",
    "四、活动亮点",
    "五、典型案例",
    "六、媒体宣传情况",
    "七、存在问题及建议",
];

/// The header of the 媒体宣传情况 table.
pub const MEDIA_HEADER: [&str; 4] = ["级别", "媒体", "标题", "日期"];

/// A photo for a 典型案例: PNG bytes with their pixel size.
#[derive(Debug, Clone)]
pub struct Photo {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// `2025-05-07 IMG_0001.jpg`
    pub caption: String,
}

#[derive(Debug, thiserror::Error)]
#[error("无法生成工作总结报告：{0}")]
pub struct DocxError(String);

/// The report's title.
pub fn report_title(input: &FormsInput) -> String {
    format!(
        "{}{}年职业教育活动周工作总结报告（草稿）",
        input.institution, input.year
    )
}

const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";
/// A photo's printed width: three side by side across an A4 page's text width.
const PHOTO_WIDTH_EMU: u32 = 1_800_000; // 5 cm

fn fonts(name: &str) -> RunFonts {
    RunFonts::new().east_asia(name).ascii(name).hi_ansi(name)
}

fn para(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(Run::new().add_text(text))
        .indent(None, Some(SpecialIndentType::FirstLine(480)), None, None)
        .line_spacing(LineSpacing::new().after(120))
}

fn heading(level: usize, text: &str) -> Paragraph {
    Paragraph::new()
        .style(if level == 1 { "Heading1" } else { "Heading2" })
        .add_run(Run::new().add_text(text))
}

/// The 媒体宣传情况 table's column widths (twips), on an A4 page's text width.
const MEDIA_WIDTHS: [usize; 4] = [1500, 2100, 4300, 1300];

fn cell(text: &str, head: bool, width: usize) -> TableCell {
    let run = Run::new().add_text(text);
    let mut c = TableCell::new()
        .width(width, WidthType::Dxa)
        .add_paragraph(Paragraph::new().add_run(if head { run.bold() } else { run }));
    if head {
        c = c.shading(Shading::new().fill("D9D9D9"));
    }
    c
}

/// `教务科研处`, `承办部门未配置` where none.
fn departments(a: &ActivityFacts) -> String {
    if a.departments.is_empty() {
        "承办部门未配置".to_string()
    } else {
        a.departments_text()
    }
}

/// The first sentence of an activity's 总结, when there is one.
fn summary_sentence(a: &ActivityFacts) -> Option<String> {
    let s = a.summary.as_ref()?;
    let mut parts = super::text::body_sentences(&s.text);
    if s.truncated && parts.len() > 1 {
        parts.pop();
    }
    parts.into_iter().next()
}

fn people(a: &ActivityFacts) -> String {
    if a.participants == 0 {
        "尚无签到或申报人数".to_string()
    } else {
        format!(
            "参与 {} 人（教师 {} 人、本校学生 {} 人，企业 {} 家）",
            a.participants, a.teachers, a.students, a.enterprises
        )
    }
}

/// 基本情况's and 取得成效's figures, as sentences (the 附件5 row).
pub fn figures_sentences(input: &FormsInput) -> (String, String) {
    let t = &input.table;
    let held = input.activities.iter().filter(|a| a.held()).count();
    let basic = format!(
        "{}共开展有材料的活动 {held} 项（活动目录共 {} 项）。参与活动的职业学校（含技工院校）{} 所，参与活动的教师 {} 人，参与活动的学生 {} 人，参与活动的学生覆盖率 {}，参与活动的企业 {} 家，参与总人数 {} 人，观摩体验活动项目 {} 项；省级及以上媒体报道 {} 篇，市（州）级媒体报道 {} 篇，县（区）级媒体报道 {} 篇。",
        input.period_sentence(),
        input.activities.len(),
        t.schools,
        t.teachers,
        t.students,
        t.coverage.text(),
        t.enterprises,
        t.participants,
        t.experience_projects,
        t.media_provincial,
        t.media_city,
        t.media_county,
    );
    let results = format!(
        "活动覆盖面：参与总人数 {} 人，其中教师 {} 人、本校学生 {} 人，学生覆盖率 {}；{} 所职业学校（含技工院校）、{} 家企业参与，开展观摩体验活动项目 {} 项。宣传影响：省级及以上媒体报道 {} 篇，市（州）级 {} 篇，县（区）级 {} 篇，合计 {} 篇。",
        t.participants,
        t.teachers,
        t.students,
        t.coverage.text(),
        t.schools,
        t.enterprises,
        t.experience_projects,
        t.media_provincial,
        t.media_city,
        t.media_county,
        t.media_provincial + t.media_city + t.media_county,
    );
    (basic, results)
}

/// The held activities grouped by 主题活动日 (附件3's order), then those without one.
pub fn by_theme_day(input: &FormsInput) -> Vec<(String, Vec<&ActivityFacts>)> {
    let held = input.held_in_date_order();
    let mut groups: BTreeMap<usize, Vec<&ActivityFacts>> = BTreeMap::new();
    for a in held {
        groups
            .entry(a.theme_index.unwrap_or(THEME_DAYS.len()))
            .or_default()
            .push(a);
    }
    groups
        .into_iter()
        .map(|(i, acts)| {
            let name = if i < THEME_DAYS.len() {
                let mut names: Vec<&str> =
                    acts.iter().filter_map(|a| a.theme_day.as_deref()).collect();
                names.dedup();
                format!("{}：{}", theme_day_ordinal(i), names.join("／"))
            } else {
                "其他活动".to_string()
            };
            (name, acts)
        })
        .collect()
}

const CN_NUMBERS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

fn sub_number(i: usize) -> String {
    format!("（{}）", CN_NUMBERS.get(i).copied().unwrap_or("十"))
}

/// The document. `photos`: activity → the photos of its 典型案例, in order.
pub fn report_docx(
    input: &FormsInput,
    photos: &BTreeMap<String, Vec<Photo>>,
    epoch: i64,
) -> Result<Vec<u8>, DocxError> {
    let created = chrono::DateTime::from_timestamp(epoch, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let mut doc = Docx::new()
        .created_at(&created)
        .updated_at(&created)
        .default_fonts(fonts(BODY_FONT))
        .default_size(24) // 小四
        .page_margin(PageMargin {
            top: 1440,
            left: 1587,
            bottom: 1440,
            right: 1587,
            header: 851,
            footer: 992,
            gutter: 0,
        })
        .add_style(
            Style::new("Title", StyleType::Paragraph)
                .name("Title")
                .fonts(fonts(HEADING_FONT))
                .size(36)
                .bold()
                .align(AlignmentType::Center),
        )
        .add_style(
            Style::new("Heading1", StyleType::Paragraph)
                .name("heading 1")
                .fonts(fonts(HEADING_FONT))
                .size(32)
                .outline_lvl(0),
        )
        .add_style(
            Style::new("Heading2", StyleType::Paragraph)
                .name("heading 2")
                .fonts(fonts(HEADING_FONT))
                .size(28)
                .outline_lvl(1),
        );
    doc = doc.add_paragraph(
        Paragraph::new()
            .style("Title")
            .add_run(Run::new().add_text(report_title(input))),
    );
    doc = doc.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(
        Run::new().add_text(format!(
            "（dangan 根据截至 {} 的存档材料生成，请核对、修改后使用）",
            input.today
        )),
    ));

    // 一、基本情况
    let (basic, results) = figures_sentences(input);
    doc = doc
        .add_paragraph(heading(1, HEADINGS[0]))
        .add_paragraph(para(&basic));

    // 二、主要做法和措施
    doc = doc.add_paragraph(heading(1, HEADINGS[1]));
    let groups = by_theme_day(input);
    if groups.is_empty() {
        doc = doc.add_paragraph(para("尚无有材料的活动。"));
    }
    for (i, (name, acts)) in groups.iter().enumerate() {
        doc = doc.add_paragraph(heading(2, &format!("{}{name}", sub_number(i))));
        for a in acts {
            let mut s = format!(
                "{}（{}，{}）：{}。",
                a.name,
                a.dates_text(),
                departments(a),
                people(a)
            );
            if let Some(line) = summary_sentence(a) {
                s.push_str(&line);
            }
            doc = doc.add_paragraph(para(&s));
        }
    }

    // 三、取得成效
    doc = doc
        .add_paragraph(heading(1, HEADINGS[2]))
        .add_paragraph(para(&results));

    // 四、活动亮点
    let featured = input.featured();
    doc = doc.add_paragraph(heading(1, HEADINGS[3]));
    if featured.is_empty() {
        doc = doc.add_paragraph(para(
            "尚无特色活动（可在 dangan.toml 的 [contact] featured 中指定）。",
        ));
    }
    for (i, a) in featured.iter().enumerate() {
        let mut s = format!(
            "{}. {}（{}，{}）：{}，照片和视频 {} 个。",
            i + 1,
            a.name,
            a.dates_text(),
            departments(a),
            people(a),
            a.photos
        );
        if let Some(line) = summary_sentence(a) {
            s.push_str(&line);
        }
        doc = doc.add_paragraph(para(&s));
    }

    // 五、典型案例
    doc = doc.add_paragraph(heading(1, HEADINGS[4]));
    if featured.is_empty() {
        doc = doc.add_paragraph(para("尚无典型案例。"));
    }
    let mut image_no = 0usize;
    for (i, a) in featured.iter().enumerate() {
        doc = doc
            .add_paragraph(heading(2, &format!("{}{}", sub_number(i), a.name)))
            .add_paragraph(para(&format!(
                "时间：{}；承办部门：{}；{}。",
                a.dates_text(),
                departments(a),
                people(a)
            )));
        let list = photos.get(&a.name).map(Vec::as_slice).unwrap_or(&[]);
        if list.is_empty() {
            doc = doc.add_paragraph(para("（尚无可用的照片。）"));
        } else {
            let mut run = Run::new();
            for (n, p) in list.iter().enumerate() {
                image_no += 1;
                let h = if p.width == 0 {
                    PHOTO_WIDTH_EMU * 3 / 4
                } else {
                    (u64::from(PHOTO_WIDTH_EMU) * u64::from(p.height) / u64::from(p.width)) as u32
                };
                let pic = Pic::new_with_dimensions(p.png.clone(), p.width, p.height)
                    .id(format!("rIdImage{image_no}"))
                    .size(PHOTO_WIDTH_EMU, h);
                if n > 0 {
                    run = run.add_text("  ");
                }
                run = run.add_image(pic);
            }
            doc = doc.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run));
            let captions: Vec<&str> = list.iter().map(|p| p.caption.as_str()).collect();
            doc = doc.add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_run(Run::new().size(18).add_text(captions.join("；"))),
            );
        }
        match &a.summary {
            Some(s) => {
                let body = super::text::body_sentences(&s.text).concat();
                doc = doc.add_paragraph(para(&format!(
                    "{body}{}",
                    if s.truncated { "……" } else { "" }
                )));
                doc = doc.add_paragraph(
                    Paragraph::new().add_run(
                        Run::new()
                            .size(18)
                            .add_text(format!("（摘自 {}）", s.file_name)),
                    ),
                );
            }
            None => doc = doc.add_paragraph(para("（尚未收到活动总结。）")),
        }
    }

    // 六、媒体宣传情况
    doc = doc.add_paragraph(heading(1, HEADINGS[5]));
    let level_count = |l: MediaLevel| input.reports.iter().filter(|r| r.level == l).count();
    doc = doc.add_paragraph(para(&format!(
        "活动期间共有媒体报道 {} 篇：省级及以上 {} 篇，市（州）级 {} 篇，县（区）级 {} 篇，其他（校级、公众号等）{} 篇。",
        input.reports.len(),
        level_count(MediaLevel::Provincial),
        level_count(MediaLevel::City),
        level_count(MediaLevel::County),
        level_count(MediaLevel::Other),
    )));
    if !input.reports.is_empty() {
        let mut rows = vec![TableRow::new(
            MEDIA_HEADER
                .iter()
                .zip(MEDIA_WIDTHS)
                .map(|(h, w)| cell(h, true, w))
                .collect(),
        )];
        for r in &input.reports {
            let date = r.date.map(month_day).unwrap_or_default();
            let texts = [r.level.label(), r.outlet.as_str(), r.title.as_str(), &date];
            rows.push(TableRow::new(
                texts
                    .iter()
                    .zip(MEDIA_WIDTHS)
                    .map(|(t, w)| cell(t, false, w))
                    .collect(),
            ));
        }
        doc = doc.add_table(
            Table::new(rows)
                .set_grid(MEDIA_WIDTHS.to_vec())
                .width(MEDIA_WIDTHS.iter().sum(), WidthType::Dxa),
        );
    }

    // 七、存在问题及建议
    doc = doc.add_paragraph(heading(1, HEADINGS[6]));
    let mut facts = Vec::new();
    if input.owed.is_empty() {
        facts.push(format!(
            "截至 {}，各承办部门应交的材料均已收到。",
            input.today
        ));
    } else {
        let mut by_dept: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for o in &input.owed {
            by_dept
                .entry(&o.department)
                .or_default()
                .push(format!("{}的{}", o.activity, o.materials));
        }
        let list: Vec<String> = by_dept
            .iter()
            .map(|(d, items)| format!("{d}（{}）", items.join("，")))
            .collect();
        facts.push(format!(
            "截至 {}，尚有 {} 项材料欠交：{}。",
            input.today,
            input.owed.len(),
            list.join("；")
        ));
    }
    if input.unassigned > 0 {
        facts.push(format!(
            "另有 {} 个文件未归类，需在 统计/待归类.xlsx 中更正后计入。",
            input.unassigned
        ));
    }
    let empty: Vec<String> = input
        .days
        .iter()
        .filter(|d| d.is_empty())
        .map(|d| d.label())
        .collect();
    if !empty.is_empty() {
        facts.push(format!(
            "活动周（{}）中 {} 没有注明日期的活动材料，与“活动周期间天天有活动”的要求不符，请核对材料日期或补充说明。",
            span(input.week.start, input.week.end),
            empty.join("、")
        ));
    }
    for f in &facts {
        doc = doc.add_paragraph(para(f));
    }
    doc = doc.add_paragraph(para("建议："));
    // For the office's own words.
    doc = doc.add_paragraph(Paragraph::new());

    let mut out = Cursor::new(Vec::new());
    doc.build()
        .pack(&mut out)
        .map_err(|e| DocxError(e.to_string()))?;
    Ok(out.into_inner())
}
