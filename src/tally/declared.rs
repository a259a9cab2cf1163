//! Declared counts (申报统计), for the activities without sign-in rows (DESIGN.md, *The
//! provincial table*, *Declared counts*).

use std::collections::{BTreeMap, BTreeSet};

use super::groups::{Declared, Groups};
use super::names::Names;
use super::{DeclaredFact, blank};
use crate::text::match_key;

/// Counts the declared rows into the groups: identical rows once, differing rows of one
/// activity and department by each column's larger number (warned), nothing for an activity
/// with sign-in rows (warned when the numbers differ from the sign-in's).
pub(super) fn count_declared(
    declared: &[DeclaredFact],
    names: &Names,
    with_signin: &BTreeSet<Option<usize>>,
    groups: &mut Groups,
    warnings: &mut BTreeSet<String>,
) {
    let mut rows: BTreeMap<(usize, String), BTreeSet<Declared>> = BTreeMap::new();
    for d in declared {
        let Some(act) = names.act(Some(&d.activity)) else {
            warnings.insert("申报统计中有一行没有活动名称，未计数".to_string());
            continue;
        };
        let dept = match d.department.as_deref() {
            Some(dep) if !blank(Some(dep)) => match_key(dep),
            _ => names.acts[act]
                .departments
                .first()
                .map(|d| match_key(d))
                .unwrap_or_default(),
        };
        let teachers = d.teachers.unwrap_or(0);
        let students = d.students.unwrap_or(0);
        let numbers = Declared {
            teachers,
            students,
            enterprises: d.enterprises.unwrap_or(0),
            participants: d
                .participants
                .unwrap_or_else(|| teachers.saturating_add(students)),
        };
        rows.entry((act, dept)).or_default().insert(numbers);
    }
    let mut ignored: BTreeMap<usize, u64> = BTreeMap::new();
    for ((act, dept), set) in rows {
        let name = &names.acts[act].name;
        if set.len() > 1 {
            warnings.insert(format!("活动“{name}”有几行不同的申报数，各列取最大值"));
        }
        let numbers = set.iter().fold(Declared::default(), |a, b| a.each_max(b));
        if with_signin.contains(&Some(act)) {
            let n = ignored.entry(act).or_default();
            *n = n.saturating_add(numbers.participants);
            continue;
        }
        groups.each(&[Some(act)], &dept, |g| g.add_declared(&numbers));
    }
    for (act, declared_participants) in ignored {
        let signed = groups.activity_signed_in(act);
        if signed != declared_participants {
            warnings.insert(format!(
                "活动“{}”申报参与人数 {declared_participants}，签到表为 {signed} 人：按签到表计",
                names.acts[act].name
            ));
        }
    }
}
