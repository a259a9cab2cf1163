//! `dangan import`: walk the inbox, store and catalog what is new or changed
//! (`--dry-run`: read metadata only, write nothing, print the plan).

use std::io::Write;

use clap::Args;

use super::Common;
use super::steps::{self, print_healing, print_rejections};
use crate::import::ImportSummary;
use crate::text::escape_controls;

#[derive(Args)]
pub struct ImportArgs {
    /// 只读取元数据，不计算哈希、不写任何东西，打印将要做的事
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(common: &Common, args: &ImportArgs) -> anyhow::Result<i32> {
    let summary = steps::import(common, args.dry_run, true)?;
    print_summary(common, &summary, args.dry_run)?;
    Ok(steps::import_exit_code(&summary))
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
