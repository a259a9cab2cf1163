//! Chinese for what the command line says: the help's headings, flags and value names, and
//! every usage error clap can raise (unknown flag, missing or invalid value, missing or unknown
//! command), rendered from the error's kind and context into a Chinese sentence, the usage
//! line and where to find the help. Never decides anything about the run itself.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};

const ROOT_TEMPLATE: &str = "{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";
const SUB_TEMPLATE: &str = "{about-with-newline}\n用法：{usage}\n\n{all-args}{after-help}";

/// The command tree with Chinese headings, value names and help/version flags.
pub fn localise(cmd: Command) -> Command {
    cmd.disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .arg_required_else_help(false)
        .help_template(ROOT_TEMPLATE)
        .subcommand_help_heading("命令")
        .subcommand_value_name("命令")
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .global(true)
                .help("显示帮助"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("显示版本"),
        )
        // The common flags after each command's own, under their own heading.
        .mut_args({
            let mut order = 100;
            move |a| {
                let a = chinese_arg(a);
                order += 1;
                if a.is_positional() {
                    a
                } else {
                    a.help_heading("通用选项").display_order(order)
                }
            }
        })
        .mut_subcommands(|s| {
            s.disable_help_flag(true)
                .help_template(SUB_TEMPLATE)
                .mut_args(chinese_arg)
        })
}

/// A value's placeholder in the help and usage (`--year <年份>`).
fn value_name(id: &str) -> Option<&'static str> {
    Some(match id {
        "inbox" | "archive" => "文件夹",
        "config" | "corrections" | "out" | "enrolment" | "inputs" => "文件",
        "file" => "文件.zip",
        "department" => "部门",
        "activity" => "活动",
        "date" => "日期",
        "year" => "年份",
        "encoding" => "编码",
        _ => return None,
    })
}

fn chinese_arg(a: Arg) -> Arg {
    let id = a.get_id().as_str().to_string();
    let a = if a.is_positional() {
        a.help_heading("参数")
    } else {
        a.help_heading("选项")
    };
    // The defaults are said in the Chinese help text itself.
    let a = if a.get_default_values().is_empty() {
        a
    } else {
        a.hide_default_value(true)
    };
    let takes_value = a.get_action().takes_values();
    match value_name(&id) {
        Some(name) if takes_value => a.value_name(name),
        _ => a,
    }
}

/// Clap's placeholder and heading punctuation that no setting renames.
pub fn chinese_usage(text: &str) -> String {
    text.replace("[OPTIONS]", "[选项]")
        .replace("选项:\n", "选项：\n")
        .replace("通用选项:\n", "通用选项：\n")
        .replace("命令:\n", "命令：\n")
        .replace("参数:\n", "参数：\n")
}

/// What to print for a parse error that is not a request for help or the version: a Chinese
/// sentence, the usage line and where the help is. `argv` finds the subcommand meant.
pub fn render(err: &clap::Error, cmd: &Command, argv: &[OsString]) -> String {
    let sub = subcommand_named(cmd, argv);
    let bin = match sub {
        Some(s) => format!("dangan {s}"),
        None => "dangan".to_string(),
    };
    let usage = usage_line(cmd, sub);
    let mut out = format!("错误：{}\n", sentence(err, cmd));
    if !usage.is_empty() {
        out.push_str(&format!("用法：{usage}\n"));
    }
    out.push_str(&format!("查看帮助：{bin} --help\n"));
    out
}

/// The subcommand the command line names (the first argument that is one), if any.
fn subcommand_named<'a>(cmd: &'a Command, argv: &[OsString]) -> Option<&'a str> {
    argv.iter().skip(1).find_map(|a| {
        let a = a.to_str()?;
        cmd.get_subcommands()
            .find(|s| s.get_name() == a)
            .map(|s| s.get_name())
    })
}

/// The usage line of the subcommand meant, else of `dangan` itself.
fn usage_line(cmd: &Command, sub: Option<&str>) -> String {
    let mut root = cmd.clone();
    root.build();
    let text = match sub.and_then(|s| root.find_subcommand_mut(s)) {
        Some(s) => s.render_usage().to_string(),
        None => root.render_usage().to_string(),
    };
    let text = text.trim();
    let text = text.strip_prefix("Usage:").unwrap_or(text).trim();
    chinese_usage(text.lines().next().unwrap_or(""))
}

fn string(err: &clap::Error, kind: ContextKind) -> Option<String> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => v.first().cloned(),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::StyledStrs(v) => v.first().map(|s| s.to_string()),
        _ => None,
    }
}

