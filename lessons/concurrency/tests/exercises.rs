//! Checks for the Concurrency exercises (being built).

fn main() {}
