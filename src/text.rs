//! Text comparisons as a person means them: full-width forms folded to half-width, spaces
//! removed or trimmed. Every comparison of names, headers and IDs goes through here.

/// Folds full-width ASCII variants (`ＡＢＣ１２３（）`) to their half-width forms and the
/// ideographic space to a plain space. Other characters are kept.
pub fn fold_width(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

fn fold_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The key two names are compared by: width folded, every kind of white space and quotation
/// mark removed (`教师“职教大讨论”` matches a folder `教师职教大讨论`), ASCII letters lower-cased.
pub fn match_key(s: &str) -> String {
    s.chars()
        .map(fold_char)
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '\u{200B}'
                        | '\u{FEFF}'
                        | '"'
                        | '\''
                        | '“'
                        | '”'
                        | '‘'
                        | '’'
                        | '「'
                        | '」'
                        | '《'
                        | '》'
                )
        })
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Trimmed and width-folded, inner spaces kept: for names and IDs typed into sheets.
pub fn clean_cell(s: &str) -> String {
    fold_width(s)
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}' || c == '\u{200B}')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_forms_fold() {
        assert_eq!(fold_width("ＡＢＣ１２３（州）"), "ABC123(州)");
        assert_eq!(match_key(" 启动 仪式\u{3000}"), "启动仪式");
        assert_eq!(match_key("Ｓｉｇｎ"), "sign");
        assert_eq!(match_key("教师“职教大讨论”"), "教师职教大讨论");
        assert_eq!(clean_cell("\u{3000}张三 "), "张三");
    }
}
