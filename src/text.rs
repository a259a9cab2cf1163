//! Text comparisons as a person means them: full-width forms folded to half-width, spaces
//! removed or trimmed. Every comparison of names, headers and IDs goes through here.

/// Folds full-width ASCII variants (`ＡＢＣ１２３（）`) to their half-width forms and the
/// ideographic space to a plain space. Other characters are kept.
pub fn fold_width(s: &str) -> String {
    // Only U+3000 (E3 80 80) and U+FF01–U+FF5E (EF BC 81–EF BD 9E) fold: text without them
    // (nearly every file name) is copied as it is.
    let b = s.as_bytes();
    if !b.contains(&0xEF) && !b.windows(3).any(|w| w == [0xE3, 0x80, 0x80]) {
        return s.to_string();
    }
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

/// Control characters (ESC, CR, LF, TAB, DEL, …) shown escaped (`\x1b`, `\n`): what is
/// printed to a terminal or a log from a file name or a cell cannot move the cursor, colour the
/// screen or forge a line.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(escape_controls("照片.jpg"), "照片.jpg");
        assert_eq!(
            escape_controls("a\x1b[31mb\nc\rd\te\u{7f}"),
            "a\\x1b[31mb\\nc\\rd\\te\\x7f"
        );
    }

    #[test]
    fn full_width_forms_fold() {
        assert_eq!(fold_width("ＡＢＣ１２３（州）"), "ABC123(州)");
        assert_eq!(match_key(" 启动 仪式\u{3000}"), "启动仪式");
        assert_eq!(match_key("Ｓｉｇｎ"), "sign");
        assert_eq!(match_key("教师“职教大讨论”"), "教师职教大讨论");
        assert_eq!(clean_cell("\u{3000}张三 "), "张三");
    }
}
