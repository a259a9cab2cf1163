//! Name folding: the activities and departments the facts name, each resolved once to the row
//! it counts in (DESIGN.md, *The provincial table*: the breakdowns). Activity names compare by
//! [`match_key`]; a name the activity catalog lacks gets its own row after the catalog's, with a
//! warning; departments are the institution's units and the activities' 承办部门 first, then
//! the ones only facts name.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::{NO_DEPARTMENT, TallyInput};
use crate::text::{clean_cell, match_key};

/// An activity as rows are keyed: the catalog's, or a name found only in the facts.
#[derive(Debug)]
pub(super) struct Act {
    pub name: String,
    pub departments: Vec<String>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub experience: bool,
}

/// Names the facts use, resolved to activity indices and department keys.
pub(super) struct Names {
    pub acts: Vec<Act>,
    act_index: BTreeMap<String, usize>,
    /// Department key → display name, in report order.
    pub depts: Vec<(String, String)>,
}

/// The activity and department names of the sign-in rows, each distinct name once (the rows
/// themselves are streamed, see `signin.rs`).
#[derive(Debug, Default)]
pub(super) struct NamesSeen {
    pub activities: BTreeSet<String>,
    pub departments: BTreeSet<String>,
}

impl NamesSeen {
    pub fn add(&mut self, activities: &[String], department: &str) {
        for a in activities {
            if !self.activities.contains(a) {
                self.activities.insert(a.clone());
            }
        }
        if !self.departments.contains(department) {
            self.departments.insert(department.to_string());
        }
    }
}

impl Names {
    pub fn build(input: &TallyInput, people: &NamesSeen, warnings: &mut BTreeSet<String>) -> Names {
        let mut acts = Vec::new();
        let mut act_index = BTreeMap::new();
        for a in &input.activities {
            let key = match_key(&a.name);
            if key.is_empty() || act_index.contains_key(&key) {
                warnings.insert(format!(
                    "活动目录中活动“{}”名称为空或重复，已忽略",
                    clean_cell(&a.name)
                ));
                continue;
            }
            act_index.insert(key, acts.len());
            acts.push(Act {
                name: clean_cell(&a.name),
                departments: a.departments.iter().map(|d| clean_cell(d)).collect(),
                start: Some(a.start),
                end: Some(a.end),
                experience: a.experience,
            });
        }
        // Activities named by facts but missing from the catalog, in a fixed order.
        let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let named = input
            .files
            .iter()
            .flat_map(|f| f.activities.iter().map(String::as_str))
            .chain(people.activities.iter().map(String::as_str))
            .chain(
                input
                    .media
                    .iter()
                    .flat_map(|m| m.activities.iter().map(String::as_str)),
            )
            .chain(input.declared.iter().map(|d| d.activity.as_str()));
        for name in named {
            let key = match_key(name);
            if !key.is_empty() && !act_index.contains_key(&key) {
                extra.entry(key).or_default().insert(clean_cell(name));
            }
        }
        for (key, shown) in extra {
            let name = shown.into_iter().next().unwrap_or_default();
            warnings.insert(format!("活动“{name}”不在活动目录中，单独列出"));
            act_index.insert(key, acts.len());
            acts.push(Act {
                name,
                departments: Vec::new(),
                start: None,
                end: None,
                experience: false,
            });
        }

        let mut depts: Vec<(String, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let listed = input
            .own_units
            .iter()
            .chain(input.activities.iter().flat_map(|a| a.departments.iter()));
        for d in listed {
            let key = match_key(d);
            if !key.is_empty() && seen.insert(key.clone()) {
                depts.push((key, clean_cell(d)));
            }
        }
        let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let named = input
            .files
            .iter()
            .map(|f| f.department.as_str())
            .chain(people.departments.iter().map(String::as_str))
            .chain(input.media.iter().map(|m| m.department.as_str()))
            .chain(
                input
                    .declared
                    .iter()
                    .filter_map(|d| d.department.as_deref()),
            );
        for d in named {
            let key = match_key(d);
            if !seen.contains(&key) {
                extra.entry(key).or_default().insert(clean_cell(d));
            }
        }
        for (key, shown) in extra {
            let name = shown.into_iter().next().unwrap_or_default();
            let name = if name.is_empty() {
                NO_DEPARTMENT.to_string()
            } else {
                name
            };
            seen.insert(key.clone());
            depts.push((key, name));
        }
        Names {
            acts,
            act_index,
            depts,
        }
    }

    pub fn act(&self, name: Option<&str>) -> Option<usize> {
        let key = match_key(name?);
        self.act_index.get(&key).copied()
    }

    /// The breakdown rows a fact with these activities counts in: one per activity, or the
    /// 未归类 row.
    pub fn acts(&self, names: &[String]) -> Vec<Option<usize>> {
        let mut out: Vec<Option<usize>> = names.iter().map(|n| self.act(Some(n))).collect();
        out.dedup();
        if out.is_empty() {
            out.push(None);
        }
        out
    }

    /// The name a department row shows for a department key.
    pub fn department(&self, key: &str) -> String {
        self.depts
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| NO_DEPARTMENT.to_string())
    }
}
