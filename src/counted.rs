//! What the tally counts, read from the catalog: the counted files, the rows of their sheets and
//! their registers, judged (department, activities) and handed to [`crate::tally`] as its facts.
//! The one place between the catalog's read side and the tally: the sign-in rows are streamed
//! from [`Catalog::each_person_unsorted`] once per pass of the tally, each row judged as it
//! comes and dropped; media reports and declared rows are few and read whole.
//!
//! Judges nothing of its own (every judgement is [`crate::classify`]'s) and writes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use crate::catalog::{self, Catalog, DeclaredRow, MediaRow, PersonRow};
use crate::classify::{self, ClassifiedFile, Corrections, Judge};
use crate::config::Config;
use crate::tally::{DeclaredFact, FileFact, MediaFact, PersonFact, Tally, TallyInput};

/// The tally of the catalog's counted files and rows (the sign-in rows streamed).
pub fn tally(cfg: &Config, files: &[ClassifiedFile], catalog: &Catalog) -> catalog::Result<Tally> {
    let input = tally_input(cfg, files, catalog)?;
    let none = Corrections::default();
    let mut people = PersonFacts::new(cfg, &none, files);
    crate::tally::tally_streamed(&input, &mut |f: &mut dyn FnMut(&PersonFact)| {
        catalog.each_person_unsorted(&mut |row| {
            if let Some(p) = people.fact(row) {
                f(&p);
            }
        })
    })
}

/// Everything the tally counts but the sign-in rows (`people` is empty; [`tally`] streams them).
pub fn tally_input(
    cfg: &Config,
    files: &[ClassifiedFile],
    catalog: &Catalog,
) -> catalog::Result<TallyInput> {
    Ok(facts(cfg, files, &catalog.media()?, &catalog.declared()?))
}

/// The media reports of [`tally_input`] alone, judged (the forms list them; they need none of
/// the files' facts).
pub fn media_facts(
    cfg: &Config,
    files: &[ClassifiedFile],
    catalog: &Catalog,
) -> catalog::Result<Vec<MediaFact>> {
    Ok(judged_media(cfg, files, &catalog.media()?))
}

fn judged_media(cfg: &Config, files: &[ClassifiedFile], media: &[MediaRow]) -> Vec<MediaFact> {
    classify::judge_media(cfg, files, media)
        .into_iter()
        .map(|m| MediaFact {
            activities: m.activities,
            department: m.department,
            title: m.row.title.clone(),
            outlet: m.row.outlet.clone(),
            level: m.row.level.clone(),
            date: m.date,
            url: m.row.url.clone(),
        })
        .collect()
}

/// [`tally_input`] from rows already read.
fn facts(
    cfg: &Config,
    files: &[ClassifiedFile],
    media: &[MediaRow],
    declared: &[DeclaredRow],
) -> TallyInput {
    let counted = counted(files);
    let none = Corrections::default();
    let judge = Judge::new(cfg, &none);
    let mut own_units = cfg.department_names();
    own_units.extend(cfg.short_names.iter().cloned());
    for f in counted.values() {
        own_units.push(f.judged.department.clone());
        if let Some(folder) = f.version.facts.path.parts().first() {
            own_units.push(folder.clone());
        }
    }
    own_units.sort();
    own_units.dedup();

    let file_facts: Vec<FileFact> = files
        .iter()
        .filter(|f| f.counts())
        .map(|f| FileFact {
            department: f.judged.department.clone(),
            activities: f.judged.activities.clone(),
            kind: f.version.facts.kind,
            date: f.judged.day(),
        })
        .collect();
    let media = judged_media(cfg, files, media);
    let declared = declared
        .iter()
        .filter_map(|d| {
            let f = counted.get(&d.version_id)?;
            let activity = judge
                .activity_names(&d.activity_raw)
                .into_iter()
                .next()
                .unwrap_or_else(|| d.activity_raw.clone());
            let department = match d.department.as_deref() {
                Some(dep) => Some(
                    cfg.find_department(dep)
                        .map(str::to_string)
                        .unwrap_or_else(|| dep.to_string()),
                ),
                None => Some(f.judged.department.clone()),
            };
            Some(DeclaredFact {
                activity,
                department,
                teachers: d.teachers,
                students: d.students,
                enterprises: d.enterprises,
                participants: d.participants,
            })
        })
        .collect();
    TallyInput {
        institution: cfg.institution.clone(),
        enrolled_students: cfg.enrolled_students,
        own_units,
        unit_aliases: cfg
            .department_list
            .iter()
            .flat_map(|d| d.aliases.iter().map(|a| (a.clone(), d.name.clone())))
            .collect(),
        activities: classify::activity_infos(cfg),
        files: file_facts,
        people: Vec::new(),
        media,
        declared,
        report_window: (cfg.report_window.start, cfg.report_window.end),
    }
}

fn counted(files: &[ClassifiedFile]) -> HashMap<i64, &ClassifiedFile> {
    files
        .iter()
        .filter(|f| f.counts())
        .map(|f| (f.version.id, f))
        .collect()
}

/// Sign-in rows of the catalog as the tally's [`PersonFact`]s, one at a time.
pub struct PersonFacts<'a> {
    counted: HashMap<i64, &'a ClassifiedFile>,
    judge: Judge<'a>,
    /// A sheet repeats the same 活动名称 cell on every row: each distinct cell is matched once.
    named: HashMap<String, Vec<String>>,
    /// The sheet's title, name and file, searched for a role word: one string per sheet.
    hints: HashMap<(i64, String), Arc<str>>,
}

impl<'a> PersonFacts<'a> {
    pub fn new(
        cfg: &'a Config,
        corrections: &'a Corrections,
        files: &'a [ClassifiedFile],
    ) -> PersonFacts<'a> {
        PersonFacts {
            counted: counted(files),
            judge: Judge::new(cfg, corrections),
            named: HashMap::new(),
            hints: HashMap::new(),
        }
    }

    /// The row as the tally takes it (its strings moved), or `None` when its file does not
    /// count. A row counts for the activities its 活动名称 names, else its file's.
    pub fn fact(&mut self, p: PersonRow) -> Option<PersonFact> {
        let f = self.counted.get(&p.version_id)?;
        let hint = self
            .hints
            .entry((p.version_id, p.at.sheet.clone()))
            .or_insert_with(|| {
                format!(
                    "{} {} {}",
                    p.title.as_deref().unwrap_or_default(),
                    p.at.sheet,
                    p.at.path
                )
                .into()
            })
            .clone();
        let found = match p.activity_raw.as_deref() {
            Some(a) => {
                if !self.named.contains_key(a) {
                    let names = self.judge.activity_names(a);
                    self.named.insert(a.to_string(), names);
                }
                self.named.get(a).cloned().unwrap_or_default()
            }
            None => Vec::new(),
        };
        let activities = if found.is_empty() {
            f.judged.activities.clone()
        } else {
            found
        };
        Some(PersonFact {
            activities,
            department: f.judged.department.clone(),
            role: p.role,
            role_hint: Some(hint),
            name: p.name,
            id: p.id,
            unit: p.unit,
            at: p.at,
        })
    }
}
