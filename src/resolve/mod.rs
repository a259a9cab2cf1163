pub mod activity;
pub mod date;
