//! A relay that makes loopback behave like a bad network: it forwards datagrams between a
//! client and a server, and drops, duplicates and delays them at the rates you ask for.
//! Delays reorder them, too. UDP promises none of the things this breaks (RFC 768 gives no
//! delivery, order or duplicate protection), so code that works through the relay copes with
//! what a real network does.
//!
//! The fate of every datagram is decided from the seed, the direction and the datagram's
//! number in that direction, not from the clock: the same seed and the same traffic give the
//! same drops, duplicates and delays, run after run.
//!
//! One socket serves both sides: a datagram from the server goes to the client that sent
//! last, and anything else is a client's, forwarded to the server. So run one client at a
//! time through it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::random::{Random, mix};
use crate::shutdown::Shutdown;
use crate::{is_timeout, reachable};

/// The faults to inject, and the seed that decides where they fall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Faults {
    /// The chance that a datagram is dropped, from 0 to 1.
    pub drop: f64,
    /// The chance that a datagram not dropped is sent twice.
    pub duplicate: f64,
    /// The longest extra delay. Each copy waits 0, 1/4, 1/2, 3/4 or all of it.
    pub delay: Duration,
    pub seed: u64,
}

impl Faults {
    /// A relay that changes nothing.
    pub fn none() -> Faults {
        Faults {
            drop: 0.0,
            duplicate: 0.0,
            delay: Duration::ZERO,
            seed: 0,
        }
    }

    pub fn is_none(&self) -> bool {
        self.drop == 0.0 && self.duplicate == 0.0 && self.delay.is_zero()
    }
}

/// Where the relay reports each datagram's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    Off,
    /// On standard output: for a relay inside a client, whose own lines go there too.
    Stdout,
    /// On standard error: for the relay as a server, whose stdout says `listening on`.
    Stderr,
}

/// Which way a datagram travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

// ANCHOR: fate
/// What happens to one datagram: one delay per copy sent. No copies: dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fate {
    pub copies: Vec<Duration>,
}

/// The fate of datagram number `index` (from 1) going `direction`: a pure function of the
/// faults, so it is the same in every run.
pub fn fate(faults: &Faults, direction: Direction, index: u64) -> Fate {
    let lane = match direction {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    };
    let mut random = Random::new(mix(faults.seed) ^ mix((index << 1) | lane));
    if random.chance(faults.drop) {
        return Fate { copies: Vec::new() };
    }
    let copies = if random.chance(faults.duplicate) {
        2
    } else {
        1
    };
    let delays = (0..copies)
        .map(|_| {
            let quarters = (random.unit() * 5.0) as u32; // 0 to 4
            faults.delay * quarters / 4
        })
        .collect();
    Fate { copies: delays }
}
// ANCHOR_END: fate

/// Counts of what the relay did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RelayStats {
    pub received: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub sent: u64,
}

/// The most datagrams held back at once; more are dropped, so a flood costs bounded memory.
const MAX_HELD: usize = 256;

/// A datagram waiting for its time to be sent.
struct Held {
    at: Instant,
    /// Breaks ties between equal times in the order the datagrams arrived.
    order: u64,
    to: SocketAddr,
    bytes: Vec<u8>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.order) == (other.at, other.order)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.order).cmp(&(other.at, other.order))
    }
}

