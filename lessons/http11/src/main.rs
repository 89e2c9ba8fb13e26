//! `cargo run -p http11 -- <subcommand>`: the HTTP lesson on the command line.

fn main() {}
