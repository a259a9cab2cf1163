//! `dangan init`: write the built-in activity catalog as `dangan.toml` for editing.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use super::{Common, EXIT_OK};
use crate::config::DEFAULT_TOML;

#[derive(Args)]
pub struct InitArgs {
    /// 覆盖已有的文件
    #[arg(long)]
    pub force: bool,
}

pub fn run(common: &Common, args: &InitArgs) -> anyhow::Result<i32> {
    let path = common
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("dangan.toml"));
    if path.exists() && !args.force {
        bail!("{} 已存在；要覆盖请加 --force", path.display());
    }
    std::fs::write(&path, DEFAULT_TOML).with_context(|| format!("无法写入 {}", path.display()))?;
    if !common.quiet {
        writeln!(
            std::io::stdout(),
            "已写入 {}：修改机构名称、在校生总数和活动后，下一次运行即生效",
            path.display()
        )?;
    }
    Ok(EXIT_OK)
}
