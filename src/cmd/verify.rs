//! `dangan verify [FILE.zip]`: re-check a year-end zip (structure, every entry's CRC-32 and
//! SHA-256 against the manifests, Payload-Oxum, nothing missing or extra). Without an argument,
//! every archive the catalog recorded: a fixity audit of earlier years.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::catalog::Catalog;
use crate::cli::{Common, EXIT_FAILED, EXIT_OK};

#[derive(Args)]
pub struct VerifyArgs {
    /// 要校验的 zip；省略则校验目录中记录的全部年度档案
    pub file: Option<PathBuf>,
}

pub fn run(common: &Common, args: &VerifyArgs) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    let mut results = Vec::new();
    let targets: Vec<(PathBuf, Option<(u64, String)>)> = match &args.file {
        Some(f) => vec![(f.clone(), None)],
        None => {
            let Some(catalog) =
                Catalog::open_read_only(&common.archive).context("无法打开目录数据库")?
            else {
                writeln!(out, "目录中没有记录任何年度档案")?;
                return Ok(EXIT_OK);
            };
            let rows: Vec<(PathBuf, Option<(u64, String)>)> = catalog
                .archives()
                .context("读取目录失败")?
                .into_iter()
                .map(|a| {
                    (
                        PathBuf::from(a.path),
                        Some((a.size, a.sha256.map(|s| s.hex()).unwrap_or_default())),
                    )
                })
                .collect();
            // The latest record of each path.
            let mut latest: Vec<(PathBuf, Option<(u64, String)>)> = Vec::new();
            for r in rows {
                latest.retain(|(p, _)| *p != r.0);
                latest.push(r);
            }
            if latest.is_empty() && !common.json {
                writeln!(out, "目录中没有记录任何年度档案")?;
            }
            latest
        }
    };
    for (path, recorded) in targets {
        let mut problems: Vec<String> = Vec::new();
        if !path.exists() {
            problems.push("文件不见了".into());
        } else {
            // One reading of the zip gives the entries' check and, for a recorded zip, its digest.
            let (report, whole) = match &recorded {
                Some(_) => {
                    let (r, w) = crate::bag::verify_zip_with_digest(&path);
                    (r, Some(w))
                }
                None => (crate::bag::verify_zip(&path), None),
            };
            if let (Some((size, sha)), Some(whole)) = (&recorded, whole) {
                match whole {
                    Ok((got, got_size)) if got == *sha && got_size == *size => {}
                    Ok((got, got_size)) => problems.push(format!(
                        "与生成时记录的不同：大小 {got_size}（记录 {size}），SHA-256 {got}（记录 {sha}）"
                    )),
                    Err(e) => problems.push(format!("无法读取：{e}")),
                }
            }
            problems.extend(
                report
                    .problems
                    .iter()
                    .map(|p| format!("{}：{}", p.entry, p.reason)),
            );
        }
        if !problems.is_empty() {
            failed += 1;
        }
        results.push((path, problems));
    }
    if common.json {
        let v: Vec<_> = results
            .iter()
            .map(|(p, probs)| serde_json::json!({"path": p.display().to_string(), "ok": probs.is_empty(), "problems": probs}))
            .collect();
        writeln!(out, "{}", serde_json::Value::Array(v))?;
    } else {
        for (path, problems) in &results {
            if problems.is_empty() {
                if !common.quiet {
                    writeln!(out, "完好：{}", path.display())?;
                }
            } else {
                writeln!(out, "损坏：{}（{} 处问题）", path.display(), problems.len())?;
                for p in problems {
                    writeln!(out, "  {p}")?;
                }
            }
        }
    }
    Ok(if failed > 0 { EXIT_FAILED } else { EXIT_OK })
}
