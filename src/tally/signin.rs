//! The sign-in rows counted as distinct persons, in passes over a stream of rows that is never
//! held: each row is judged (role, unit, own or external, identity) as it comes and only what
//! distinct counting needs is kept (DESIGN.md, *A person*; the module doc of `tally/mod.rs`).
//!
//! 1. [`SignIn::survey`]: the names the rows use, the (role, name, unit) of rows without an ID,
//!    and the warnings about rows (bounded: the first rows of a sheet and a count).
//! 2. [`SignIn::ids_of_nameless`], only when some row has no ID: the IDs seen with those
//!    (role, name, unit), so that an ID-less row is the one person with an ID of the same role,
//!    name and unit.
//! 3. [`SignIn::count`]: each row's person, folded into the groups it counts in.
//!
//! A person is a 128-bit hash of its folded [`Identity`] (SHA-256, cut), numbered once for the
//! whole tally ([`PersonKey`]); the groups hold those numbers with role bits, never a name.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::groups::{Groups, PersonKey, Roles};
use super::names::{Names, NamesSeen};
use super::people::{self, Identity, Role, classify_role, is_own_unit, is_vocational_unit};
use super::{PersonFact, TallyInput, rows_text_more};
use crate::model::RowAt;
use crate::text::match_key;

/// A caller's stream of sign-in rows: called once per pass, it hands every row to the function
/// it is given, in any order, and may fail (a catalog read).
pub type PeopleStream<'a, E> = dyn FnMut(&mut dyn FnMut(&PersonFact)) -> Result<(), E> + 'a;

/// 128 bits of SHA-256 over length-prefixed parts.
type Hash128 = [u64; 2];

fn hash128(parts: &[&[u8]]) -> Hash128 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let d = h.finalize();
    let word = |i: usize| u64::from_le_bytes(d[i..i + 8].try_into().unwrap_or([0; 8]));
    [word(0), word(8)]
}

impl Identity {
    /// The person as the tally keeps it.
    fn hash128(&self) -> Hash128 {
        match self {
            Identity::Id(id) => hash128(&[b"id".as_slice(), id.as_bytes()]),
            Identity::NameUnit(name, unit) => {
                hash128(&[b"name-unit".as_slice(), name.as_bytes(), unit.as_bytes()])
            }
        }
    }
}

/// The key of a (role, name, unit): an ID-less row and the rows with an ID it may be.
fn role_name_unit(role: Role, name: &str, unit: &str) -> Hash128 {
    hash128(&[[role as u8].as_slice(), name.as_bytes(), unit.as_bytes()])
}

/// Entries a judging cache holds before it is emptied: a sheet repeats the same few role words,
/// hints and units, so they are judged once; a sheet of all-different units costs no memory.
const CACHE_ENTRIES: usize = 4096;

/// Rows a grouped warning names (the rest are counted).
const ROWS_SHOWN: usize = 5;

/// What a sign-in row is, without its person.
struct Row {
    role: Role,
    /// The row's unit key (empty when blank).
    unit: Arc<str>,
    own: bool,
    identity: Option<Identity>,
}

/// The rows of one sheet a warning is about: the first few, and how many.
#[derive(Debug, Default)]
struct SheetRows {
    first: BTreeSet<u32>,
    count: u64,
}

impl SheetRows {
    fn add(&mut self, row: u32) {
        self.count += 1;
        self.first.insert(row);
        if self.first.len() > ROWS_SHOWN {
            self.first.pop_last();
        }
    }

    /// `19 行（第 3、4、5、6、7 行…）`. From the catalog a sheet's row is handed over once; a
    /// row given twice counts twice here (never in the tally).
    fn text(&self) -> String {
        let first: Vec<u32> = self.first.iter().copied().collect();
        rows_text_more(&first, self.count.saturating_sub(first.len() as u64))
    }
}

/// The sheet text of the last row seen (rows come sheet by sheet).
#[derive(Default)]
struct SheetText {
    last: Option<(String, String, String)>,
}

impl SheetText {
    fn of(&mut self, at: &RowAt) -> &str {
        let same = self
            .last
            .as_ref()
            .is_some_and(|(p, s, _)| *p == at.path && *s == at.sheet);
        if !same {
            self.last = Some((at.path.clone(), at.sheet.clone(), at.sheet_text()));
        }
        self.last.as_ref().map(|(_, _, t)| t.as_str()).unwrap_or("")
    }
}

/// A row's activities and department as written, and the groups they name.
struct Resolved {
    activities: Vec<String>,
    department: String,
    acts: Vec<Option<usize>>,
    dept: String,
}

/// What the first pass found.
pub(super) struct Survey {
    pub names: NamesSeen,
    /// (role, name, unit) of the rows without an ID.
    nameless: Vec<Hash128>,
}

