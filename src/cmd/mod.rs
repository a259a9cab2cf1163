//! One file per command, each a thin composition of the library's stages.

pub mod archive;
pub mod check;
pub mod forms;
pub mod import;
pub mod init;
pub mod list;
pub mod nightly;
pub mod report;
pub mod rollup;
pub mod stats;
pub mod status;
pub mod verify;

use std::path::PathBuf;

use anyhow::Context;

use crate::catalog::{Catalog, Which};
use crate::check::CheckResult;
use crate::classify::{self, ClassifiedFile, Corrections};
use crate::cli::Common;
use crate::config::Config;
use crate::tally::Tally;

/// The configuration the common flags point to.
pub fn load_config(common: &Common) -> anyhow::Result<Config> {
    Config::load(common.config.as_deref()).context("读取配置失败")
}

/// The corrections workbook: `--corrections FILE`, else 更正.xlsx (or 更正.csv) beside the
/// configuration file (the working directory when the built-in catalog is used).
pub fn corrections_path(common: &Common) -> Option<PathBuf> {
    if let Some(p) = &common.corrections {
        return Some(p.clone());
    }
    let dir = match &common.config {
        Some(c) => c
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| PathBuf::from(".")),
        None => PathBuf::from("."),
    };
    [
        crate::corrections::CORRECTIONS_XLSX,
        crate::corrections::CORRECTIONS_CSV,
    ]
    .iter()
    .map(|name| dir.join(name))
    .find(|p| p.is_file())
}

/// Reads and checks the corrections (a missing `--corrections FILE` is an error; a missing
/// 更正.xlsx is no corrections).
pub fn load_corrections(common: &Common, cfg: &Config) -> anyhow::Result<Corrections> {
    let Some(path) = corrections_path(common) else {
        return Ok(Corrections::default());
    };
    if !path.is_file() {
        anyhow::bail!("找不到更正文件 {}", path.display());
    }
    let read = crate::corrections::read(&path);
    let origin = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let mut corrections = Corrections::new(cfg, &origin, read.rows);
    let mut problems = read.problems;
    problems.append(&mut corrections.problems);
    corrections.problems = problems;
    Ok(corrections)
}

/// What a command that reads the catalog works from: the configuration, the corrections and
/// every cataloged file with its judgement, made once.
pub struct Session {
    pub cfg: Config,
    pub corrections: Corrections,
    pub catalog: Catalog,
    /// The latest version of every path (withdrawn ones included), judged.
    pub files: Vec<ClassifiedFile>,
}

impl Session {
    fn build(common: &Common, catalog: Catalog, which: Which) -> anyhow::Result<Session> {
        let cfg = load_config(common)?;
        let mut corrections = load_corrections(common, &cfg)?;
        let versions = catalog.versions(which).context("读取目录失败")?;
        let origin = corrections_path(common)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        corrections.check_files(&origin, &versions);
        let files = classify::classify(&cfg, &corrections, versions);
        Ok(Session {
            cfg,
            corrections,
            catalog,
            files,
        })
    }

    /// Opens the catalog for writing (creating it) and judges the latest versions.
    pub fn open(common: &Common) -> anyhow::Result<Session> {
        let catalog = Catalog::open(&common.archive).context("无法打开目录数据库")?;
        Session::build(common, catalog, Which::Latest)
    }

    /// Opens an existing catalog read-only; `None` when there is none yet.
    pub fn open_read_only(common: &Common, which: Which) -> anyhow::Result<Option<Session>> {
        match Catalog::open_read_only(&common.archive).context("无法打开目录数据库")? {
            None => Ok(None),
            Some(catalog) => Session::build(common, catalog, which).map(Some),
        }
    }

    /// What the tally counts but the sign-in rows (those are streamed by [`Session::tally`]).
    pub fn tally_input(&self) -> anyhow::Result<crate::tally::TallyInput> {
        crate::counted::tally_input(&self.cfg, &self.files, &self.catalog).context("读取目录失败")
    }

    /// The counting behind the provincial table, over the counted files.
    pub fn tally(&self) -> anyhow::Result<Tally> {
        let mut tally =
            crate::counted::tally(&self.cfg, &self.files, &self.catalog).context("读取目录失败")?;
        tally
            .warnings
            .extend(self.corrections.problems.iter().cloned());
        // The rows the sheet reader could not fully use, grouped, among the 注意 lines.
        let counted: std::collections::HashSet<i64> = self
            .files
            .iter()
            .filter(|f| f.counts())
            .map(|f| f.version.id)
            .collect();
        let problems: Vec<_> = self
            .catalog
            .row_problems()
            .context("读取目录失败")?
            .into_iter()
            .filter(|p| counted.contains(&p.version_id))
            .map(|p| (p.at, p.reason))
            .collect();
        tally
            .warnings
            .extend(crate::tally::group_row_problems(&problems));
        Ok(tally)
    }

    /// The materials check as of `today`.
    pub fn check(&self, today: chrono::NaiveDate) -> CheckResult {
        // A document's title counts like its name; without the texts (a catalog read error,
        // reported by the commands that read them) names alone decide.
        let first_lines = self.catalog.doc_first_lines(200).unwrap_or_default();
        let (files, unassigned) =
            classify::evidence_with_text(&self.cfg, &self.files, &first_lines);
        let mut result = crate::check::check(&self.cfg, &files, today);
        result.unassigned = unassigned;
        result
    }

    /// What the report shows of the catalog.
    pub fn report_sources(&self) -> anyhow::Result<crate::report::Sources> {
        let media = self.catalog.media().context("读取目录失败")?;
        let texts = self.catalog.doc_texts().context("读取目录失败")?;
        let problems = self.catalog.row_problems().context("读取目录失败")?;
        let rejections = self.catalog.last_rejections().context("读取目录失败")?;
        let media = classify::judge_media(&self.cfg, &self.files, &media);
        Ok(crate::report::sources(
            &self.files,
            &media,
            &texts,
            &problems,
            rejections,
        ))
    }

    /// "Today" at the configured offset (`SOURCE_DATE_EPOCH` when set).
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::local_day(epoch(), self.cfg.utc_offset)
    }
}

/// The store objects recorded damaged or missing, each with its inbox paths and what to do
/// (`status`, `report`); nothing when there are none.
pub fn print_store_damage(
    out: &mut impl std::io::Write,
    common: &Common,
    session: &Session,
) -> anyhow::Result<()> {
    let damaged = session.catalog.damaged_objects().context("读取目录失败")?;
    if damaged.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n存档对象损坏或丢失 {} 个：", damaged.len())?;
    for d in &damaged {
        for line in crate::audit::describe(d, &common.inbox, session.cfg.utc_offset) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// Human-readable bytes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// The time stamped into outputs: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub fn epoch() -> i64 {
    crate::clock::epoch()
}
