//! `dangan archive --year Y [--out FILE]`: build the year-end BagIt zip, verify it entry by
//! entry, rename it into place and record it in the catalog for later fixity audits.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::{Common, EXIT_OK, Session, steps};
use crate::archive_dir::{OBJECTS, REPORT};
use crate::bag::plan;
use crate::output::CsvEncoding;

#[derive(Args)]
pub struct ArchiveArgs {
    /// 年度：该年活动的全部在档文件，加上该年的未归类文件
    #[arg(long)]
    pub year: i32,
    /// 输出文件（默认 archive/<机构名称>-<年度>-职业教育活动周档案.zip）
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(common: &Common, args: &ArchiveArgs) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    // A year with no activity and no file is a typo, not an empty archive: said before
    // anything is written.
    let year = args.year;
    let years = plan::activity_years(&cfg);
    if !years.contains(&year) {
        let has_files = Session::open_read_only(common, crate::catalog::Which::Latest)?
            .is_some_and(|s| plan::any_dated_in(&s.files, year));
        if !has_files {
            anyhow::bail!(
                "{year} 年没有活动（配置中的活动在 {} 年），目录里也没有 {year} 年的文件：没有生成档案。请检查 --year",
                years
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join("、")
            );
        }
    }
    let archive = common.archive_dir();
    let _lock = crate::lock::RunLock::acquire(&archive, "archive", cfg.utc_offset)?;
    let epoch = super::epoch();
    // The statistics, the materials check and the report inside the bag are made from the
    // catalog as it is now, on both cores: the counting (and the materials check) on a thread
    // of its own while the report's rows and the year's plan are made here, then the forms on a
    // thread while the report's pages are written here. Each thread has its own connection.
    let mut session = Session::open(common)?;
    let run_starts = session.catalog.run_starts().context(super::READ_CATALOG)?;
    let judged = (&session.cfg, &session.corrections, &session.files[..]);
    let joined = |what: &str| anyhow::anyhow!("{what}的线程异常退出");
    let archive = &archive;
    let (year, out, _staging) = std::thread::scope(|scope| {
        let counted = scope.spawn(|| {
            super::on_reader(archive, judged, |view| {
                let (tally, mut stats_files) =
                    steps::write_stats(common, view, CsvEncoding::Utf8Bom)?;
                let (check, check_csv) =
                    steps::write_materials(common, view, CsvEncoding::Utf8Bom)?;
                stats_files.push(check_csv);
                Ok((tally, check, stats_files))
            })
        });
        // The report's rows, made once for the forms and the report inside the bag.
        let sources = session.report_sources()?;
        // The generated entries (文件索引.csv, the report's pages) are written here and streamed
        // into the bag like the store's objects; the folder goes when the command ends, and one
        // a killed run left is removed now (we hold the lock).
        archive.remove_stale_bag_staging();
        let staging = archive
            .new_bag_staging()
            .with_context(|| format!("无法在 {} 中创建临时文件夹", common.archive.display()))?;
        let mut year = plan::plan_year(
            &session.cfg,
            &session.files,
            &run_starts,
            &archive.objects_dir(),
            args.year,
            epoch,
            staging.path(),
        )?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| common.archive.join(format!("{}.zip", year.plan.bag_name)));
        // An object already known to be damaged or missing stops the archive before it is
        // written.
        let damaged: Vec<_> = session
            .catalog
            .damaged_objects()
            .context(super::READ_CATALOG)?
            .into_iter()
            .filter(|d| year.in_bag.contains_key(&d.sha256.hex()))
            .collect();
        if !damaged.is_empty() {
            anyhow::bail!(
                "没有生成 {}：{} 年要归档的文件中有 {} 个在存档里已损坏或丢失\n{}",
                out.display(),
                args.year,
                damaged.len(),
                damage_lines(common, &cfg, &damaged)
            );
        }
        // The bag's thumbnails (made where missing) before the forms' few are looked up beside
        // the pages, so that one thread at a time writes into the cache.
        let thumbs = crate::report::make_bag_thumbs(archive, &sources, &year.in_bag)
            .context("无法生成缩略图")?;
        let (tally, check, stats_files) = counted.join().map_err(|_| joined("统计"))??;
        // The submissions (附件4, the 工作总结报告) go into data/统计/ with the statistics.
        let (report, forms) = std::thread::scope(|beside| {
            let forms = beside.spawn(|| {
                super::on_reader(archive, judged, |view| {
                    steps::write_forms(common, view, &sources, &tally, &check)
                })
            });
            let report = crate::report::render_for_bag(
                archive,
                &sources,
                &session.cfg,
                &tally,
                &check,
                epoch,
                // Not needed past the pages (8 MB at 40 000 files).
                std::mem::take(&mut year.in_bag),
                thumbs,
                &staging.path().join(REPORT),
            )
            .context("生成档案内的报告失败");
            (report, forms.join().map_err(|_| joined("表格")))
        });
        let forms = forms??;
        year.add_files(REPORT, report?)?;
        year.add_stats(
            stats_files
                .into_iter()
                .chain(forms.files)
                .map(|f| (f.name, f.bytes))
                .collect(),
        );
        anyhow::Ok((year, out, staging))
    })?;
    // The judged files are not needed past here (at 40 000 files they were 120 MB of the
    // peak), nor the report's rows (65 MB), while the bag is written and read back.
    drop(std::mem::take(&mut session.files));
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("无法创建 {}", dir.display()))?;
        let _ = crate::bag::remove_stale_temp_files(dir);
    }
    let written = match crate::bag::write_bag(&year.plan, &out) {
        Ok(w) => w,
        Err(e) => {
            // Damage met while copying: recorded (for the next import to heal) and named.
            if let Some((sha, state)) = damaged_object_of(&e) {
                session
                    .catalog
                    .record_object_state(&sha, state, "archive", epoch)
                    .context("无法在目录中记录损坏的对象")?;
                let found: Vec<_> = session
                    .catalog
                    .damaged_objects()
                    .context(super::READ_CATALOG)?
                    .into_iter()
                    .filter(|d| d.sha256 == sha)
                    .collect();
                anyhow::bail!(
                    "没有生成 {}：{e}\n{}",
                    out.display(),
                    damage_lines(common, &cfg, &found)
                );
            }
            return Err(anyhow::Error::new(e).context(format!("没有生成 {}", out.display())));
        }
    };
    let absolute = std::fs::canonicalize(&written.path).unwrap_or(written.path.clone());
    let sha = crate::model::Sha256::parse_hex(&written.sha256).context("档案的 SHA-256 无效")?;
    session
        .catalog
        .record_archive(
            args.year,
            &absolute.display().to_string(),
            written.size,
            &sha,
        )
        .context("无法在目录中记录档案")?;
    let mut stdout = std::io::stdout().lock();
    if common.json {
        writeln!(
            stdout,
            "{}",
            serde_json::json!({
                "path": written.path.display().to_string(),
                "size": written.size,
                "sha256": written.sha256,
                "payload_files": written.payload_files,
                "payload_bytes": written.payload_bytes,
                "evidence_files": year.evidence,
                "withdrawn_files": year.withdrawn,
            })
        )?;
    } else if !common.quiet {
        writeln!(
            stdout,
            "已生成并逐项校验 {}：{} 个在档文件（另有 {} 个已撤回文件只列在文件索引中），共 {} 个载荷文件，{}；SHA-256 {}",
            written.path.display(),
            year.evidence,
            year.withdrawn,
            written.payload_files,
            super::human_bytes(written.size),
            written.sha256
        )?;
    }
    Ok(EXIT_OK)
}

