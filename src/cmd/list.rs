//! `dangan list`: every cataloged file version (filters: --department, --activity, --date,
//! --rejected).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use crate::catalog::{self, Catalog};
use crate::cli::{Common, EXIT_OK};
use crate::model::{DateSource, Kind};

#[derive(Args)]
pub struct ListArgs {
    /// 只列这个部门
    #[arg(long)]
    pub department: Option<String>,
    /// 只列这个活动（“未归类”列出没有活动的文件）
    #[arg(long)]
    pub activity: Option<String>,
    /// 只列这一天（YYYY-MM-DD）的文件
    #[arg(long)]
    pub date: Option<chrono::NaiveDate>,
    /// 列出最近一次导入拒收的文件及原因
    #[arg(long)]
    pub rejected: bool,
}

#[derive(Serialize)]
struct RejectedLine<'a> {
    path: &'a str,
    reason: &'a str,
}

pub fn run(common: &Common, args: &ListArgs) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    let Some(catalog) = Catalog::open_read_only(&common.archive).context("无法打开目录数据库")?
    else {
        if !common.json {
            writeln!(
                out,
                "存档 {} 里还没有目录：请先运行 dangan import",
                common.archive.display()
            )?;
        }
        return Ok(EXIT_OK);
    };
    if args.rejected {
        for (path, reason) in catalog::last_rejections(&catalog.conn)? {
            if common.json {
                let line = RejectedLine {
                    path: &path,
                    reason: &reason,
                };
                writeln!(out, "{}", serde_json::to_string(&line)?)?;
            } else {
                writeln!(out, "{path}\t{reason}")?;
            }
        }
        return Ok(EXIT_OK);
    }
    let versions = catalog::list_versions(&catalog.conn, true)?;
    let date = args.date.map(|d| d.to_string());
    for v in versions.iter().filter(|v| {
        args.department.as_ref().is_none_or(|d| *d == v.department)
            && args.activity.as_ref().is_none_or(|a| match &v.activity {
                Some(name) => name == a,
                None => a == "未归类",
            })
            && date.as_ref().is_none_or(|d| v.date.as_ref() == Some(d))
    }) {
        if common.json {
            writeln!(out, "{}", serde_json::to_string(v)?)?;
        } else {
            let state = if v.withdrawn && v.current {
                "已撤回"
            } else if v.current {
                "当前"
            } else {
                "旧版本"
            };
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}（{}）\t{}\t{}\t{}",
                v.path,
                v.department,
                v.activity.as_deref().unwrap_or("未归类"),
                Kind::parse(&v.kind).map(Kind::label).unwrap_or("其他"),
                v.date.as_deref().unwrap_or("无日期"),
                DateSource::parse(&v.date_source)
                    .map(DateSource::label)
                    .unwrap_or(""),
                super::human_bytes(v.size),
                state,
                v.problems.join("；")
            )?;
        }
    }
    Ok(EXIT_OK)
}
