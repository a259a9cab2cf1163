//! dangan (档案): the evidence of a vocational college's 职业教育活动周（月）, imported, cataloged,
//! tallied and archived. One module per stage of the data flow; see DESIGN.md.

pub mod archive_dir;
pub mod audit;
pub mod bag;
pub mod catalog;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod corrections;
pub mod counted;
pub mod detect;
pub mod extract;
pub mod forms;
pub mod human_error;
pub mod import;
pub mod lock;
pub mod materials;
pub mod model;
pub mod originals;
pub mod output;
pub mod parallel;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod rollup;
pub mod sheet;
pub mod store;
pub mod tally;
#[doc(hidden)]
pub mod testing; // test support (one EXIF writer), see its module doc
pub mod text;
pub mod walk;
