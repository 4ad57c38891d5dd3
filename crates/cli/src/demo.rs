//! `feeledger demo`: a sample community.

use anyhow::{bail, Result};
use std::path::Path;

pub fn run(_data: &Path) -> Result<()> {
    bail!("demo is being written")
}