fn damage_lines(
    common: &Common,
    cfg: &crate::config::Config,
    damaged: &[crate::catalog::DamagedObject],
) -> String {
    damaged
        .iter()
        .flat_map(|d| crate::audit::describe(d, &common.inbox, cfg.utc_offset))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The store object a bag error is about, when it is one: bytes that do not match their name,
/// or an object that cannot be read.
fn damaged_object_of(
    e: &crate::bag::BagError,
) -> Option<(crate::model::Sha256, crate::catalog::ObjectState)> {
    use crate::bag::BagError;
    use crate::catalog::ObjectState;
    let (path, state) = match e {
        BagError::DigestMismatch { source_desc, .. }
        | BagError::SizeMismatch { source_desc, .. } => {
            (std::path::PathBuf::from(source_desc), ObjectState::Damaged)
        }
        BagError::ReadSource {
            source_path,
            source,
            ..
        } => (
            source_path.clone(),
            if source.kind() == std::io::ErrorKind::NotFound {
                ObjectState::Missing
            } else {
                ObjectState::Damaged
            },
        ),
        _ => return None,
    };
    let in_store = path
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name())
        .is_some_and(|n| n == OBJECTS);
    let sha = crate::model::Sha256::parse_hex(path.file_name()?.to_str()?)?;
    in_store.then_some((sha, state))
}
