//! The integration tests: one crate (one link on a two-core machine), a module per area.
//! Most run the real `dangan` binary on inboxes they build (`support::Env`).

mod support;

mod archive;
mod bag;
mod counts;
mod dates;
mod documents;
mod extract_corpus;
mod forms;
mod import;
mod judgements;
mod messages;
mod nightly;
mod sheet;
mod stats;
mod tally;
mod zips;
