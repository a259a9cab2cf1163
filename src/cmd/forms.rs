//! `dangan forms`: write the submissions to the province into archive/统计/ — 信息采集表.xlsx
//! and .txt (附件4) and the draft 工作总结报告.docx — and say which `[contact]` fields are
//! still empty.

use std::io::Write;

use super::steps::{self, contact_note};
use super::{Common, EXIT_OK, Session};

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive_dir(), "forms", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let tally = session.tally()?;
    let check = session.materials(session.today());
    let sources = session.report_sources()?;
    let s = steps::write_forms(common, &session.view(), &sources, &tally, &check)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", steps::forms_json(&s))?;
        return Ok(EXIT_OK);
    }
    if common.quiet {
        return Ok(EXIT_OK);
    }
    for f in &s.files {
        writeln!(out, "已写入 {}", f.path.display())?;
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
