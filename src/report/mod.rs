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
use rusqlite::Connection;

use crate::check::CheckResult;
use crate::config::Config;
use crate::output::{OutputError, write_atomic};
use crate::tally::Tally;
use thumbs::{Made, Thumb, ThumbRequest};

/// The report's folder under `archive/`.
pub const REPORT_DIR: &str = "报告";
/// The thumbnail cache under `archive/`.
pub const THUMBS_DIR: &str = "thumbs";
/// Characters of a 总结 quoted on its activity's page.
pub const EXCERPT_CHARS: usize = 300;

/// One current, not withdrawn file, as the report shows it.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub path: String,
    pub file_name: String,
    pub department: String,
    pub activity: Option<String>,
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
}

#[derive(Debug, Clone)]
pub struct MediaRow {
    pub activity: Option<String>,
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
}

#[derive(Debug, Clone)]
pub struct RowProblem {
    pub path: String,
    pub sheet: String,
    pub row: i64,
    pub reason: String,
}

/// Everything the pages show, gathered once.
pub struct ReportInput<'a> {
    pub cfg: &'a Config,
    pub tally: &'a Tally,
    pub check: &'a CheckResult,
    /// The day printed on the pages (from the epoch).
    pub date: String,
    pub files: Vec<FileRow>,
    pub media: Vec<MediaRow>,
    /// activity → the start of its 总结.
    pub summaries: BTreeMap<String, Excerpt>,
    pub row_problems: Vec<RowProblem>,
    /// The last import's rejections (path, reason).
    pub rejections: Vec<(String, String)>,
    /// sha256 → what to show for it.
    pub thumbs: HashMap<String, Thumb>,
    /// Where the pages link to.
    pub links: Links,
}

/// How the pages link to full files and thumbnails.
#[derive(Debug, Clone, Default)]
pub enum Links {
    /// Pages in `archive/报告/`: `../objects/ab/<sha>` and `../thumbs/<sha>.jpg`.
    #[default]
    Archive,
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
    #[error("目录数据库出错：{0}")]
    Catalog(#[from] rusqlite::Error),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("无法创建 {path}：{source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
}

const CURRENT: &str = "JOIN versions v ON v.id = f.current_version WHERE f.withdrawn_run IS NULL";

pub fn gather_files(conn: &Connection) -> rusqlite::Result<Vec<FileRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT f.path, f.department, v.activity, v.kind, v.format, v.date, v.datetime,
                v.sha256, v.size, v.orientation, v.has_thumbnail, v.problems, v.width, v.height
         FROM files f {CURRENT} ORDER BY f.path"
    ))?;
    let rows = stmt.query_map([], |r| {
        let path: String = r.get(0)?;
        let problems: String = r.get(11)?;
        Ok(FileRow {
            file_name: path.rsplit('/').next().unwrap_or(&path).to_string(),
            path,
            department: r.get(1)?,
            activity: r.get(2)?,
            kind: r.get(3)?,
            format: r.get(4)?,
            date: r.get(5)?,
            datetime: r.get(6)?,
            sha256: r.get(7)?,
            size: r.get::<_, i64>(8)?.max(0) as u64,
            orientation: r
                .get::<_, Option<i64>>(9)?
                .and_then(|o| u16::try_from(o).ok()),
            has_thumbnail: r.get(10)?,
            problems: serde_json::from_str(&problems).unwrap_or_default(),
            width: r
                .get::<_, Option<i64>>(12)?
                .and_then(|x| u32::try_from(x).ok()),
            height: r
                .get::<_, Option<i64>>(13)?
                .and_then(|x| u32::try_from(x).ok()),
        })
    })?;
    rows.collect()
}

