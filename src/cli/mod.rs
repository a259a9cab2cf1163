//! The command line: parses arguments and dispatches to `cmd/`. Exit status: 0 done; 3 done
//! but some files or rows were rejected; 1 failed; 2 bad usage.

pub mod usage;

use std::io::Write;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::cmd::{self, Common, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Parser)]
#[command(
    name = "dangan",
    version,
    about = "档案：职业教育活动周（月）材料的导入、编目、统计与年度归档",
    after_help = "退出码：0 完成；3 完成但有文件或行被拒收；1 失败；2 用法错误"
)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// 每晚任务：导入 + 统计 + 材料检查 + 报告（供 cron / systemd 定时运行）
    Nightly,
    /// 扫描收件箱，把新增或变更的文件存入对象库并编目
    Import(cmd::import::ImportArgs),
    /// 列出已编目的每个文件版本
    List(cmd::list::ListArgs),
    /// 最近一次运行，以及按部门、活动的合计
    Status,
    /// 写出统计表：archive/统计/（情况统计表.csv/.xlsx、活动明细.csv、部门明细.csv）
    Stats(cmd::stats::StatsArgs),
    /// 材料检查：写出 archive/统计/材料检查.csv，按部门列出欠交的材料
    Check(cmd::check::CheckArgs),
    /// 写出图文报告 archive/报告/index.html（含缩略图）
    Report,
    /// 写出报省材料：archive/统计/信息采集表.xlsx/.txt（附件4）和 工作总结报告.docx（草稿）
    Forms,
    /// 把多个机构的情况统计表汇总为一张（含合计行）
    Rollup(cmd::rollup::RollupArgs),
    /// 生成并校验年度档案 zip（BagIt）
    Archive(cmd::archive::ArchiveArgs),
    /// 校验年度档案 zip；不带参数则校验目录中记录的全部档案
    Verify(cmd::verify::VerifyArgs),
    /// 把内置活动目录写成 dangan.toml 供编辑
    Init(cmd::init::InitArgs),
}

/// Runs the command line; returns the exit status.
pub fn main() -> i32 {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match parse(&argv) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(problem) = archive_not_a_folder(&cli) {
        let _ = writeln!(std::io::stderr(), "错误：{problem}");
        return EXIT_FAILED;
    }
    let result = match &cli.command {
        Command::Nightly => cmd::nightly::run(&cli.common),
        Command::Import(a) => cmd::import::run(&cli.common, a),
        Command::Check(a) => cmd::check::run(&cli.common, a),
        Command::Report => cmd::report::run(&cli.common),
        Command::Forms => cmd::forms::run(&cli.common),
        Command::List(a) => cmd::list::run(&cli.common, a),
        Command::Status => cmd::status::run(&cli.common),
        Command::Stats(a) => cmd::stats::run(&cli.common, a),
        Command::Rollup(a) => cmd::rollup::run(&cli.common, a),
        Command::Archive(a) => cmd::archive::run(&cli.common, a),
        Command::Verify(a) => cmd::verify::run(&cli.common, a),
        Command::Init(a) => cmd::init::run(&cli.common, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return EXIT_OK;
            }
            let _ = write!(
                std::io::stderr(),
                "错误：{}",
                crate::human_error::render(&e)
            );
            EXIT_FAILED
        }
    }
}

/// Parses the command line with Chinese help and errors; `Err` is the exit status after the
/// help, the version or a usage error was printed.
fn parse(argv: &[std::ffi::OsString]) -> Result<Cli, i32> {
    use clap::error::ErrorKind;
    let cmd = usage::localise(Cli::command());
    // `dangan help [命令]` is `dangan [命令] --help` (clap's English help subcommand is off).
    let mut argv = argv.to_vec();
    let mut i = 1;
    while let Some(a) = argv.get(i).and_then(|a| a.to_str()) {
        if ["--inbox", "--archive", "--config", "--corrections"].contains(&a) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            if a == "help" {
                argv.remove(i);
                argv.push("--help".into());
            }
            break;
        }
    }
    let argv = &argv[..];
    let result = cmd
        .clone()
        .try_get_matches_from(argv)
        .and_then(|m| Cli::from_arg_matches(&m));
    match result {
        Ok(cli) => Ok(cli),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let text = usage::chinese_usage(&e.to_string());
            let _ = write!(std::io::stdout(), "{text}");
            Err(EXIT_OK)
        }
        Err(e) => {
            let _ = write!(std::io::stderr(), "{}", usage::render(&e, &cmd, argv));
            Err(EXIT_USAGE)
        }
    }
}

/// An `--archive` that names a file, not a folder: said as such before a command reads it
/// (the lock and the catalog would report it as something else).
fn archive_not_a_folder(cli: &Cli) -> Option<String> {
    if matches!(cli.command, Command::Init(_) | Command::Rollup(_)) {
        return None;
    }
    let archive = &cli.common.archive;
    (archive.exists() && !archive.is_dir()).then(|| {
        format!(
            "存档 {} 是一个文件，不是文件夹：请用 --archive 指定存档文件夹（默认 archive）",
            archive.display()
        )
    })
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
