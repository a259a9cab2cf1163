//! Who a sign-in row is: its role (学生/教师/企业/访客), whether it belongs to the own
//! institution, and the key that makes one person out of many rows (DESIGN.md, *Spreadsheets*).
//! Pure functions on text; never counts anything and never keeps a name beyond the key.

use crate::text::{clean_cell, match_key};

/// A participant's role, as the provincial table counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Student,
    Teacher,
    Enterprise,
    Visitor,
    /// No role cell and no role word in the sheet or file name: counts only in 参与总人数.
    Unknown,
}

impl Role {
    /// The word a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Role::Student => "学生",
            Role::Teacher => "教师",
            Role::Enterprise => "企业",
            Role::Visitor => "访客",
            Role::Unknown => "未知",
        }
    }
}

/// Role words, each with its role. A cell equal to a word takes its role; otherwise see
/// [`find_role_word`].
const ROLE_WORDS: &[(&str, Role)] = &[
    ("学生", Role::Student),
    ("在校生", Role::Student),
    ("本校学生", Role::Student),
    ("教师", Role::Teacher),
    ("老师", Role::Teacher),
    ("教职工", Role::Teacher),
    ("辅导员", Role::Teacher),
    ("班主任", Role::Teacher),
    ("行政人员", Role::Teacher),
    ("教工", Role::Teacher),
    ("教职员工", Role::Teacher),
    ("职工", Role::Teacher),
    ("管理人员", Role::Teacher),
    ("后勤人员", Role::Teacher),
    ("教辅人员", Role::Teacher),
    ("校领导", Role::Teacher),
    ("院领导", Role::Teacher),
    ("领导", Role::Teacher),
    ("企业", Role::Enterprise),
    ("企业人员", Role::Enterprise),
    ("企业导师", Role::Enterprise),
    ("行业导师", Role::Enterprise),
    ("企业代表", Role::Enterprise),
    ("中职学生", Role::Visitor),
    ("中职生", Role::Visitor),
    ("中学生", Role::Visitor),
    ("初中生", Role::Visitor),
    ("高中生", Role::Visitor),
    ("小学生", Role::Visitor),
    ("初中学生", Role::Visitor),
    ("高中学生", Role::Visitor),
    ("家长", Role::Visitor),
    ("嘉宾", Role::Visitor),
    ("社区居民", Role::Visitor),
    ("居民", Role::Visitor),
    ("校友", Role::Visitor),
    ("劳模", Role::Visitor),
    ("访客", Role::Visitor),
];

/// Words in a sheet or file name that contain a role word but name an office or an occasion,
/// not the people signing in (学生处 is a department, not a student). Removed from a hint
/// before it is searched.
const NOT_ROLE_WORDS: &[&str] = &[
    "学生处",
    "学生工作处",
    "学生工作部",
    "学生会",
    "学生社团",
    "教师发展中心",
    "教师节",
    "企业合作",
    "校企合作",
];

/// Cells that people type to say "nothing here": `无`, `/`, `-`, `暂无`, `null`….
const PLACEHOLDERS: &[&str] = &[
    "无", "暂无", "没有", "空", "不详", "未知", "null", "none", "na", "n/a", "nil",
];

/// The comparison key of a cell (`match_key`), or `None` when the cell says nothing: blank,
/// only punctuation (`/`, `-`, `—`), or a placeholder word (`无`, `暂无`, `null`).
pub fn meaningful(cell: Option<&str>) -> Option<String> {
    let key = match_key(cell?);
    if !key.chars().any(char::is_alphanumeric) || PLACEHOLDERS.contains(&key.as_str()) {
        return None;
    }
    Some(key)
}

/// The role word of `key` (already a `match_key`) that ends last, the longest of those that
/// end at the same place. A Chinese noun phrase ends with its head: 学生家长 and 本校学生家长
/// are parents, 学生辅导员 a teacher; and 中职学生 (a visitor) is longer than the 学生 it ends with.
fn find_role_word(key: &str) -> Option<Role> {
    let mut best: Option<(usize, usize, Role)> = None; // (end byte, length in bytes, role)
    for &(word, role) in ROLE_WORDS {
        for (pos, _) in key.match_indices(word) {
            let end = pos + word.len();
            let better = match best {
                None => true,
                Some((bend, blen, _)) => end > bend || (end == bend && word.len() > blen),
            };
            if better {
                best = Some((end, word.len(), role));
            }
        }
    }
    best.map(|(_, _, role)| role)
}

/// The role of a sign-in row: the role cell when it has text (exact word first, then the
/// longest role word in it, anything else a visitor); without one, a role word in `hint`
/// (sheet name and file name) decides; otherwise [`Role::Unknown`].
pub fn classify_role(cell: Option<&str>, hint: Option<&str>) -> Role {
    if let Some(key) = meaningful(cell) {
        if let Some(&(_, role)) = ROLE_WORDS.iter().find(|(w, _)| *w == key) {
            return role;
        }
        return find_role_word(&key).unwrap_or(Role::Visitor);
    }
    if let Some(hint) = hint {
        let mut key = match_key(hint);
        for word in NOT_ROLE_WORDS {
            key = key.replace(word, "|");
        }
        if let Some(role) = find_role_word(&key) {
            return role;
        }
    }
    Role::Unknown
}

