//! The DNS subcommands of `cargo run -p udp -- ...`: kept in their own file beside `main.rs`.

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DnsCommand {}

pub fn run(command: DnsCommand) -> Result<()> {
    match command {}
}

/// The hint for an error of a DNS subcommand, if it has one.
pub fn hint(_err: &anyhow::Error) -> Option<&'static str> {
    None
}
