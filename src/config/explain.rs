//! What a mistake in `dangan.toml` looks like to the person who made it: the line and column,
//! the line itself with a caret under the place, and what to do — in Chinese. The TOML
//! parser's English messages are translated here, and a full-width character typed with a
//! Chinese input method (`，` `：` `“”` `【】` `＝` …) is named as such, since that is the
//! usual cause. Only words errors; never decides what is valid.

/// Where in the file: 1-based line and column (in characters), and the line's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

/// The place of byte `offset` of `text`.
pub fn place(text: &str, offset: usize) -> Place {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len());
    Place {
        line: text[..offset].matches('\n').count() + 1,
        column: text[start..offset].chars().count() + 1,
        text: text[start..end].trim_end_matches('\r').to_string(),
    }
}

/// Columns a character takes on a terminal: two for CJK and full-width forms.
fn width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide {
        2
    } else if c == '\t' {
        4
    } else {
        1
    }
}

/// The quoted line and a caret under `column`, each line indented.
pub fn show_line(p: &Place) -> String {
    let label = format!("  第 {} 行：", p.line);
    let pad: usize = label.chars().map(width).sum::<usize>()
        + p.text
            .chars()
            .take(p.column.saturating_sub(1))
            .map(width)
            .sum::<usize>();
    format!("{label}{}\n{}^", p.text, " ".repeat(pad))
}

/// A full-width character outside strings and comments, as a Chinese input method types it:
/// its column (1-based), the character, its name and what TOML wants instead.
fn full_width_in(line: &str) -> Option<(usize, char, &'static str, &'static str)> {
    let mut in_basic = false;
    let mut in_literal = false;
    let mut escaped = false;
    for (i, c) in line.chars().enumerate() {
        if in_basic {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_basic = false,
                _ => {}
            }
            continue;
        }
        if in_literal {
            if c == '\'' {
                in_literal = false;
            }
            continue;
        }
        let named = match c {
            '"' => {
                in_basic = true;
                continue;
            }
            '\'' => {
                in_literal = true;
                continue;
            }
            '#' => return None,
            '，' => ("中文逗号", ","),
            '：' => ("中文冒号", "="),
            '“' | '”' => ("中文引号", "\""),
            '‘' | '’' => ("中文单引号", "\""),
            '【' => ("中文方括号", "["),
            '】' => ("中文方括号", "]"),
            '［' => ("全角方括号", "["),
            '］' => ("全角方括号", "]"),
            '｛' => ("全角花括号", "{"),
            '｝' => ("全角花括号", "}"),
            '＝' => ("全角等号", "="),
            '　' => ("全角空格", "半角空格"),
            '＃' => ("全角井号", "#"),
            '＂' => ("全角引号", "\""),
            _ => continue,
        };
        return Some((i + 1, c, named.0, named.1));
    }
    None
}

/// The Chinese name of a configuration key, for messages.
pub fn gloss(key: &str) -> Option<&'static str> {
    Some(match key {
        "institution" => "机构名称",
        "enrolled_students" => "在校生总数",
        "utc_offset" => "时区",
        "period" => "活动月",
        "week" => "活动周",
        "report_window" => "媒体报道统计时段",
        "short_names" => "机构简称",
        "department" => "部门",
        "activity" => "活动",
        "contact" => "联系信息",
        "name" => "名称",
        "aliases" => "别名",
        "departments" => "承办部门",
        "start" => "开始日期",
        "end" => "结束日期",
        "experience" => "是否观摩体验项目",
        "materials" => "应交材料",
        "theme_day" => "主题活动日",
        "filler" => "填报人",
        "phone" => "联系电话",
        "title" => "职务",
        "mobile" => "手机",
        "qq" => "QQ号",
        "website" => "专题网站（专栏）链接地址",
        "featured" => "特色活动",
        _ => return None,
    })
}

fn key_with_gloss(key: &str) -> String {
    match gloss(key) {
        Some(g) => format!("{key}（{g}）"),
        None => key.to_string(),
    }
}

