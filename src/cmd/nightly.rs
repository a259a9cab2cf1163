//! `dangan nightly`: import + stats + materials check + report + forms — the cron job. Ends with one
//! summary line for the log; exit status 0 done, 3 done but something was rejected, 1 failed.
//!
//! The run lock is taken once, before the import, and held to the end.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;

use super::steps::{self, print_healing, print_rejections};
use super::{Common, Session};
use crate::catalog::Catalog;
use crate::output::CsvEncoding;
use crate::text::escape_controls;

/// How many 注意 lines the nightly log shows before its summary line.
const NOTES_SHOWN: usize = 5;

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let started = Instant::now();
    let cfg = super::load_config(common)?;
    // A missing inbox is said before anything is created (no empty archive/ left behind).
    if !common.inbox.is_dir() {
        anyhow::bail!(
            "找不到收件箱文件夹 {}：请检查 --inbox，或在运行 dangan 的文件夹里建好 inbox/",
            common.inbox.display()
        );
    }
    let archive = common.archive_dir();
    let _lock = crate::lock::RunLock::acquire(&archive, "nightly", cfg.utc_offset)?;
    // Holding the lock, no other run is writing a bag: a temp zip here is a killed archive's.
    let _ = crate::bag::remove_stale_temp_files(archive.root());
    let imported = steps::import(common, false, false)?;
    let (cfg_offset, epoch) = (cfg.utc_offset, super::epoch());
    let joined = |what: &str| anyhow::anyhow!("{what}的线程异常退出");
    let archive = &archive;
    // The store's rolling audit (a share of the objects re-hashed every night, mostly waiting
    // on the disk) starts as soon as the import is done, on a connection of its own: it needs
    // no judgement, and the judging below keeps one core busy while it reads.
    let (audit, tally, check, report, damaged, forms) = std::thread::scope(|outer| {
        let audit = outer.spawn(|| {
            let catalog = Catalog::open(archive).context(super::OPEN_CATALOG)?;
            crate::audit::audit(
                &catalog,
                &archive.objects_dir(),
                crate::audit::Scope::nightly_from_env(),
                "nightly",
                epoch,
                true,
                &mut |_, _| {},
            )
            .context("核查存档对象失败")
        });
        let session = Session::open(common)?;
        let judged = (&session.cfg, &session.corrections, &session.files[..]);
        // The outputs are made on both cores: the counting (and the materials check) on a
        // thread of its own while the report's rows and thumbnails are made here, then the
        // forms on a thread while the report's pages are made here. Each thread has its own
        // connection to the catalog.
        std::thread::scope(|scope| {
            let counted = scope.spawn(|| {
                super::on_reader(archive, judged, |view| {
                    let (tally, _) = steps::write_stats(common, view, CsvEncoding::Utf8Bom)?;
                    let (check, _) = steps::write_materials(common, view, CsvEncoding::Utf8Bom)?;
                    Ok((tally, check))
                })
            });
            // The originals tree as the catalog wants it: planned and brought in step on its
            // own thread (it mostly waits for the listings of its folders and the store's),
            // which sends the report's links to it first.
            let (links_to, links) = std::sync::mpsc::channel();
            let sync = scope.spawn(move || {
                let placed = crate::originals::plan(judged.2);
                let _ = links_to.send(crate::originals::links(&placed));
                crate::originals::sync(archive, &placed)
            });
            // The thumbnail cache's listing (a cold folder of 40 000 names at a year's scale),
            // read while the rows are made.
            let listing =
                scope.spawn(|| crate::report::thumbs::Listing::read(&archive.thumbs_dir()));
            // The report's rows, made once for the report and the forms.
            let mut sources = session.report_sources()?;
            // Empty only when that thread failed, which its join below reports.
            sources.originals = links.recv().unwrap_or_default();
            let listing = listing.join().map_err(|_| joined("缩略图"))?;
            let thumbs = crate::report::make_thumbs_listed(archive, &sources.files, listing)
                .context("无法生成缩略图")?;
            let (tally, check) = counted.join().map_err(|_| joined("统计"))??;
            // The forms (which read no page and write nothing to the catalog) are made beside
            // the report's pages and the catalog's backup.
            let (audit, report, damaged, forms) = std::thread::scope(|beside| {
                let forms = beside.spawn(|| {
                    super::on_reader(archive, judged, |view| {
                        steps::write_forms(common, view, &sources, &tally, &check)
                    })
                });
                let report =
                    steps::render_report(common, &session, &sources, &tally, &check, Some(thumbs));
                let synced = steps::joined_sync(sync.join());
                let report =
                    steps::after_sync(common, &session, &sources, &tally, &check, synced, report)?;
                let audit = audit.join().map_err(|_| joined("核查"))??;
                // What the audit (and the report's links) found, with what earlier nights
                // found unhealed.
                let damaged = session
                    .catalog
                    .damaged_objects()
                    .context(super::READ_CATALOG)?;
                // After a night whose catalog work went through: an online copy of the
                // catalog, the last 7 kept.
                session
                    .catalog
                    .back_up(archive, epoch, cfg_offset)
                    .context("无法备份目录数据库")?;
                let forms = forms.join().map_err(|_| joined("表格"))??;
                anyhow::Ok((audit, report, damaged, forms))
            })?;
            anyhow::Ok((audit, tally, check, report, damaged, forms))
        })
    })?;
    let seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;

    let mut out = std::io::stdout().lock();
    if common.json {
        let mut v = crate::import::summary_json(&imported);
        if let Some(o) = v.as_object_mut() {
            o.insert("seconds".into(), seconds.into());
            o.insert("owed".into(), check.owed().into());
            o.insert("not_due".into(), check.not_due().into());
            o.insert("unassigned".into(), check.unassigned.into());
            o.insert("notes".into(), tally.warnings.len().into());
            o.insert("report".into(), steps::report_json(&report));
            o.insert("forms".into(), steps::forms_json(&forms));
            o.insert("audited".into(), audit.checked.into());
            o.insert("damaged".into(), damaged.len().into());
        }
        writeln!(out, "{v}")?;
    } else if !common.quiet {
        print_rejections(&mut out, &imported)?;
        print_healing(&mut out, &imported)?;
        for d in &damaged {
            for line in crate::audit::describe(d, &common.inbox, cfg.utc_offset) {
                writeln!(out, "{line}")?;
            }
        }
        if let Some(note) = steps::contact_note(&forms) {
            writeln!(out, "{note}")?;
        }
        // The statistics' 注意 lines: the first few here, all of them in the report.
        for w in tally.warnings.iter().take(NOTES_SHOWN) {
            writeln!(out, "注意：{}", escape_controls(w))?;
        }
        if tally.warnings.len() > NOTES_SHOWN {
            writeln!(
                out,
                "注意：另有 {} 条，全部见报告的“注意”部分（或运行 dangan stats）",
                tally.warnings.len() - NOTES_SHOWN
            )?;
        }
        writeln!(
            out,
            "dangan nightly: {}新增 {} 变更 {} 未变 {} 撤回 {} 拒收 {} 有问题 {} 坏行 {} · 注意 {} 条 · 欠交材料 {} 项（未到期 {} 项，未归类文件 {} 个）· 缩略图新建 {} · 报告 {} · {} · 用时 {:.1} 秒",
            if damaged.is_empty() {
                String::new()
            } else {
                format!("失败：存档对象损坏或丢失 {} 个（见上） · ", damaged.len())
            },
            imported.new,
            imported.changed,
            imported.unchanged,
            imported.withdrawn,
            imported.rejected,
            imported.problems,
            imported.rejected_rows,
            tally.warnings.len(),
            check.owed(),
            check.not_due(),
            check.unassigned,
            report.thumbs_made,
            report.index.display(),
            audit_words(&audit, imported.healed.len()),
            seconds
        )?;
    }
    if !damaged.is_empty() {
        return Ok(super::EXIT_FAILED);
    }
    Ok(steps::import_exit_code(&imported))
}

/// `核查对象 3/70（已修复 1）`: what the night's audit re-read, and what the import healed.
fn audit_words(a: &crate::audit::Audit, healed: usize) -> String {
    let mut s = format!("核查对象 {}/{}", a.checked, a.total);
    if a.out_of_time {
        s.push_str("（到时间上限，明晚继续）");
    }
    if healed > 0 {
        s.push_str(&format!("（修复 {healed} 个）"));
    }
    s
}
