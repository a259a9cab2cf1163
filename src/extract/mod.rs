//! stub
pub mod document;
pub mod exif;
pub mod video;
