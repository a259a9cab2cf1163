//! The illustrated report (图文并茂): `archive/报告/index.html` with the 附件5 figures, what is
//! still owed and a card per activity; `activity-NN.html` per activity of the catalog (its photos
//! as a thumbnail grid by date, the start of its 总结, sign-in counts per department, its media
//! reports); `unassigned.html` (未归类) and `problems.html` (problems and rejections).
//!
//! Offline and self-contained: inline CSS, no script, no font, no URL to another host except the
//! links of the media reports themselves (the departments' own data, `http(s)` only, marked
//! `class="media-link"`). Every other link is relative and stays inside `archive/`: thumbnails
//! in `../thumbs/`, full files in `../objects/` (nothing is copied). Deterministic: the only date
//! on a page is the run's epoch (`SOURCE_DATE_EPOCH`). Everything from files is HTML-escaped.
//! Shows counts, never names of participants. Reads the catalog; writes only `archive/报告/`
//! and `archive/thumbs/`.

pub mod html;
pub mod thumbs;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::archive_dir::ArchiveDir;
use crate::config::Config;
use crate::materials::CheckResult;
use crate::output::OutputError;
use crate::tally::Tally;
use thumbs::{Made, Thumb, ThumbRequest};

/// Characters of a 总结 quoted on its activity's page.
pub const EXCERPT_CHARS: usize = 300;

/// One current, not withdrawn file, as the report shows it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub path: String,
    pub file_name: String,
    pub department: String,
    /// Its activities; empty: 未归类.
    pub activities: Vec<String>,
    pub kind: String,
    pub format: String,
    pub date: Option<String>,
    pub datetime: Option<String>,
    pub sha256: String,
    pub size: u64,
    pub orientation: Option<u16>,
    pub has_thumbnail: bool,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub problems: Vec<String>,
    /// A scan of a sign-in sheet: shown as such, not among the photos.
    pub scan: bool,
}

#[derive(Debug, Clone)]
pub struct MediaRow {
    /// The activities the report is of; empty: 未归类.
    pub activities: Vec<String>,
    pub department: String,
    pub title: String,
    pub outlet: String,
    pub level: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Excerpt {
    pub file_name: String,
    pub text: String,
    pub truncated: bool,
    /// A 总结 without text to quote: why (扫描件，无文字 for a PDF with no text layer).
    pub note: Option<&'static str>,
}

/// What the report says of a 总结 that is a PDF without a text layer.
pub const SCANNED_NOTE: &str = "扫描件，无文字";
/// …and of one whose text could not be read.
pub const NO_TEXT_NOTE: &str = "未能提取文字";

#[derive(Debug, Clone)]
pub struct RowProblem {
    pub path: String,
    pub sheet: String,
    pub row: i64,
    pub reason: String,
}

/// What the pages show of the catalog, as plain values ([`sources`] makes it from the judged
/// files and the catalog's rows).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<FileRow>,
    pub media: Vec<MediaRow>,
    /// activity → the start of its 总结.
    pub summaries: BTreeMap<String, Excerpt>,
    pub row_problems: Vec<RowProblem>,
    /// The last import's rejections (path, reason).
    pub rejections: Vec<(String, String)>,
    /// Where each file sits under its own name (inbox path as shown → path under
    /// `archive/`, see `originals`); empty: the pages link to the store's objects.
    pub originals: HashMap<String, String>,
}

/// Everything the pages show, gathered once.
pub struct ReportInput<'a> {
    pub cfg: &'a Config,
    pub tally: &'a Tally,
    pub check: &'a CheckResult,
    /// The day printed on the pages (from the epoch).
    pub date: String,
    /// The report's rows, borrowed (a copy of 40 000 rows was 30 MB of the nightly's peak);
    /// a bag's are those in the bag.
    pub files: std::borrow::Cow<'a, [FileRow]>,
    pub media: &'a [MediaRow],
    /// activity → the start of its 总结.
    pub summaries: &'a BTreeMap<String, Excerpt>,
    pub row_problems: &'a [RowProblem],
    /// The last import's rejections (path, reason).
    pub rejections: &'a [(String, String)],
    /// sha256 → what to show for it.
    pub thumbs: HashMap<String, Thumb>,
    /// Where the pages link to.
    pub links: Links<'a>,
}

