//! Finding a sheet's header row and what each of its columns means.
//!
//! **Matching rule.** A header cell is reduced with `match_key` (full-width forms folded, every
//! space removed — `姓　名` is `姓名` — ASCII lower-cased), and a leading or trailing `*`, `:`
//! or `：` (required-field marks) is dropped. The cell then offers these *words*: the whole key;
//! the key with every parenthesised part removed; each parenthesised part; and the pieces of
//! the key split at `/`, `、`, `|` or `或`. So `学号（工号）` offers `学号(工号)`, `学号` and
//! `工号`, and `学号/工号` offers `学号` and `工号`. A column is a field when one of its words
//! equals one of the field's synonyms ([`synonyms`]); a name column also matches any word
//! ending in `姓名` (`学生姓名`). Each field takes the first column that matches it, and a column
//! serves one field. A sign-in header that repeats at a fixed period (`序号 姓名 班级 序号 姓名
//! 班级`, two people to a printed line) gives one block of fields per repetition.
//!
//! **Header row.** The first of a sheet's first thirty non-empty rows whose columns hold every
//! must-have field of a kind (DESIGN.md's table). Kinds are tried in the order declared counts,
//! media register, sign-in, so a declared-counts sheet with a 联系人姓名 column stays one.
//! A header split over two lines (`参与人数` merged over `教师数 学生数 企业数`) is read by pooling
//! the words of both lines per column, the lower line's first: when a row is a header on its
//! own and the next non-empty row is all text, names fields of the same kind and leaves the
//! primary column (姓名/标题/活动名称) blank, that row refines the header; when no single row is
//! a header, two consecutive rows together may be.

use crate::text::match_key;

use super::SheetKind;

/// How many non-empty rows are searched for the header.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// What a column means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    /// 学号/工号/编号/证件号: preferred as the person's ID.
    Id,
    /// 手机号: the ID when the row has no 学号/工号.
    Phone,
    Role,
    Unit,
    Time,
    Activity,
    Title,
    Outlet,
    Level,
    Date,
    Url,
    Department,
    Teachers,
    Students,
    Enterprises,
    Participants,
}

/// The header words that name a field in a sheet of `kind`.
pub fn synonyms(kind: SheetKind, field: Field) -> &'static [&'static str] {
    use Field::*;
    use SheetKind::*;
    match (kind, field) {
        (SignIn, Name) => &["姓名", "名字"],
        (SignIn, Id) => &[
            "学号",
            "工号",
            "编号",
            "证件号",
            "证件号码",
            "身份证号",
            "身份证号码",
            "学籍号",
        ],
        (SignIn, Phone) => &["手机号", "手机号码", "手机", "联系电话", "电话"],
        (SignIn, Role) => &["身份", "类别", "角色", "人员类别", "人员类型", "人员身份"],
        (SignIn, Unit) => &[
            "单位",
            "学校",
            "企业",
            "班级",
            "院系",
            "所在单位",
            "工作单位",
            "单位名称",
            "学校名称",
            "企业名称",
            "所在班级",
            "系部",
            "部门",
        ],
        (SignIn, Time) => &["签到时间", "日期", "签到日期", "时间"],
        (SignIn, Activity) => &["活动名称", "活动"],
        (MediaRegister, Title) => &["标题", "报道标题", "新闻标题", "稿件标题", "文章标题"],
        (MediaRegister, Outlet) => &[
            "媒体",
            "媒体名称",
            "刊发媒体",
            "发布媒体",
            "报道媒体",
            "刊发平台",
            "发布平台",
            "媒体平台",
        ],
        (MediaRegister, Level) => &["级别", "媒体级别"],
        (MediaRegister, Date) => &[
            "日期",
            "发布日期",
            "报道时间",
            "报道日期",
            "发布时间",
            "刊发日期",
            "刊发时间",
        ],
        (MediaRegister, Url) => &["链接", "网址", "url", "报道链接", "网页链接", "链接地址"],
        (MediaRegister, Activity) => &["活动名称", "所属活动", "活动"],
        (Declared, Activity) => &["活动名称", "项目名称"],
        (Declared, Department) => &["部门", "承办部门", "单位"],
        (Declared, Date) => &["日期", "活动日期", "活动时间", "时间"],
        (Declared, Teachers) => &["教师数", "教师人数", "参与教师数"],
        (Declared, Students) => &["学生数", "学生人数", "参与学生数"],
        (Declared, Enterprises) => &["企业数", "参与企业数"],
        (Declared, Participants) => &["参与人数", "参与总人数", "总人数"],
        _ => &[],
    }
}

/// The fields of a kind, in the order columns are offered to them.
fn fields(kind: SheetKind) -> &'static [Field] {
    use Field::*;
    match kind {
        SheetKind::SignIn => &[Name, Id, Phone, Role, Time, Activity, Unit],
        SheetKind::MediaRegister => &[Title, Outlet, Level, Date, Url, Activity],
        SheetKind::Declared => &[
            Activity,
            Teachers,
            Students,
            Enterprises,
            Participants,
            Department,
            Date,
        ],
        SheetKind::Unrecognised => &[],
    }
}

