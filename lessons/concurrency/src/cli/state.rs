//! `state`: count visits with many threads, three ways, and say how long each took.

use std::io::{self, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use concurrency::state::{self, Counted};

#[derive(clap::Args)]
pub struct Args {
    /// How many threads count at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: u16,
    /// How many visits each thread counts.
    #[arg(long, default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    increments: u64,
}

type Count = fn(usize, u64) -> io::Result<Counted>;

// ANCHOR: run
pub fn run(args: Args) -> Result<()> {
    let threads = usize::from(args.threads);
    let ways: [(&str, Count); 3] = [
        ("mutex", state::count_with_mutex),
        ("atomic", state::count_with_atomic),
        ("channel", state::count_with_channel),
    ];
    let mut out = io::stdout().lock();
    for (name, count) in ways {
        let counted = count(threads, args.increments)
            .with_context(|| format!("counting with a {name} failed"))?;
        let label = format!("{name}:");
        writeln!(
            out,
            "{label:<8} {} counted by {threads} threads in {}",
            counted.total,
            duration(counted.elapsed)
        )?;
        out.flush()?; // one line as each finishes
    }
    Ok(())
}
// ANCHOR_END: run

/// `12.3 ms` below a second, `1.20 s` from one up.
fn duration(elapsed: Duration) -> String {
    let ms = elapsed.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(duration(Duration::from_millis(1_204)), "1.20 s");
        assert_eq!(duration(Duration::from_micros(400)), "0.4 ms");
    }
}
