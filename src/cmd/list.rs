//! `dangan list`: every cataloged file version (filters: --department, --activity, --date,
//! --rejected), each with its department, activity and date as judged now.

use std::io::Write;

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::Session;
use super::{Common, EXIT_OK, EXIT_USAGE};
use crate::catalog::{Catalog, Which};
use crate::classify::ClassifiedFile;
use crate::config::Config;
use crate::model::Sha256;
use crate::tally::UNASSIGNED;
use crate::text::escape_controls as e;

#[derive(Args)]
pub struct ListArgs {
    /// 只列这个部门（部门名称或简称）
    #[arg(long)]
    pub department: Option<String>,
    /// 只列这个活动（名称或别名；“未归类”列出没有活动的文件）
    #[arg(long)]
    pub activity: Option<String>,
    /// 只列这一天的文件（写成 2025-05-13）
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

/// One line of `list --json`, with DESIGN.md's keys.
#[derive(Serialize)]
struct Listed<'a> {
    path: String,
    department: &'a str,
    /// The first activity; null for 未归类.
    activity: Option<&'a str>,
    activities: &'a [String],
    activity_rule: &'static str,
    date: Option<String>,
    date_source: &'static str,
    kind: &'static str,
    size: u64,
    sha256: Sha256,
    problems: Vec<String>,
    /// Zip members only: how the name was read (`utf8|unicode_path|gb18030|bytes`).
    #[serde(skip_serializing_if = "Option::is_none")]
    name_encoding: Option<&'static str>,
}

fn listed(f: &ClassifiedFile) -> Listed<'_> {
    let v = &f.version.facts;
    Listed {
        path: v.path.display(),
        department: &f.judged.department,
        activity: f.judged.activity(),
        activities: &f.judged.activities,
        activity_rule: f.judged.rule.as_str(),
        date: f.judged.day().map(|d| d.to_string()),
        date_source: f.judged.date_source().as_str(),
        kind: v.kind.as_str(),
        size: v.size,
        sha256: v.sha256,
        problems: f.problems(),
        name_encoding: f.version.name_encoding.map(|e| e.as_str()),
    }
}

/// What a filter names, resolved through names and aliases.
enum Filter {
    Department(String),
    Activity(Option<String>),
}

fn resolve_filters(cfg: &Config, args: &ListArgs) -> Result<Vec<Filter>, String> {
    let mut out = Vec::new();
    if let Some(d) = &args.department {
        match cfg.find_department(d) {
            Some(name) => out.push(Filter::Department(name.to_string())),
            None => {
                return Err(format!(
                    "不认识的部门“{d}”。配置中的部门：{}",
                    cfg.departments().join("、")
                ));
            }
        }
    }
    if let Some(a) = &args.activity {
        if a.trim() == UNASSIGNED {
            out.push(Filter::Activity(None));
        } else {
            match cfg.find_activity(a) {
                Some(found) => out.push(Filter::Activity(Some(found.name.clone()))),
                None => {
                    return Err(format!(
                        "不认识的活动“{a}”。配置中的活动：{}；没有活动的文件用“{UNASSIGNED}”",
                        cfg.activities
                            .iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join("、")
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn keep(f: &ClassifiedFile, filters: &[Filter], date: Option<chrono::NaiveDate>) -> bool {
    filters.iter().all(|flt| match flt {
        Filter::Department(d) => f.judged.department == *d,
        Filter::Activity(None) => f.judged.activities.is_empty(),
        Filter::Activity(Some(a)) => f.judged.activities.contains(a),
    }) && date.is_none_or(|d| f.judged.day() == Some(d))
}

pub fn run(common: &Common, args: &ListArgs) -> anyhow::Result<i32> {
    let mut out = std::io::stdout().lock();
    if args.rejected {
        let Some(catalog) =
            Catalog::open_read_only(&common.archive_dir()).context(super::OPEN_CATALOG)?
        else {
            return no_catalog(common, &mut out);
        };
        for (path, reason) in catalog.last_rejections()? {
            if common.json {
                let line = RejectedLine {
                    path: &path,
                    reason: &reason,
                };
                writeln!(out, "{}", serde_json::to_string(&line)?)?;
            } else {
                writeln!(out, "{}\t{}", e(&path), e(&reason))?;
            }
        }
        return Ok(EXIT_OK);
    }
    let cfg = super::load_config(common)?;
    let filters = match resolve_filters(&cfg, args) {
        Ok(f) => f,
        Err(why) => {
            let _ = writeln!(std::io::stderr(), "错误：{why}");
            return Ok(EXIT_USAGE);
        }
    };
    let Some(session) = Session::open_read_only(common, Which::All)? else {
        return no_catalog(common, &mut out);
    };
    for f in session
        .files
        .iter()
        .filter(|f| keep(f, &filters, args.date))
    {
        if common.json {
            writeln!(out, "{}", serde_json::to_string(&listed(f))?)?;
        } else {
            let state = if f.version.withdrawn && f.version.current {
                crate::model::WITHDRAWN
            } else if f.version.current {
                if f.judged.excluded {
                    "当前（不计入）"
                } else {
                    "当前"
                }
            } else {
                "旧版本"
            };
            let j = &f.judged;
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                e(&f.version.facts.path.shown()),
                e(&j.department),
                if j.activities.is_empty() {
                    UNASSIGNED.to_string()
                } else {
                    j.activities.join("、")
                },
                f.version.facts.kind.label(),
                // `2025-05-13（文件名）`; an undated file says so once, not 无日期（无日期）.
                j.day()
                    .map(|d| {
                        let source = j.date_source().label().replace("（低可信）", "，低可信");
                        format!("{d}（{source}）")
                    })
                    .unwrap_or_else(|| crate::model::NO_DATE.into()),
                super::human_bytes(f.version.facts.size),
                state,
                e(&f.problems().join("；"))
            )?;
        }
    }
    Ok(EXIT_OK)
}

fn no_catalog(common: &Common, out: &mut impl Write) -> anyhow::Result<i32> {
    if !common.json {
        writeln!(
            out,
            "存档 {} 里还没有导入过任何文件：请先运行 dangan nightly（或 dangan import）",
            common.archive.display()
        )?;
    }
    Ok(EXIT_OK)
}
