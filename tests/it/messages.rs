//! Every message a person can cause is Chinese: the mistakes office staff make on the command
//! line, in `dangan.toml` and with folders, each run through the real binary, each answered in
//! Chinese on stderr — with the line of the config where there is one, said once, and with no
//! line that is English only.

use crate::support::{Env, Inbox};

/// `institution` and `period`: the two keys every config needs (lines 1 and 2).
const HEAD: &str =
    "institution = \"自贡职业技术学院\"\nperiod = { start = 2025-05-01, end = 2025-05-31 }\n";

/// One mistake: what is typed (arguments, or a config after `HEAD`), the exit status, what
/// the message must say, and the config line it must name.
struct Mistake {
    what: &'static str,
    args: &'static [&'static str],
    config: Option<&'static str>,
    code: i32,
    says: &'static [&'static str],
    line: Option<usize>,
}

const fn usage(
    what: &'static str,
    args: &'static [&'static str],
    says: &'static [&'static str],
) -> Mistake {
    Mistake {
        what,
        args,
        config: None,
        code: 2,
        says,
        line: None,
    }
}

const fn config(
    what: &'static str,
    body: &'static str,
    line: Option<usize>,
    says: &'static [&'static str],
) -> Mistake {
    Mistake {
        what,
        args: &["nightly"],
        config: Some(body),
        code: 1,
        says,
        line,
    }
}

