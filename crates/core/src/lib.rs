//! placeholder overview, written last
pub mod hash;
pub mod merkle;
pub mod note;
