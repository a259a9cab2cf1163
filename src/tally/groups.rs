//! The rows of the counting: the table, one row per activity and department (活动明细), one per
//! department (部门明细). A fact counts in each group [`Groups::each`] names, once; each group
//! keeps only what its distinct counts need: persons as [`PersonKey`]s with their roles as bits,
//! units as shared strings, reports by key.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use super::media::MediaReportKey;
use super::{FileCounts, Role};
use crate::model::Kind;

/// A distinct person of the tally (see `signin.rs`), numbered in the order first seen.
pub(super) type PersonKey = u32;

/// The roles one person was seen with in a group, as bits: a person in two roles counts in
/// both (and twice in 参与总人数), as two (role, person) pairs would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Roles(u8);

impl Roles {
    const UNKNOWN: u8 = 1 << 5;
    /// A student of the own institution (the table's 学生数).
    const OWN_STUDENT: u8 = 1 << 6;
    const KNOWN: u8 = 0b1111;

    fn bit(role: Role) -> u8 {
        match role {
            Role::Student => 1,
            Role::Teacher => 1 << 1,
            Role::Enterprise => 1 << 2,
            Role::Visitor => 1 << 3,
            Role::Unknown => Self::UNKNOWN,
        }
    }

    pub fn of(role: Role, own: bool) -> Roles {
        let own = if role == Role::Student && own {
            Self::OWN_STUDENT
        } else {
            0
        };
        Roles(Self::bit(role) | own)
    }

    fn has(self, role: Role) -> bool {
        self.0 & Self::bit(role) != 0
    }

    /// Known roles: one (role, person) pair each.
    fn known(self) -> u64 {
        u64::from((self.0 & Self::KNOWN).count_ones())
    }

    /// Seen only with an unknown role: counts once in 参与总人数, else not at all.
    fn only_unknown(self) -> bool {
        self.0 & Self::KNOWN == 0 && self.0 & Self::UNKNOWN != 0
    }

    fn own_student(self) -> bool {
        self.0 & Self::OWN_STUDENT != 0
    }
}

/// Numbers of a declared-counts row (申报).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Declared {
    pub teachers: u64,
    pub students: u64,
    pub enterprises: u64,
    pub participants: u64,
}

impl Declared {
    fn add(&mut self, o: &Declared) {
        self.teachers = self.teachers.saturating_add(o.teachers);
        self.students = self.students.saturating_add(o.students);
        self.enterprises = self.enterprises.saturating_add(o.enterprises);
        self.participants = self.participants.saturating_add(o.participants);
    }

    /// Each column's larger number.
    pub fn each_max(self, o: &Declared) -> Declared {
        Declared {
            teachers: self.teachers.max(o.teachers),
            students: self.students.max(o.students),
            enterprises: self.enterprises.max(o.enterprises),
            participants: self.participants.max(o.participants),
        }
    }
}

/// The persons of a group with their roles: a hash map while they are few among the tally's
/// persons, one byte per [`PersonKey`] once they are many (the table's, a large activity's),
/// which is smaller than the map from one in eight on.
#[derive(Debug)]
enum Persons {
    Few(HashMap<PersonKey, Roles>),
    Many(Vec<Roles>),
}

impl Default for Persons {
    fn default() -> Persons {
        Persons::Few(HashMap::new())
    }
}

impl Persons {
    fn add(&mut self, person: PersonKey, roles: Roles) {
        match self {
            Persons::Few(map) => {
                map.entry(person).or_default().0 |= roles.0;
                if map.len() >= 64 && map.len() * 8 > person as usize {
                    let mut all = Vec::new();
                    for (p, r) in map.drain() {
                        Persons::set(&mut all, p, r);
                    }
                    *self = Persons::Many(all);
                }
            }
            Persons::Many(all) => Persons::set(all, person, roles),
        }
    }

    fn set(all: &mut Vec<Roles>, person: PersonKey, roles: Roles) {
        let i = person as usize;
        if i >= all.len() {
            all.resize(i + 1, Roles::default());
        }
        all[i].0 |= roles.0;
    }

    fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Each person's roles.
    fn iter(&self) -> Box<dyn Iterator<Item = (PersonKey, Roles)> + '_> {
        match self {
            Persons::Few(map) => Box::new(map.iter().map(|(p, r)| (*p, *r))),
            Persons::Many(all) => Box::new(
                all.iter()
                    .enumerate()
                    .filter(|(_, r)| r.0 != 0)
                    .map(|(p, r)| (p as PersonKey, *r)),
            ),
        }
    }

    fn values(&self) -> impl Iterator<Item = Roles> + '_ {
        self.iter().map(|(_, r)| r)
    }
}

/// Everything counted for one row (or the whole table).
#[derive(Debug, Default)]
pub(super) struct Group {
    pub files: FileCounts,
    // Hash maps and sets: only sizes and membership are asked of them, for 1 000 000s of rows.
    persons: Persons,
    pub enterprise_units: HashSet<Arc<str>>,
    pub schools: HashSet<Arc<str>>,
    pub reports: BTreeSet<MediaReportKey>,
    pub signin: bool,
    pub declared: Option<Declared>,
}

