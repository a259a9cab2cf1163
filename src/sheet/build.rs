//! Turns a sheet's rows, fed one at a time in file order, into a [`Sheet`] and its problems.
//! Keeps nothing but the typed rows, so memory follows the useful content, not the file; in the
//! sheet child ([`stream_rows`]) not even those: each sign-in or declared row is sent as made.
//! Asked for cells by position (`cells.rs`), it interprets nothing and hands each row of the
//! window on as it is.

use super::cells::CellsOut;
use super::header::{self, Field, HEADER_SEARCH_ROWS, HeaderMap};
use super::value::{
    DateCell, Value, count_of, date_of, find_date_in_text, id_of, looks_numeric, text_of,
};
use super::{DeclaredRow, MediaRow, RowProblem, Sheet, SheetKind, SignInRow};
use crate::model::MonthDay;
use crate::text::match_key;

/// Where the sheet child's builders send their events ([`stream_rows`]).
type Sink = Box<dyn FnMut(super::Event)>;

thread_local! {
    static SINK: std::cell::RefCell<Option<Sink>> = const { std::cell::RefCell::new(None) };
}

fn send(event: super::Event) {
    SINK.with(|k| {
        if let Some(f) = k.borrow_mut().as_mut() {
            f(event);
        }
    });
}

/// Runs `read` with every [`SheetBuilder`] made on this thread sending its sheet, rows and
/// problems to `sink` as they are made (the sheets and problems `read` returns are then empty
/// shells, already sent). For the sheet child: memory follows one row, not the sheet.
pub(crate) fn stream_rows<T>(sink: Sink, read: impl FnOnce() -> T) -> T {
    SINK.with(|k| *k.borrow_mut() = Some(sink));
    let out = read();
    SINK.with(|k| *k.borrow_mut() = None);
    out
}

/// Steps that hyperlinks spanning many rows may take over the wanted cells, per sheet.
const LINK_SPAN_STEPS: u64 = 1_000_000;

/// One row's non-empty cells: (0-based column, value).
pub(crate) type Cells = Vec<(u32, Value)>;

/// Characters of a sheet's name kept (Excel allows 31; a hostile file may write 20 000).
pub(crate) const SHEET_NAME_CHARS: usize = 100;
/// Bytes of one cell's text kept (longer text is cut at a character boundary).
pub(crate) const CELL_TEXT_BYTES: usize = 4096;
/// Problems stored per sheet; the rest are counted in one more.
pub(crate) const STORED_PROBLEMS: usize = 200;

pub(crate) struct SheetBuilder {
    sheet: Sheet,
    /// Row problems, grouped: (first row, last row, rows, reason). The sheet's name is added
    /// once per stored problem at [`SheetBuilder::finish`], never per row.
    problems: Vec<(u32, u32, u64, String)>,
    /// Problem rows beyond [`STORED_PROBLEMS`]: (rows, first row, last row).
    unstored: (u64, u32, u32),
    /// In the sheet child ([`stream_rows`]): sign-in and declared rows are handed on as they
    /// are made, after the sheet's head, instead of being kept.
    streaming: bool,
    head_sent: bool,
    header: Option<HeaderMap>,
    rows_searched: usize,
    /// The last non-empty row seen while searching (the upper line of a two-line header).
    previous: Option<Vec<(u32, String)>>,
    /// Text of the header row, while the next row may still refine it.
    refinable: Option<Vec<(u32, String)>>,
    /// Rows above the header, for [`Sheet::title`].
    title_lines: Vec<Vec<(u32, String)>>,
    date1904: bool,
    /// A cell of the rows searched that says 姓名 (`姓名签字`), for the reason an unrecognised
    /// sheet was not counted.
    name_cell: Option<(u32, String)>,
    /// Set when the sheet is read as cells by position ([`super::cells`]): rows are handed
    /// there as they are, and nothing is interpreted.
    cells: Option<CellsOut>,
}

