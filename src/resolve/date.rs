//! STUB until the extract branch lands.
use crate::model::DateCandidate;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime};
pub struct DateChoice {
    pub chosen: Option<DateCandidate>,
    pub ignored: Vec<(DateCandidate, String)>,
}
pub fn date_from_names(_f: &str, _d: &[&str], _o: FixedOffset) -> Option<DateCandidate> {
    None
}
pub fn choose(c: &[DateCandidate], import_day: NaiveDate) -> DateChoice {
    let mut v: Vec<DateCandidate> = c.to_vec();
    v.sort_by_key(|d| d.source);
    let chosen = v.into_iter().find(|d| d.date() <= import_day);
    DateChoice {
        chosen,
        ignored: vec![],
    }
}
pub fn from_unix_millis(_ms: i64, _o: FixedOffset) -> Option<NaiveDateTime> {
    None
}