/// The columns of a recognised header row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    pub kind: SheetKind,
    /// (field, 0-based column).
    pub columns: Vec<(Field, u32)>,
    /// Further blocks of the same fields side by side (sign-in sheets printed two people to
    /// a line); usually empty.
    pub more_blocks: Vec<Vec<(Field, u32)>>,
}

impl HeaderMap {
    /// The primary field: a row without it is skipped with a problem.
    pub fn primary(&self) -> Field {
        match self.kind {
            SheetKind::MediaRegister => Field::Title,
            SheetKind::Declared => Field::Activity,
            _ => Field::Name,
        }
    }

    pub fn column(&self, field: Field) -> Option<u32> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|&(_, c)| c)
    }

    fn has(&self, field: Field) -> bool {
        self.column(field).is_some()
    }

    fn complete(&self) -> bool {
        use Field::*;
        match self.kind {
            SheetKind::SignIn => self.has(Name),
            SheetKind::MediaRegister => self.has(Title) && self.has(Outlet),
            SheetKind::Declared => {
                self.has(Activity)
                    && [Teachers, Students, Enterprises, Participants]
                        .iter()
                        .any(|f| self.has(*f))
            }
            SheetKind::Unrecognised => false,
        }
    }
}

/// The words a header cell offers (see the module doc).
pub fn header_words(cell: &str) -> Vec<String> {
    let key = match_key(cell);
    let key = key.trim_matches(['*', ':', '：']).to_string();
    if key.is_empty() {
        return Vec::new();
    }
    let mut words = vec![key.clone()];
    let mut outside = String::new();
    let mut inside = String::new();
    let mut depth = 0u32;
    for c in key.chars() {
        match c {
            '(' | '【' | '[' => {
                depth += 1;
                if depth == 1 {
                    inside.clear();
                }
            }
            ')' | '】' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 && !inside.is_empty() {
                    let w = std::mem::take(&mut inside);
                    if !words.contains(&w) {
                        words.push(w);
                    }
                }
            }
            _ if depth > 0 => inside.push(c),
            _ => outside.push(c),
        }
    }
    for piece in outside.split(['/', '、', '|', '或']) {
        if !piece.is_empty() && !words.iter().any(|w| w == piece) {
            words.push(piece.to_string());
        }
    }
    if !outside.is_empty() && !words.contains(&outside) {
        words.push(outside);
    }
    words
}

fn matches(kind: SheetKind, field: Field, words: &[String]) -> bool {
    let syn = synonyms(kind, field);
    words.iter().any(|w| {
        syn.contains(&w.as_str())
            || (kind == SheetKind::SignIn && field == Field::Name && w.ends_with("姓名"))
    })
}

/// Maps the cells of a header (0-based column, words) onto the fields of `kind`.
fn map_row(kind: SheetKind, cells: &[(u32, Vec<String>)]) -> HeaderMap {
    let mut map = HeaderMap {
        kind,
        columns: Vec::new(),
        more_blocks: Vec::new(),
    };
    let mut used: Vec<u32> = Vec::new();
    for &field in fields(kind) {
        if let Some((col, _)) = cells
            .iter()
            .find(|(col, words)| !used.contains(col) && matches(kind, field, words))
        {
            map.columns.push((field, *col));
            used.push(*col);
        }
    }
    if kind == SheetKind::SignIn {
        map.more_blocks = repeated_blocks(&map.columns, cells);
    }
    map
}

/// A sign-in sheet printed two (or more) people to a line — `序号 姓名 单位 | 序号 姓名 单位` —
/// repeats its header at a fixed period. Each repetition whose every mapped column carries
/// the same header word as the first block is another block of the same fields.
fn repeated_blocks(first: &[(Field, u32)], cells: &[(u32, Vec<String>)]) -> Vec<Vec<(Field, u32)>> {
    let key_at = |col: u32| cells.iter().find(|(c, _)| *c == col).map(|(_, w)| &w[0]);
    let Some(&(_, name_col)) = first.iter().find(|(f, _)| *f == Field::Name) else {
        return Vec::new();
    };
    let lowest = first.iter().map(|&(_, c)| c).min().unwrap_or(name_col);
    let highest = first.iter().map(|&(_, c)| c).max().unwrap_or(name_col);
    let Some(period) = cells
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| *c > highest)
        .find(|c| key_at(*c) == key_at(name_col))
        .map(|c| c - name_col)
    else {
        return Vec::new();
    };
    if period <= highest - lowest {
        return Vec::new();
    }
    let mut blocks = Vec::new();
    for k in 1..64u32 {
        let shift = period * k;
        let block: Vec<(Field, u32)> = first.iter().map(|&(f, c)| (f, c + shift)).collect();
        let same = first
            .iter()
            .all(|&(_, c)| key_at(c).is_some() && key_at(c + shift) == key_at(c));
        if !same {
            break;
        }
        blocks.push(block);
    }
    blocks
}

