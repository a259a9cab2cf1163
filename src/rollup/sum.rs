//! The pure step of the rollup: the institutions' rows as read, and the enrolment, into one
//! table with a 合计 row. No I/O.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::RollupError;
use crate::output::TOTAL;
use crate::tally::{Coverage, ProvincialRow};
use crate::text::match_key;

/// One institution's row as read, with what is known of its enrolment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InstitutionRow {
    pub(super) row: ProvincialRow,
    /// The coverage as written, in hundredths of a percent.
    pub(super) rate: Option<u64>,
    pub(super) path: PathBuf,
}

/// What one input table gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Table {
    pub(super) rows: Vec<InstitutionRow>,
    /// The year written in its title (`2025 年职业教育活动周情况统计表`).
    pub(super) year: Option<i32>,
    pub(super) warnings: Vec<String>,
}

/// The enrolment file: 在校生总数 by institution (key: [`match_key`] of its name; value: the
/// name as written and the number).
pub(super) type Enrolment = BTreeMap<String, (String, u64)>;

/// The institutions of the tables added so far, each once.
#[derive(Debug, Default)]
pub(super) struct Institutions {
    rows: Vec<InstitutionRow>,
    seen: BTreeMap<String, PathBuf>,
    year: Option<i32>,
    warnings: Vec<String>,
}

/// The rolled-up table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Summed {
    /// One row per institution, in input order.
    pub(super) institutions: Vec<ProvincialRow>,
    pub(super) total: ProvincialRow,
    /// The first year an input's title gave.
    pub(super) year: Option<i32>,
    pub(super) warnings: Vec<String>,
}

impl Summed {
    pub(super) fn coverage_estimated(&self) -> bool {
        matches!(self.total.coverage, Coverage::Estimated { .. })
    }
}

fn round_div(num: u128, den: u128) -> u128 {
    (2 * num + den) / (2 * den)
}

impl Institutions {
    /// Adds a table's rows; an institution already added is an error.
    pub(super) fn add(&mut self, table: Table) -> Result<(), RollupError> {
        self.warnings.extend(table.warnings);
        if self.year.is_none() {
            self.year = table.year;
        }
        for r in table.rows {
            let key = match_key(&r.row.institution);
            if let Some(first) = self.seen.get(&key) {
                return Err(RollupError::Duplicate {
                    name: r.row.institution.clone(),
                    first: first.clone(),
                    second: r.path.clone(),
                });
            }
            self.seen.insert(key, r.path.clone());
            self.rows.push(r);
        }
        Ok(())
    }

