//! What re-reading the store found: the objects whose bytes no longer match their name (or
//! that are gone), by whom and when it was found, and whether they were healed since — facts,
//! like everything here. Also the nightly audit's cursor (the last object it re-read), so that
//! each night goes on where the previous one stopped.

use rusqlite::{OptionalExtension, params};

use super::{Catalog, Result};
use crate::model::{InboxPath, Sha256};

/// One object of the store, as the catalog knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub sha256: Sha256,
    pub size: u64,
}

/// What a check of one object found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectState {
    /// Its bytes no longer hash to its name.
    Damaged,
    /// There is no file at its place in the store.
    Missing,
    /// Replaced from the inbox by an import, or found intact again.
    Healed,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::Damaged => "damaged",
            ObjectState::Missing => "missing",
            ObjectState::Healed => "healed",
        }
    }
    fn parse(s: &str) -> ObjectState {
        match s {
            "missing" => ObjectState::Missing,
            "healed" => ObjectState::Healed,
            _ => ObjectState::Damaged,
        }
    }
}

/// An object found damaged or missing and not healed since, with every path that had its bytes.
#[derive(Debug, Clone)]
pub struct DamagedObject {
    pub sha256: Sha256,
    pub size: u64,
    pub state: ObjectState,
    /// The command that found it (`nightly`, `verify`, `archive`, `report`).
    pub found_by: String,
    /// When (Unix seconds).
    pub found_at: i64,
    pub paths: Vec<HeldBy>,
}

/// A cataloged path whose content is a damaged object.
#[derive(Debug, Clone)]
pub struct HeldBy {
    pub path: InboxPath,
    /// It is the current version of a path still in the inbox.
    pub counted: bool,
    /// A zip member: the zip (or inner zip) object it was read from and its raw name there.
    pub member: Option<(Sha256, Vec<u8>)>,
}

