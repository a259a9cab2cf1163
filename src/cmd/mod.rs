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
pub mod steps;
pub mod verify;

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::archive_dir::ArchiveDir;
use crate::catalog::{Catalog, Which};
use crate::classify::{self, ClassifiedFile, Corrections};
use crate::config::Config;
use crate::materials::CheckResult;
use crate::output::CsvEncoding;
use crate::tally::Tally;

/// Exit status (what `cli::main` returns): done.
pub const EXIT_OK: i32 = 0;
/// Failed: dangan's own archive (store, catalog, lock, an output folder) could not be used.
pub const EXIT_FAILED: i32 = 1;
/// Bad usage.
pub const EXIT_USAGE: i32 = 2;
/// Done, but some files or rows were rejected.
pub const EXIT_REJECTED: i32 = 3;

// The flags every command takes (no doc comment: clap would take it for the help text).
#[derive(Args, Clone)]
pub struct Common {
    /// 收件箱文件夹（默认 inbox）
    #[arg(long, global = true, default_value = "inbox")]
    pub inbox: PathBuf,
    /// 存档文件夹：对象库、目录数据库、统计与报告（默认 archive）
    #[arg(long, global = true, default_value = "archive")]
    pub archive: PathBuf,
    /// 配置文件（默认：当前目录的 dangan.toml，没有则用内置 2025 活动目录）
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// 更正文件（默认：配置文件旁的 更正.xlsx 或 更正.csv）
    #[arg(long, global = true)]
    pub corrections: Option<PathBuf>,
    /// 在标准输出打印机器可读的 JSON
    #[arg(long, global = true)]
    pub json: bool,
    /// 安静：只输出错误
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The context of a failed catalog read, for a person.
pub const READ_CATALOG: &str = "读取目录失败";
/// The context of a catalog that could not be opened.
pub const OPEN_CATALOG: &str = "无法打开目录数据库";

impl Common {
    /// The `--archive` folder and its layout.
    pub fn archive_dir(&self) -> ArchiveDir {
        ArchiveDir::new(&self.archive)
    }
}

/// `--encoding`: utf8 or gb18030.
pub fn parse_encoding(s: &str) -> Result<CsvEncoding, String> {
    CsvEncoding::parse(s).ok_or_else(|| format!("不认识的编码“{s}”：可用 utf8 或 gb18030"))
}

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

/// `work` with the session's judged files and settings and a read connection to the catalog of
/// the calling thread's own (a connection is not shared between threads).
pub(crate) fn on_reader<T>(
    archive: &crate::archive_dir::ArchiveDir,
    (cfg, corrections, files): (
        &crate::config::Config,
        &crate::classify::Corrections,
        &[crate::classify::ClassifiedFile],
    ),
    work: impl FnOnce(&View) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let catalog = Catalog::open_reader(archive).context(OPEN_CATALOG)?;
    work(&View {
        cfg,
        corrections,
        files,
        catalog: &catalog,
    })
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
        let versions = catalog.versions(which).context(READ_CATALOG)?;
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
        let catalog = Catalog::open(&common.archive_dir()).context(OPEN_CATALOG)?;
        Session::build(common, catalog, Which::Latest)
    }

    /// Opens an existing catalog read-only; `None` when there is none yet.
    pub fn open_read_only(common: &Common, which: Which) -> anyhow::Result<Option<Session>> {
        match Catalog::open_read_only(&common.archive_dir()).context(OPEN_CATALOG)? {
            None => Ok(None),
            Some(catalog) => Session::build(common, catalog, which).map(Some),
        }
    }

