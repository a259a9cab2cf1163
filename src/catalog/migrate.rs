//! Schema 1 → 2, in place and in one transaction: the conclusions schema 1 stored with each
//! version (department, activity and rule, the chosen date and its source, a row's matched
//! activity) are dropped; the facts they came from stay or are recovered. The chosen in-content
//! date becomes the version's date candidate (names and modification times are read again from
//! the path and the stat data at every run); the problems list keeps only what was found in the
//! bytes (the ±30-day and low-confidence notes are judgements, made afresh); the import time
//! of each version is its run's start.

use rusqlite::{Connection, params};

/// Notes schema 1 stored among a version's problems that are now judged at every run.
fn is_judgement_note(p: &str) -> bool {
    p.contains("距活动日期")
        || p.starts_with("只有文件修改时间可作日期")
        || p.starts_with("文件修改时间（低可信）的日期")
        || p.starts_with("文件名的日期")
}

pub fn from_v1(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS date_candidates (
             version_id INTEGER NOT NULL, source TEXT NOT NULL, datetime TEXT NOT NULL, offset TEXT);
         -- Schema 1 turned `mvhd` stamps into local time at the default +08:00; schema 2 keeps
         -- them as UTC wall clock.
         INSERT INTO date_candidates(version_id, source, datetime, offset)
             SELECT id, date_source,
                    CASE WHEN date_source = 'video'
                         THEN strftime('%Y-%m-%dT%H:%M:%S', datetime, '-8 hours')
                         ELSE datetime END,
                    date_offset
             FROM versions
             WHERE datetime IS NOT NULL
               AND date_source IN ('exif', 'exif_digitized', 'exif_datetime', 'video', 'sheet', 'document');
         ALTER TABLE versions ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE media_reports ADD COLUMN activity_raw TEXT;",
    )?;
    // Import times from the runs (schema 1 wrote them as local RFC 3339).
    let runs: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, started FROM runs")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, started) in runs {
        if let Some(t) = crate::clock::parse_stamp(&started) {
            tx.execute(
                "UPDATE versions SET imported = ?2 WHERE run_id = ?1",
                params![id, t],
            )?;
        }
    }
    let problems: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, problems FROM versions")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (id, json) in problems {
        let list: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
        let kept: Vec<&String> = list.iter().filter(|p| !is_judgement_note(p)).collect();
        if kept.len() != list.len() {
            tx.execute(
                "UPDATE versions SET problems = ?2 WHERE id = ?1",
                params![
                    id,
                    serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into())
                ],
            )?;
        }
    }
    tx.execute_batch(
        "ALTER TABLE versions DROP COLUMN activity;
         ALTER TABLE versions DROP COLUMN activity_rule;
         ALTER TABLE versions DROP COLUMN date;
         ALTER TABLE versions DROP COLUMN datetime;
         ALTER TABLE versions DROP COLUMN date_source;
         ALTER TABLE versions DROP COLUMN date_offset;
         ALTER TABLE files DROP COLUMN department;
         ALTER TABLE people DROP COLUMN activity;
         ALTER TABLE declared DROP COLUMN activity;
         UPDATE meta SET value = '2' WHERE key = 'schema_version';",
    )?;
    tx.commit()
}