const MISTAKES: &[Mistake] = &[
    // The command line: exit 2, the usage line, where the help is.
    usage(
        "unknown flag",
        &["--bogus", "status"],
        &["不认识的选项 --bogus", "用法：dangan status"],
    ),
    usage(
        "misspelt flag",
        &["list", "--datee", "2025-05-13"],
        &["不认识的选项 --datee，是不是 --date？"],
    ),
    usage(
        "a date as written in Chinese",
        &["list", "--date", "2025年5月13日"],
        &[
            "--date 的值“2025年5月13日”不对",
            "2025-05-13",
            "用法：dangan list",
        ],
    ),
    usage(
        "missing --year",
        &["archive"],
        &["缺少必须填写的 --year <年份>", "用法：dangan archive"],
    ),
    usage(
        "a year in Chinese numerals",
        &["archive", "--year", "二〇二五"],
        &["年份要写四位数字"],
    ),
    usage(
        "no command",
        &[],
        &["缺少命令", "dangan nightly", "可用的命令"],
    ),
    usage(
        "unknown command",
        &["frobnicate"],
        &["不认识的命令“frobnicate”", "可用的命令"],
    ),
    usage(
        "misspelt command",
        &["stauts"],
        &["不认识的命令“stauts”，是不是 status？"],
    ),
    usage(
        "a flag without its value",
        &["list", "--department"],
        &["--department 后面缺少值"],
    ),
    usage(
        "an unknown encoding",
        &["stats", "--encoding", "latin1"],
        &["不认识的编码“latin1”", "gb18030"],
    ),
    usage(
        "a word too many",
        &["nightly", "extra"],
        &["多余的参数“extra”", "用法：dangan nightly"],
    ),
    usage(
        "an unknown department",
        &["list", "--department", "宣传部"],
        &["不认识的部门“宣传部”", "教务科研处"],
    ),
    // dangan.toml: exit 1, the file, the line and column, the line itself, what to do.
    config(
        "a Chinese comma in an array",
        "[[activity]]\nname = \"启动仪式\"\naliases = [\"启动\"，\"开幕\"]\n",
        Some(5),
        &[
            "第 5 行第 16 列",
            "数组元素之间要用英文逗号 `,`，这里是中文逗号 `，`",
            "aliases = [\"启动\"，\"开幕\"]",
            "^",
            "怎么改",
        ],
    ),
    config(
        "a Chinese colon",
        "enrolled_students：6420\n",
        Some(3),
        &["中文冒号 `：`", "英文等号 `=`"],
    ),
    config(
        "Chinese quotes",
        "short_names = [“自贡职院”]\n",
        Some(3),
        &["中文引号 `“`"],
    ),
    config(
        "Chinese brackets",
        "【contact】\nfiller = \"王梦霞\"\n",
        Some(3),
        &["中文方括号 `【`", "第 3 行第 1 列"],
    ),
    config(
        "a full-width equals sign",
        "enrolled_students ＝ 6420\n",
        Some(3),
        &["全角等号 `＝`"],
    ),
    config(
        "an unknown key",
        "[[activity]]\nname = \"启动仪式\"\nalias = [\"启动\"]\n",
        Some(5),
        &[
            "不认识的键“alias”",
            "这里可用的键",
            "aliases（别名）",
            "是不是 aliases",
        ],
    ),
    config(
        "a number in quotes",
        "enrolled_students = \"6420\"\n",
        Some(3),
        &[
            "enrolled_students（在校生总数）应是整数，这里是文字 \"6420\"",
            "去掉数字两边的引号",
        ],
    ),
    config(
        "是 for a yes/no value",
        "[[activity]]\nname = \"参观\"\nexperience = \"是\"\n",
        Some(5),
        &["应是 true 或 false", "写 true（是）或 false（否）"],
    ),
    config(
        "a one-digit month",
        "week = { start = 2025-5-11, end = 2025-05-17 }\n",
        Some(3),
        &["日期写法不对：月份要写两位数字", "2025-05-01"],
    ),
    config(
        "a date in quotes",
        "[[activity]]\nname = \"参观\"\nstart = \"2025-05-07\"\nend = 2025-05-07\n",
        Some(5),
        &["start（开始日期）应是日期", "去掉日期两边的引号"],
    ),
    config(
        "a key twice",
        "institution = \"别的学校\"\n",
        Some(3),
        &["“institution（机构名称）”在同一节里写了两次"],
    ),
    config(
        "an end before the start",
        "[[activity]]\nname = \"参观\"\nstart = 2025-05-09\nend = 2025-05-08\n",
        Some(6),
        &["结束日期 2025-05-08 早于开始日期 2025-05-09", "写反"],
    ),
    config(
        "an activity without a name",
        "[[activity]]\naliases = [\"参观\"]\n",
        Some(3),
        &["缺少 name（活动名称）"],
    ),
    config(
        "two activities of one name",
        "[[activity]]\nname = \"参观\"\n[[activity]]\nname = \"参观\"\n",
        Some(6),
        &["活动名称“参观”重复"],
    ),
    Mistake {
        what: "no institution",
        args: &["nightly"],
        config: Some("\u{0}period = { start = 2025-05-01, end = 2025-05-31 }\n"),
        code: 1,
        says: &[
            "缺少必须填写的 institution（机构名称）",
            "institution = \"自贡职业技术学院\"",
        ],
        line: None,
    },
    Mistake {
        what: "a config mistake seen by status before any import",
        args: &["status"],
        config: Some("colour = \"红\"\n"),
        code: 1,
        says: &["不认识的键“colour”", "institution（机构名称）"],
        line: Some(3),
    },
    // Files and folders: the path and a Chinese reason, said once.
    Mistake {
        what: "a config that is not there",
        args: &["--config", "没有这个.toml", "nightly"],
        config: None,
        code: 1,
        says: &["无法读取配置文件 没有这个.toml：不存在"],
        line: None,
    },
    Mistake {
        what: "a missing inbox",
        args: &["--inbox", "没有这个文件夹", "import"],
        config: None,
        code: 1,
        says: &["无法读取收件箱 没有这个文件夹：不存在"],
        line: None,
    },
    Mistake {
        what: "a corrections file that is not there",
        args: &["--corrections", "更正2.xlsx", "stats"],
        config: None,
        code: 1,
        says: &["找不到更正文件 更正2.xlsx"],
        line: None,
    },
    Mistake {
        what: "a missing table to roll up",
        args: &["rollup", "甲校.csv", "--out", "合计.csv"],
        config: None,
        code: 1,
        says: &["甲校.csv", "不存在"],
        line: None,
    },
];

/// A line of stderr that a Chinese reader could not read: ASCII letters and nothing else that
/// is not ASCII (the quoted config line is labelled `第 N 行：`, the caret line has no letters).
fn english_only(line: &str) -> bool {
    line.is_ascii() && line.chars().any(|c| c.is_ascii_alphabetic())
}

