//! Healing the store: an object the catalog records as damaged or missing (found by the
//! nightly audit, `verify --store`, `archive` or the report) is replaced from the inbox when a
//! file there — or a member of a zip — still has its bytes. Only bytes that hash to the
//! object's name ever replace it ([`Store::heal`]); the inbox is only read.

use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::catalog::{Catalog, HeldBy, ObjectState, Result};
use crate::model::Sha256;
use crate::store::{Examined, Store};

/// What healing did, for the import's lines.
#[derive(Debug, Default, Clone)]
pub struct Healing {
    /// One line per object healed, in Chinese.
    pub healed: Vec<String>,
    /// Objects still damaged or missing after this import.
    pub still_damaged: u64,
}

/// Tries every recorded damaged or missing object; records each one healed.
pub fn heal_recorded(catalog: &Catalog, store: &Store, inbox: &Path, now: i64) -> Result<Healing> {
    let mut out = Healing::default();
    for d in catalog.damaged_objects()? {
        let hex = d.sha256.hex();
        let shown = format!("objects/{}/{hex}", &hex[..2]);
        // Put back by hand, or written again by this import (a missing object is simply
        // stored anew when its file is read): nothing to replace.
        if let Ok(Examined::Intact { .. }) = store.examine(&hex) {
            catalog.record_object_state(&d.sha256, ObjectState::Healed, "import", now)?;
            out.healed
                .push(format!("存档对象 {shown} 已恢复完好（已重新核对）"));
            continue;
        }
        let from = d
            .paths
            .iter()
            .find(|h| heal_from(store, inbox, &d.sha256, d.size, h));
        match from {
            Some(h) => {
                catalog.record_object_state(&d.sha256, ObjectState::Healed, "import", now)?;
                out.healed.push(format!(
                    "已修复存档对象 {shown}：用收件箱里的 {} 替换了{}",
                    crate::text::escape_controls(&h.path.shown()),
                    if d.state == ObjectState::Missing {
                        "丢失的副本"
                    } else {
                        "损坏的副本"
                    }
                ));
            }
            None => out.still_damaged += 1,
        }
    }
    Ok(out)
}

/// Replaces the object from one path that had its bytes: the inbox file itself, or the member
/// of its zip (from the stored zip, else the inbox's zip). True when healed.
fn heal_from(store: &Store, inbox: &Path, sha: &Sha256, size: u64, held: &HeldBy) -> bool {
    let hex = sha.hex();
    if let Some((container, name)) = &held.member {
        let stored_zip = store.object_path(&container.hex());
        if heal_member(store, &stored_zip, name, &hex, size) {
            return true;
        }
        // The zip as the inbox has it: the first component of the path that is a file.
        let raw = &held.path.0;
        for (i, _) in raw.iter().enumerate().filter(|(_, b)| **b == b'/') {
            let p = inbox.join(std::ffi::OsStr::from_bytes(&raw[..i]));
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
                return heal_member(store, &p, name, &hex, size);
            }
        }
        return false;
    }
    let p = inbox.join(std::ffi::OsStr::from_bytes(&held.path.0));
    // Never through a symlink, never anything but a regular file.
    if !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let Ok(f) = File::open(&p) else {
        return false;
    };
    store
        .heal(&hex, &mut f.take(size.saturating_add(1)))
        .unwrap_or(false)
}

/// The member `name` (raw, as the zip's header has it) of the zip at `zip`, inflated (or, for
/// a member stored as its raw bytes, copied raw), read no further than the object's size.
fn heal_member(store: &Store, zip: &Path, name: &[u8], hex: &str, size: u64) -> bool {
    let Ok(file) = File::open(zip) else {
        return false;
    };
    let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return false;
    };
    for i in 0..archive.len() {
        let matches = archive.by_index_raw(i).is_ok_and(|e| e.name_raw() == name);
        if !matches {
            continue;
        }
        if let Ok(entry) = archive.by_index(i)
            && store
                .heal(hex, &mut entry.take(size.saturating_add(1)))
                .unwrap_or(false)
        {
            return true;
        }
        if let Ok(entry) = archive.by_index_raw(i)
            && store
                .heal(hex, &mut entry.take(size.saturating_add(1)))
                .unwrap_or(false)
        {
            return true;
        }
    }
    false
}
