//! The `scan` subcommands of `cargo run -p ports -- ...`, in their own file beside `main.rs`.

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum Command {}

pub fn run(command: Command) -> Result<()> {
    match command {}
}

/// The hint for an error of these subcommands, if it has one.
pub fn hint(_err: &anyhow::Error) -> Option<&'static str> {
    None
}
