//! `dangan report`: write archive/报告/ (index.html, a page per activity, 未归类, problems)
//! with the thumbnails it needs in archive/thumbs/.

use std::io::Write;

use anyhow::Context;

use super::Session;
use crate::check::CheckResult;
use crate::cli::{Common, EXIT_OK};
use crate::report::{self, ReportSummary};
use crate::tally::Tally;

/// Writes the report from a tally and a check already made (as `nightly` has them).
pub fn write_with(
    common: &Common,
    session: &Session,
    tally: &Tally,
    check: &CheckResult,
) -> anyhow::Result<ReportSummary> {
    let mut sources = session.report_sources()?;
    // The originals under their own names, kept in step with the catalog; the pages link there.
    let placed = crate::originals::plan(&session.files);
    match crate::originals::sync(&common.archive, &placed) {
        Ok(synced) => {
            sources.originals = crate::originals::links(&placed);
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
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "注意：无法更新 {}：{e}（报告暂时链接到 objects/ 里的副本）",
                common.archive.join(crate::originals::TREE_DIR).display()
            );
        }
    }
    report::write_report(
        &common.archive,
        &sources,
        &session.cfg,
        tally,
        check,
        super::epoch(),
    )
    .context("写报告失败")
}

pub fn run(common: &Common) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive, "report", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let tally = session.tally()?;
    let check = session.check(session.today());
    let s = write_with(common, &session, &tally, &check)?;
    // Originals the report links to that the store no longer has intact: said on stderr.
    super::print_store_damage(&mut std::io::stderr().lock(), common, &session)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", json(&s))?;
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

pub fn json(s: &ReportSummary) -> serde_json::Value {
    serde_json::json!({
        "index": s.index.display().to_string(),
        "pages": s.pages,
        "pages_written": s.pages_written,
        "thumbs_made": s.thumbs_made,
        "thumbs_cached": s.thumbs_cached,
        "placeholders": s.placeholders,
    })
}