// ANCHOR: run
/// Relays datagrams between clients and `server` until `shutdown` is triggered, reporting
/// each datagram's fate to `log`.
pub fn run(
    socket: UdpSocket,
    server: SocketAddr,
    faults: Faults,
    shutdown: Shutdown,
    log: Log,
) -> io::Result<RelayStats> {
    shutdown.wake_by_sending_to(socket.local_addr()?);
    let mut buf = vec![0u8; crate::MAX_DATAGRAM];
    let mut held: BinaryHeap<Reverse<Held>> = BinaryHeap::new();
    let mut stats = RelayStats::default();
    let mut client: Option<SocketAddr> = None;
    let mut counts = [0u64; 2]; // datagrams seen in each direction
    let mut queued = 0u64; // copies held so far: the tie-break between equal times
    while !shutdown.is_triggered() {
        send_due(&socket, &mut held, &mut stats);
        // Sleep in recv_from until the next datagram is due, or something arrives.
        let wait = held.peek().map_or(Duration::from_secs(1), |Reverse(h)| {
            h.at.saturating_duration_since(Instant::now())
        });
        socket.set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("relay: could not receive: {e}");
                continue;
            }
        };
        if shutdown.is_triggered() {
            break;
        }
        let (direction, to) = if from == server {
            match client {
                Some(client) => (Direction::ToClient, client),
                None => continue, // the server spoke first: nobody to tell
            }
        } else {
            client = Some(from);
            (Direction::ToServer, server)
        };
        stats.received += 1;
        let lane = direction as usize;
        counts[lane] += 1;
        let fate = fate(&faults, direction, counts[lane]);
        // Reported before it is sent, so a client's next line cannot come first.
        let line = describe(direction, counts[lane], &fate);
        match log {
            Log::Off => {}
            Log::Stdout => println!("relay: {line}"),
            Log::Stderr => eprintln!("relay: {line}"),
        }
        match fate.copies.len() {
            0 => stats.dropped += 1,
            1 => {}
            _ => stats.duplicated += 1,
        }
        let now = Instant::now();
        for delay in fate.copies {
            if held.len() >= MAX_HELD {
                stats.dropped += 1;
                continue;
            }
            queued += 1;
            let bytes = buf[..n].to_vec();
            held.push(Reverse(Held {
                at: now + delay,
                order: queued,
                to,
                bytes,
            }));
        }
    }
    Ok(stats)
}
// ANCHOR_END: run

/// Sends every held datagram whose time has come, earliest first.
fn send_due(socket: &UdpSocket, held: &mut BinaryHeap<Reverse<Held>>, stats: &mut RelayStats) {
    let now = Instant::now();
    while held.peek().is_some_and(|Reverse(h)| h.at <= now) {
        let Some(Reverse(h)) = held.pop() else { break };
        match socket.send_to(&h.bytes, h.to) {
            Ok(_) => stats.sent += 1,
            Err(e) => eprintln!("relay: could not send to {}: {e}", h.to),
        }
    }
}

/// One line for the log: `client -> server #3: dropped`.
pub fn describe(direction: Direction, index: u64, fate: &Fate) -> String {
    let way = match direction {
        Direction::ToServer => "client -> server",
        Direction::ToClient => "server -> client",
    };
    let ms = |d: &Duration| d.as_millis();
    let what = match fate.copies.as_slice() {
        [] => "dropped".to_string(),
        [d] if d.is_zero() => "passed".to_string(),
        [d] => format!("delayed by {} ms", ms(d)),
        [a, b] => format!("duplicated, copies delayed by {} and {} ms", ms(a), ms(b)),
        more => format!("{} copies", more.len()),
    };
    format!("{way} #{index}: {what}")
}

/// A relay running on a thread of its own, on `127.0.0.1:0` (or `[::1]:0` for an IPv6
/// server). Stopped when dropped.
pub struct RunningRelay {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<io::Result<RelayStats>>>,
}

impl RunningRelay {
    pub fn start(server: SocketAddr, faults: Faults, log: Log) -> io::Result<RunningRelay> {
        let server = reachable(server);
        let loopback: SocketAddr = if server.is_ipv4() {
            "127.0.0.1:0".parse().expect("a valid address")
        } else {
            "[::1]:0".parse().expect("a valid address")
        };
        let socket = UdpSocket::bind(loopback)?;
        let addr = socket.local_addr()?;
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name("relay".into())
            .spawn(move || run(socket, server, faults, stop, log))?;
        Ok(RunningRelay {
            addr,
            shutdown,
            thread: Some(thread),
        })
    }

    /// Stops the relay and returns what it did.
    pub fn stop(mut self) -> io::Result<RelayStats> {
        self.finish()
    }

    fn finish(&mut self) -> io::Result<RelayStats> {
        self.shutdown.trigger();
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the relay thread panicked"))),
            None => Ok(RelayStats::default()),
        }
    }
}

