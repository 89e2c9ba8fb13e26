//! A TCP connect scanner: for each port, try to open a connection, and tell from how the try
//! ends whether something listens there.
//!
//! - **open**: the handshake completed, so something listens (whether or not it ever accepts:
//!   the kernel completes handshakes into the listener's queue on its own);
//! - **closed**: the host answered the SYN with a reset, "connection refused";
//! - **filtered**: no answer within the timeout (or an ICMP "unreachable"): a firewall that
//!   drops packets, a host that is down, or, on loopback, a listener whose queue is full.
//!
//! A fixed set of worker threads takes ports from a shared counter, so at most `concurrency`
//! connection attempts, and sockets, exist at once however many ports there are.

use std::fmt;
use std::io::{self, ErrorKind};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rlimit::Resource;

// ANCHOR: state
/// What one connection attempt says about a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// The handshake completed: something listens.
    Open,
    /// Refused: the host answered with a reset; nothing listens.
    Closed,
    /// No answer in time, or "unreachable": something in the way drops the packets.
    Filtered,
}

/// The state of one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortResult {
    pub port: u16,
    pub state: State,
}
// ANCHOR_END: state

/// Why a scan stopped before it tried every port.
#[derive(Debug)]
pub enum ScanError {
    /// The process ran out of file descriptors (`EMFILE`, `ENFILE`): every socket is one.
    OutOfFiles { port: u16, source: io::Error },
    /// No local port was free for another connection (`EADDRNOTAVAIL`).
    OutOfLocalPorts { port: u16, source: io::Error },
    /// Not one worker thread could be started.
    NoThreads(io::Error),
    /// Any other error of a connection attempt: it says nothing about the port, so the scan
    /// stops rather than guess.
    Connect { port: u16, source: io::Error },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::OutOfFiles { port, .. } => {
                write!(f, "out of file descriptors while trying port {port}")
            }
            ScanError::OutOfLocalPorts { port, .. } => {
                write!(f, "out of local ports while trying port {port}")
            }
            ScanError::NoThreads(_) => write!(f, "could not start a worker thread"),
            ScanError::Connect { port, .. } => write!(f, "could not try port {port}"),
        }
    }
}

impl std::error::Error for ScanError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ScanError::OutOfFiles { source, .. }
            | ScanError::OutOfLocalPorts { source, .. }
            | ScanError::Connect { source, .. }
            | ScanError::NoThreads(source) => Some(source),
        }
    }
}

/// `EMFILE` and `ENFILE`, "too many open files" in the process and in the system: the same
/// numbers on Linux and macOS. `std` has no `ErrorKind` for them yet.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

// ANCHOR: probe
/// Tries one connection to `addr`, waiting at most `timeout`, and closes it at once.
fn probe(addr: SocketAddr, timeout: Duration) -> Result<State, io::Error> {
    match TcpStream::connect_timeout(&addr, timeout) {
        // A connection from `addr` to itself is no listener: the kernel picked the port we
        // tried as our own port too, and the SYN met itself (TCP's "simultaneous open",
        // RFC 9293 §3.5). A full scan of loopback meets this about once.
        Ok(stream) if stream.local_addr().ok() == Some(addr) => Ok(State::Closed),
        Ok(_stream) => Ok(State::Open), // dropped here: the connection is closed
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Ok(State::Closed),
        Err(e) if crate::is_timeout(&e) => Ok(State::Filtered),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable
            ) =>
        {
            Ok(State::Filtered)
        }
        Err(e) => Err(e),
    }
}
// ANCHOR_END: probe

/// The stack each worker thread gets: a worker only calls `connect`, so a small one is plenty,
/// and a thousand workers cost a few megabytes of memory instead of gigabytes of address space.
const WORKER_STACK: usize = 64 * 1024;

// ANCHOR: scan
/// Scans `ports` of `target` with at most `concurrency` connection attempts at a time, each
/// given `timeout`, and returns every port's state in the order of `ports`. `on_progress` is
/// called, from the worker threads, once per port as soon as its state is known.
pub fn scan(
    target: IpAddr,
    ports: &[u16],
    concurrency: usize,
    timeout: Duration,
    on_progress: &(dyn Fn(PortResult) + Sync),
) -> Result<Vec<PortResult>, ScanError> {
    let next = AtomicUsize::new(0); // the index in `ports` of the next port to try
    let stop = AtomicBool::new(false); // set by a worker that hit an error
    let worker = || -> Result<Vec<(usize, State)>, ScanError> {
        let mut found = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&port) = ports.get(i) else { break };
            match probe(SocketAddr::new(target, port), timeout) {
                Ok(state) => {
                    on_progress(PortResult { port, state });
                    found.push((i, state));
                }
                Err(source) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(classify(port, source));
                }
            }
        }
        Ok(found)
    };
    let mut states = vec![State::Filtered; ports.len()];
    thread::scope(|s| {
        let mut workers = Vec::new();
        for _ in 0..concurrency.clamp(1, ports.len().max(1)) {
            let spawned = thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(s, worker);
            match spawned {
                Ok(handle) => workers.push(handle),
                // Fewer threads than asked for still finish the scan, only more slowly.
                Err(e) if workers.is_empty() => return Err(ScanError::NoThreads(e)),
                Err(_) => break,
            }
        }
        for handle in workers {
            // A worker cannot panic (unless `on_progress` does: then so do we).
            let found = handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            for (i, state) in found {
                states[i] = state;
            }
        }
        Ok(())
    })?;
    let results = ports.iter().zip(states);
    Ok(results
        .map(|(&port, state)| PortResult { port, state })
        .collect())
}
// ANCHOR_END: scan

