//! stub
use super::{Content, Extracted};
use crate::model::Format;
pub(crate) fn extract_document(_f: Format, _c: &mut Content, _out: &mut Extracted) {}
