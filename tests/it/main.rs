//! The integration tests: one crate (one link on a two-core machine), a module per area.
//! Most run the real `dangan` binary on inboxes they build (`support::Env`).

mod support;

mod archive;
mod bag;
mod bounded;
mod counts;
mod dates;
mod documents;
mod dryrun;
mod extract_corpus;
mod forms;
mod import;
mod judgements;
mod messages;
mod nightly;
mod originals;
mod sheet;
mod stats;
mod store;
mod tally;
mod zips;