/// The key a value at `column` belongs to: the word before the last `=` before it.
fn key_before(line: &str, column: usize) -> Option<String> {
    let upto: String = line.chars().take(column.saturating_sub(1)).collect();
    let search = if upto.contains('=') {
        upto
    } else {
        line.to_string()
    };
    let eq = search.rfind('=')?;
    let key: String = search[..eq]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!key.is_empty()).then_some(key)
}

/// The backquoted words of a serde message (`unknown field `x`, expected one of `a`, `b``).
fn backquoted(message: &str) -> Vec<String> {
    message
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What the TOML reader's message means, in Chinese, for the value a person typed.
fn what_type(serde: &str) -> (&'static str, &'static str) {
    let s = serde.trim();
    if s.starts_with("string") {
        ("文字", "string")
    } else if s.starts_with("integer") || s == "u64" || s == "i64" || s == "u32" || s == "i32" {
        ("整数", "integer")
    } else if s.starts_with("floating point") || s.starts_with("a float") {
        ("小数", "float")
    } else if s.starts_with("boolean") || s.starts_with("a boolean") {
        ("true 或 false", "bool")
    } else if s.contains("sequence") || s.contains("array") {
        ("数组", "array")
    } else if s.contains("datetime") || s.contains("date") {
        ("日期", "date")
    } else if s.contains("map") || s.contains("struct") || s.contains("table") {
        ("表", "table")
    } else if s.starts_with("a string") {
        ("文字", "string")
    } else {
        ("其他类型的值", "other")
    }
}

/// What the parser's `message` at `place` means and what to do about it; a full-width
/// character found on the line moves the place's column onto it.
pub fn explain_toml(message: &str, place: Option<&mut Place>) -> (String, Option<String>) {
    if let Some(p) = place.as_ref()
        && let Some((column, c, name, wanted)) = full_width_in(&p.text)
    {
        if let Some(p) = place {
            p.column = column;
        }
        let what = if c == '，' && message.contains("array") {
            format!("数组元素之间要用英文逗号 `,`，这里是{name} `{c}`")
        } else if c == '，' {
            format!("要用英文逗号 `,`，这里是{name} `{c}`")
        } else if c == '：' || c == '＝' {
            format!("键和值之间要用英文等号 `=`，这里是{name} `{c}`")
        } else if c == '　' {
            format!("这里有一个{name}（配置文件只认半角空格）")
        } else {
            format!("要用英文的 `{wanted}`，这里是{name} `{c}`")
        };
        let hint = format!(
            "切换到英文输入法，把 `{c}` 改成 `{wanted}`（同一行可能还有别的中文标点，一并改掉）"
        );
        return (what, Some(hint));
    }
    let place = place.map(|p| &*p);
    let m = message.trim();
    let line = place.map(|p| p.text.as_str()).unwrap_or("");
    let column = place.map(|p| p.column).unwrap_or(1);
    let key = key_before(line, column);
    if let Some(rest) = m.strip_prefix("unknown field ") {
        let words = backquoted(rest);
        let unknown = words.first().cloned().unwrap_or_default();
        let allowed: Vec<String> = words.into_iter().skip(1).collect();
        let mut what = format!("不认识的键“{unknown}”");
        if allowed.is_empty() {
            what.push_str("（这一节不能有任何键）");
        } else {
            what.push_str(&format!(
                "。这里可用的键：{}",
                allowed
                    .iter()
                    .map(|k| key_with_gloss(k))
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
        let close = allowed
            .iter()
            .map(|k| (edit_distance(k, &unknown), k))
            .filter(|(d, k)| *d <= 2 || k.starts_with(&unknown) || unknown.starts_with(k.as_str()))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k.clone());
        let hint = match close {
            Some(k) => format!("是不是 {}？改成 {k}", key_with_gloss(&k)),
            None => "检查拼写，或删去这一行".to_string(),
        };
        return (what, Some(hint));
    }
    if let Some(rest) = m.strip_prefix("missing field ") {
        let field = backquoted(rest).into_iter().next().unwrap_or_default();
        let example = match field.as_str() {
            "institution" => "如 institution = \"自贡职业技术学院\"",
            "period" => "如 period = { start = 2025-05-01, end = 2025-05-31 }",
            "start" => "写成 { start = 2025-05-11, end = 2025-05-17 }",
            "end" => "写成 { start = 2025-05-11, end = 2025-05-17 }",
            _ => "",
        };
        return (
            format!("缺少必须填写的 {}", key_with_gloss(&field)),
            Some(format!(
                "请补上这一项{}",
                if example.is_empty() {
                    String::new()
                } else {
                    format!("，{example}")
                }
            )),
        );
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let (found_cn, found_kind) = what_type(found);
        let (expected_cn, expected_kind) = what_type(expected);
        let shown = found
            .split_once(' ')
            .map(|(_, v)| v.trim_matches('`').to_string())
            .unwrap_or_default();
        let who = key
            .as_deref()
            .map(key_with_gloss)
            .unwrap_or_else(|| "这个值".into());
        let sep = if expected_cn.starts_with(|c: char| c.is_ascii()) {
            " "
        } else {
            ""
        };
        let what = if shown.is_empty() {
            format!("{who}应是{sep}{expected_cn}，这里是{found_cn}")
        } else {
            format!("{who}应是{sep}{expected_cn}，这里是{found_cn} {shown}")
        };
        let hint = match (expected_kind, found_kind) {
            ("integer", "string") | ("float", "string") => {
                "去掉数字两边的引号，如 enrolled_students = 6420".to_string()
            }
            ("date", "string") => "去掉日期两边的引号，写成 2025-05-01".to_string(),
            ("bool", _) => "写 true（是）或 false（否），不加引号".to_string(),
            ("string", _) => "文字要用英文双引号括起来，如 name = \"启动仪式\"".to_string(),
            ("array", _) => "写成数组，用英文方括号和逗号，如 [\"甲\", \"乙\"]".to_string(),
            ("integer", _) => "写一个整数，不加引号".to_string(),
            ("date", _) => "日期写成 2025-05-01（年-月-日，不加引号）".to_string(),
            _ => "照 dangan init 写出的样例改写这一项".to_string(),
        };
        return (what, Some(hint));
    }
    if m.starts_with("duplicate key") {
        let who = place
            .and_then(|p| {
                let k: String = p
                    .text
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                (!k.is_empty()).then_some(k)
            })
            .map(|k| format!("“{}”", key_with_gloss(&k)))
            .unwrap_or_else(|| "这个键".into());
        return (
            format!("{who}在同一节里写了两次"),
            Some("删去重复的一行（每个键在一节里只能出现一次）".into()),
        );
    }
    if m.contains("date") || m.contains("time") {
        let detail = if m.contains("month") && m.contains("two-digit") {
            "月份要写两位数字"
        } else if m.contains("month") {
            "月份要在 01 到 12 之间"
        } else if m.contains("day") && m.contains("two-digit") {
            "日要写两位数字"
        } else if m.contains("day") {
            "日不对（要在 01 到 31 之间，且这个月要有这一天）"
        } else if m.contains("year") {
            "年份要写四位数字"
        } else {
            "不是有效的日期"
        };
        return (
            format!("日期写法不对：{detail}"),
            Some("日期写成 2025-05-01（年-月-日，月和日各两位，不加引号）".into()),
        );
    }
    let table: [(&str, &str, &str); 18] = [
        (
            "missing comma between array elements",
            "数组元素之间缺少英文逗号 `,`",
            "写成 [\"甲\", \"乙\"]",
        ),
        (
            "missing comma between key-value pairs",
            "键值对之间缺少英文逗号 `,`",
            "写成 { start = 2025-05-01, end = 2025-05-31 }",
        ),
        (
            "missing assignment",
            "键后面缺少英文等号 `=`",
            "写成 键 = 值，如 institution = \"自贡职业技术学院\"",
        ),
        (
            "key with no value",
            "键后面缺少英文等号 `=` 和值",
            "写成 键 = 值，如 institution = \"自贡职业技术学院\"",
        ),
        (
            "missing value",
            "等号后面缺少值",
            "在 = 后面写上值，文字加英文双引号",
        ),
        (
            "string values must be quoted",
            "文字要用英文双引号 `\"` 括起来",
            "写成 name = \"启动仪式\"",
        ),
        (
            "missing opening quote",
            "文字缺少开头的英文双引号 `\"`",
            "写成 name = \"启动仪式\"",
        ),
        (
            "invalid basic string",
            "文字缺少结尾的英文双引号 `\"`，或里面有不能直接写的字符",
            "检查这一行的引号是否成对",
        ),
        (
            "invalid literal string",
            "单引号文字没有结束",
            "检查这一行的引号是否成对",
        ),
        (
            "unclosed array table",
            "[[…]] 缺少结尾的 `]]`",
            "写成 [[activity]]",
        ),
        ("unclosed table", "[…] 缺少结尾的 `]`", "写成 [contact]"),
        (
            "unclosed array",
            "数组缺少结尾的 `]`",
            "写成 [\"甲\", \"乙\"]",
        ),
        (
            "unclosed inline table",
            "缺少结尾的 `}`",
            "写成 { start = 2025-05-01, end = 2025-05-31 }",
        ),
        ("extra comma", "多了一个逗号", "删去多余的逗号"),
        (
            "invalid unquoted key",
            "键只能用英文字母、数字、下划线和减号",
            "照 dangan init 写出的样例写键名",
        ),
        (
            "invalid key",
            "键只能用英文字母、数字、下划线和减号",
            "照 dangan init 写出的样例写键名",
        ),
        (
            "unexpected content",
            "这一行在值后面还有多余的内容",
            "一行只写一个 键 = 值；说明文字写在 # 后面",
        ),
        (
            "invalid",
            "这里的写法不对",
            "照 dangan init 写出的样例改写这一行",
        ),
    ];
    for (english, what, hint) in table {
        if m.contains(english) {
            return (what.to_string(), Some(hint.to_string()));
        }
    }
    (
        format!("配置文件格式不对（{m}）"),
        Some("照 dangan init 写出的样例改写这一行".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_width_comma_is_named_and_located() {
        let text = "a = 1\naliases = [\"启动\"，\"开幕\"]\n";
        let off = text.find('，').unwrap();
        let p = place(text, off);
        assert_eq!((p.line, p.column), (2, 16));
        let mut p = p;
        let (what, hint) = explain_toml("missing comma between array elements", Some(&mut p));
        assert!(
            what.contains("英文逗号") && what.contains("中文逗号 `，`"),
            "{what}"
        );
        assert!(hint.unwrap().contains("英文输入法"));
        // The caret sits under the comma: 2 columns per Chinese character.
        let shown = show_line(&p);
        let lines: Vec<&str> = shown.lines().collect();
        let caret = lines[1].find('^').unwrap();
        let label_width = "  第 2 行：".chars().map(width).sum::<usize>();
        assert_eq!(
            caret,
            label_width + "aliases = [\"启动\"".chars().map(width).sum::<usize>()
        );
    }

    #[test]
    fn a_comma_inside_a_string_is_not_a_mistake() {
        assert_eq!(full_width_in("name = \"启动，开幕\" # 说明：好"), None);
        assert_eq!(full_width_in("name ＝ \"x\"").map(|f| f.1), Some('＝'));
    }

    #[test]
    fn serde_messages_become_chinese() {
        let mut p = place("enrolled_students = \"6420\"\n", 20);
        let (what, hint) =
            explain_toml("invalid type: string \"6420\", expected u64", Some(&mut p));
        assert_eq!(
            what,
            "enrolled_students（在校生总数）应是整数，这里是文字 \"6420\""
        );
        assert!(hint.unwrap().contains("去掉数字两边的引号"));
        let (what, hint) = explain_toml(
            "unknown field `alias`, expected one of `name`, `aliases`",
            None,
        );
        assert!(
            what.contains("“alias”") && what.contains("aliases（别名）"),
            "{what}"
        );
        assert!(hint.unwrap().contains("是不是 aliases"));
    }
}
