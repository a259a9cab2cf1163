//! `dangan stats`: write archive/统计/ (情况统计表.csv/.xlsx, 活动明细.csv, 部门明细.csv).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Session;
use crate::cli::{Common, EXIT_OK};
use crate::output::{self, CsvEncoding};
use crate::tally::Tally;

#[derive(Args, Clone)]
pub struct StatsArgs {
    /// CSV 编码：utf8（带 BOM，Excel 直接打开）或 gb18030（部分上报平台要求）
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    pub encoding: CsvEncoding,
}

pub fn parse_encoding(s: &str) -> Result<CsvEncoding, String> {
    CsvEncoding::parse(s).ok_or_else(|| format!("不认识的编码“{s}”：可用 utf8 或 gb18030"))
}

/// Tallies the judged catalog and writes the statistics files and 待归类.xlsx; returns the
/// tally and the files.
pub fn write(
    common: &Common,
    session: &Session,
    enc: CsvEncoding,
) -> anyhow::Result<(Tally, Vec<PathBuf>)> {
    let tally = session.tally()?;
    let dir = common.archive.join("统计");
    let epoch = super::epoch();
    let fill = output::xlsx::fill_line(&session.cfg.institution, &session.cfg.contact);
    let mut files = output::write_stats_filled(&tally, &dir, enc, epoch, &fill)
        .with_context(|| format!("无法写入 {}", dir.display()))?;
    let pending = crate::classify::pending_rows(&session.files, &session.corrections);
    let activities: Vec<String> = session
        .cfg
        .activities
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let bytes =
        crate::corrections::pending_xlsx(&pending, &activities, &session.cfg.departments(), epoch)
            .context("无法生成待归类.xlsx")?;
    let path = dir.join(crate::corrections::PENDING_XLSX);
    output::write_atomic(&path, &bytes)?;
    files.push(path);
    Ok((tally, files))
}

pub fn run(common: &Common, args: &StatsArgs) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive, "stats", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let (tally, files) = write(common, &session, args.encoding)?;
    let mut out = std::io::stdout().lock();
    if common.json {
        writeln!(out, "{}", output::table_json(&tally))?;
        return Ok(EXIT_OK);
    }
    if common.quiet {
        return Ok(EXIT_OK);
    }
    print_table(&mut out, &tally)?;
    for w in &tally.warnings {
        writeln!(out, "注意：{w}")?;
    }
    for f in &files {
        writeln!(out, "已写入 {}", f.display())?;
    }
    Ok(EXIT_OK)
}

pub fn print_table(out: &mut impl Write, tally: &Tally) -> std::io::Result<()> {
    let t = &tally.table;
    writeln!(out, "{} 职业教育活动周情况统计", t.institution)?;
    writeln!(out, "  参与活动的职业学校（含技工院校）数  {}", t.schools)?;
    writeln!(out, "  参与活动的教师数                    {}", t.teachers)?;
    writeln!(out, "  参与活动的学生数                    {}", t.students)?;
    writeln!(
        out,
        "  参与活动的学生覆盖率                {}",
        t.coverage.text()
    )?;
    writeln!(
        out,
        "  参与活动的企业数                    {}",
        t.enterprises
    )?;
    writeln!(
        out,
        "  参与总人数                          {}",
        t.participants
    )?;
    writeln!(
        out,
        "  观摩体验活动项目数                  {}",
        t.experience_projects
    )?;
    writeln!(
        out,
        "  活动周媒体报道数  省级及以上 {} · 市（州）级 {} · 县（区）级 {}",
        t.media_provincial, t.media_city, t.media_county
    )
}
