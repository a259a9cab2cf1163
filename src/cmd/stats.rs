//! `dangan stats`: write archive/统计/ (情况统计表.csv/.xlsx, 活动明细.csv, 部门明细.csv).

use std::io::Write;

use clap::Args;

use super::{Common, EXIT_OK, Session, steps};
use crate::output::{self, CsvEncoding};
use crate::tally::Tally;

#[derive(Args, Clone)]
pub struct StatsArgs {
    /// CSV 编码：utf8（带 BOM，Excel 直接打开）或 gb18030（部分上报平台要求）
    #[arg(long, default_value = "utf8", value_parser = super::parse_encoding)]
    pub encoding: CsvEncoding,
}

pub fn run(common: &Common, args: &StatsArgs) -> anyhow::Result<i32> {
    let cfg = super::load_config(common)?;
    let _lock = crate::lock::RunLock::acquire(&common.archive_dir(), "stats", cfg.utc_offset)?;
    let session = Session::open(common)?;
    let (tally, files) = steps::write_stats(common, &session.view(), args.encoding)?;
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
        writeln!(out, "已写入 {}", f.path.display())?;
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