    /// The table with its 合计 row: each row's enrolment from `enrolled`, else estimated from
    /// its rounded rate.
    pub(super) fn sum(self, enrolled: Option<&Enrolment>) -> Summed {
        let Institutions {
            mut rows,
            seen,
            year,
            mut warnings,
        } = self;
        if let Some(map) = enrolled {
            for (key, (name, _)) in map {
                if !seen.contains_key(key) {
                    warnings.push(format!("在校生文件中的“{name}”不在汇总的表中"));
                }
            }
        }

        let mut sum_enrolled: u128 = 0;
        let mut estimated = false;
        let mut missing = Vec::new();
        for r in &mut rows {
            let key = match_key(&r.row.institution);
            let students = r.row.students;
            match enrolled.and_then(|m| m.get(&key)) {
                Some(&(_, n)) if n > 0 => {
                    sum_enrolled += u128::from(n);
                    r.row.coverage = Coverage::Exact {
                        students,
                        enrolled: n,
                    };
                }
                _ => {
                    if enrolled.is_some() {
                        warnings.push(format!(
                            "在校生文件中没有“{}”的在校生总数，按其覆盖率估算",
                            r.row.institution
                        ));
                    }
                    match r.rate {
                        Some(h) if h > 0 => {
                            estimated = true;
                            sum_enrolled += round_div(u128::from(students) * 10_000, u128::from(h));
                        }
                        _ => missing.push(r.row.institution.clone()),
                    }
                }
            }
        }
        let sum = |f: fn(&ProvincialRow) -> u64| rows.iter().map(|r| f(&r.row)).sum::<u64>();
        let students = sum(|r| r.students);
        let coverage = if !missing.is_empty() {
            warnings.push(format!(
                "{} 的在校生总数无从得知（没有在校生文件，覆盖率也为空或为 0），合计覆盖率不计算",
                missing.join("、")
            ));
            Coverage::Unknown
        } else {
            let enrolled = u64::try_from(sum_enrolled).unwrap_or(u64::MAX);
            if enrolled == 0 {
                Coverage::Unknown
            } else if estimated {
                Coverage::Estimated { students, enrolled }
            } else {
                Coverage::Exact { students, enrolled }
            }
        };
        let total = ProvincialRow {
            institution: TOTAL.to_string(),
            schools: sum(|r| r.schools),
            teachers: sum(|r| r.teachers),
            students,
            coverage,
            enterprises: sum(|r| r.enterprises),
            participants: sum(|r| r.participants),
            experience_projects: sum(|r| r.experience_projects),
            media_provincial: sum(|r| r.media_provincial),
            media_city: sum(|r| r.media_city),
            media_county: sum(|r| r.media_county),
        };
        Summed {
            institutions: rows.into_iter().map(|r| r.row).collect(),
            total,
            year,
            warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, students: u64, rate: Option<u64>, path: &str) -> InstitutionRow {
        InstitutionRow {
            row: ProvincialRow {
                institution: name.into(),
                schools: 1,
                teachers: 2,
                students,
                coverage: Coverage::Unknown,
                enterprises: 0,
                participants: students + 2,
                experience_projects: 0,
                media_provincial: 1,
                media_city: 0,
                media_county: 0,
            },
            rate,
            path: path.into(),
        }
    }

    fn table(rows: Vec<InstitutionRow>) -> Table {
        Table {
            rows,
            year: Some(2025),
            warnings: vec![],
        }
    }

    #[test]
    fn the_total_coverage_is_summed_students_over_summed_enrolment() {
        let mut all = Institutions::default();
        all.add(table(vec![row("甲", 525, Some(1313), "a.csv")]))
            .unwrap();
        all.add(table(vec![row("乙", 1, Some(1250), "b.csv")]))
            .unwrap();
        // Estimated: 525 / 13.13% → 3998, 1 / 12.50% → 8.
        let s = all.sum(None);
        assert!(s.coverage_estimated());
        assert_eq!(
            s.total.coverage,
            Coverage::Estimated {
                students: 526,
                enrolled: 4006
            }
        );
        assert_eq!((s.total.schools, s.total.teachers), (2, 4));
        assert_eq!(s.year, Some(2025));
        assert_eq!(s.warnings, Vec::<String>::new());
    }

    #[test]
    fn enrolment_makes_it_exact_and_names_what_it_lacks() {
        let mut all = Institutions::default();
        all.add(table(vec![
            row("甲", 10, Some(1000), "a.csv"),
            row("乙", 5, None, "a.csv"),
        ]))
        .unwrap();
        let enrolled: Enrolment = [
            (match_key("甲"), ("甲".to_string(), 100)),
            (match_key("丙"), ("丙".to_string(), 7)),
        ]
        .into();
        let s = all.sum(Some(&enrolled));
        assert_eq!(s.total.coverage, Coverage::Unknown);
        assert_eq!(
            s.institutions[0].coverage,
            Coverage::Exact {
                students: 10,
                enrolled: 100
            }
        );
        assert_eq!(
            s.warnings,
            [
                "在校生文件中的“丙”不在汇总的表中",
                "在校生文件中没有“乙”的在校生总数，按其覆盖率估算",
                "乙 的在校生总数无从得知（没有在校生文件，覆盖率也为空或为 0），合计覆盖率不计算",
            ]
        );
    }

    #[test]
    fn an_institution_twice_is_refused() {
        let mut all = Institutions::default();
        all.add(table(vec![row("甲", 1, None, "a.csv")])).unwrap();
        let err = all
            .add(table(vec![row("甲", 1, None, "b.csv")]))
            .unwrap_err();
        assert!(matches!(err, RollupError::Duplicate { .. }), "{err}");
    }
}
