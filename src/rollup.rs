//! Rollup.
