//! `dangan report`: write archive/报告/ (index.html, a page per activity, 未归类, problems)
//! with the thumbnails it needs in archive/thumbs/.

use std::io::Write;

use super::steps;
use super::{Common, EXIT_OK, Session};

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive_dir(), "report", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let tally = session.tally()?;
    let check = session.materials(session.today());
    let mut sources = session.report_sources()?;
    let placed = steps::place_originals(&session, &mut sources);
    let s = steps::write_report(common, &session, &sources, &placed, &tally, &check)?;
    // Originals the report links to that the store no longer has intact: said on stderr.
    super::print_store_damage(&mut std::io::stderr().lock(), common, &session)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", steps::report_json(&s))?;
    } else if !common.quiet {
        writeln!(
            out,
            "已写入 {}（{} 页，其中 {} 页有变化；缩略图新建 {}，已有 {}，无法预览 {}）",
            s.index.display(),
            s.pages,
            s.pages_written,
            s.thumbs_made,
            s.thumbs_cached,
            s.placeholders
        )?;
    }
    Ok(EXIT_OK)
}