    /// The session's judged files and settings with its catalog connection: what the outputs
    /// are made from.
    pub fn view(&self) -> View<'_> {
        View {
            cfg: &self.cfg,
            corrections: &self.corrections,
            files: &self.files,
            catalog: &self.catalog,
        }
    }

    pub fn media_facts(&self) -> anyhow::Result<Vec<crate::tally::MediaFact>> {
        self.view().media_facts()
    }

    pub fn tally(&self) -> anyhow::Result<Tally> {
        self.view().tally()
    }

    pub fn row_problems(
        &self,
        keep: impl Fn(&ClassifiedFile) -> bool,
    ) -> anyhow::Result<Vec<(crate::model::RowAt, String)>> {
        self.view().row_problems(keep)
    }

    pub fn materials(&self, today: chrono::NaiveDate) -> CheckResult {
        self.view().materials(today)
    }

    pub fn report_sources(&self) -> anyhow::Result<crate::report::Sources> {
        self.view().report_sources()
    }

    /// "Today" at the configured offset (`SOURCE_DATE_EPOCH` when set).
    pub fn today(&self) -> chrono::NaiveDate {
        crate::clock::local_day(epoch(), self.cfg.utc_offset)
    }
}

/// A [`Session`]'s judged files and settings, borrowed, with a catalog connection: what every
/// output is made from. The judged parts may be shared between threads; a connection may not,
/// so each thread opens its own.
pub struct View<'a> {
    pub cfg: &'a Config,
    pub corrections: &'a Corrections,
    pub files: &'a [ClassifiedFile],
    pub catalog: &'a Catalog,
}

impl View<'_> {
    /// The counted media reports, judged ([`crate::counted::media_facts`]).
    pub fn media_facts(&self) -> anyhow::Result<Vec<crate::tally::MediaFact>> {
        crate::counted::media_facts(self.cfg, self.files, self.catalog).context(READ_CATALOG)
    }

    /// The counting behind the provincial table, over the counted files.
    pub fn tally(&self) -> anyhow::Result<Tally> {
        let mut tally =
            crate::counted::tally(self.cfg, self.files, self.catalog).context("读取目录失败")?;
        tally
            .warnings
            .extend(self.corrections.problems.iter().cloned());
        // The rows the sheet reader could not fully use, grouped, among the 注意 lines.
        let problems = self.row_problems(ClassifiedFile::counts)?;
        tally
            .warnings
            .extend(crate::tally::group_row_problems(&problems));
        Ok(tally)
    }

    /// The rows the sheet reader skipped, in the files `keep` picks.
    pub fn row_problems(
        &self,
        keep: impl Fn(&ClassifiedFile) -> bool,
    ) -> anyhow::Result<Vec<(crate::model::RowAt, String)>> {
        let kept: std::collections::HashSet<i64> = self
            .files
            .iter()
            .filter(|f| keep(f))
            .map(|f| f.version.id)
            .collect();
        Ok(self
            .catalog
            .row_problems()
            .context(READ_CATALOG)?
            .into_iter()
            .filter(|p| kept.contains(&p.version_id))
            .map(|p| (p.at, p.reason))
            .collect())
    }

    /// The materials check as of `today`.
    pub fn materials(&self, today: chrono::NaiveDate) -> CheckResult {
        // A document's title counts like its name; without the texts (a catalog read error,
        // reported by the commands that read them) names alone decide.
        let first_lines = self.catalog.doc_first_lines(200).unwrap_or_default();
        let (files, unassigned) = classify::evidence_with_text(self.cfg, self.files, &first_lines);
        let mut result = crate::materials::check(self.cfg, &files, today);
        result.unassigned = unassigned;
        result
    }

    /// What the report shows of the catalog.
    pub fn report_sources(&self) -> anyhow::Result<crate::report::Sources> {
        let media = self.catalog.media().context(READ_CATALOG)?;
        let texts = self.catalog.doc_texts().context(READ_CATALOG)?;
        let problems = self.catalog.row_problems().context(READ_CATALOG)?;
        let rejections = self.catalog.last_rejections().context(READ_CATALOG)?;
        let media = classify::judge_media(self.cfg, self.files, &media);
        Ok(crate::report::sources(
            self.files, &media, &texts, &problems, rejections,
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
    let damaged = session.catalog.damaged_objects().context(READ_CATALOG)?;
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
