//! `dangan import`: walk the inbox, store and catalog what is new or changed
//! (`--dry-run`: read metadata only, write nothing, print the plan).

use std::io::Write;

use clap::Args;

use crate::cli::{Common, EXIT_OK, EXIT_REJECTED};
use crate::import::{ImportOptions, ImportSummary, run_import};
use crate::text::escape_controls;

#[derive(Args)]
pub struct ImportArgs {
    /// 只读取元数据，不计算哈希、不写任何东西，打印将要做的事
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(common: &Common, args: &ImportArgs) -> anyhow::Result<i32> {
    let summary = import(common, args.dry_run, true)?;
    print_summary(common, &summary, args.dry_run)?;
    Ok(exit_code(&summary))
}

/// The import itself, for `import` and `nightly` (which holds the run lock already).
pub fn import(common: &Common, dry_run: bool, take_lock: bool) -> anyhow::Result<ImportSummary> {
    let cfg = super::load_config(common)?;
    let corrections = super::load_corrections(common, &cfg)?;
    let opts = ImportOptions {
        inbox: &common.inbox,
        archive: &common.archive,
        dry_run,
        quiet: common.quiet || common.json,
        now: super::epoch(),
        corrections: &corrections,
        exe: std::env::current_exe().ok(),
        take_lock,
    };
    Ok(run_import(&cfg, &opts)?)
}

pub fn exit_code(s: &ImportSummary) -> i32 {
    if s.rejected > 0 || s.rejected_rows > 0 {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
}

pub fn print_summary(common: &Common, s: &ImportSummary, dry_run: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if common.json {
        let mut v = serde_json::to_value(s)?;
        if dry_run && let Some(o) = v.as_object_mut() {
            // The plan: one object per file, with `list --json`'s keys and an `action`.
            o.insert("withdrawn".into(), s.withdrawn.into());
            o.insert("plan".into(), s.plan_json.clone().into());
        }
        writeln!(out, "{v}")?;
        return Ok(());
    }
    if common.quiet {
        return Ok(());
    }
    if dry_run {
        for line in &s.plan {
            // Fields are tab-separated: escape within each, keep the tabs.
            let fields: Vec<_> = line.split('\t').map(escape_controls).collect();
            writeln!(out, "{}", fields.join("\t"))?;
        }
        writeln!(
            out,
            "演练（未写入任何东西）：发现 {} 个文件，将新增 {}、更新 {}，未变 {}，跳过 {}，拒收 {}，有问题 {}，撤回 {}",
            s.seen, s.new, s.changed, s.unchanged, s.skipped, s.rejected, s.problems, s.withdrawn
        )?;
        return Ok(());
    }
    print_rejections(&mut out, s)?;
    writeln!(
        out,
        "导入完成：发现 {} 个文件，新增 {}，变更 {}，未变 {}，跳过 {}，拒收 {}，有问题 {}，撤回 {}，恢复 {}；写入对象 {} 个，读取 {}，用时 {:.1} 秒",
        s.seen,
        s.new,
        s.changed,
        s.unchanged,
        s.skipped,
        s.rejected,
        s.problems,
        s.withdrawn,
        s.restored,
        s.objects_written,
        super::human_bytes(s.bytes_read),
        s.seconds
    )?;
    if s.rejected_rows > 0 {
        writeln!(
            out,
            "表格中有 {} 行无法读取，已跳过（见 dangan status）",
            s.rejected_rows
        )?;
    }
    print_healing(&mut out, s)?;
    Ok(())
}

/// The files this run rejected, one line each (for `import` and `nightly`).
pub fn print_rejections(out: &mut impl Write, s: &ImportSummary) -> anyhow::Result<()> {
    for (path, reason) in &s.rejections {
        writeln!(
            out,
            "拒收\t{}\t{}",
            escape_controls(path),
            escape_controls(reason)
        )?;
    }
    Ok(())
}

/// The store objects this run healed, and those still damaged (for `import` and `nightly`).
pub fn print_healing(out: &mut impl Write, s: &ImportSummary) -> anyhow::Result<()> {
    for line in &s.healed {
        writeln!(out, "{line}")?;
    }
    if s.still_damaged > 0 {
        writeln!(
            out,
            "存档里仍有 {} 个对象损坏或丢失，收件箱里也找不到它们的内容：运行 dangan verify --store 查看是哪些文件、如何处理",
            s.still_damaged
        )?;
    }
    Ok(())
}
