//! Resolve: from what was read out of a file (names, content metadata) to the catalog's
//! answers — department, activity, date. Pure functions over plain values; never touches files.

pub mod date;
