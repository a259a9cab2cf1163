//! dangan (档案): the evidence of a vocational college's 职业教育活动周（月）, imported, cataloged,
//! tallied and archived. One module per stage of the data flow; see DESIGN.md.

pub mod bag;
pub mod model;
pub mod text;