/// Whether `unit` belongs to the own institution: blank, containing the institution's name,
/// equal to or containing one of its departments, or naming a class (班). Departments' aliases
/// and the institution's short names are in `own_units` too (see [`OwnUnits`]).
pub fn is_own_unit(unit: Option<&str>, institution: &str, own_units: &[String]) -> bool {
    let Some(key) = meaningful(unit) else {
        return true;
    };
    if key.contains('班') {
        return true;
    }
    let inst = match_key(institution);
    if !inst.is_empty() && key.contains(&inst) {
        return true;
    }
    own_units.iter().any(|d| {
        let d = match_key(d);
        !d.is_empty() && key.contains(&d)
    })
}

/// Bracket characters removed from a unit before it is compared (the text inside is kept).
const UNIT_BRACKETS: &[char] = &['(', ')', '（', '）', '【', '】', '[', ']'];

/// Suffixes stripped from an enterprise's name, longest first, repeatedly.
const ENTERPRISE_SUFFIXES: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "公司", "集团"];

/// How units are compared (DESIGN.md, *A person*): width folded, spaces and bracket characters
/// removed, a department's alias resolved to its name; an enterprise's name then stripped of its
/// legal-form suffixes (宜宾天原集团 = 宜宾天原集团股份有限公司). `None` for a blank or
/// placeholder unit.
pub fn unit_key(
    unit: Option<&str>,
    aliases: &[(String, String)],
    enterprise: bool,
) -> Option<String> {
    let key: String = meaningful(unit)?
        .chars()
        .filter(|c| !UNIT_BRACKETS.contains(c))
        .collect();
    if key.is_empty() {
        return None;
    }
    let mut key = match aliases.iter().find(|(alias, _)| *alias == key) {
        Some((_, name)) => name.clone(),
        None => key,
    };
    if enterprise {
        while let Some(rest) = ENTERPRISE_SUFFIXES
            .iter()
            .find_map(|s| key.strip_suffix(s).filter(|r| !r.is_empty()))
        {
            key = rest.to_string();
        }
    }
    Some(key)
}

/// Alias and name keys as [`unit_key`] compares them.
pub fn alias_keys(aliases: &[(String, String)]) -> Vec<(String, String)> {
    aliases
        .iter()
        .filter_map(|(a, n)| {
            Some((
                unit_key(Some(a), &[], false)?,
                unit_key(Some(n), &[], false)?,
            ))
        })
        .collect()
}

/// Whether a unit is written as one of the departments' aliases (`经管学院`).
pub fn is_alias(unit: Option<&str>, alias_keys: &[(String, String)]) -> bool {
    unit_key(unit, &[], false).is_some_and(|k| alias_keys.iter().any(|(a, _)| *a == k))
}

/// An ID that Excel turned into scientific notation with fewer digits than the number has
/// (`5.11502E+17`): the digits are lost, so it identifies nobody. `2.023000001E9` keeps all
/// its digits and is not lost.
pub fn id_digits_lost(id: &str) -> bool {
    let key = match_key(&clean_cell(id));
    let Some((mantissa, exp)) = key.split_once('e') else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    let Ok(exp) = exp.parse::<u32>() else {
        return false;
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    (frac.len() as u32) < exp
}

/// Words that make an external unit a vocational school (职业学校（含技工院校）).
const VOCATIONAL_WORDS: &[&str] = &["职业", "职校", "技工", "技师", "中专", "职教"];

/// Whether a unit's name says it is a vocational school.
pub fn is_vocational_unit(unit: &str) -> bool {
    let key = match_key(unit);
    VOCATIONAL_WORDS.iter().any(|w| key.contains(w))
}

/// An ID as typed: trimmed, width folded, spaces removed, letters lower-cased; a number that
/// a spreadsheet turned into `2023000001.0` or `2.023000001E9` becomes `2023000001` again.
/// A placeholder (`无`, `/`, `0`) is no ID: empty.
pub fn normalize_id(id: &str) -> String {
    let Some(key) = meaningful(Some(&clean_cell(id))) else {
        return String::new();
    };
    if id_digits_lost(&key) || key.bytes().all(|b| b == b'0' || b == b'.') {
        return String::new();
    }
    if let Some((int, frac)) = key.split_once('.')
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return int.to_string();
    }
    if key.contains('e')
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || b"e.+-".contains(&b))
        && let Ok(f) = key.parse::<f64>()
        && f.is_finite()
        && f >= 0.0
        && f.fract() == 0.0
        && f < 9_007_199_254_740_992.0
    {
        return format!("{}", f as u64);
    }
    key
}

/// Who a row is, without its role: an ID when there is one, else name and unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    Id(String),
    NameUnit(String, String),
}

