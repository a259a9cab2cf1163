//! 附件4 信息采集表 as the form: the title, the 填报单位/填报人/联系电话 line, the contact row
//! (市（州）/职业学校（含技学校）, 联系人, 职务, 手机, QQ号, 专题网站（专栏）链接地址), the two
//! text blocks of at most 300 characters, and the 填表说明, labels as in the seed. Prints on one
//! A4 landscape page. Bytes depend only on the input and the epoch.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

use super::FormsInput;

pub const SHEET_NAME: &str = "信息采集表";

/// The contact row's labels, in the seed's order (its `（含技学校）` as printed).
pub const CONTACT_HEADERS: [&str; 6] = [
    "市（州）/职业学校（含技学校）",
    "联系人",
    "职务",
    "手机",
    "QQ号",
    "专题网站（专栏）链接地址",
];
pub const PLAN_LABEL: &str = "活动周工作计划\n（300 字以内）";
pub const FEATURED_LABEL: &str = "特色活动简介\n（300字以内）";
/// 附件4's note under the table (川教函〔2025〕119号).
pub const INFO_NOTE: &str = "填表说明：请各市（州）教育主管部门、各高职学校（含职教本科学校）2025 年 5 月 13 日前，将经单位盖章的 PDF 扫描件和 EXCEL 版本表格按要求通过 OA 办公系统报送至教育厅，同步发送至教育厅职业教育处邮箱 scsjytzjc@163.com。";

/// Rows (0-based).
pub const TITLE_ROW: u32 = 0;
pub const FILL_ROW: u32 = 1;
pub const HEADER_ROW: u32 = 2;
pub const CONTACT_ROW: u32 = 3;
pub const PLAN_ROW: u32 = 4;
pub const FEATURED_ROW: u32 = 5;
pub const NOTE_ROW: u32 = 6;

const WIDTHS: [f64; 6] = [24.0, 12.0, 12.0, 15.0, 13.0, 36.0];

/// `2025 年职业教育活动周信息采集表`.
pub fn info_title(year: i32) -> String {
    format!("{year} 年职业教育活动周信息采集表")
}

/// The epoch as the document's creation time (clamped where Excel cannot show it).
pub fn created(epoch: i64) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_timestamp(epoch).or_else(|_| ExcelDateTime::from_timestamp(315_532_800))
}

/// The workbook, with `plan` and `featured` (each within 300 characters) in its text blocks.
pub fn info_xlsx(
    input: &FormsInput,
    plan: &str,
    featured: &str,
    epoch: i64,
) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(info_title(input.year))
            .set_creation_datetime(&created(epoch)?),
    );
    let font = "宋体";
    let base = Format::new()
        .set_font_name(font)
        .set_font_size(11)
        .set_align(FormatAlign::VerticalCenter);
    let title = base
        .clone()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let line = base.clone().set_align(FormatAlign::Left);
    let header = base
        .clone()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let cell = base
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let block = base
        .clone()
        .set_text_wrap()
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin);
    let note = base
        .clone()
        .set_font_size(10)
        .set_text_wrap()
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::Top);

    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    crate::output::xlsx::print_one_a4_landscape(sheet);
    let last = (CONTACT_HEADERS.len() - 1) as u16;
    for (c, w) in WIDTHS.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    sheet.set_row_height(TITLE_ROW, 32)?;
    sheet.merge_range(
        TITLE_ROW,
        0,
        TITLE_ROW,
        last,
        &info_title(input.year),
        &title,
    )?;
    sheet.set_row_height(FILL_ROW, 24)?;
    sheet.merge_range(
        FILL_ROW,
        0,
        FILL_ROW,
        last,
        &crate::output::xlsx::fill_line(&input.institution, &input.contact),
        &line,
    )?;
    sheet.set_row_height(HEADER_ROW, 36)?;
    for (c, h) in CONTACT_HEADERS.iter().enumerate() {
        sheet.write_string_with_format(HEADER_ROW, c as u16, *h, &header)?;
    }
    let k = &input.contact;
    sheet.set_row_height(CONTACT_ROW, 30)?;
    let values = [
        input.institution.as_str(),
        &k.contact,
        &k.title,
        &k.mobile,
        &k.qq,
        &k.website,
    ];
    for (c, v) in values.iter().enumerate() {
        // An empty field stays an empty cell (with its border), for a person to fill in.
        if v.is_empty() {
            sheet.write_blank(CONTACT_ROW, c as u16, &cell)?;
        } else {
            sheet.write_string_with_format(CONTACT_ROW, c as u16, *v, &cell)?;
        }
    }
    for (row, label, text) in [
        (PLAN_ROW, PLAN_LABEL, plan),
        (FEATURED_ROW, FEATURED_LABEL, featured),
    ] {
        sheet.set_row_height(row, 150)?;
        sheet.write_string_with_format(row, 0, label, &header)?;
        sheet.merge_range(row, 1, row, last, text, &block)?;
    }
    sheet.set_row_height(NOTE_ROW, 40)?;
    sheet.merge_range(NOTE_ROW, 0, NOTE_ROW, last, INFO_NOTE, &note)?;
    workbook.save_to_buffer()
}

/// 信息采集表.txt: both texts with their labels, for pasting into a portal.
pub fn info_txt(input: &FormsInput, plan: &str, featured: &str) -> String {
    format!(
        "{}\n{}\n\n活动周工作计划（{} 字）\n{plan}\n\n特色活动简介（{} 字）\n{featured}\n",
        info_title(input.year),
        input.institution,
        plan.chars().count(),
        featured.chars().count(),
    )
}