impl SheetBuilder {
    pub(crate) fn new(name: &str, date1904: bool) -> SheetBuilder {
        let name = capped_name(name);
        SheetBuilder {
            cells: CellsOut::wanted(&name),
            sheet: Sheet::new(&name),
            problems: Vec::new(),
            unstored: (0, 0, 0),
            streaming: SINK.with(|k| k.borrow().is_some()),
            head_sent: false,
            header: None,
            rows_searched: 0,
            previous: None,
            refinable: None,
            title_lines: Vec::new(),
            date1904,
            name_cell: None,
        }
    }

    /// False once the rest of the sheet cannot matter (no header in the first rows).
    pub(crate) fn wants_more(&self) -> bool {
        if let Some(cells) = &self.cells {
            return cells.wants_more();
        }
        self.header.is_some() || self.rows_searched < HEADER_SEARCH_ROWS
    }

    /// The 0-based row of the header, once found.
    pub(crate) fn header_row0(&self) -> Option<u32> {
        self.sheet.header_row.map(|r| r.saturating_sub(1))
    }

    /// Feeds row `row0` (0-based, as the readers count).
    pub(crate) fn push_row(&mut self, row0: u32, cells: &Cells) {
        let capped;
        let cells = if cells
            .iter()
            .any(|(_, v)| matches!(v, Value::Text(t) if t.len() > CELL_TEXT_BYTES))
        {
            capped = cap_cells(cells);
            &capped
        } else {
            cells
        };
        if let Some(out) = &mut self.cells {
            return out.push(row0, cells);
        }
        let row = row0.saturating_add(1);
        if cells.iter().all(|(_, v)| v.is_blank()) {
            return;
        }
        let all_text = cells
            .iter()
            .all(|(_, v)| v.is_blank() || matches!(v, Value::Text(_)));
        let Some(header) = &self.header else {
            let text = texts(cells);
            if self.rows_searched < HEADER_SEARCH_ROWS {
                self.rows_searched += 1;
                if self.name_cell.is_none()
                    && let Some((_, t)) = text.iter().find(|(_, t)| match_key(t).contains("姓名"))
                {
                    self.name_cell = Some((row, crate::text::clean_cell(t)));
                }
                let previous = self.previous.take();
                if let Some(h) = header::detect(&[&text]) {
                    self.title_lines.extend(previous);
                    self.found(row, h, Some(text));
                } else if let Some(upper) = previous.as_ref().filter(|_| all_text)
                    && let Some(h) = header::detect(&[upper, &text])
                {
                    self.found(row, h, None);
                } else {
                    if let Some(upper) = previous {
                        self.title_lines.push(upper);
                    }
                    self.previous = Some(text);
                }
            }
            return;
        };
        // The line under the header may be the second line of a two-line header.
        if let Some(upper) = self.refinable.take()
            && all_text
            && field(header, cells, header.primary()).is_blank()
        {
            let text = texts(cells);
            if header::names_a_field(header.kind, &text)
                && let Some(h) = header::detect(&[&upper, &text]).filter(|h| h.kind == header.kind)
            {
                self.found(row, h, None);
                return;
            }
        }
        // The header repeated (a sheet printed over several pages): checked only when the
        // primary cell holds a header word, so ordinary rows cost nothing.
        if let Value::Text(primary) = field(header, cells, header.primary())
            && header::is_header_word(header.kind, header.primary(), primary)
            && header::detect(&[&texts(cells)]).is_some_and(|h| h.kind == header.kind)
        {
            return;
        }
        let header = header.clone();
        match header.kind {
            SheetKind::SignIn => {
                for block in std::iter::once(&header.columns).chain(&header.more_blocks) {
                    self.sign_in(row, block, cells);
                }
            }
            SheetKind::MediaRegister => self.media(row, &header, cells),
            SheetKind::Declared => self.declared(row, &header, cells),
            SheetKind::Unrecognised => {}
        }
    }

    fn found(&mut self, row: u32, h: HeaderMap, refinable: Option<Vec<(u32, String)>>) {
        self.sheet.kind = h.kind;
        self.sheet.header_row = Some(row);
        if self.sheet.title.is_none() {
            let words: Vec<String> = self
                .title_lines
                .drain(..)
                .flatten()
                .map(|(_, t)| crate::text::clean_cell(&t))
                .filter(|t| !t.is_empty())
                .collect();
            let title: String = words.join(" ").chars().take(200).collect();
            self.sheet.title = (!title.is_empty()).then_some(title);
            self.sheet.title_date = self.sheet.title.as_deref().and_then(find_date_in_text);
        }
        self.header = Some(h);
        self.refinable = refinable;
    }