fn strings(err: &clap::Error, kind: ContextKind) -> Vec<String> {
    match err.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        Some(ContextValue::StyledStrs(v)) => v.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// `--date <DATE>` → `--date`: the flag as a person typed it.
fn flag(arg: &str) -> String {
    arg.split([' ', '=']).next().unwrap_or(arg).to_string()
}

/// A placeholder in an argument's description, renamed as the help renames it.
fn chinese_placeholders(arg: &str) -> String {
    let mut out = arg.to_string();
    for (id, name) in [
        ("<INBOX>", "<文件夹>"),
        ("<ARCHIVE>", "<文件夹>"),
        ("<CONFIG>", "<文件>"),
        ("<CORRECTIONS>", "<文件>"),
        ("<OUT>", "<文件>"),
        ("<ENROLMENT>", "<文件>"),
        ("<INPUTS>", "<文件>"),
        ("<FILE>", "<文件.zip>"),
        ("<DEPARTMENT>", "<部门>"),
        ("<ACTIVITY>", "<活动>"),
        ("<DATE>", "<日期>"),
        ("<YEAR>", "<年份>"),
        ("<ENCODING>", "<编码>"),
    ] {
        out = out.replace(id, name);
    }
    out
}

/// How a value of this flag is written, for a parser whose own message is not Chinese.
fn value_hint(flag: &str) -> &'static str {
    match flag {
        "--date" => "日期要写成 年-月-日，月和日各两位数字，如 2025-05-13",
        "--year" => "年份要写四位数字，如 2025",
        "--encoding" => "可用 utf8 或 gb18030",
        _ => "请按 --help 中的说明填写",
    }
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

fn commands_list(cmd: &Command) -> String {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect::<Vec<_>>()
        .join("、")
}

fn sentence(err: &clap::Error, cmd: &Command) -> String {
    let arg = string(err, ContextKind::InvalidArg).map(|a| chinese_placeholders(&a));
    let value = string(err, ContextKind::InvalidValue);
    match err.kind() {
        ErrorKind::UnknownArgument => {
            let arg = arg.unwrap_or_default();
            let mut s = if arg.starts_with('-') {
                format!("不认识的选项 {arg}")
            } else {
                format!("多余的参数“{arg}”（这个命令不接受它）")
            };
            if let Some(tip) = string(err, ContextKind::SuggestedArg) {
                s.push_str(&format!("，是不是 {}？", flag(&tip)));
            } else if let Some(tip) = string(err, ContextKind::SuggestedSubcommand) {
                s.push_str(&format!("，是不是命令 {tip}？"));
            }
            s
        }
        ErrorKind::InvalidSubcommand => {
            let sub = string(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            let mut s = format!("不认识的命令“{sub}”");
            if let Some(tip) = string(err, ContextKind::SuggestedSubcommand) {
                s.push_str(&format!("，是不是 {tip}？"));
            } else {
                s.push('。');
            }
            s.push_str(&format!("可用的命令：{}", commands_list(cmd)));
            s
        }
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            format!(
                "缺少命令：dangan 后面要写一个命令，如 dangan nightly。可用的命令：{}",
                commands_list(cmd)
            )
        }
        ErrorKind::MissingRequiredArgument => {
            let missing: Vec<String> = strings(err, ContextKind::InvalidArg)
                .iter()
                .map(|a| chinese_placeholders(a))
                .collect();
            let hint = missing
                .first()
                .map(|a| match flag(a).as_str() {
                    "--year" => "（如 --year 2025）",
                    "--out" => "（输出文件）",
                    _ => "",
                })
                .unwrap_or("");
            format!("缺少必须填写的 {}{hint}", missing.join("、"))
        }
        ErrorKind::InvalidValue => {
            let arg = arg.unwrap_or_default();
            let value = value.unwrap_or_default();
            if value.is_empty() {
                format!("{} 后面缺少值", flag(&arg))
            } else {
                let valid = strings(err, ContextKind::ValidValue);
                let mut s = format!("{} 的值“{value}”不可用", flag(&arg));
                if !valid.is_empty() {
                    s.push_str(&format!("。可用：{}", valid.join("、")));
                }
                s
            }
        }
        ErrorKind::ValueValidation => {
            let arg = flag(&arg.unwrap_or_default());
            let value = value.unwrap_or_default();
            let why = std::error::Error::source(err)
                .map(|s| s.to_string())
                .filter(|s| has_cjk(s))
                .unwrap_or_else(|| value_hint(&arg).to_string());
            format!("{arg} 的值“{value}”不对：{why}")
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            let arg = flag(&arg.unwrap_or_default());
            match value {
                Some(v) if !v.is_empty() => format!("{arg} 只接受一个值，多出了“{v}”"),
                _ => format!("{arg} 的值的个数不对"),
            }
        }
        ErrorKind::ArgumentConflict => {
            let arg = flag(&arg.unwrap_or_default());
            let prior = string(err, ContextKind::PriorArg).map(|p| flag(&p));
            match prior {
                Some(p) if p == arg => format!("{arg} 只能写一次"),
                Some(p) => format!("{arg} 不能和 {p} 一起用"),
                None => format!("{arg} 不能和其他选项一起用"),
            }
        }
        ErrorKind::NoEquals => format!("{} 的值要用等号连接", arg.unwrap_or_default()),
        ErrorKind::InvalidUtf8 => "命令行里有不是 UTF-8 的文字，请检查输入法或终端的编码".into(),
        _ => "命令行有误".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn error_for(args: &[&str]) -> String {
        let cmd = localise(crate::cli::Cli::command());
        let argv: Vec<OsString> = args.iter().map(OsString::from).collect();
        let err = cmd
            .clone()
            .try_get_matches_from(&argv)
            .expect_err("an error");
        render(&err, &cmd, &argv)
    }

    #[test]
    fn clap_errors_are_chinese_with_the_usage_line() {
        let e = error_for(&["dangan", "--bogus", "status"]);
        assert!(e.starts_with("错误：不认识的选项 --bogus"), "{e}");
        assert!(e.contains("用法：dangan"), "{e}");
        let e = error_for(&["dangan", "archive"]);
        assert!(e.contains("缺少必须填写的 --year <年份>"), "{e}");
        assert!(
            e.contains("用法：dangan archive [选项] --year <年份>"),
            "{e}"
        );
        assert!(e.contains("查看帮助：dangan archive --help"), "{e}");
        let e = error_for(&["dangan", "list", "--date", "2025年5月13日"]);
        assert!(e.contains("--date 的值“2025年5月13日”不对"), "{e}");
        assert!(e.contains("用法：dangan list"), "{e}");
        let e = error_for(&["dangan"]);
        assert!(e.contains("缺少命令"), "{e}");
        let e = error_for(&["dangan", "stauts"]);
        assert!(e.contains("不认识的命令“stauts”，是不是 status？"), "{e}");
    }
}