/// (role, name, unit) of an ID-less row → the one ID seen with it, if exactly one.
pub(super) struct IdsOfNameless(HashMap<Hash128, Hash128>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    None,
    One(Hash128),
    Many,
}

/// The judging of sign-in rows, with its caches.
pub(super) struct SignIn<'a> {
    input: &'a TallyInput,
    aliases: Vec<(String, String)>,
    roles: HashMap<(Option<String>, Option<Arc<str>>), Role>,
    owns: HashMap<Option<String>, bool>,
    units: HashMap<(Option<String>, bool), Arc<str>>,
}

impl<'a> SignIn<'a> {
    pub fn new(input: &'a TallyInput) -> SignIn<'a> {
        SignIn {
            input,
            aliases: people::alias_keys(&input.unit_aliases),
            roles: HashMap::new(),
            owns: HashMap::new(),
            units: HashMap::new(),
        }
    }

    fn judge(&mut self, p: &PersonFact) -> Row {
        if self.roles.len() > CACHE_ENTRIES {
            self.roles.clear();
        }
        let role = *self
            .roles
            .entry((p.role.clone(), p.role_hint.clone()))
            .or_insert_with(|| classify_role(p.role.as_deref(), p.role_hint.as_deref()));
        let enterprise = role == Role::Enterprise;
        if self.units.len() > CACHE_ENTRIES {
            self.units.clear();
        }
        let aliases = &self.aliases;
        let unit = self
            .units
            .entry((p.unit.clone(), enterprise))
            .or_insert_with(|| {
                people::unit_key(p.unit.as_deref(), aliases, enterprise)
                    .unwrap_or_default()
                    .into()
            })
            .clone();
        let identity = people::identity(&p.name, p.id.as_deref(), &unit);
        let own = identity.is_some() && {
            if self.owns.len() > CACHE_ENTRIES {
                self.owns.clear();
            }
            let input = self.input;
            *self.owns.entry(p.unit.clone()).or_insert_with(|| {
                is_own_unit(p.unit.as_deref(), &input.institution, &input.own_units)
                    || people::is_alias(p.unit.as_deref(), aliases)
            })
        };
        Row {
            role,
            unit,
            own,
            identity,
        }
    }

    /// The first pass: names, ID-less rows, and the warnings about rows.
    pub fn survey<E>(
        &mut self,
        people: &mut PeopleStream<'_, E>,
        warnings: &mut BTreeSet<String>,
    ) -> Result<Survey, E> {
        let mut names = NamesSeen::default();
        let mut nameless = std::collections::HashSet::new();
        let mut lost_ids: BTreeMap<String, SheetRows> = BTreeMap::new();
        let mut no_identity: BTreeMap<String, SheetRows> = BTreeMap::new();
        let mut unknown_sheets = BTreeSet::new();
        let mut nameless_enterprise = BTreeSet::new();
        let mut sheet = SheetText::default();
        people(&mut |p| {
            names.add(&p.activities, &p.department);
            let row = self.judge(p);
            if p.id.as_deref().is_some_and(people::id_digits_lost) {
                sheet_rows(&mut lost_ids, sheet.of(&p.at)).add(p.at.row);
            }
            let Some(identity) = &row.identity else {
                sheet_rows(&mut no_identity, sheet.of(&p.at)).add(p.at.row);
                return;
            };
            if let Identity::NameUnit(name, unit) = identity {
                nameless.insert(role_name_unit(row.role, name, unit));
            }
            if row.role == Role::Unknown {
                note(&mut unknown_sheets, &p.at, &mut sheet);
            }
            if row.role == Role::Enterprise && row.unit.is_empty() {
                note(&mut nameless_enterprise, &p.at, &mut sheet);
            }
        })?;
        for (sheet, rows) in lost_ids {
            warnings.insert(format!(
                "{sheet}：{}的编号是 Excel 的科学计数法（如 5.11502E+17），位数已丢失，按姓名和单位计（请把编号列设为文本后重新导出）",
                rows.text()
            ));
        }
        for (sheet, rows) in no_identity {
            warnings.insert(format!("{sheet}：{}既无姓名也无编号，未计数", rows.text()));
        }
        for sheet in unknown_sheets {
            warnings.insert(format!(
                "{sheet}：没有身份列，表名和文件名也看不出是学生、教师还是企业人员，这些人只计入参与总人数"
            ));
        }
        for sheet in nameless_enterprise {
            warnings.insert(format!("{sheet}：有企业人员未填单位，未计入企业数"));
        }
        Ok(Survey {
            names,
            nameless: nameless.into_iter().collect(),
        })
    }

    /// The second pass, only when some row has no ID: the IDs seen with each ID-less row's
    /// (role, name, unit); kept only where there is exactly one.
    pub fn ids_of_nameless<E>(
        &mut self,
        survey: Survey,
        people: &mut PeopleStream<'_, E>,
    ) -> Result<IdsOfNameless, E> {
        if survey.nameless.is_empty() {
            return Ok(IdsOfNameless(HashMap::new()));
        }
        let mut seen: HashMap<Hash128, Seen> = survey
            .nameless
            .into_iter()
            .map(|k| (k, Seen::None))
            .collect();
        people(&mut |p| {
            let row = self.judge(p);
            let Some(id @ Identity::Id(_)) = &row.identity else {
                return;
            };
            let key = role_name_unit(row.role, &match_key(&p.name), &row.unit);
            if let Some(s) = seen.get_mut(&key) {
                let id = id.hash128();
                *s = match *s {
                    Seen::None => Seen::One(id),
                    Seen::One(other) if other == id => Seen::One(id),
                    _ => Seen::Many,
                };
            }
        })?;
        let mut ids: HashMap<Hash128, Hash128> = seen
            .into_iter()
            .filter_map(|(k, s)| match s {
                Seen::One(id) => Some((k, id)),
                _ => None,
            })
            .collect();
        ids.shrink_to_fit();
        Ok(IdsOfNameless(ids))
    }

    /// The last pass: every row with an identity counted as its person in its groups.
    /// Returns the activities that have sign-in rows.
    pub fn count<E>(
        &mut self,
        names: &Names,
        ids: &IdsOfNameless,
        groups: &mut Groups,
        people: &mut PeopleStream<'_, E>,
    ) -> Result<BTreeSet<Option<usize>>, E> {
        let mut persons: HashMap<Hash128, PersonKey> = HashMap::new();
        let mut with_signin = BTreeSet::new();
        // The rows of a sheet share their activities and department: resolved once a run.
        let mut last: Option<Resolved> = None;
        people(&mut |p| {
            let row = self.judge(p);
            let Some(identity) = &row.identity else {
                return;
            };
            let hash = match identity {
                Identity::NameUnit(name, unit) => ids
                    .0
                    .get(&role_name_unit(row.role, name, unit))
                    .copied()
                    .unwrap_or_else(|| identity.hash128()),
                Identity::Id(_) => identity.hash128(),
            };
            let next = persons.len() as PersonKey;
            let person = *persons.entry(hash).or_insert(next);
            let school = row.role != Role::Enterprise
                && !row.own
                && !row.unit.is_empty()
                && is_vocational_unit(&row.unit);
            let same = last
                .as_ref()
                .is_some_and(|r| r.activities == p.activities && r.department == p.department);
            if !same {
                let acts = names.acts(&p.activities);
                with_signin.extend(acts.iter().copied());
                last = Some(Resolved {
                    activities: p.activities.clone(),
                    department: p.department.clone(),
                    acts,
                    dept: match_key(&p.department),
                });
            }
            let Some(Resolved { acts, dept, .. }) = &last else {
                return;
            };
            let roles = Roles::of(row.role, row.own);
            let enterprise_unit = row.role == Role::Enterprise && !row.unit.is_empty();
            groups.each(acts, dept, |g| {
                g.add_person(person, roles);
                if enterprise_unit && !g.enterprise_units.contains(&row.unit) {
                    g.enterprise_units.insert(row.unit.clone());
                }
                if school && !g.schools.contains(&row.unit) {
                    g.schools.insert(row.unit.clone());
                }
            });
        })?;
        Ok(with_signin)
    }
}

/// Adds the row's sheet to `set`.
fn note(set: &mut BTreeSet<String>, at: &RowAt, sheet: &mut SheetText) {
    let text = sheet.of(at);
    if !set.contains(text) {
        set.insert(text.to_string());
    }
}

fn sheet_rows<'m>(map: &'m mut BTreeMap<String, SheetRows>, sheet: &str) -> &'m mut SheetRows {
    map.entry(sheet.to_string()).or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_keeps_the_first_rows_and_counts_the_rest_in_any_order() {
        let mut up = SheetRows::default();
        let mut down = SheetRows::default();
        for r in 2..100_002 {
            up.add(r);
            down.add(100_003 - r);
        }
        assert_eq!(up.first.len(), ROWS_SHOWN);
        assert_eq!(up.text(), "100000 行（第 2、3、4、5、6 行…）");
        assert_eq!(down.text(), up.text());
        let mut few = SheetRows::default();
        for r in [9, 4, 7] {
            few.add(r);
        }
        assert_eq!(few.text(), "3 行（第 4、7、9 行）");
    }

    #[test]
    fn an_identity_is_its_kind_and_its_parts() {
        let id = Identity::Id("2023000001".into()).hash128();
        assert_eq!(id, Identity::Id("2023000001".into()).hash128());
        assert_ne!(
            id,
            Identity::NameUnit("2023000001".into(), String::new()).hash128()
        );
        // Length-prefixed: the boundary between name and unit is part of the key.
        assert_ne!(
            Identity::NameUnit("张三".into(), "机电".into()).hash128(),
            Identity::NameUnit("张三机".into(), "电".into()).hash128()
        );
    }
}
