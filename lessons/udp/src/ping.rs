//! A UDP ping: probes sent to an echo server one after another, the round-trip time of each,
//! and a summary in the manner of `ping`'s. Unlike [`crate::client`], a probe is never sent
//! twice: a lost probe is what ping measures.
//!
//! (The real `ping` sends ICMP echo requests, RFC 792, which needs a raw or an ICMP socket.
//! Over UDP anyone can do the same with a server that echoes.)

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::client::{Client, Event, RequestError, Retry};

/// How to ping.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub count: u32,
    /// The pause between one probe's end (its reply or its timeout) and the next probe.
    pub interval: Duration,
    /// How long to wait for each probe's reply.
    pub timeout: Duration,
    /// The bytes of each probe, its 4-byte id included.
    pub size: usize,
}

// ANCHOR: summary
/// The round-trip statistics of a run, as `ping` prints them.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub transmitted: u32,
    pub received: u32,
    /// Replies that arrived after their probe's timeout, or twice, and were discarded.
    pub discarded: u32,
    pub rtts: Vec<Duration>,
}

impl Summary {
    pub fn loss_percent(&self) -> f64 {
        if self.transmitted == 0 {
            return 0.0;
        }
        100.0 * f64::from(self.transmitted - self.received) / f64::from(self.transmitted)
    }

    /// Minimum, mean, maximum and mean deviation of the round trips, in milliseconds. `ping`
    /// calls the last one `mdev`: the square root of the mean square minus the squared mean.
    pub fn rtt_ms(&self) -> Option<(f64, f64, f64, f64)> {
        if self.rtts.is_empty() {
            return None;
        }
        let ms: Vec<f64> = self.rtts.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        let n = ms.len() as f64;
        let min = ms.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ms.iter().copied().fold(0.0, f64::max);
        let mean = ms.iter().sum::<f64>() / n;
        let mean_square = ms.iter().map(|x| x * x).sum::<f64>() / n;
        let mdev = (mean_square - mean * mean).max(0.0).sqrt();
        Some((min, mean, max, mdev))
    }
}
// ANCHOR_END: summary

// ANCHOR: ping
/// Pings the echo server at `server` by sending to `to` (the server itself, or a relay in
/// front of it), printing one line per probe and the summary on `out`.
pub fn ping(
    server: SocketAddr,
    to: SocketAddr,
    config: Config,
    seed: u64,
    out: &mut impl Write,
) -> io::Result<Summary> {
    let once = Retry {
        first_timeout: config.timeout,
        max_timeout: config.timeout,
        attempts: 1,
        jitter: false,
    };
    let mut client = Client::connect(to, once, seed)?;
    let padding = vec![b'.'; config.size.saturating_sub(crate::client::ID_LEN)];
    let mut summary = Summary {
        transmitted: 0,
        received: 0,
        discarded: 0,
        rtts: Vec::new(),
    };
    let size = padding.len() + crate::client::ID_LEN;
    writeln!(
        out,
        "PING {server}: {} probes of {size} bytes",
        config.count
    )?;
    let started = Instant::now();
    for seq in 1..=config.count {
        if seq > 1 {
            std::thread::sleep(config.interval); // pacing, as ping's -i
        }
        summary.transmitted += 1;
        let sent = Instant::now();
        let mut late = 0;
        let reply = client.request(&padding, |event| {
            if let Event::Discarded { .. } = event {
                late += 1;
            }
        });
        summary.discarded += late;
        match reply {
            Ok(_) => {
                let rtt = sent.elapsed();
                summary.received += 1;
                summary.rtts.push(rtt);
                writeln!(
                    out,
                    "{size} bytes from {server}: seq={seq} time={}",
                    show_ms(rtt)
                )?;
            }
            Err(RequestError::NoReply { .. }) => {
                writeln!(
                    out,
                    "seq={seq}: no reply within {}",
                    show_ms(config.timeout)
                )?;
            }
            Err(RequestError::Refused(e)) | Err(RequestError::Io(e)) => return Err(e),
        }
    }
    print_summary(server, &summary, started.elapsed(), out)?;
    Ok(summary)
}
// ANCHOR_END: ping

fn show_ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn print_summary(
    server: SocketAddr,
    s: &Summary,
    elapsed: Duration,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "--- {server} ping statistics ---")?;
    writeln!(
        out,
        "{} probes transmitted, {} received, {:.0}% loss, time {}",
        s.transmitted,
        s.received,
        s.loss_percent(),
        show_ms(elapsed)
    )?;
    if s.discarded > 0 {
        writeln!(out, "{} late or duplicate replies discarded", s.discarded)?;
    }
    if let Some((min, avg, max, mdev)) = s.rtt_ms() {
        writeln!(
            out,
            "rtt min {min:.3} ms, avg {avg:.3} ms, max {max:.3} ms, mdev {mdev:.3} ms"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_pings_formulas() {
        let s = Summary {
            transmitted: 4,
            received: 3,
            discarded: 0,
            rtts: [1, 2, 3].map(Duration::from_millis).to_vec(),
        };
        assert_eq!(s.loss_percent(), 25.0);
        let (min, avg, max, mdev) = s.rtt_ms().expect("three samples");
        assert!((min - 1.0).abs() < 1e-9 && (max - 3.0).abs() < 1e-9);
        assert!((avg - 2.0).abs() < 1e-9);
        // sqrt((1 + 4 + 9) / 3 - 4) = sqrt(2/3)
        assert!((mdev - (2.0f64 / 3.0).sqrt()).abs() < 1e-9, "{mdev}");
        let none = Summary {
            transmitted: 2,
            received: 0,
            discarded: 0,
            rtts: vec![],
        };
        assert_eq!(none.rtt_ms(), None);
        assert_eq!(none.loss_percent(), 100.0);
    }
}