    /// A problem with the sheet as a whole (row 0).
    pub(crate) fn sheet_problem(&mut self, reason: String) {
        self.problem(0, reason);
    }

    /// True when this is a media register (whose links are worth a second look).
    pub(crate) fn is_media(&self) -> bool {
        self.sheet.kind == SheetKind::MediaRegister
    }

    /// Fills in report URLs from the cells' hyperlinks: a 链接 cell that shows "点击查看", or a
    /// hyperlinked title with no link column. `links` are (first cell, last cell, target) of
    /// each hyperlink's anchor range (0-based row, column), in file order: a cell takes the
    /// first link that covers it. A link column that already holds a URL is kept as typed.
    ///
    /// Linear: each link is looked up in a map of the cells that want one, never compared with
    /// every report; a link spanning many rows walks only the wanted cells of those rows, and
    /// such walks stop after [`LINK_SPAN_STEPS`] steps in all.
    pub(crate) fn apply_links<'a>(
        &mut self,
        links: impl IntoIterator<Item = ((u32, u32), (u32, u32), &'a str)>,
    ) {
        let Some(h) = &self.header else { return };
        let cols: Vec<u32> = [h.column(Field::Url), h.column(Field::Title)]
            .into_iter()
            .flatten()
            .collect();
        // (row0, column) → the link found for it.
        let mut wanted: std::collections::BTreeMap<(u32, u32), Option<&'a str>> =
            std::collections::BTreeMap::new();
        for report in &self.sheet.media {
            if report.url.as_deref().is_some_and(looks_like_url) {
                continue;
            }
            let row0 = report.row.saturating_sub(1);
            for &c in &cols {
                wanted.insert((row0, c), None);
            }
        }
        if wanted.is_empty() {
            return;
        }
        let mut span_steps: u64 = 0;
        for ((r0, c0), (r1, c1), target) in links {
            if !looks_like_url(target) || r1 < r0 || c1 < c0 {
                continue;
            }
            let area = u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1);
            if area <= 64 {
                for r in r0..=r1 {
                    for c in c0..=c1 {
                        if let Some(slot @ None) = wanted.get_mut(&(r, c)) {
                            *slot = Some(target);
                        }
                    }
                }
                continue;
            }
            for ((_, c), slot) in wanted.range_mut((r0, 0)..=(r1, u32::MAX)) {
                span_steps += 1;
                if span_steps > LINK_SPAN_STEPS {
                    break;
                }
                if slot.is_none() && (c0..=c1).contains(c) {
                    *slot = Some(target);
                }
            }
        }
        for report in &mut self.sheet.media {
            if report.url.as_deref().is_some_and(looks_like_url) {
                continue;
            }
            let row0 = report.row.saturating_sub(1);
            if let Some(target) = cols
                .iter()
                .find_map(|&c| wanted.get(&(row0, c)).copied().flatten())
            {
                report.url = Some(target.to_string());
            }
        }
    }

    pub(crate) fn finish(mut self) -> (Sheet, Vec<RowProblem>) {
        if self.sheet.kind == SheetKind::Unrecognised
            && let Some((row, cell)) = self.name_cell.take()
        {
            let shown: String = cell.chars().take(30).collect();
            self.sheet_problem(format!(
                "第 {row} 行有“{shown}”，但前 {HEADER_SEARCH_ROWS} 行里找不到可识别的表头（签到表要有“姓名”一列，媒体报道登记要有“标题”和“媒体”，申报统计要有“活动名称”和人数），此表按未识别的表存档，未计数"
            ));
        }
        let (rest, first, last) = self.unstored;
        let mut problems: Vec<RowProblem> = self
            .problems
            .into_iter()
            .map(|(row, last, rows, reason)| RowProblem {
                sheet: self.sheet.name.clone(),
                row,
                reason: if rows > 1 {
                    format!("{reason}（第 {row}–{last} 行，共 {rows} 行）")
                } else {
                    reason
                },
            })
            .collect();
        if rest > 0 {
            problems.push(RowProblem {
                sheet: self.sheet.name.clone(),
                row: 0,
                reason: format!(
                    "另有 {rest} 行无法使用，未逐条记录（第 {first}–{last} 行之间；共 {rest} 行）"
                ),
            });
        }
        if let Some(out) = self.cells.take() {
            out.finish(problems);
            return (self.sheet, Vec::new());
        }
        if self.streaming {
            // Everything of this sheet goes out now; the caller gets an empty shell that the
            // child does not send again.
            let mut sheet = self.sheet;
            let media = std::mem::take(&mut sheet.media);
            if !self.head_sent {
                send(super::Event::Sheet(sheet.clone()));
            }
            media.into_iter().for_each(|m| send(super::Event::Media(m)));
            problems
                .into_iter()
                .for_each(|p| send(super::Event::Problem(p)));
            return (sheet, Vec::new());
        }
        (self.sheet, problems)
    }

    fn send_head(&mut self) {
        if !self.head_sent {
            self.head_sent = true;
            let mut head = self.sheet.clone();
            head.media.clear();
            send(super::Event::Sheet(head));
        }
    }

    fn keep_sign_in(&mut self, row: SignInRow) {
        if self.streaming {
            self.send_head();
            send(super::Event::SignIn(row));
        } else {
            self.sheet.sign_in.push(row);
        }
    }

    fn keep_declared(&mut self, row: DeclaredRow) {
        if self.streaming {
            self.send_head();
            send(super::Event::Declared(row));
        } else {
            self.sheet.declared.push(row);
        }
    }

    /// Records a problem of `row` (0: the sheet as a whole). The same reason on consecutive
    /// rows is one problem with a count (`…（第 5–200004 行，共 200000 行）`, read back by
    /// [`problem_range`]); past [`STORED_PROBLEMS`] problems are only counted.
    fn problem(&mut self, row: u32, reason: String) {
        if row > 0
            && let Some((_, last, rows, why)) = self.problems.last_mut()
            && *why == reason
            && row == *last + 1
        {
            *last = row;
            *rows += 1;
            return;
        }
        if self.problems.len() >= STORED_PROBLEMS {
            let (rest, first, last) = &mut self.unstored;
            if *rest == 0 {
                *first = row;
            }
            *rest += 1;
            *last = row.max(*last);
            return;
        }
        self.problems.push((row, row, 1, reason));
    }

    fn date(
        &mut self,
        row: u32,
        what: &str,
        v: &Value,
    ) -> (Option<chrono::NaiveDateTime>, Option<MonthDay>) {
        match date_of(v, self.date1904) {
            DateCell::Date(dt) => (Some(dt), None),
            DateCell::NoYear(md) => (None, Some(md)),
            DateCell::Blank | DateCell::TimeOnly => (None, None),
            DateCell::NotADate(shown) => {
                self.problem(
                    row,
                    format!("{what}「{shown}」不是日期，已忽略该日期（本行仍计入）"),
                );
                (None, None)
            }
        }
    }

    fn count(&mut self, row: u32, what: &str, v: &Value) -> Option<u64> {
        match count_of(v) {
            Ok(n) => n,
            Err(shown) => {
                self.problem(
                    row,
                    format!("{what}「{shown}」不是非负整数，已忽略该数（本行仍计入）"),
                );
                None
            }
        }
    }

    fn sign_in(&mut self, row: u32, block: &[(Field, u32)], cells: &Cells) {
        let get = |f| in_block(block, cells, f);
        // Nothing in any column of this block: a pre-numbered blank line, or an empty half.
        if block.iter().all(|&(f, _)| get(f).is_blank()) {
            return;
        }
        let name = match get(Field::Name) {
            Value::Text(s) => crate::text::clean_cell(s),
            Value::Empty | Value::Error => String::new(),
            Value::Number(f) => {
                let shown = super::value::number_text(*f);
                return self.problem(row, format!("姓名一栏是数字「{shown}」，已跳过"));
            }
            other => {
                let shown = text_of(other).unwrap_or_default();
                return self.problem(row, format!("姓名一栏不是姓名「{shown}」，已跳过"));
            }
        };
        if name.is_empty() {
            return self.problem(row, "缺少姓名，已跳过".to_string());
        }
        if looks_numeric(&name) {
            return self.problem(row, format!("姓名一栏是数字「{name}」，已跳过"));
        }
        // A footer line: "合计 35 人" is not a person.
        let key = match_key(&name);
        if ["合计", "总计", "小计", "共计"]
            .iter()
            .any(|t| key.starts_with(t))
        {
            return;
        }
        if name.contains([':', '：']) || name.chars().count() > 30 {
            let shown: String = name.chars().take(30).collect();
            return self.problem(row, format!("姓名一栏不像姓名「{shown}」，已跳过"));
        }
        let id = id_of(get(Field::Id)).or_else(|| id_of(get(Field::Phone)));
        let (time, time_no_year) = self.date(row, "签到时间", get(Field::Time));
        self.keep_sign_in(SignInRow {
            row,
            name,
            id,
            role: text_of(get(Field::Role)),
            unit: text_of(get(Field::Unit)),
            time,
            time_no_year,
            activity: text_of(get(Field::Activity)),
        });
    }

    fn media(&mut self, row: u32, h: &HeaderMap, cells: &Cells) {
        let get = |f| field(h, cells, f);
        if h.columns.iter().all(|&(f, _)| get(f).is_blank()) {
            return;
        }
        let Some(title) = text_of(get(Field::Title)) else {
            return self.problem(row, "缺少报道标题，已跳过".to_string());
        };
        let outlet = text_of(get(Field::Outlet)).unwrap_or_default();
        if outlet.is_empty() {
            self.problem(row, "缺少媒体名称（本行仍计入）".to_string());
        }
        let (date, date_no_year) = self.date(row, "报道日期", get(Field::Date));
        self.sheet.media.push(MediaRow {
            row,
            title,
            outlet,
            level: text_of(get(Field::Level)),
            date: date.map(|d| d.date()),
            date_no_year,
            url: text_of(get(Field::Url)),
            activity: text_of(get(Field::Activity)),
        });
    }

    fn declared(&mut self, row: u32, h: &HeaderMap, cells: &Cells) {
        let get = |f| field(h, cells, f);
        if h.columns.iter().all(|&(f, _)| get(f).is_blank()) {
            return;
        }
        let Some(activity) = text_of(get(Field::Activity)) else {
            return self.problem(row, "缺少活动名称，已跳过".to_string());
        };
        // A totals line would count every activity twice.
        let key = match_key(&activity);
        if ["合计", "总计", "小计"].iter().any(|t| key.starts_with(t)) {
            return;
        }
        let date = self.date(row, "日期", get(Field::Date)).0.map(|d| d.date());
        let teachers = self.count(row, "教师数", get(Field::Teachers));
        let students = self.count(row, "学生数", get(Field::Students));
        let enterprises = self.count(row, "企业数", get(Field::Enterprises));
        let participants = self.count(row, "参与人数", get(Field::Participants));
        self.keep_declared(DeclaredRow {
            row,
            activity,
            department: text_of(get(Field::Department)),
            date,
            teachers,
            students,
            enterprises,
            participants,
        });
    }
}