/// The identity of a row, or `None` when it has neither an ID nor a name. `unit` is the
/// row's [`unit_key`] (empty when blank).
pub fn identity(name: &str, id: Option<&str>, unit: &str) -> Option<Identity> {
    if let Some(id) = id {
        let id = normalize_id(id);
        if !id.is_empty() {
            return Some(Identity::Id(id));
        }
    }
    let name = match_key(name);
    if name.is_empty() {
        return None;
    }
    Some(Identity::NameUnit(name, unit.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_words() {
        assert_eq!(classify_role(Some("学生"), None), Role::Student);
        assert_eq!(classify_role(Some(" 本校学生 "), None), Role::Student);
        assert_eq!(classify_role(Some("中职学生"), None), Role::Visitor);
        assert_eq!(classify_role(Some("班主任"), None), Role::Teacher);
        assert_eq!(classify_role(Some("企业导师"), None), Role::Enterprise);
        assert_eq!(classify_role(Some("学生家长"), None), Role::Visitor);
        assert_eq!(classify_role(Some("志愿者"), None), Role::Visitor);
        assert_eq!(classify_role(Some("教师代表"), None), Role::Teacher);
        assert_eq!(classify_role(Some("本校学生家长"), None), Role::Visitor);
        assert_eq!(classify_role(Some("学生辅导员"), None), Role::Teacher);
        assert_eq!(classify_role(Some("中职学生代表"), None), Role::Visitor);
        assert_eq!(classify_role(Some("企业代表"), None), Role::Enterprise);
        assert_eq!(
            classify_role(None, Some("Sheet1 学生签到表.xlsx")),
            Role::Student
        );
        assert_eq!(
            classify_role(Some(""), Some("教师签到.xlsx")),
            Role::Teacher
        );
        assert_eq!(
            classify_role(None, Some("Sheet1 学生处签到表.xlsx")),
            Role::Unknown
        );
        assert_eq!(
            classify_role(None, Some("Sheet1 签到表.xlsx")),
            Role::Unknown
        );
        assert_eq!(classify_role(None, None), Role::Unknown);
    }

    #[test]
    fn own_units() {
        let depts = vec!["机电工程学院".to_string()];
        let inst = "自贡职业技术学院";
        assert!(is_own_unit(None, inst, &depts));
        assert!(is_own_unit(Some(" "), inst, &depts));
        assert!(is_own_unit(Some("无"), inst, &depts));
        assert!(is_own_unit(Some("—"), inst, &depts));
        assert!(is_own_unit(Some("机电2301班"), inst, &depts));
        assert!(is_own_unit(
            Some("自贡职业技术学院机电工程学院"),
            inst,
            &depts
        ));
        assert!(is_own_unit(Some("机电工程学院"), inst, &depts));
        assert!(!is_own_unit(Some("四川某职业学院"), inst, &depts));
    }

    #[test]
    fn office_roles_are_teachers() {
        for w in [
            "校领导",
            "领导",
            "职工",
            "管理人员",
            "后勤人员",
            "教辅人员",
            "院领导",
        ] {
            assert_eq!(classify_role(Some(w), None), Role::Teacher, "{w}");
        }
        // DESIGN.md's rule: the role word that ends last decides.
        assert_eq!(classify_role(Some("企业领导"), None), Role::Teacher);
    }

    #[test]
    fn units_compare_without_brackets_aliases_or_legal_suffixes() {
        let aliases = vec![("经管学院".to_string(), "经济管理学院".to_string())];
        let k = |u: &str, e: bool| unit_key(Some(u), &aliases, e);
        assert_eq!(k("经管学院", false).as_deref(), Some("经济管理学院"));
        assert_eq!(k(" 经管 学院 ", false).as_deref(), Some("经济管理学院"));
        assert_eq!(k("宜宾天原集团", true), k("宜宾天原集团股份有限公司", true));
        assert_eq!(k("宜宾天原集团有限公司", true).as_deref(), Some("宜宾天原"));
        assert_eq!(k("四川（宜宾）天原", true).as_deref(), Some("四川宜宾天原"));
        assert_eq!(k("公司", true).as_deref(), Some("公司"));
        assert_eq!(k("宜宾天原集团", false).as_deref(), Some("宜宾天原集团"));
        assert_eq!(unit_key(Some("无"), &aliases, false), None);
    }

    #[test]
    fn scientific_ids_with_lost_digits_are_no_ids() {
        assert!(id_digits_lost("5.11502E+17"));
        assert!(id_digits_lost("5.11502199001011E17"));
        assert!(!id_digits_lost("2.023000001E9"));
        assert!(!id_digits_lost("2023000001"));
        assert!(!id_digits_lost("e5"));
        assert_eq!(normalize_id("5.11502E+17"), "");
    }

    #[test]
    fn ids() {
        assert_eq!(normalize_id("2023000001.0"), "2023000001");
        assert_eq!(normalize_id(" ２０２３０００００１ "), "2023000001");
        assert_eq!(normalize_id("2.023000001E9"), "2023000001");
        assert_eq!(normalize_id("51030019900101123X"), "51030019900101123x");
        assert_eq!(normalize_id("12.5"), "12.5");
        assert_eq!(normalize_id("无"), "");
        assert_eq!(normalize_id(" / "), "");
        assert_eq!(normalize_id("0"), "");
        assert_eq!(normalize_id("N/A"), "");
    }
}