fn check(env: &Env, m: &Mistake, args: &[&str]) {
    // The environment's own --inbox/--archive unless the mistake is about one of them.
    let r: crate::support::Run = if args.iter().any(|a| *a == "--inbox" || *a == "--archive") {
        let mut c = std::process::Command::new(crate::support::BIN);
        c.current_dir(env.dir.path()).args(args);
        c.output().unwrap().into()
    } else {
        env.run(args)
    };
    assert_eq!(r.code, m.code, "{}: {}{}", m.what, r.stdout, r.stderr);
    let err = &r.stderr;
    assert!(err.starts_with("错误："), "{}: {err}", m.what);
    for s in m.says {
        assert!(err.contains(s), "{}: wants {s:?} in\n{err}", m.what);
    }
    if let Some(n) = m.line {
        assert!(
            err.contains(&format!("第 {n} 行第")),
            "{}: line {n}\n{err}",
            m.what
        );
        assert!(
            err.contains(&format!("  第 {n} 行：")),
            "{}: the line itself\n{err}",
            m.what
        );
    }
    for line in err.lines() {
        assert!(
            !english_only(line),
            "{}: English-only line {line:?} in\n{err}",
            m.what
        );
    }
    for english in [
        "error:",
        "os error",
        "Usage:",
        "For more information",
        "expected",
        "invalid",
    ] {
        assert!(!err.contains(english), "{}: {english:?} in\n{err}", m.what);
    }
}

#[test]
fn every_mistake_a_person_can_make_is_answered_in_chinese() {
    assert!(MISTAKES.len() >= 20);
    for m in MISTAKES {
        let env = Env::new();
        let mut args: Vec<&str> = Vec::new();
        let path = env.dir.path().join("c.toml");
        if let Some(body) = m.config {
            let text = match body.strip_prefix('\u{0}') {
                Some(whole) => whole.to_string(),
                None => format!("{HEAD}{body}"),
            };
            std::fs::write(&path, text).unwrap();
            args.push("--config");
            args.push("c.toml");
        }
        args.extend_from_slice(m.args);
        check(&env, m, &args);
    }
}

#[test]
fn a_missing_folder_is_said_once() {
    let env = Env::new();
    let mut c = std::process::Command::new(crate::support::BIN);
    c.current_dir(env.dir.path())
        .args(["--inbox", "没有这个文件夹", "import"]);
    let r: crate::support::Run = c.output().unwrap().into();
    assert_eq!(r.code, 1);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert_eq!(r.stderr.matches("不存在").count(), 1, "{}", r.stderr);
}

#[test]
fn file_system_mistakes_name_the_path_with_a_chinese_reason() {
    let env = Env::new();
    // A config that is a folder, one that is not UTF-8, an archive that is a file.
    std::fs::create_dir(env.dir.path().join("目录.toml")).unwrap();
    // Saved as GBK by an old editor: 教务 is not UTF-8 in GBK bytes.
    std::fs::write(
        env.dir.path().join("gbk.toml"),
        crate::support::gbk("institution = \"教务\"\n"),
    )
    .unwrap();
    std::fs::write(env.dir.path().join("存档.txt"), b"x").unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--config", "目录.toml", "nightly"],
            "目录.toml：这是一个文件夹，不是文件",
        ),
        (
            &["--config", "gbk.toml", "nightly"],
            "gbk.toml：内容不是 UTF-8 编码的文字",
        ),
        (
            &["--archive", "存档.txt", "status"],
            "存档 存档.txt 是一个文件，不是文件夹",
        ),
    ];
    for (args, says) in cases {
        let mut c = std::process::Command::new(crate::support::BIN);
        c.current_dir(env.dir.path()).args(args);
        let r: crate::support::Run = c.output().unwrap().into();
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.lines().any(english_only),
            "{args:?}: {}",
            r.stderr
        );
    }
    // Permission denied: a config the user may not read (as root, run as nobody, as
    // tests/import.rs does).
    use std::os::unix::fs::PermissionsExt;
    let locked = env.dir.path().join("锁住.toml");
    std::fs::write(&locked, HEAD).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    // An inbox the user may not list, an archive the user may not write.
    let inbox = env.dir.path().join("锁住的收件箱");
    std::fs::create_dir(&inbox).unwrap();
    std::fs::set_permissions(&inbox, std::fs::Permissions::from_mode(0o700)).unwrap();
    let archive = env.dir.path().join("只读存档");
    std::fs::create_dir(&archive).unwrap();
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o555)).unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--config", "锁住.toml", "nightly"],
            "无法读取配置文件 锁住.toml：没有权限",
        ),
        (
            &["--inbox", "锁住的收件箱", "--archive", "a", "import"],
            "无法读取收件箱 锁住的收件箱：没有权限",
        ),
        (
            &["--archive", "只读存档", "nightly"],
            "只读存档/.lock：没有权限",
        ),
    ];
    for (args, says) in cases {
        let mut c = if crate::support::is_root() {
            let mut c = std::process::Command::new("setpriv");
            c.args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                crate::support::BIN,
            ]);
            c
        } else {
            std::process::Command::new(crate::support::BIN)
        };
        c.current_dir(env.dir.path()).args(args);
        let r: crate::support::Run = c.output().unwrap().into();
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr.matches("没有权限").count(), 1, "{}", r.stderr);
        assert!(!r.stderr.lines().any(english_only), "{}", r.stderr);
    }
}