impl Group {
    pub fn is_empty(&self) -> bool {
        self.files == FileCounts::default()
            && self.persons.is_empty()
            && self.reports.is_empty()
            && self.declared.is_none()
    }

    pub fn add_file(&mut self, kind: Kind) {
        let c = &mut self.files;
        match kind {
            Kind::Photo => c.photo += 1,
            Kind::Video => c.video += 1,
            Kind::Sheet => c.sheet += 1,
            Kind::Document => c.document += 1,
            Kind::Other => c.other += 1,
        }
    }

    pub fn add_person(&mut self, person: PersonKey, roles: Roles) {
        self.signin = true;
        self.persons.add(person, roles);
    }

    /// Distinct persons seen with `role`.
    pub fn role_count(&self, role: Role) -> u64 {
        self.persons.values().filter(|r| r.has(role)).count() as u64
    }

    /// Distinct (known role, person) pairs.
    pub fn known(&self) -> u64 {
        self.persons.values().map(|r| r.known()).sum()
    }

    /// Distinct students of the own institution.
    pub fn own_students(&self) -> u64 {
        self.persons.values().filter(|r| r.own_student()).count() as u64
    }

    /// Distinct persons of every role from sign-in rows: each known (role, person) pair, and
    /// each person seen only with an unknown role.
    pub fn signed_in(&self) -> u64 {
        let unknown = self.persons.values().filter(|r| r.only_unknown()).count() as u64;
        self.known() + unknown
    }

    pub fn add_declared(&mut self, d: &Declared) {
        self.declared.get_or_insert_with(Declared::default).add(d);
    }

    pub fn declared(&self) -> Declared {
        self.declared.unwrap_or_default()
    }
}

/// The table, the activity rows and the department rows.
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub table: Group,
    /// (activity index, or `None` for 未归类; department key) → row.
    pub rows: BTreeMap<(Option<usize>, String), Group>,
    /// Department key → row.
    pub depts: BTreeMap<String, Group>,
}

impl Groups {
    /// Runs `f` on every group a fact counts in: the table once, each of its activity rows, and
    /// its department's row once (a fact of two activities is in both activity rows but counted
    /// once in the table and the department).
    pub fn each(&mut self, acts: &[Option<usize>], dept: &str, mut f: impl FnMut(&mut Group)) {
        f(&mut self.table);
        for a in acts {
            f(self.rows.entry((*a, dept.to_string())).or_default());
        }
        f(self.depts.entry(dept.to_string()).or_default());
    }

    /// Distinct persons of one activity's sign-in rows, over all its departments.
    pub fn activity_signed_in(&self, act: usize) -> u64 {
        let mut all = Group::default();
        for ((a, _), g) in &self.rows {
            if *a == Some(act) {
                for (p, r) in g.persons.iter() {
                    all.persons.add(p, r);
                }
            }
        }
        all.signed_in()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_roles_count_only_without_a_known_one() {
        let mut g = Group::default();
        g.add_person(1, Roles::of(Role::Unknown, true));
        g.add_person(2, Roles::of(Role::Unknown, true));
        g.add_person(2, Roles::of(Role::Teacher, true));
        g.add_person(3, Roles::of(Role::Student, true));
        g.add_person(3, Roles::of(Role::Visitor, false));
        g.add_person(4, Roles::of(Role::Student, false));
        assert_eq!(g.known(), 4);
        assert_eq!(g.signed_in(), 5);
        assert_eq!(g.role_count(Role::Student), 2);
        assert_eq!(g.own_students(), 1);
        assert_eq!(g.role_count(Role::Teacher), 1);
    }

    #[test]
    fn many_persons_are_kept_as_bytes_with_the_same_counts() {
        let mut g = Group::default();
        for p in 0..10_000 {
            let role = [Role::Student, Role::Teacher, Role::Unknown][p as usize % 3];
            g.add_person(p, Roles::of(role, p % 2 == 0));
        }
        for p in (0..10_000).step_by(3) {
            g.add_person(p, Roles::of(Role::Visitor, false));
        }
        assert!(matches!(g.persons, Persons::Many(_)));
        assert_eq!(g.role_count(Role::Student), 3334);
        assert_eq!(g.own_students(), 1667);
        assert_eq!(g.role_count(Role::Visitor), 3334);
        // The unknown ones (p % 3 == 2) are never visitors: 3333 only unknown.
        assert_eq!(g.known(), 3334 + 3333 + 3334);
        assert_eq!(g.signed_in(), 3334 + 3333 + 3334 + 3333);
        let mut few = Group::default();
        few.add_person(5_000_000, Roles::of(Role::Teacher, true));
        assert!(matches!(few.persons, Persons::Few(_)));
        assert_eq!(few.signed_in(), 1);
    }
}