impl Catalog {
    fn has_object_checks(&self) -> rusqlite::Result<bool> {
        self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'object_checks')",
            [],
            |r| r.get(0),
        )
    }

    /// How many objects the catalog knows, and their bytes.
    pub fn object_totals(&self) -> Result<(u64, u64)> {
        let (n, bytes): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok((n.max(0) as u64, bytes.max(0) as u64))
    }

    /// Up to `limit` objects in name order, after `after` (from the first when `None`): the
    /// audit walks the store in pages, holding one page at a time.
    pub fn objects_after(&self, after: Option<&Sha256>, limit: usize) -> Result<Vec<ObjectRef>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sha256, size FROM objects WHERE sha256 > ?1 ORDER BY sha256 LIMIT ?2",
        )?;
        let from = after.map(Sha256::hex).unwrap_or_default();
        let rows = stmt.query_map(params![from, limit as i64], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sha, size) = row?;
            if let Some(sha256) = Sha256::parse_hex(&sha) {
                out.push(ObjectRef {
                    sha256,
                    size: size.max(0) as u64,
                });
            }
        }
        Ok(out)
    }

    /// The last object the nightly audit re-read.
    pub fn audit_cursor(&self) -> Result<Option<Sha256>> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'audit_cursor'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.as_deref().and_then(Sha256::parse_hex))
    }

    pub fn set_audit_cursor(&self, cursor: Option<&Sha256>) -> Result<()> {
        match cursor {
            Some(c) => self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('audit_cursor', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [c.hex()],
            )?,
            None => self
                .conn
                .execute("DELETE FROM meta WHERE key = 'audit_cursor'", [])?,
        };
        Ok(())
    }

    /// Records what a check of `sha256` found. Damaged or missing: kept until healed (the
    /// first finding's time and finder stay). Healed: closes an open finding; nothing to do
    /// when there is none.
    pub fn record_object_state(
        &self,
        sha256: &Sha256,
        state: ObjectState,
        by: &str,
        at: i64,
    ) -> Result<()> {
        match state {
            ObjectState::Healed => {
                self.conn.execute(
                    "UPDATE object_checks SET state = 'healed', healed_at = ?2, healed_by = ?3
                     WHERE sha256 = ?1 AND state != 'healed'",
                    params![sha256.hex(), at, by],
                )?;
            }
            _ => {
                self.conn.execute(
                    "INSERT INTO object_checks(sha256, state, found_at, found_by) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(sha256) DO UPDATE SET
                         found_at = CASE WHEN state = 'healed' THEN excluded.found_at ELSE found_at END,
                         found_by = CASE WHEN state = 'healed' THEN excluded.found_by ELSE found_by END,
                         state = excluded.state, healed_at = NULL, healed_by = NULL",
                    params![sha256.hex(), state.as_str(), at, by],
                )?;
            }
        }
        Ok(())
    }

    /// Every object found damaged or missing and not healed since, with the paths that had it.
    pub fn damaged_objects(&self) -> Result<Vec<DamagedObject>> {
        if !self.has_object_checks()? {
            return Ok(Vec::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT c.sha256, c.state, c.found_by, c.found_at, COALESCE(o.size, 0)
             FROM object_checks c LEFT JOIN objects o ON o.sha256 = c.sha256
             WHERE c.state != 'healed' ORDER BY c.sha256",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (sha, state, found_by, found_at, size) = row?;
            let Some(sha256) = Sha256::parse_hex(&sha) else {
                continue;
            };
            out.push(DamagedObject {
                paths: self.paths_holding(&sha256)?,
                sha256,
                size: size.max(0) as u64,
                state: ObjectState::parse(&state),
                found_by,
                found_at,
            });
        }
        Ok(out)
    }

    /// Every cataloged path that had these bytes (any version), counted ones first.
    pub fn paths_holding(&self, sha256: &Sha256) -> Result<Vec<HeldBy>> {
        let members = self.has_members()?;
        let sql = format!(
            "SELECT DISTINCT f.path_raw, (f.current_version = v.id AND f.withdrawn_run IS NULL), {}
             FROM versions v JOIN files f ON f.id = v.file_id{}
             WHERE v.sha256 = ?1 ORDER BY 2 DESC, f.path_raw",
            if members {
                "cv.sha256, m.name_raw"
            } else {
                "NULL, NULL"
            },
            if members {
                " LEFT JOIN members m ON m.file_id = f.id LEFT JOIN versions cv ON cv.id = m.container_version"
            } else {
                ""
            }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([sha256.hex()], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, Option<bool>>(1)?.unwrap_or(false),
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })?;
        let mut out: Vec<HeldBy> = Vec::new();
        for row in rows {
            let (path, counted, container, name) = row?;
            if out.iter().any(|h| h.path.0 == path) {
                continue;
            }
            let member = match (container.as_deref().and_then(Sha256::parse_hex), name) {
                (Some(c), Some(n)) => Some((c, n)),
                _ => None,
            };
            out.push(HeldBy {
                path: InboxPath(path),
                counted,
                member,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
impl Catalog {
    /// An object row as the import writes it, for the audit's tests.
    pub(crate) fn test_insert_object(&self, sha256: &str, size: u64) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO objects(sha256, size, first_run) VALUES (?1, ?2, 0)",
            params![sha256, size as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_stays_open_until_healed_and_keeps_its_first_finder() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        let sha = Sha256::of(b"x");
        catalog
            .record_object_state(&sha, ObjectState::Damaged, "nightly", 10)
            .unwrap();
        catalog
            .record_object_state(&sha, ObjectState::Missing, "verify", 20)
            .unwrap();
        let open = catalog.damaged_objects().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].state, ObjectState::Missing);
        assert_eq!(
            (open[0].found_by.as_str(), open[0].found_at),
            ("nightly", 10)
        );
        catalog
            .record_object_state(&sha, ObjectState::Healed, "import", 30)
            .unwrap();
        assert!(catalog.damaged_objects().unwrap().is_empty());
        catalog
            .record_object_state(&sha, ObjectState::Damaged, "archive", 40)
            .unwrap();
        assert_eq!(catalog.damaged_objects().unwrap()[0].found_by, "archive");
    }

    #[test]
    fn the_cursor_is_kept_and_objects_come_in_pages() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::open(&crate::archive_dir::ArchiveDir::new(dir.path())).unwrap();
        assert_eq!(catalog.audit_cursor().unwrap(), None);
        let sha = Sha256::of(b"y");
        catalog.set_audit_cursor(Some(&sha)).unwrap();
        assert_eq!(catalog.audit_cursor().unwrap(), Some(sha));
        assert!(catalog.objects_after(None, 10).unwrap().is_empty());
        assert_eq!(catalog.object_totals().unwrap(), (0, 0));
    }
}
