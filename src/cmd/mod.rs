//! One file per command, each a thin composition of the library's stages.

pub mod archive;
pub mod check;
pub mod import;
pub mod init;
pub mod list;
pub mod nightly;
pub mod report;
pub mod rollup;
pub mod stats;
pub mod status;
pub mod verify;

use anyhow::Context;

use crate::cli::Common;
use crate::config::Config;

/// The configuration the common flags point to.
pub fn load_config(common: &Common) -> anyhow::Result<Config> {
    Config::load(common.config.as_deref()).context("读取配置失败")
}

/// Human-readable bytes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The time stamped into outputs: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub fn epoch() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp())
}
