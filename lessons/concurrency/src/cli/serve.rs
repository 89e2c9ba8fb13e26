//! `serve` (being built).

use anyhow::{Result, bail};

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> Result<()> {
    bail!("`serve` is not built yet")
}

#[allow(dead_code)]
pub fn hint(_err: &anyhow::Error) -> Option<String> {
    None
}