fn gather_media(conn: &Connection) -> rusqlite::Result<Vec<MediaRow>> {
    let mut stmt = conn.prepare(
        "SELECT v.activity, f.department, m.title, m.outlet, m.level, m.date, m.url
         FROM media_reports m
         JOIN versions v ON v.id = m.version_id
         JOIN files f ON f.current_version = v.id AND f.withdrawn_run IS NULL
         ORDER BY m.date, f.path, m.sheet, m.row",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(MediaRow {
            activity: r.get(0)?,
            department: r.get(1)?,
            title: r.get(2)?,
            outlet: r.get(3)?,
            level: r.get(4)?,
            date: r.get(5)?,
            url: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// The start of each activity's 总结: the first current document (by path) whose name has 总结
/// and that has text.
fn gather_summaries(conn: &Connection) -> rusqlite::Result<BTreeMap<String, Excerpt>> {
    let mut stmt = conn.prepare(
        "SELECT v.activity, f.path, t.text FROM files f
         JOIN versions v ON v.id = f.current_version
         JOIN doc_text t ON t.version_id = v.id
         WHERE f.withdrawn_run IS NULL AND v.kind = 'document' AND v.activity IS NOT NULL
         ORDER BY f.path",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (activity, path, text) = row?;
        let file_name = path.rsplit('/').next().unwrap_or(&path).to_string();
        if !crate::text::fold_width(&file_name).contains("总结") || out.contains_key(&activity) {
            continue;
        }
        let (text, truncated) = excerpt(&text, EXCERPT_CHARS);
        if text.is_empty() {
            continue;
        }
        out.insert(
            activity,
            Excerpt {
                file_name,
                text,
                truncated,
            },
        );
    }
    Ok(out)
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

fn gather_row_problems(conn: &Connection) -> rusqlite::Result<Vec<RowProblem>> {
    let mut stmt = conn.prepare(
        "SELECT f.path, p.sheet, p.row, p.reason FROM row_problems p
         JOIN versions v ON v.id = p.version_id
         JOIN files f ON f.current_version = v.id AND f.withdrawn_run IS NULL
         ORDER BY f.path, p.sheet, p.row",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RowProblem {
            path: r.get(0)?,
            sheet: r.get(1)?,
            row: r.get(2)?,
            reason: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The day of `epoch` at the configured offset.
pub fn epoch_date(epoch: i64, cfg: &Config) -> chrono::NaiveDate {
    crate::resolve::date::from_unix_seconds(epoch, cfg.utc_offset)
        .unwrap_or_default()
        .date()
}

/// Makes the missing thumbnails of every current photo and video (in parallel, each once).
pub fn make_thumbs(
    archive: &Path,
    files: &[FileRow],
) -> Result<(HashMap<String, Thumb>, ReportSummary), ReportError> {
    let thumbs_dir = archive.join(THUMBS_DIR);
    std::fs::create_dir_all(&thumbs_dir).map_err(|source| ReportError::Dir {
        path: thumbs_dir.display().to_string(),
        source,
    })?;
    // Temporary files of a run that was killed while writing a thumbnail.
    if let Ok(entries) = std::fs::read_dir(&thumbs_dir) {
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".thumb-") && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let objects = archive.join("objects");
    let mut reqs: BTreeMap<&str, ThumbRequest> = BTreeMap::new();
    for f in files
        .iter()
        .filter(|f| f.kind == "photo" || f.kind == "video")
    {
        reqs.entry(&f.sha256).or_insert_with(|| ThumbRequest {
            sha256: f.sha256.clone(),
            format: f.format.clone(),
            orientation: f.orientation,
            has_thumbnail: f.has_thumbnail,
            pixels: f.width.zip(f.height),
        });
    }
    let reqs: Vec<ThumbRequest> = reqs.into_values().collect();
    let made: Vec<(String, Thumb, Made)> = reqs
        .par_iter()
        .map(|r| {
            let (t, m) = thumbs::ensure(&objects, &thumbs_dir, r);
            (r.sha256.clone(), t, m)
        })
        .collect();
    let mut summary = ReportSummary::default();
    let mut map = HashMap::new();
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

/// Gathers what the pages show and makes the thumbnails they need (once, into the cache).
fn build_input<'a>(
    archive: &Path,
    conn: &Connection,
    cfg: &'a Config,
    tally: &'a Tally,
    check: &'a CheckResult,
    epoch: i64,
    links: Links,
) -> Result<(ReportInput<'a>, ReportSummary), ReportError> {
    let mut files = gather_files(conn)?;
    if let Links::Bag { files: in_bag } = &links {
        files.retain(|f| in_bag.contains_key(&f.sha256));
    }
    let (thumbs, summary) = make_thumbs(archive, &files)?;
    let input = ReportInput {
        cfg,
        tally,
        check,
        date: epoch_date(epoch, cfg).to_string(),
        media: gather_media(conn)?,
        summaries: gather_summaries(conn)?,
        row_problems: gather_row_problems(conn)?,
        rejections: crate::catalog::last_rejections(conn)?,
        files,
        thumbs,
        links,
    };
    Ok((input, summary))
}

/// The report as it goes into a year-end bag's `data/报告/`: its pages, linking each file at
/// its place in the bag (`in_bag`: sha256 → path under `data/`), and the thumbnails of those
/// files, as (path under `data/报告/`, bytes). Files not in the bag are not shown.
pub fn render_for_bag(
    archive: &Path,
    conn: &Connection,
    cfg: &Config,
    tally: &Tally,
    check: &CheckResult,
    epoch: i64,
    in_bag: HashMap<String, String>,
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let (input, _) = build_input(
        archive,
        conn,
        cfg,
        tally,
        check,
        epoch,
        Links::Bag { files: in_bag },
    )?;
    let mut out: Vec<(String, Vec<u8>)> = html::render(&input)
        .into_iter()
        .map(|(name, body)| (name, body.into_bytes()))
        .collect();
    let thumbs_dir = archive.join("thumbs");
    let mut shas: Vec<&String> = input
        .thumbs
        .iter()
        .filter(|(_, t)| matches!(t, Thumb::Image))
        .map(|(sha, _)| sha)
        .collect();
    shas.sort();
    for sha in shas {
        let path = thumbs::thumb_path(&thumbs_dir, sha);
        let bytes = std::fs::read(&path).map_err(|source| ReportError::Dir {
            path: path.display().to_string(),
            source,
        })?;
        out.push((format!("{BAG_THUMBS}/{sha}.jpg"), bytes));
    }
    Ok(out)
}

/// Gathers, makes the thumbnails and writes every page into `archive/报告/`.
pub fn write_report(
    archive: &Path,
    conn: &Connection,
    cfg: &Config,
    tally: &Tally,
    check: &CheckResult,
    epoch: i64,
) -> Result<ReportSummary, ReportError> {
    let (input, mut summary) =
        build_input(archive, conn, cfg, tally, check, epoch, Links::Archive)?;
    let dir = archive.join(REPORT_DIR);
    std::fs::create_dir_all(&dir).map_err(|source| ReportError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    let pages = html::render(&input);
    for (name, body) in &pages {
        let path = dir.join(name);
        // Same catalog, same epoch, same bytes: an unchanged page is left alone (no fsync).
        if std::fs::read(&path).is_ok_and(|old| old == body.as_bytes()) {
            continue;
        }
        write_atomic(&path, body.as_bytes())?;
        summary.pages_written += 1;
    }
    // Pages of activities no longer in the catalog go.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("activity-")
                && name.ends_with(".html")
                && !pages.iter().any(|(n, _)| *n == name)
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    summary.index = dir.join("index.html");
    summary.pages = pages.len();
    Ok(summary)
}
