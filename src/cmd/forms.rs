//! `dangan forms`: write the submissions to the province into archive/统计/ — 信息采集表.xlsx
//! and .txt (附件4) and the draft 工作总结报告.docx — and say which `[contact]` fields are
//! still empty.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::Session;
use crate::check::CheckResult;
use crate::cli::{Common, EXIT_OK};
use crate::forms::{self, FormsInput, docx::Photo};
use crate::output::write_atomic;
use crate::report::{FileRow, thumbs::Thumb};
use crate::tally::Tally;

/// What [`write`] did.
#[derive(Debug, Clone)]
pub struct FormsSummary {
    pub files: Vec<PathBuf>,
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
fn thumb_png(archive: &Path, f: &FileRow) -> Option<Photo> {
    let path =
        crate::report::thumbs::thumb_path(&archive.join(crate::report::THUMBS_DIR), &f.sha256);
    let bytes = std::fs::read(path).ok()?;
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).ok()?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    Some(Photo {
        png,
        width: img.width(),
        height: img.height(),
        caption: format!("{} {}", f.date.as_deref().unwrap_or("无日期"), f.file_name),
    })
}

/// Two or three photos for each featured activity, from the thumbnail cache (made where
/// missing), never the originals.
fn case_photos(
    archive: &Path,
    files: &[FileRow],
    input: &FormsInput,
) -> anyhow::Result<BTreeMap<String, Vec<Photo>>> {
    let mut out = BTreeMap::new();
    for a in input.featured() {
        let candidates = forms::photo_candidates(files, &a.name);
        let mut chosen = Vec::new();
        for chunk in candidates.chunks(forms::CASE_PHOTOS).take(4) {
            let rows: Vec<FileRow> = chunk.iter().map(|f| (*f).clone()).collect();
            let (thumbs, _) =
                crate::report::make_thumbs(archive, &rows).context("无法生成缩略图")?;
            for f in chunk {
                if chosen.len() == forms::CASE_PHOTOS {
                    break;
                }
                if matches!(thumbs.get(&f.sha256), Some(Thumb::Image))
                    && let Some(p) = thumb_png(archive, f)
                {
                    chosen.push(p);
                }
            }
            if chosen.len() == forms::CASE_PHOTOS {
                break;
            }
        }
        out.insert(a.name.clone(), chosen);
    }
    Ok(out)
}

/// Gathers the forms' input from the judged view and writes the three files into 统计/.
pub fn write(
    common: &Common,
    session: &Session,
    tally: &Tally,
    check: &CheckResult,
) -> anyhow::Result<FormsSummary> {
    let sources = session.report_sources()?;
    let tally_input = session.tally_input()?;
    // Only 总结 with text to quote: a scan's "扫描件，无文字" is for the report, not the forms.
    let summaries: std::collections::BTreeMap<String, crate::report::Excerpt> = sources
        .summaries
        .iter()
        .filter(|(_, e)| e.note.is_none())
        .map(|(a, e)| (a.clone(), e.clone()))
        .collect();
    let input = forms::FormsInput::new(
        &session.cfg,
        tally,
        check,
        &session.files,
        &summaries,
        &tally_input.media,
        session.today(),
    );
    let epoch = super::epoch();
    let plan = input.plan_text();
    let featured = input.featured_text();
    let photos = case_photos(&common.archive, &sources.files, &input)?;

    let dir = common.archive.join("统计");
    std::fs::create_dir_all(&dir).with_context(|| format!("无法创建 {}", dir.display()))?;
    let xlsx = forms::xlsx::info_xlsx(&input, &plan, &featured, epoch)
        .context("无法生成信息采集表.xlsx")?;
    let txt = forms::xlsx::info_txt(&input, &plan, &featured);
    let docx = forms::docx::report_docx(&input, &photos, epoch)?;
    let mut files = Vec::new();
    for (name, bytes) in [
        (forms::INFO_XLSX, xlsx),
        (forms::INFO_TXT, txt.into_bytes()),
        (forms::REPORT_DOCX, docx),
    ] {
        let path = dir.join(name);
        write_atomic(&path, &bytes)?;
        files.push(path);
    }
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

pub fn json(s: &FormsSummary) -> serde_json::Value {
    serde_json::json!({
        "files": s.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
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

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive, "forms", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let tally = session.tally()?;
    let check = session.check(session.today());
    let s = write(common, &session, &tally, &check)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", json(&s))?;
        return Ok(EXIT_OK);
    }
    if common.quiet {
        return Ok(EXIT_OK);
    }
    for f in &s.files {
        writeln!(out, "已写入 {}", f.display())?;
    }
    writeln!(
        out,
        "活动周工作计划 {} 字、特色活动简介 {} 字（各限 300 字）；典型案例 {} 项（{}），照片 {} 张",
        s.plan_chars,
        s.featured_chars,
        s.featured.len(),
        s.featured.join("、"),
        s.photos
    )?;
    if !s.empty_days.is_empty() {
        writeln!(
            out,
            "注意：活动周中 {} 没有注明日期的活动材料",
            s.empty_days.join("、")
        )?;
    }
    if let Some(note) = contact_note(&s) {
        writeln!(out, "{note}")?;
    }
    Ok(EXIT_OK)
}
