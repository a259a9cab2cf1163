//! Resolving what a file is about: its date (the fallback chain) and its activity (the rules).

pub mod activity;
pub mod date;