/// Names the errors that stop a scan and have a remedy of their own.
fn classify(port: u16, source: io::Error) -> ScanError {
    match source.raw_os_error() {
        Some(EMFILE | ENFILE) => ScanError::OutOfFiles { port, source },
        _ if source.kind() == ErrorKind::AddrNotAvailable => {
            ScanError::OutOfLocalPorts { port, source }
        }
        _ => ScanError::Connect { port, source },
    }
}

/// File descriptors kept free for everything but the scan's sockets: standard input, output
/// and error, the terminal, whatever the process inherited, and a margin.
pub const SPARE_FILES: u64 = 16;

// ANCHOR: file_limit
/// How the open-file limit shaped a scan's concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileLimit {
    /// The soft limit already allowed `concurrency` sockets.
    Enough { concurrency: usize },
    /// The soft limit was raised from `from` to `to` (at most the hard limit) to allow them.
    Raised {
        concurrency: usize,
        from: u64,
        to: u64,
    },
    /// The hard limit is too low: the scan uses `concurrency` instead of `wanted`.
    Lowered {
        concurrency: usize,
        wanted: usize,
        limit: u64,
    },
}

impl FileLimit {
    /// The concurrency to scan with.
    pub fn concurrency(self) -> usize {
        match self {
            FileLimit::Enough { concurrency }
            | FileLimit::Raised { concurrency, .. }
            | FileLimit::Lowered { concurrency, .. } => concurrency,
        }
    }
}

/// Fits `wanted` connection attempts at a time, one socket each, under the process's limit
/// on open files (`RLIMIT_NOFILE`, what `ulimit -n` shows): raises the soft limit toward the
/// hard one when it is too low, and lowers the concurrency when even that is not enough.
pub fn fit_to_file_limit(wanted: usize) -> io::Result<FileLimit> {
    let need = wanted as u64 + SPARE_FILES;
    let (soft, hard) = Resource::NOFILE.get()?;
    if soft >= need {
        return Ok(FileLimit::Enough {
            concurrency: wanted,
        });
    }
    // Anyone may raise their soft limit up to the hard limit; only root may raise the hard one.
    let to = need.min(hard);
    if to > soft && Resource::NOFILE.set(to, hard).is_ok() && to == need {
        return Ok(FileLimit::Raised {
            concurrency: wanted,
            from: soft,
            to,
        });
    }
    let (limit, _) = Resource::NOFILE.get()?;
    let concurrency = usize::try_from(limit.saturating_sub(SPARE_FILES))
        .unwrap_or(usize::MAX)
        .clamp(1, wanted);
    Ok(FileLimit::Lowered {
        concurrency,
        wanted,
        limit,
    })
}
// ANCHOR_END: file_limit

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};
    use std::sync::Mutex;

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn tells_open_from_closed_in_port_order() {
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let (open_port, closed_port) = (
            open.local_addr().unwrap().port(),
            closed.local_addr().unwrap().port(),
        );
        drop(closed);
        let ports = [closed_port, open_port];
        let seen = Mutex::new(Vec::new());
        let progress = |r: PortResult| seen.lock().unwrap().push(r.port);
        let results = scan(LOCALHOST, &ports, 4, Duration::from_secs(5), &progress).unwrap();
        assert_eq!(
            results,
            [
                PortResult {
                    port: closed_port,
                    state: State::Closed
                },
                PortResult {
                    port: open_port,
                    state: State::Open
                },
            ]
        );
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        let mut expected = ports.to_vec();
        expected.sort_unstable();
        assert_eq!(seen, expected, "one progress call per port");
    }

    #[test]
    fn scans_no_ports_without_a_thread() {
        let results = scan(LOCALHOST, &[], 100, Duration::from_secs(1), &|_| {}).unwrap();
        assert!(results.is_empty());
    }

    #[test]
    fn a_concurrency_that_fits_is_kept() {
        assert_eq!(
            fit_to_file_limit(1).unwrap(),
            FileLimit::Enough { concurrency: 1 }
        );
    }
}