#[test]
fn help_is_chinese_and_exits_zero() {
    let env = Env::new();
    for args in [
        &["--help"][..],
        &["archive", "--help"],
        &["-h"],
        &["help", "archive"],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 0, "{args:?}");
        r.stdout_has("用法：dangan");
        r.stdout_has("显示帮助");
        assert!(
            !r.stdout.contains("Usage:") && !r.stdout.contains("Print help"),
            "{}",
            r.stdout
        );
    }
}

/// `2025-05-13 01:30:12`: a local time as `status` prints it.
fn is_local_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b' ',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

#[test]
fn status_reads_as_plain_chinese() {
    let env = Inbox::new()
        .put(
            "教务科研处/启动仪式/IMG_20250507_093000.jpg",
            crate::support::jpeg(1),
        )
        // A sign-in sheet with a row without a name: the file's problem points at the rows.
        .put(
            "教务科研处/启动仪式/签到表.csv",
            "姓名,学号\n张三,2023000001\n,2023000002\n".as_bytes(),
        );
    env.import(3);
    let r = env.run(["status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap();
    let rest = first.strip_prefix("上次导入（第 1 次）：").expect(first);
    let (time, tail) = rest.split_at(19);
    assert!(is_local_time(time), "{first}");
    assert!(
        tail.starts_with(" 开始，用时") && tail.ends_with("，已完成"),
        "{first}"
    );
    let second = r.stdout.lines().nth(1).unwrap();
    assert_eq!(
        second, "  收件箱中共 2 个文件：新增 2 个，有问题 1 个",
        "{}",
        r.stdout
    );
    r.stdout_has("表格中被跳过的行");
    for wrong in [
        "dangan status",
        "+00:00",
        "+08:00",
        "无日期（无日期）",
        "（另有已撤回 0 个）",
    ] {
        assert!(!r.stdout.contains(wrong), "{wrong:?} in\n{}", r.stdout);
    }
    // An undated file in list: 无日期 once.
    assert!(!env.run(["list"]).stdout.contains("无日期（"));

    // An empty archive folder, and none at all: said plainly, exit 0.
    let empty = Env::new();
    std::fs::create_dir_all(&empty.archive).unwrap();
    let r = empty.run(&["status"]);
    assert_eq!(r.code, 0);
    r.stdout_has("还没有导入过任何文件：请先运行 dangan nightly");
}

/// A department folder that dangan.toml does not name is pointed out by `status`, as the
/// built-in config's comment promises: with its file count and what to do.
#[test]
fn status_names_a_department_folder_not_in_the_config() {
    let env = Inbox::new()
        .put(
            "信息工程系/启动仪式/IMG_20250507_093000.jpg",
            crate::support::jpeg(1),
        )
        .put(
            "教务科研处/启动仪式/IMG_20250507_093001.jpg",
            crate::support::jpeg(2),
        );
    env.import(0);
    let r = env.run(["status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("dangan.toml 里没有的部门文件夹 1 个")
            && r.stdout.contains("  信息工程系\t1 个文件"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("教务科研处\t1 个文件"), "{}", r.stdout);
    let j = env.run(["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(j.stdout.trim()).unwrap();
    assert_eq!(
        v["unknown_departments"],
        serde_json::json!({"信息工程系": 1})
    );
}
