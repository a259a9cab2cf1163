//! stub
use super::{Content, ExtractOptions, Extracted};
pub(crate) fn extract_video(_c: &mut Content, _o: &ExtractOptions, _out: &mut Extracted) {}
