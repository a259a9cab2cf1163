//! The steps more than one command takes: the import, and each output written from a
//! [`Session`] (the statistics, the materials check, the report, the forms). A command composes
//! these and prints; no command calls another command's file. The files a step writes into
//! `archive/统计/` come back with their bytes, which the year's bag carries as they are.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Common, EXIT_OK, EXIT_REJECTED, Session, View};
use crate::archive_dir::ArchiveDir;
use crate::forms::{self, FormsInput, docx::Photo};
use crate::import::{ImportOptions, ImportSummary, run_import};
use crate::materials::{self, CHECK_CSV, CheckResult};
use crate::output::{self, CsvEncoding};
use crate::report::{FileRow, ReportSummary, Sources, thumbs::Thumb};
use crate::tally::Tally;
use crate::text::escape_controls;

/// A file a step wrote into `archive/统计/`: its name there, its path and its bytes.
#[derive(Debug, Clone)]
pub struct StatsFile {
    pub name: &'static str,
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

/// Writes `(name, bytes)` into `dir` and keeps the bytes.
fn write_stats_files(
    dir: &Path,
    files: Vec<(&'static str, Vec<u8>)>,
) -> Result<Vec<StatsFile>, output::OutputError> {
    let paths = output::write_files(dir, &files)?;
    Ok(paths
        .into_iter()
        .zip(files)
        .map(|(path, (name, bytes))| StatsFile { name, path, bytes })
        .collect())
}

/// The import itself, for `import` and `nightly` (which holds the run lock already).
pub fn import(common: &Common, dry_run: bool, take_lock: bool) -> anyhow::Result<ImportSummary> {
    let cfg = super::load_config(common)?;
    let corrections = super::load_corrections(common, &cfg)?;
    let archive = common.archive_dir();
    let opts = ImportOptions {
        inbox: &common.inbox,
        archive: &archive,
        dry_run,
        quiet: common.quiet || common.json,
        now: super::epoch(),
        corrections: &corrections,
        exe: std::env::current_exe().ok(),
        take_lock,
    };
    Ok(run_import(&cfg, &opts)?)
}

pub fn import_exit_code(s: &ImportSummary) -> i32 {
    if s.rejected > 0 || s.rejected_rows > 0 {
        EXIT_REJECTED
    } else {
        EXIT_OK
    }
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

/// Tallies the judged catalog and writes the statistics files and 待归类.xlsx into `统计/`;
/// returns the tally and the files.
pub fn write_stats(
    common: &Common,
    session: &View,
    enc: CsvEncoding,
) -> anyhow::Result<(Tally, Vec<StatsFile>)> {
    let tally = session.tally()?;
    let dir = common.archive_dir().stats_dir();
    let epoch = super::epoch();
    let fill = output::xlsx::fill_line(&session.cfg.institution, &session.cfg.contact);
    let mut files = output::stats_files(&tally, enc, epoch, &fill)
        .and_then(|stats| write_stats_files(&dir, stats))
        .with_context(|| format!("无法写入 {}", dir.display()))?;
    let pending = crate::classify::pending_rows(session.files, session.corrections);
    let activities: Vec<String> = session
        .cfg
        .activities
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let bytes =
        crate::corrections::pending_xlsx(&pending, &activities, &session.cfg.departments(), epoch)
            .context("无法生成待归类.xlsx")?;
    files.extend(write_stats_files(
        &dir,
        vec![(crate::corrections::PENDING_XLSX, bytes)],
    )?);
    Ok((tally, files))
}

/// Checks the catalog against the activity catalog as of the epoch's day and writes
/// 材料检查.csv into `统计/`.
pub fn write_materials(
    common: &Common,
    session: &View,
    enc: CsvEncoding,
) -> anyhow::Result<(CheckResult, StatsFile)> {
    let result = session.materials(session.today());
    let dir = common.archive_dir().stats_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
    let path = dir.join(CHECK_CSV);
    let bytes = materials::check_csv(&result, enc);
    output::write_if_changed(&path, &bytes)?;
    Ok((
        result,
        StatsFile {
            name: CHECK_CSV,
            path,
            bytes,
        },
    ))
}

/// The originals tree as the catalog wants it (`按活动/`, each counted file under its own
/// name), its links set in `sources` for the pages: for [`write_report`].
pub fn place_originals(session: &Session, sources: &mut Sources) -> Vec<crate::originals::Placed> {
    let placed = crate::originals::plan(&session.files);
    sources.originals = crate::originals::links(&placed);
    placed
}

/// Writes the report (for `report`) from the report's rows (`Session::report_sources`), a
/// tally and a check, and the originals tree `placed` ([`place_originals`], whose links
/// `sources` holds), which is brought in step here while the pages are made. `nightly` takes
/// the two halves, [`render_report`] and [`after_sync`], with the tree on a thread of its own.
pub fn write_report(
    common: &Common,
    session: &Session,
    sources: &Sources,
    placed: &[crate::originals::Placed],
    tally: &Tally,
    check: &CheckResult,
) -> anyhow::Result<ReportSummary> {
    // The originals under their own names, kept in step with the catalog; the pages link there.
    // The tree is brought in step on another thread while the pages are made (both mostly wait
    // for folder listings: the tree's, the store's, the thumbnails'), the links taken from the
    // plan; where the tree cannot be updated at all, the pages are made again, linked to the
    // copies in objects/.
    let archive = common.archive_dir();
    let (synced, report) = std::thread::scope(|scope| {
        let sync = scope.spawn(|| crate::originals::sync(&archive, placed));
        let report = render_report(common, session, sources, tally, check, None);
        (joined_sync(sync.join()), report)
    });
    after_sync(common, session, sources, tally, check, synced, report)
}

/// The report's pages from `sources` (links included), without touching the originals tree:
/// [`write_report`]'s first half, for `nightly`, which brings the tree in step on a thread of
/// its own from the start of its run.
pub fn render_report(
    common: &Common,
    session: &Session,
    sources: &Sources,
    tally: &Tally,
    check: &CheckResult,
    thumbs: Option<crate::report::Thumbs>,
) -> anyhow::Result<ReportSummary> {
    crate::report::write_report_with(
        &common.archive_dir(),
        sources,
        &session.cfg,
        tally,
        check,
        super::epoch(),
        thumbs,
    )
    .context("写报告失败")
}

/// What a thread bringing the originals tree in step ended with.
pub fn joined_sync(
    joined: std::thread::Result<std::io::Result<crate::originals::Synced>>,
) -> std::io::Result<crate::originals::Synced> {
    joined.unwrap_or_else(|_| Err(std::io::Error::other("更新原文件目录的线程异常退出")))
}

/// [`write_report`]'s second half, once the tree is in step (`synced`) and the pages made
/// (`report`): the objects the tree found missing are recorded; where the tree could not be
/// updated at all, the pages are made again, linked to the copies in objects/.
pub fn after_sync(
    common: &Common,
    session: &Session,
    sources: &Sources,
    tally: &Tally,
    check: &CheckResult,
    synced: std::io::Result<crate::originals::Synced>,
    report: anyhow::Result<ReportSummary>,
) -> anyhow::Result<ReportSummary> {
    match synced {
        Ok(synced) => {
            // An object not there to link is missing from the store: kept for the next
            // import to heal, and named by every command until then.
            for sha in synced
                .missing
                .iter()
                .filter_map(|s| crate::model::Sha256::parse_hex(s))
            {
                session
                    .catalog
                    .record_object_state(
                        &sha,
                        crate::catalog::ObjectState::Missing,
                        "report",
                        super::epoch(),
                    )
                    .context("无法在目录中记录丢失的对象")?;
            }
            report
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "注意：无法更新 {}：{e}（报告暂时链接到 objects/ 里的副本）",
                common.archive_dir().originals_dir().display()
            );
            let linked_to_objects = Sources {
                originals: Default::default(),
                ..sources.clone()
            };
            render_report(common, session, &linked_to_objects, tally, check, None)
        }
    }
}

pub fn report_json(s: &ReportSummary) -> serde_json::Value {
    serde_json::json!({
        "index": s.index.display().to_string(),
        "pages": s.pages,
        "pages_written": s.pages_written,
        "thumbs_made": s.thumbs_made,
        "thumbs_cached": s.thumbs_cached,
        "placeholders": s.placeholders,
    })
}

/// What [`write_forms`] did.
#[derive(Debug, Clone)]
pub struct FormsSummary {
    pub files: Vec<StatsFile>,
    /// `[contact]` fields left empty, by the forms' labels.
    pub empty_contact: Vec<&'static str>,
    pub plan_chars: usize,
    pub featured_chars: usize,
    pub featured: Vec<String>,
    pub photos: usize,
    /// Days of the week without evidence (`5月11日（周日）`).
    pub empty_days: Vec<String>,
}

/// A cached thumbnail as PNG (docx-rs embeds PNG), with its size.
fn thumb_png(archive: &ArchiveDir, f: &FileRow) -> Option<Photo> {
    let path = crate::report::thumbs::thumb_path(&archive.thumbs_dir(), &f.sha256);
    let bytes = std::fs::read(path).ok()?;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).ok()?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(Photo {
        png,
        width: img.width(),
        height: img.height(),
        caption: format!(
            "{} {}",
            f.date.as_deref().unwrap_or(crate::model::NO_DATE),
            f.file_name
        ),
    })
}

/// Two or three photos for each featured activity, from the thumbnail cache (made where
/// missing), never the originals.
fn case_photos(
    archive: &ArchiveDir,
    files: &[FileRow],
    input: &FormsInput,
) -> anyhow::Result<BTreeMap<String, Vec<Photo>>> {
    // Each activity's first candidates, their thumbnails made (or found) in one pass, each
    // looked up in the cache rather than found in a listing of it (40 000 names at a year's
    // scale).
    let candidates: Vec<(String, Vec<&FileRow>)> = input
        .featured()
        .into_iter()
        .map(|a| {
            let mut c = forms::photo_candidates(files, &a.name);
            c.truncate(forms::CASE_PHOTOS * 4);
            (a.name.clone(), c)
        })
        .collect();
    let rows: Vec<FileRow> = candidates
        .iter()
        .flat_map(|(_, c)| c.iter().map(|f| (*f).clone()))
        .collect();
    let (thumbs, _) = crate::report::make_few_thumbs(archive, &rows).context("无法生成缩略图")?;
    let mut out = BTreeMap::new();
    for (name, candidates) in candidates {
        let chosen: Vec<Photo> = candidates
            .into_iter()
            .filter(|f| matches!(thumbs.get(&f.sha256), Some(Thumb::Image)))
            .filter_map(|f| thumb_png(archive, f))
            .take(forms::CASE_PHOTOS)
            .collect();
        out.insert(name, chosen);
    }
    Ok(out)
}

/// Gathers the forms' input from the judged view and the report's rows and writes the three
/// files into 统计/.
pub fn write_forms(
    common: &Common,
    session: &View,
    sources: &Sources,
    tally: &Tally,
    check: &CheckResult,
) -> anyhow::Result<FormsSummary> {
    let media = session.media_facts()?;
    // Only 总结 with text to quote: a scan's "扫描件，无文字" is for the report, not the forms.
    let summaries: std::collections::BTreeMap<String, crate::report::Excerpt> = sources
        .summaries
        .iter()
        .filter(|(_, e)| e.note.is_none())
        .map(|(a, e)| (a.clone(), e.clone()))
        .collect();
    let input = forms::FormsInput::new(
        session.cfg,
        tally,
        check,
        session.files,
        &summaries,
        &media,
        session.today(),
    );
    let epoch = super::epoch();
    let plan = input.plan_text();
    let featured = input.featured_text();
    let archive = common.archive_dir();
    let photos = case_photos(&archive, &sources.files, &input)?;

    let dir = archive.stats_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
    let xlsx = forms::xlsx::info_xlsx(&input, &plan, &featured, epoch)
        .context("无法生成信息采集表.xlsx")?;
    let txt = forms::xlsx::info_txt(&input, &plan, &featured);
    let docx = forms::docx::report_docx(&input, &photos, epoch)?;
    let files = write_stats_files(
        &dir,
        vec![
            (forms::INFO_XLSX, xlsx),
            (forms::INFO_TXT, txt.into_bytes()),
            (forms::REPORT_DOCX, docx),
        ],
    )?;
    Ok(FormsSummary {
        files,
        empty_contact: input.contact.empty_fields(),
        plan_chars: plan.chars().count(),
        featured_chars: featured.chars().count(),
        featured: input.featured().iter().map(|a| a.name.clone()).collect(),
        photos: photos.values().map(Vec::len).sum(),
        empty_days: forms::week::empty_days(&input.days)
            .iter()
            .map(|d| d.label())
            .collect(),
    })
}

pub fn forms_json(s: &FormsSummary) -> serde_json::Value {
    serde_json::json!({
        "files": s.files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
        "empty_contact": s.empty_contact,
        "plan_chars": s.plan_chars,
        "featured_chars": s.featured_chars,
        "featured": s.featured,
        "photos": s.photos,
        "empty_days": s.empty_days,
    })
}

/// The line about empty `[contact]` fields, or `None` when all are filled.
pub fn contact_note(s: &FormsSummary) -> Option<String> {
    (!s.empty_contact.is_empty()).then(|| {
        format!(
            "注意：dangan.toml 的 [contact] 中未填写 {}，表格中这些格留空（填写后下一次运行即补上）",
            s.empty_contact.join("、")
        )
    })
}
