//! placeholder overview, written last
pub mod canonical;
pub mod entry;
pub mod hash;
pub mod merkle;
pub mod money;
pub mod note;
pub mod state;
pub mod tiles;