fn words_of(rows: &[&[(u32, String)]]) -> Vec<(u32, Vec<String>)> {
    let mut cols: Vec<(u32, Vec<String>)> = Vec::new();
    // Later rows first: a sub-header (教师数 under a merged 参与人数) names its column better.
    for row in rows.iter().rev() {
        for (c, t) in row.iter() {
            let w = header_words(t);
            if w.is_empty() {
                continue;
            }
            match cols.iter_mut().find(|(col, _)| col == c) {
                Some((_, words)) => words.extend(w),
                None => cols.push((*c, w)),
            }
        }
    }
    cols.sort_by_key(|(c, _)| *c);
    cols
}

/// The header these rows are, if they are one: each row is its text cells (0-based column).
/// One row, or two when the header is split over two lines; the words of a column's cells
/// are pooled, the lower row's first.
pub fn detect(rows: &[&[(u32, String)]]) -> Option<HeaderMap> {
    let words = words_of(rows);
    [
        SheetKind::Declared,
        SheetKind::MediaRegister,
        SheetKind::SignIn,
    ]
    .into_iter()
    .map(|kind| map_row(kind, &words))
    .find(HeaderMap::complete)
}

/// True when `text` is a header word for `field` of `kind` (`姓名` in a name column).
pub fn is_header_word(kind: SheetKind, field: Field, text: &str) -> bool {
    matches(kind, field, &header_words(text))
}

/// True when some cell of the row is a header word of `kind` (a sub-header line).
pub fn names_a_field(kind: SheetKind, row: &[(u32, String)]) -> bool {
    row.iter().any(|(_, t)| {
        let w = header_words(t);
        fields(kind).iter().any(|f| matches(kind, *f, &w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect1(r: &[(u32, String)]) -> Option<HeaderMap> {
        detect(&[r])
    }

    fn row(cells: &[&str]) -> Vec<(u32, String)> {
        cells
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.to_string()))
            .collect()
    }

    #[test]
    fn words_of_header_cells() {
        assert_eq!(header_words("学号（工号）"), ["学号(工号)", "工号", "学号"]);
        assert_eq!(header_words("学号/工号"), ["学号/工号", "学号", "工号"]);
        assert_eq!(header_words("*姓　名："), ["姓名"]);
        assert!(header_words("  ").is_empty());
    }

    #[test]
    fn sign_in_header_with_variants() {
        let h = detect1(&row(&[
            "序号",
            "姓　名",
            "学号（工号）",
            "手机号",
            "类别",
            "班级",
            "签到时间",
        ]))
        .expect("header");
        assert_eq!(h.kind, SheetKind::SignIn);
        assert_eq!(h.column(Field::Name), Some(1));
        assert_eq!(h.column(Field::Id), Some(2));
        assert_eq!(h.column(Field::Phone), Some(3));
        assert_eq!(h.column(Field::Role), Some(4));
        assert_eq!(h.column(Field::Unit), Some(5));
        assert_eq!(h.column(Field::Time), Some(6));
    }

    #[test]
    fn media_and_declared_headers() {
        let m = detect1(&row(&[
            "序号",
            "报道标题",
            "刊发媒体",
            "媒体级别",
            "发布日期",
            "URL",
        ]))
        .expect("media");
        assert_eq!(m.kind, SheetKind::MediaRegister);
        assert_eq!(m.column(Field::Url), Some(5));
        let d = detect1(&row(&[
            "活动名称",
            "承办部门",
            "教师数",
            "学生数",
            "联系人姓名",
        ]))
        .expect("declared");
        assert_eq!(d.kind, SheetKind::Declared);
        assert_eq!(d.column(Field::Students), Some(3));
    }

    #[test]
    fn titles_and_half_headers_are_not_headers() {
        assert_eq!(detect1(&row(&["2025年职业教育活动周签到表"])), None);
        assert_eq!(detect1(&row(&["标题", "日期"])), None);
        assert_eq!(detect1(&row(&["活动名称", "部门"])), None);
        assert_eq!(detect1(&row(&["学号", "班级"])), None);
    }

    #[test]
    fn a_header_over_two_lines() {
        let upper = row(&["活动名称", "参与人数", "", ""]);
        let lower = vec![
            (1, "教师数".to_string()),
            (2, "学生数".to_string()),
            (3, "企业数".to_string()),
        ];
        assert_eq!(detect1(&lower), None);
        let h = detect(&[&upper, &lower]).expect("two-line header");
        assert_eq!(h.kind, SheetKind::Declared);
        assert_eq!(h.column(Field::Teachers), Some(1));
        assert_eq!(h.column(Field::Enterprises), Some(3));
        assert_eq!(h.column(Field::Participants), None);
        assert!(names_a_field(SheetKind::Declared, &lower));
    }

    #[test]
    fn two_people_to_a_line() {
        let h = detect1(&row(&[
            "序号", "姓名", "班级", "序号", "姓名", "班级", "备注",
        ]))
        .expect("header");
        assert_eq!(h.columns, [(Field::Name, 1), (Field::Unit, 2)]);
        assert_eq!(h.more_blocks, [vec![(Field::Name, 4), (Field::Unit, 5)]]);
        let one = detect1(&row(&["姓名", "学号", "班级", "签到时间"])).expect("header");
        assert!(one.more_blocks.is_empty());
    }
}