/// A sheet's name as kept: at most [`SHEET_NAME_CHARS`] characters, `…` when cut.
pub(crate) fn capped_name(name: &str) -> String {
    match name.char_indices().nth(SHEET_NAME_CHARS) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
}

/// A row whose long texts are cut to [`CELL_TEXT_BYTES`].
fn cap_cells(cells: &Cells) -> Cells {
    cells
        .iter()
        .map(|(c, v)| match v {
            Value::Text(t) if t.len() > CELL_TEXT_BYTES => {
                let mut end = CELL_TEXT_BYTES;
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                (*c, Value::Text(t[..end].to_string()))
            }
            other => (*c, other.clone()),
        })
        .collect()
}

/// How many sheet rows a stored problem stands for: its `共 N 行` count, else one.
pub fn problem_rows(reason: &str) -> u64 {
    reason
        .strip_suffix(" 行）")
        .and_then(|r| r.rsplit_once("共 "))
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(1)
}

/// A stored problem of consecutive rows: its reason for one row and the first and last row.
pub fn problem_range(reason: &str) -> Option<(&str, u32, u32)> {
    let (base, tail) = reason.rsplit_once("（第 ")?;
    let (range, count) = tail.strip_suffix(" 行）")?.split_once(" 行，共 ")?;
    let (a, b) = range.split_once('–')?;
    let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
    let n: u64 = count.parse().ok()?;
    (b >= a && u64::from(b - a) + 1 == n).then_some((base, a, b))
}

