//! The XLSX copy of 附件5 as a person expects the form: the title across the table, the
//! 填报单位 line (填报人 and 联系电话 from `[contact]`), the two-row header with 活动周媒体报道数
//! merged over its three columns, one row per institution, and the seed's 填表说明 under the
//! table. Counts are numbers, the coverage is text (`13.13%`). It prints on one A4 landscape
//! page.
//!
//! The bytes depend only on the rows, the year and the given epoch (the document's creation
//! time): the same input gives the same file. Never reads the clock, never writes a file.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

use super::{FILL_LINE, MEDIA_GROUP, TABLE_HEADERS, table_title};
use crate::config::Contact;
use crate::tally::ProvincialRow;

/// 附件5's note under the table (川教函〔2025〕119号).
pub const TABLE_NOTE: &str = "填表说明：请各市（州）教育主管部门、各高职学校在活动周结束后一周内，将经领导审签后的 PDF 盖章扫描件和 EXCEL 版本表格按要求通过 OA 办公系统报送至教育厅，同步发送至职业教育处邮箱 scsjytzjc@163.com；各市（州）人力资源社会保障部门按要求报送至人力资源社会保障厅职业能力建设处邮箱。";

/// The 填报 line with the unit, 填报人 and 联系电话 filled in: `填报单位（盖章）：自贡职业技术学院
/// 填报人：王梦霞 联系电话：0813-…`; an empty field stays empty (all empty: [`FILL_LINE`]).
pub fn fill_line(unit: &str, contact: &Contact) -> String {
    format!(
        "填报单位（盖章）：{} 填报人：{} 联系电话：{}",
        unit.trim(),
        contact.filler,
        contact.phone
    )
}

/// Rows 0-based: title, 填报 line, header (two rows), then data.
pub const HEADER_ROW: u32 = 2;
/// The first data row (0-based).
pub const FIRST_DATA_ROW: u32 = 4;

/// Column widths in characters, one per column of [`TABLE_HEADERS`].
const WIDTHS: [f64; 11] = [
    26.0, 16.0, 12.0, 12.0, 12.0, 11.0, 11.0, 11.0, 12.0, 12.0, 12.0,
];

/// The sheet's name.
pub const SHEET_NAME: &str = "情况统计表";

/// The form with `rows` (one per institution, a 合计 row last when the caller adds one) and an
/// empty 填报 line. `epoch` (Unix seconds, e.g. `SOURCE_DATE_EPOCH`) is the document's creation
/// time; one outside 1900–9999 is clamped to 1980-01-01 rather than failing.
pub fn table_xlsx(rows: &[ProvincialRow], year: i32, epoch: i64) -> Result<Vec<u8>, XlsxError> {
    table_form(rows, year, epoch, FILL_LINE)
}

/// [`table_xlsx`] with its 填报 line (see [`fill_line`]).
pub fn table_form(
    rows: &[ProvincialRow],
    year: i32,
    epoch: i64,
    fill: &str,
) -> Result<Vec<u8>, XlsxError> {
    let created = ExcelDateTime::from_timestamp(epoch)
        .or_else(|_| ExcelDateTime::from_timestamp(315_532_800))?;
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(table_title(year))
            .set_creation_datetime(&created),
    );

    let font = "宋体";
    let title = Format::new()
        .set_font_name(font)
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let line = Format::new()
        .set_font_name(font)
        .set_font_size(11)
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::VerticalCenter);
    let header = Format::new()
        .set_font_name(font)
        .set_bold()
        .set_font_size(10)
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let text = Format::new()
        .set_font_name(font)
        .set_font_size(11)
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let number = text.clone().set_num_format("0");

    let sheet = workbook.add_worksheet();
    sheet.set_name(SHEET_NAME)?;
    print_one_a4_landscape(sheet);
    let last_col = (TABLE_HEADERS.len() - 1) as u16;
    for (col, width) in WIDTHS.iter().enumerate() {
        sheet.set_column_width(col as u16, *width)?;
    }

    sheet.set_row_height(0, 30)?;
    sheet.merge_range(0, 0, 0, last_col, &table_title(year), &title)?;
    sheet.set_row_height(1, 24)?;
    sheet.merge_range(1, 0, 1, last_col, fill, &line)?;

    sheet.set_row_height(HEADER_ROW, 36)?;
    sheet.set_row_height(HEADER_ROW + 1, 48)?;
    for (col, name) in TABLE_HEADERS.iter().enumerate().take(8) {
        let col = col as u16;
        sheet.merge_range(HEADER_ROW, col, HEADER_ROW + 1, col, name, &header)?;
    }
    sheet.merge_range(HEADER_ROW, 8, HEADER_ROW, last_col, MEDIA_GROUP, &header)?;
    for (col, name) in TABLE_HEADERS.iter().enumerate().skip(8) {
        sheet.write_string_with_format(HEADER_ROW + 1, col as u16, *name, &header)?;
    }

    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + i as u32;
        sheet.set_row_height(r, 24)?;
        sheet.write_string_with_format(r, 0, &row.institution, &text)?;
        let counts = [
            row.schools,
            row.teachers,
            row.students,
            0,
            row.enterprises,
            row.participants,
            row.experience_projects,
            row.media_provincial,
            row.media_city,
            row.media_county,
        ];
        for (j, n) in counts.iter().enumerate() {
            let col = 1 + j as u16;
            if col == 4 {
                sheet.write_string_with_format(r, col, row.coverage.text(), &text)?;
            } else {
                // Counts of people and reports are far below 2^53: exact as f64.
                sheet.write_number_with_format(r, col, *n as f64, &number)?;
            }
        }
    }

    let note_row = FIRST_DATA_ROW + rows.len() as u32;
    let note = Format::new()
        .set_font_name(font)
        .set_font_size(10)
        .set_text_wrap()
        .set_align(FormatAlign::Left)
        .set_align(FormatAlign::Top);
    sheet.set_row_height(note_row, 44)?;
    sheet.merge_range(note_row, 0, note_row, last_col, TABLE_NOTE, &note)?;

    workbook.save_to_buffer()
}

/// How the province's forms print: one A4 page, landscape, centred.
pub fn print_one_a4_landscape(sheet: &mut rust_xlsxwriter::Worksheet) {
    sheet.set_landscape();
    sheet.set_paper_size(9); // A4
    sheet.set_print_fit_to_pages(1, 1);
    sheet.set_print_center_horizontally(true);
}
