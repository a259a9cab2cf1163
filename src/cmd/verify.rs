//! `dangan verify [FILE.zip]`: re-check a year-end zip (structure, every entry's CRC-32 and
//! SHA-256 against the manifests, Payload-Oxum, nothing missing or extra). Without an argument,
//! every archive the catalog recorded: a fixity audit of earlier years.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{Common, EXIT_FAILED, EXIT_OK};
use crate::catalog::Catalog;

#[derive(Args)]
pub struct VerifyArgs {
    /// 要校验的 zip；省略则校验目录中记录的全部年度档案
    pub file: Option<PathBuf>,
    /// 重新计算存档里每个对象（原文件副本）的 SHA-256，列出损坏或丢失的对象及其收件箱路径
    #[arg(long, conflicts_with = "file")]
    pub store: bool,
}

pub fn run(common: &Common, args: &VerifyArgs) -> anyhow::Result<i32> {
    if args.store {
        return verify_store(common);
    }
    let mut out = std::io::stdout().lock();
    let mut failed = 0;
    let mut results = Vec::new();
    let targets: Vec<(PathBuf, Option<(u64, String)>)> = match &args.file {
        Some(f) => vec![(f.clone(), None)],
        None => {
            let Some(catalog) =
                Catalog::open_read_only(&common.archive_dir()).context(super::OPEN_CATALOG)?
            else {
                writeln!(out, "目录中没有记录任何年度档案")?;
                return Ok(EXIT_OK);
            };
            let rows: Vec<(PathBuf, Option<(u64, String)>)> = catalog
                .archives()
                .context(super::READ_CATALOG)?
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
                    Err(e) => problems.push(format!(
                        "无法读取：{}",
                        crate::human_error::io_reason(&e)
                    )),
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

/// `verify --store`: re-hashes every object of the store (one page of names in memory at a
/// time), records what it finds in the catalog when the archive is writable, and names every
/// damaged or missing object with its inbox paths and what to do.
fn verify_store(common: &Common) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let mut out = std::io::stdout().lock();
    let Some(read_only) =
        Catalog::open_read_only(&common.archive_dir()).context(super::OPEN_CATALOG)?
    else {
        writeln!(
            out,
            "存档 {} 里还没有目录：没有可核查的对象",
            common.archive.display()
        )?;
        return Ok(EXIT_OK);
    };
    // Writable when the archive is: the findings are kept for the next import to heal. (A
    // read-only copy or mount is audited all the same; nothing is recorded.)
    let can_write = |p: &std::path::Path| {
        use std::os::unix::ffi::OsStrExt;
        std::ffi::CString::new(p.as_os_str().as_bytes())
            // SAFETY: access only reads the NUL-terminated path it is given.
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0)
    };
    let archive = common.archive_dir();
    let writable = (can_write(archive.root()) && can_write(&archive.catalog_path()))
        .then(|| Catalog::open(&archive).ok())
        .flatten();
    let record = writable.is_some();
    let catalog = writable.as_ref().unwrap_or(&read_only);
    let (total, _) = catalog.object_totals().context(super::READ_CATALOG)?;
    let mut progress = crate::progress::Progress::new(total, common.quiet || common.json);
    let mut shown = 0;
    let audit = crate::audit::audit(
        catalog,
        &archive.objects_dir(),
        crate::audit::Scope::All,
        "verify",
        super::epoch(),
        record,
        &mut |done, _| {
            progress.inc(done - shown);
            shown = done;
        },
    )
    .context("核查存档对象失败")?;
    progress.finish();
    // Recorded findings (with their first finder), or this run's when nothing can be recorded.
    let damaged: Vec<crate::catalog::DamagedObject> = if record {
        catalog.damaged_objects().context(super::READ_CATALOG)?
    } else {
        audit
            .found
            .iter()
            .map(|(sha, state, _)| {
                Ok(crate::catalog::DamagedObject {
                    sha256: *sha,
                    size: 0,
                    state: *state,
                    found_by: "verify".into(),
                    found_at: super::epoch(),
                    paths: catalog.paths_holding(sha)?,
                })
            })
            .collect::<Result<_, crate::catalog::CatalogError>>()
            .context(super::READ_CATALOG)?
    };
    if common.json {
        let v = serde_json::json!({
            "objects": audit.total,
            "bytes": audit.total_bytes,
            "checked": audit.checked,
            "bytes_read": audit.bytes,
            "seconds": audit.seconds,
            "damaged": damaged.iter().map(|d| serde_json::json!({
                "sha256": d.sha256.hex(),
                "state": d.state.as_str(),
                "paths": d.paths.iter().map(|h| h.path.display()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        writeln!(out, "{v}")?;
    } else {
        for d in &damaged {
            for line in crate::audit::describe(d, &common.inbox, cfg.utc_offset) {
                writeln!(out, "{line}")?;
            }
        }
        if damaged.is_empty() {
            if !common.quiet {
                writeln!(
                    out,
                    "存档对象全部完好：重新核对了 {} 个对象（{}），用时 {:.1} 秒",
                    audit.checked,
                    super::human_bytes(audit.bytes),
                    audit.seconds
                )?;
            }
        } else {
            writeln!(
                out,
                "存档对象有 {} 个损坏或丢失（共核对 {} 个）{}",
                damaged.len(),
                audit.checked,
                if record {
                    ""
                } else {
                    "；存档只读，结果没有记入目录：要自动修复，请在可写的存档上再运行一次 dangan verify --store"
                }
            )?;
        }
    }
    Ok(if damaged.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}
