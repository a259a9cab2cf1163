//! The rolled-up table written out: CSV in the chosen encoding, or the 附件5 XLSX, through a
//! temporary file and a rename.

use std::path::Path;

use chrono::Datelike;

use super::RollupError;
use super::sum::Summed;
use crate::output::{self, CsvEncoding, table_csv, write_atomic};
use crate::tally::ProvincialRow;

/// What `out` is to hold, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OutKind {
    Csv,
    Xlsx,
}

impl OutKind {
    pub(super) fn of(out: &Path) -> Result<OutKind, RollupError> {
        match super::extension(out).as_str() {
            "csv" => Ok(OutKind::Csv),
            "xlsx" => Ok(OutKind::Xlsx),
            _ => Err(RollupError::OutputKind {
                path: out.to_path_buf(),
            }),
        }
    }
}

/// Writes the institutions and the 合计 row to `out`; the XLSX is titled with the inputs' year,
/// else `epoch`'s.
pub(super) fn write(
    out: &Path,
    kind: OutKind,
    summed: &Summed,
    enc: CsvEncoding,
    epoch: i64,
) -> Result<(), RollupError> {
    let table: Vec<ProvincialRow> = summed
        .institutions
        .iter()
        .chain([&summed.total])
        .cloned()
        .collect();
    let bytes = match kind {
        OutKind::Csv => table_csv(&table, enc),
        OutKind::Xlsx => {
            let year = summed.year.unwrap_or_else(|| {
                chrono::DateTime::from_timestamp(epoch, 0)
                    .map(|d| d.year())
                    .unwrap_or(1980)
            });
            output::xlsx::table_xlsx(&table, year, epoch).map_err(|e| RollupError::WriteXlsx {
                path: out.to_path_buf(),
                reason: e.to_string(),
            })?
        }
    };
    write_atomic(out, &bytes)?;
    Ok(())
}