/// How the pages link to full files and thumbnails.
#[derive(Debug, Clone, Default)]
pub enum Links<'a> {
    /// Pages in `archive/报告/`: `../objects/ab/<sha>` and `../thumbs/<sha>.jpg`.
    #[default]
    Archive,
    /// Pages in `archive/报告/` linking each file at its place in `archive/按活动/` (inbox path
    /// as shown → path under `archive/`), under its own name; `../objects/…` for the others.
    Originals { files: &'a HashMap<String, String> },
    /// Pages in a year-end bag's `data/报告/`: each file at its place in the bag (sha256 →
    /// path under `data/`), thumbnails copied into `data/报告/缩略图/`.
    Bag { files: HashMap<String, String> },
}

/// The thumbnails' folder inside a bag's `data/报告/`.
pub const BAG_THUMBS: &str = "缩略图";

/// What `write_report` did.
#[derive(Debug, Clone, Default)]
pub struct ReportSummary {
    pub index: PathBuf,
    pub pages: usize,
    /// Pages whose bytes changed (the others were left as they were).
    pub pages_written: usize,
    pub thumbs_made: u64,
    pub thumbs_cached: u64,
    pub placeholders: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("无法创建 {path}：{source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

/// The report's view of the counted files and their rows. Pure: the caller reads the catalog.
pub fn sources(
    files: &[crate::classify::ClassifiedFile],
    media: &[crate::classify::JudgedMedia<'_>],
    texts: &[crate::catalog::DocText],
    row_problems: &[crate::catalog::RowProblem],
    rejections: Vec<(String, String)>,
) -> Sources {
    let counted: HashMap<i64, &crate::classify::ClassifiedFile> = files
        .iter()
        .filter(|f| f.counts())
        .map(|f| (f.version.id, f))
        .collect();
    let mut rows: Vec<FileRow> = files
        .iter()
        .filter(|f| f.counts())
        .map(|f| {
            let v = &f.version.facts;
            let file_name = f.file_name();
            FileRow {
                path: v.path.shown(),
                scan: crate::materials::is_sign_in_scan(v.kind, &v.format, &file_name),
                file_name,
                department: f.judged.department.clone(),
                activities: f.judged.activities.clone(),
                kind: v.kind.as_str().to_string(),
                format: v.format.clone(),
                date: f.judged.day().map(|d| d.to_string()),
                datetime: f
                    .judged
                    .date
                    .as_ref()
                    .map(|c| crate::clock::iso_seconds(&c.when)),
                sha256: v.sha256.hex(),
                size: v.size,
                orientation: v.orientation,
                has_thumbnail: v.has_thumbnail,
                width: v.width,
                height: v.height,
                problems: f.problems(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    let media = media
        .iter()
        .map(|m| MediaRow {
            activities: m.activities.clone(),
            department: m.department.clone(),
            title: m.row.title.clone(),
            outlet: m.row.outlet.clone(),
            level: m.row.level.clone(),
            date: m.date.map(|d| d.to_string()),
            url: m.row.url.clone(),
        })
        .collect();
    // The start of each activity's 总结: the first counted document (by path) whose name has
    // 总结 and that has text.
    let mut summaries = BTreeMap::new();
    for t in texts {
        let Some(f) = counted.get(&t.version_id) else {
            continue;
        };
        if f.version.facts.kind != crate::model::Kind::Document {
            continue;
        }
        let file_name = f.file_name();
        if !crate::text::fold_width(&file_name).contains("总结") {
            continue;
        }
        for activity in &f.judged.activities {
            if summaries.contains_key(activity) {
                continue;
            }
            let (text, truncated) = excerpt(&t.text, EXCERPT_CHARS);
            if text.is_empty() {
                continue;
            }
            summaries.insert(
                activity.clone(),
                Excerpt {
                    file_name: file_name.clone(),
                    text,
                    truncated,
                    note: None,
                },
            );
        }
    }
    // A 总结 with nothing to quote was still received: say why there is no excerpt.
    let text_of: HashMap<i64, &str> = texts
        .iter()
        .map(|t| (t.version_id, t.text.as_str()))
        .collect();
    for f in files.iter().filter(|f| f.counts()) {
        let v = &f.version.facts;
        let file_name = f.file_name();
        if v.kind != crate::model::Kind::Document
            || !crate::text::fold_width(&file_name).contains("总结")
        {
            continue;
        }
        let scanned = v.format == "pdf"
            && text_of
                .get(&f.version.id)
                .is_some_and(|t| t.trim().is_empty());
        for activity in &f.judged.activities {
            summaries
                .entry(activity.clone())
                .or_insert_with(|| Excerpt {
                    file_name: file_name.clone(),
                    text: String::new(),
                    truncated: false,
                    note: Some(if scanned { SCANNED_NOTE } else { NO_TEXT_NOTE }),
                });
        }
    }
    let row_problems = row_problems
        .iter()
        .filter(|p| counted.contains_key(&p.version_id))
        .map(|p| RowProblem {
            path: p.at.path.clone(),
            sheet: p.at.sheet.clone(),
            row: i64::from(p.at.row),
            reason: p.reason.clone(),
        })
        .collect();
    Sources {
        files: rows,
        media,
        summaries,
        row_problems,
        rejections,
        originals: HashMap::new(),
    }
}

/// The first `max` characters of `text`, blank lines dropped.
pub fn excerpt(text: &str, max: usize) -> (String, bool) {
    let joined: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let joined = joined.join("\n");
    let mut chars = joined.chars();
    let head: String = chars.by_ref().take(max).collect();
    (head, chars.next().is_some())
}

/// The thumbnails of a report's files by SHA-256, with what was made and found.
pub type Thumbs = (HashMap<String, Thumb>, ReportSummary);

/// Makes the missing thumbnails of every current photo and video (in parallel, each once).
pub fn make_thumbs(archive: &ArchiveDir, files: &[FileRow]) -> Result<Thumbs, ReportError> {
    make_thumbs_of(archive, files.iter(), None)
}

/// [`make_thumbs`] with the cache's listing read already (`nightly` reads it on a thread while
/// the rows are made: 40 000 names of a cold folder at a year's scale).
pub fn make_thumbs_listed(
    archive: &ArchiveDir,
    files: &[FileRow],
    cache: std::io::Result<thumbs::Listing>,
) -> Result<Thumbs, ReportError> {
    make_thumbs_of(archive, files.iter(), Some(cache))
}

/// [`make_thumbs`] of a few files (the forms' photos): each looked up in the cache with a
/// `stat`, the cache not listed (40 000 names at a year's scale). The leftovers of a killed run
/// are removed by the next listing ([`make_thumbs`]), not here.
pub fn make_few_thumbs(archive: &ArchiveDir, files: &[FileRow]) -> Result<Thumbs, ReportError> {
    make_thumbs_of(
        archive,
        files.iter(),
        Some(thumbs::Listing::unlisted(&archive.thumbs_dir())),
    )
}

/// The thumbnails of the year's bag: those of the files in it (`in_bag`, by SHA-256), made
/// where missing, for [`render_for_bag`].
pub fn make_bag_thumbs(
    archive: &ArchiveDir,
    sources: &Sources,
    in_bag: &HashMap<String, String>,
) -> Result<Thumbs, ReportError> {
    make_thumbs_of(
        archive,
        sources
            .files
            .iter()
            .filter(|f| in_bag.contains_key(&f.sha256)),
        None,
    )
}

fn make_thumbs_of<'a>(
    archive: &ArchiveDir,
    files: impl Iterator<Item = &'a FileRow>,
    cache: Option<std::io::Result<thumbs::Listing>>,
) -> Result<Thumbs, ReportError> {
    // Each content once (its first file), in the order of the store's folders.
    let mut rows: Vec<&FileRow> = files
        .filter(|f| f.kind == "photo" || f.kind == "video")
        .collect();
    rows.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    rows.dedup_by(|a, b| a.sha256 == b.sha256);
    let reqs: Vec<ThumbRequest> = rows
        .into_iter()
        .map(|f| ThumbRequest {
            sha256: f.sha256.clone(),
            format: f.format.clone(),
            orientation: f.orientation,
            has_thumbnail: f.has_thumbnail,
            pixels: f.width.zip(f.height),
        })
        .collect();
    let thumbs_dir = archive.thumbs_dir();
    let dir_error = |source| ReportError::Dir {
        path: thumbs_dir.display().to_string(),
        source,
    };
    let cache = cache
        .unwrap_or_else(|| thumbs::Listing::read(&thumbs_dir))
        .map_err(dir_error)?;
    let objects = archive.objects_dir();
    let make = || -> Vec<(String, Thumb, Made)> {
        reqs.par_iter()
            .map(|r| {
                let (t, m) = thumbs::ensure(&objects, &cache, r);
                (r.sha256.clone(), t, m)
            })
            .collect()
    };
    // While one thread waits for a photo from a cold disk, another decodes.
    let made = crate::parallel::on_io_pool(make);
    // Best effort: where the flush or the marker's removal fails, the marker stays and the
    // next run checks each entry's size; the thumbnails made are not lost for it.
    let _ = cache.finish();
    let mut summary = ReportSummary::default();
    let mut map = HashMap::with_capacity(made.len());
    for (sha, t, m) in made {
        match m {
            Made::Now => summary.thumbs_made += 1,
            Made::Cached => summary.thumbs_cached += 1,
            Made::None => {}
        }
        if matches!(t, Thumb::Placeholder(_)) {
            summary.placeholders += 1;
        }
        map.insert(sha, t);
    }
    Ok((map, summary))
}

/// Makes the thumbnails the pages need (once, into the cache) and puts the input together.
#[allow(clippy::too_many_arguments)]
fn build_input<'a>(
    archive: &ArchiveDir,
    sources: &'a Sources,
    cfg: &'a Config,
    tally: &'a Tally,
    check: &'a CheckResult,
    epoch: i64,
    links: Links<'a>,
    made: Option<Thumbs>,
) -> Result<(ReportInput<'a>, ReportSummary), ReportError> {
    let files = match &links {
        Links::Bag { files: in_bag } => std::borrow::Cow::Owned(
            sources
                .files
                .iter()
                .filter(|f| in_bag.contains_key(&f.sha256))
                .cloned()
                .collect(),
        ),
        _ => std::borrow::Cow::Borrowed(sources.files.as_slice()),
    };
    let (thumbs, summary) = match made {
        Some(made) => made,
        None => make_thumbs(archive, &files)?,
    };
    let input = ReportInput {
        cfg,
        tally,
        check,
        date: crate::clock::local_day(epoch, cfg.utc_offset).to_string(),
        media: &sources.media,
        summaries: &sources.summaries,
        row_problems: &sources.row_problems,
        rejections: &sources.rejections,
        files,
        thumbs,
        links,
    };
    Ok((input, summary))
}

/// The report as it goes into a year-end bag's `data/报告/`: its pages, linking each file at
/// its place in the bag (`in_bag`: sha256 → path under `data/`), written one at a time into
/// `staging` (a folder of the caller's that outlives the bag's writing), and the thumbnails of
/// those files in the cache (`thumbs`, from [`make_bag_thumbs`]), as (path under `data/报告/`,
/// file on disk). Files not in the bag are not shown. No page or thumbnail is held in memory beyond the one being written.
#[allow(clippy::too_many_arguments)]
pub fn render_for_bag(
    archive: &ArchiveDir,
    sources: &Sources,
    cfg: &Config,
    tally: &Tally,
    check: &CheckResult,
    epoch: i64,
    in_bag: HashMap<String, String>,
    thumbs: Thumbs,
    staging: &Path,
) -> Result<Vec<(String, std::path::PathBuf)>, ReportError> {
    let (input, _) = build_input(
        archive,
        sources,
        cfg,
        tally,
        check,
        epoch,
        Links::Bag { files: in_bag },
        Some(thumbs),
    )?;
    std::fs::create_dir_all(staging).map_err(|source| ReportError::Dir {
        path: staging.display().to_string(),
        source,
    })?;
    let mut out: Vec<(String, std::path::PathBuf)> = Vec::new();
    html::render_each(&input, &mut |name, body| {
        let path = staging.join(&name);
        std::fs::write(&path, body.as_bytes()).map_err(|source| ReportError::Dir {
            path: path.display().to_string(),
            source,
        })?;
        out.push((name, path));
        Ok::<(), ReportError>(())
    })?;
    let thumbs_dir = archive.thumbs_dir();
    let mut shas: Vec<&String> = input
        .thumbs
        .iter()
        .filter(|(_, t)| matches!(t, Thumb::Image))
        .map(|(sha, _)| sha)
        .collect();
    shas.sort();
    for sha in shas {
        out.push((
            format!("{BAG_THUMBS}/{sha}.jpg"),
            thumbs::thumb_path(&thumbs_dir, sha),
        ));
    }
    Ok(out)
}

/// How pages in `archive/报告/` link to the originals.
fn archive_links(sources: &Sources) -> Links<'_> {
    if sources.originals.is_empty() {
        Links::Archive
    } else {
        Links::Originals {
            files: &sources.originals,
        }
    }
}

/// Gathers, makes the thumbnails and writes every page into `archive/报告/`.
pub fn write_report(
    archive: &ArchiveDir,
    sources: &Sources,
    cfg: &Config,
    tally: &Tally,
    check: &CheckResult,
    epoch: i64,
) -> Result<ReportSummary, ReportError> {
    write_report_with(archive, sources, cfg, tally, check, epoch, None)
}

/// [`write_report`] with the thumbnails made already ([`make_thumbs`] of `sources.files`, as
/// `nightly` makes them while the statistics are counted); `None` makes them here.
pub fn write_report_with(
    archive: &ArchiveDir,
    sources: &Sources,
    cfg: &Config,
    tally: &Tally,
    check: &CheckResult,
    epoch: i64,
    thumbs: Option<Thumbs>,
) -> Result<ReportSummary, ReportError> {
    let (input, mut summary) = build_input(
        archive,
        sources,
        cfg,
        tally,
        check,
        epoch,
        archive_links(sources),
        thumbs,
    )?;
    let dir = archive.report_dir();
    std::fs::create_dir_all(&dir).map_err(|source| ReportError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    // Each page made, compared, written and dropped on its own thread (150 pages at 40 000
    // photos).
    let written = std::sync::atomic::AtomicUsize::new(0);
    let names = html::render_on_threads(&input, &|name, body| {
        // Same catalog, same epoch, same bytes: an unchanged page is left alone (no fsync).
        if crate::output::write_if_changed(&dir.join(name), body.as_bytes())? {
            written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok::<(), ReportError>(())
    })?;
    summary.pages_written += written.into_inner();
    let pages: std::collections::HashSet<String> = names.into_iter().collect();
    // Pages of activities no longer in the catalog (or of pages no longer needed) go.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("activity-") && name.ends_with(".html") && !pages.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    summary.index = dir.join("index.html");
    summary.pages = pages.len();
    Ok(summary)
}