fn looks_like_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    lower.contains("://") || lower.starts_with("www.")
}

fn field<'c>(h: &HeaderMap, cells: &'c Cells, f: Field) -> &'c Value {
    in_block(&h.columns, cells, f)
}

fn in_block<'c>(block: &[(Field, u32)], cells: &'c Cells, f: Field) -> &'c Value {
    block
        .iter()
        .find(|(field, _)| *field == f)
        .and_then(|&(_, c)| cells.iter().find(|(col, _)| *col == c))
        .map_or(&Value::Empty, |(_, v)| v)
}

fn texts(cells: &Cells) -> Vec<(u32, String)> {
    cells
        .iter()
        .filter_map(|(c, v)| match v {
            Value::Text(s) => Some((*c, s.clone())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    fn row(vals: Vec<Value>) -> Cells {
        vals.into_iter()
            .enumerate()
            .map(|(i, v)| (i as u32, v))
            .collect()
    }

    #[test]
    fn links_fill_urls_first_link_per_cell_link_column_first() {
        let mut b = SheetBuilder::new("媒体", false);
        b.push_row(0, &row(vec![t("标题"), t("媒体"), t("链接")]));
        for r in 1..=4 {
            b.push_row(
                r,
                &row(vec![t(&format!("报道{r}")), t("宜宾日报"), t("点击查看")]),
            );
        }
        b.apply_links([
            ((1, 0), (1, 0), "https://a/title1"),
            ((1, 2), (1, 2), "https://a/link1"),
            ((1, 2), (1, 2), "https://a/second"),
            ((2, 0), (2, 0), "https://a/title2"),
            ((0, 2), (100, 2), "https://a/range"),
            ((4, 0), (4, 0), "not a url"),
        ]);
        let (sheet, _) = b.finish();
        let urls: Vec<_> = sheet.media.iter().map(|m| m.url.as_deref()).collect();
        assert_eq!(
            urls,
            [
                Some("https://a/link1"),
                Some("https://a/range"),
                Some("https://a/range"),
                Some("https://a/range"),
            ]
        );
    }

    #[test]
    fn problems_are_grouped_capped_and_named_once() {
        let long = "签".repeat(20_000);
        let mut b = SheetBuilder::new(&long, false);
        b.push_row(0, &row(vec![t("姓名"), t("学号")]));
        for r in 1..=5000 {
            b.push_row(r, &row(vec![Value::Empty, t("1")]));
        }
        // Distinct reasons past the cap are only counted.
        for r in 5001..=5400 {
            b.push_row(r, &row(vec![Value::Number(f64::from(r)), t("1")]));
        }
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.name.chars().count(), SHEET_NAME_CHARS + 1);
        assert_eq!(problems.len(), STORED_PROBLEMS + 1);
        assert_eq!(problems[0].row, 2);
        assert_eq!(
            problems[0].reason,
            "缺少姓名，已跳过（第 2–5001 行，共 5000 行）"
        );
        assert_eq!(problem_rows(&problems[0].reason), 5000);
        assert_eq!(
            problem_range(&problems[0].reason),
            Some(("缺少姓名，已跳过", 2, 5001))
        );
        assert_eq!(problem_range("缺少姓名，已跳过"), None);
        let last = problems.last().unwrap();
        assert_eq!(last.row, 0);
        assert_eq!(problem_rows(&last.reason), 201);
        assert!(
            last.reason.contains("第 5201–5401 行之间"),
            "{}",
            last.reason
        );
        // A long cell is cut.
        let mut b = SheetBuilder::new("签到", false);
        b.push_row(0, &row(vec![t("姓名"), t("单位")]));
        b.push_row(1, &row(vec![t("张三"), t(&"单".repeat(10_000))]));
        let (sheet, _) = b.finish();
        assert!(sheet.sign_in[0].unit.as_ref().unwrap().len() <= CELL_TEXT_BYTES);
    }

    #[test]
    fn sign_in_rows_and_problems() {
        let mut b = SheetBuilder::new("签到", false);
        b.push_row(0, &row(vec![t("2025年活动周签到表")]));
        b.push_row(
            2,
            &row(vec![t("序号"), t("姓名"), t("学号"), t("签到时间")]),
        );
        b.push_row(
            3,
            &row(vec![
                Value::Number(1.0),
                t("张三"),
                Value::Number(2023000001.0),
                t("2025/5/12 9:30"),
            ]),
        );
        b.push_row(4, &row(vec![Value::Number(2.0), t(" "), t("2023000002")]));
        b.push_row(5, &row(vec![Value::Number(3.0)]));
        b.push_row(
            6,
            &row(vec![Value::Number(4.0), t("李四"), Value::Empty, t("上午")]),
        );
        b.push_row(7, &row(vec![Value::Number(5.0), Value::Number(42.0)]));
        b.push_row(
            8,
            &row(vec![t("序号"), t("姓名"), t("学号"), t("签到时间")]),
        );
        b.push_row(9, &row(vec![Value::Empty, t("合计：2人")]));
        b.push_row(10, &row(vec![Value::Empty, t("备注：另有3人请假")]));
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.kind, SheetKind::SignIn);
        assert_eq!(sheet.header_row, Some(3));
        assert_eq!(sheet.title.as_deref(), Some("2025年活动周签到表"));
        assert_eq!(sheet.sign_in.len(), 2);
        assert_eq!(sheet.sign_in[0].id.as_deref(), Some("2023000001"));
        assert_eq!(sheet.sign_in[0].row, 4);
        assert_eq!(sheet.sign_in[1].time, None);
        let reasons: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            reasons,
            [
                "工作表「签到」第 5 行：缺少姓名，已跳过",
                "工作表「签到」第 7 行：签到时间「上午」不是日期，已忽略该日期（本行仍计入）",
                "工作表「签到」第 8 行：姓名一栏是数字「42」，已跳过",
                "工作表「签到」第 11 行：姓名一栏不像姓名「备注:另有3人请假」，已跳过",
            ]
        );
    }

    #[test]
    fn no_header_in_thirty_rows_is_unrecognised_and_stops() {
        let mut b = SheetBuilder::new("x", false);
        for r in 0..30 {
            assert!(b.wants_more());
            b.push_row(r, &row(vec![t("随便"), Value::Number(1.0)]));
        }
        assert!(!b.wants_more());
        b.push_row(31, &row(vec![t("姓名")]));
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.kind, SheetKind::Unrecognised);
        assert!(problems.is_empty());
    }

    #[test]
    fn a_header_below_row_ten_is_found() {
        let mut b = SheetBuilder::new("x", false);
        for r in 0..20 {
            b.push_row(r, &row(vec![t("说明"), Value::Number(1.0)]));
        }
        b.push_row(20, &row(vec![t("姓名"), t("学号")]));
        b.push_row(21, &row(vec![t("张三"), t("1")]));
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.header_row, Some(21));
        assert_eq!(sheet.sign_in.len(), 1);
        assert!(problems.is_empty());
    }

    #[test]
    fn a_sheet_that_says_name_but_has_no_header_is_reported() {
        let mut b = SheetBuilder::new("登记", false);
        b.push_row(0, &row(vec![t("参会人员"), t("姓名签字")]));
        b.push_row(1, &row(vec![t("张三"), t("张三")]));
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.kind, SheetKind::Unrecognised);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].row, 0);
        assert!(
            problems[0]
                .reason
                .starts_with("第 1 行有“姓名签字”，但前 30 行里找不到可识别的表头"),
            "{}",
            problems[0].reason
        );
    }

    #[test]
    fn declared_counts_skip_totals_and_flag_bad_numbers() {
        let mut b = SheetBuilder::new("申报", false);
        b.push_row(0, &row(vec![t("活动名称"), t("教师数"), t("学生数")]));
        b.push_row(
            1,
            &row(vec![t("技能竞赛"), Value::Number(12.0), t("300人")]),
        );
        b.push_row(2, &row(vec![t("开放日"), t("十"), Value::Number(-3.0)]));
        b.push_row(
            3,
            &row(vec![t("合计"), Value::Number(22.0), Value::Number(300.0)]),
        );
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.declared.len(), 2);
        assert_eq!(sheet.declared[0].students, Some(300));
        assert_eq!(sheet.declared[1].teachers, None);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].reason.contains("教师数「十」"));
    }

    #[test]
    fn two_line_header_and_two_people_to_a_line() {
        let mut b = SheetBuilder::new("申报", false);
        b.push_row(0, &row(vec![t("活动名称"), t("参与人数")]));
        b.push_row(1, &row(vec![Value::Empty, t("教师数"), t("学生数")]));
        b.push_row(
            2,
            &row(vec![t("开放日"), Value::Number(5.0), Value::Number(80.0)]),
        );
        let (sheet, problems) = b.finish();
        assert_eq!(sheet.header_row, Some(2));
        assert_eq!(sheet.declared[0].teachers, Some(5));
        assert_eq!(sheet.declared[0].students, Some(80));
        assert_eq!(sheet.declared[0].participants, None);
        assert!(problems.is_empty());

        let mut b = SheetBuilder::new("签到", false);
        b.push_row(0, &row(vec![t("启动仪式签到表")]));
        b.push_row(1, &row(vec![t("日期：2025年5月7日"), t("地点：报告厅")]));
        let header = ["序号", "姓名", "班级", "序号", "姓名", "班级"];
        b.push_row(2, &row(header.iter().map(|h| t(h)).collect()));
        let line = |a: &str, b: &str| {
            row(vec![
                Value::Number(1.0),
                t(a),
                t("机电1班"),
                Value::Number(2.0),
                t(b),
                t("机电1班"),
            ])
        };
        b.push_row(3, &line("张三", "李四"));
        b.push_row(4, &line("王五", ""));
        b.push_row(
            5,
            &row(vec![
                Value::Number(5.0),
                Value::Empty,
                Value::Empty,
                Value::Number(6.0),
            ]),
        );
        let (sheet, problems) = b.finish();
        let names: Vec<_> = sheet
            .sign_in
            .iter()
            .map(|r| (r.row, r.name.as_str()))
            .collect();
        assert_eq!(names, [(4, "张三"), (4, "李四"), (5, "王五")]);
        assert_eq!(
            sheet.title.as_deref(),
            Some("启动仪式签到表 日期:2025年5月7日 地点:报告厅")
        );
        assert_eq!(
            sheet.title_date,
            chrono::NaiveDate::from_ymd_opt(2025, 5, 7)
        );
        let reasons: Vec<_> = problems
            .iter()
            .map(|p| (p.row, p.reason.as_str()))
            .collect();
        assert_eq!(reasons, [(5, "缺少姓名，已跳过")]);
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let words = proptest::sample::select(vec![
            "姓名",
            "学号",
            "手机号",
            "签到时间",
            "活动名称",
            "教师数",
            "标题",
            "媒体",
            "合计",
            "",
            "张三",
            "2025-05-12",
            "12人",
            "序号",
        ]);
        prop_oneof![
            Just(Value::Empty),
            words.prop_map(|w| Value::Text(w.to_string())),
            "\\PC{0,12}".prop_map(Value::Text),
            proptest::num::f64::ANY.prop_map(Value::Number),
            any::<bool>().prop_map(Value::Bool),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn any_rows_are_read_without_panic(
            rows in proptest::collection::vec(proptest::collection::vec(any_value(), 0..8), 0..30)
        ) {
            let mut b = SheetBuilder::new("p", false);
            for (i, r) in rows.into_iter().enumerate() {
                b.push_row(i as u32, &row(r));
            }
            let (sheet, problems) = b.finish();
            for p in problems {
                proptest::prop_assert!(p.row >= 1 && !p.reason.is_empty());
            }
            proptest::prop_assert!(sheet.sign_in.iter().all(|r| !r.name.is_empty()));
        }
    }
}