impl Drop for RunningRelay {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

// ANCHOR: numbered
/// Sends datagrams numbered 1 to `count` through a relay with `faults` to a receiver, and
/// prints what arrives, in arrival order, then what was lost, doubled and reordered.
pub fn numbered_through(count: u32, faults: Faults, out: &mut impl Write) -> io::Result<()> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    let relay = RunningRelay::start(receiver.local_addr()?, faults, Log::Off)?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    for n in 1..=count {
        sender.send_to(&n.to_be_bytes(), relay.addr)?;
    }
    writeln!(out, "sent 1 to {count}, in order, through the relay")?;
    // Everything has arrived once nothing has come for longer than the longest delay.
    receiver.set_read_timeout(Some(faults.delay + Duration::from_millis(500)))?;
    let mut arrived = Vec::new();
    let mut buf = [0u8; 64];
    loop {
        match receiver.recv_from(&mut buf) {
            Ok((4, _)) => arrived.push(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]])),
            Ok(_) => continue, // not one of ours
            Err(e) if is_timeout(&e) => break,
            Err(e) => return Err(e),
        }
    }
    let shown: Vec<String> = arrived.iter().map(u32::to_string).collect();
    writeln!(out, "arrived: {}", shown.join(" "))?;
    let report = Arrivals::count(count, &arrived);
    writeln!(
        out,
        "{} lost, {} duplicated, {} out of order",
        report.lost, report.duplicated, report.out_of_order
    )?;
    drop(relay);
    Ok(())
}
// ANCHOR_END: numbered

/// What happened to datagrams numbered 1 to `count`, judged from the arrival order.
#[derive(Debug, PartialEq, Eq)]
pub struct Arrivals {
    pub lost: usize,
    pub duplicated: usize,
    /// Arrivals of a number smaller than one that arrived before it (duplicates not counted).
    pub out_of_order: usize,
}

impl Arrivals {
    pub fn count(count: u32, arrived: &[u32]) -> Arrivals {
        let mut seen = std::collections::BTreeSet::new();
        let (mut duplicated, mut out_of_order, mut highest) = (0, 0, 0);
        for &n in arrived {
            if !seen.insert(n) {
                duplicated += 1;
                continue;
            }
            if n < highest {
                out_of_order += 1;
            }
            highest = highest.max(n);
        }
        let lost = (1..=count).filter(|n| !seen.contains(n)).count();
        Arrivals {
            lost,
            duplicated,
            out_of_order,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(drop: f64, duplicate: f64, delay_ms: u64, seed: u64) -> Faults {
        Faults {
            drop,
            duplicate,
            delay: Duration::from_millis(delay_ms),
            seed,
        }
    }

    #[test]
    fn fates_depend_only_on_seed_direction_and_number() {
        let f = faults(0.3, 0.2, 100, 42);
        for i in 1..50 {
            assert_eq!(
                fate(&f, Direction::ToServer, i),
                fate(&f, Direction::ToServer, i)
            );
        }
        let a: Vec<Fate> = (1..50).map(|i| fate(&f, Direction::ToServer, i)).collect();
        let b: Vec<Fate> = (1..50).map(|i| fate(&f, Direction::ToClient, i)).collect();
        assert_ne!(a, b, "the two directions have their own fates");
        let other = faults(0.3, 0.2, 100, 43);
        let c: Vec<Fate> = (1..50)
            .map(|i| fate(&other, Direction::ToServer, i))
            .collect();
        assert_ne!(a, c, "another seed, other fates");
    }

    #[test]
    fn rates_are_roughly_what_was_asked() {
        let f = faults(0.25, 0.5, 80, 7);
        let fates: Vec<Fate> = (1..=4000)
            .map(|i| fate(&f, Direction::ToServer, i))
            .collect();
        let dropped = fates.iter().filter(|f| f.copies.is_empty()).count();
        let doubled = fates.iter().filter(|f| f.copies.len() == 2).count();
        assert!((800..1200).contains(&dropped), "{dropped} of 4000 dropped");
        assert!(
            (1300..1700).contains(&doubled),
            "{doubled} of 4000 duplicated"
        );
        for f in &fates {
            for d in &f.copies {
                assert!([0, 20, 40, 60, 80].contains(&d.as_millis()), "{d:?}");
            }
        }
    }

    #[test]
    fn arrivals_count_losses_duplicates_and_reordering() {
        assert_eq!(
            Arrivals::count(6, &[2, 1, 3, 3, 6, 4]),
            Arrivals {
                lost: 1,
                duplicated: 1,
                out_of_order: 2
            }
        );
    }

    #[test]
    fn no_faults_pass_everything_at_once() {
        let f = Faults::none();
        assert!(f.is_none());
        for i in 1..100 {
            assert_eq!(fate(&f, Direction::ToClient, i).copies, [Duration::ZERO]);
        }
    }
}
