//! A request/response client that gets its answer through loss, duplication and reordering.
//!
//! UDP delivers a datagram once, twice or never, in any order (RFC 768 promises nothing
//! more), so reliability is the application's job. Four pieces do it:
//!
//! 1. **A request id.** Each request starts with a 4-byte id, in network byte order, that the
//!    server echoes back. A reply with another id answers an earlier request (a late reply,
//!    or a duplicate): it is discarded, never taken for this request's answer.
//! 2. **A timeout.** No reply within the timeout means the request or the reply was lost
//!    (or is very late): send it again.
//! 3. **Exponential backoff.** Each retry waits twice as long as the one before, up to a cap,
//!    so that a congested network or a busy server gets less traffic from us, not more
//!    (RFC 8085 §3.1.3).
//! 4. **Jitter.** Each wait is drawn between half and all of its backoff, so that clients
//!    that lost their replies at the same moment do not all retry at the same moment.
//!
//! The wire format is the echo server's: whatever we send comes back unchanged, id included.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::random::Random;
use crate::{any_port_for, is_timeout};

/// The bytes of a request id on the wire.
pub const ID_LEN: usize = 4;

// ANCHOR: wire
/// A request on the wire: the id in network byte order (big-endian), then the payload.
pub fn encode(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut datagram = Vec::with_capacity(ID_LEN + payload.len());
    datagram.extend_from_slice(&id.to_be_bytes());
    datagram.extend_from_slice(payload);
    datagram
}

/// A reply's id and payload, or `None` for a datagram too short to hold an id.
pub fn decode(datagram: &[u8]) -> Option<(u32, &[u8])> {
    let (id, payload) = datagram.split_first_chunk::<ID_LEN>()?;
    Some((u32::from_be_bytes(*id), payload))
}
// ANCHOR_END: wire

// ANCHOR: retry
/// How long to wait for each reply, and how many times to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// The wait after the first send.
    pub first_timeout: Duration,
    /// No wait is longer than this, however many retries came before.
    pub max_timeout: Duration,
    /// How many times to send the request, the first time included.
    pub attempts: u32,
    /// Draw each wait between half and all of its backoff (true), or use the backoff itself.
    pub jitter: bool,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            first_timeout: Duration::from_millis(250),
            max_timeout: Duration::from_secs(2),
            attempts: 5,
            jitter: true,
        }
    }
}

impl Retry {
    /// The wait after send number `attempt` (0 for the first): the first timeout doubled once
    /// per earlier attempt, capped, then jittered.
    pub fn timeout(&self, attempt: u32, random: &mut Random) -> Duration {
        let doubled = self
            .first_timeout
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX));
        let backoff = doubled.min(self.max_timeout);
        if self.jitter {
            backoff.mul_f64(0.5 + 0.5 * random.unit())
        } else {
            backoff
        }
    }
}
// ANCHOR_END: retry

/// The answer to a request, and what it took to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub payload: Vec<u8>,
    /// How many times the request was sent.
    pub attempts: u32,
    /// Datagrams received and discarded: replies to earlier requests, duplicates, garbage.
    pub discarded: u32,
    pub elapsed: Duration,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum RequestError {
    /// Every attempt timed out.
    NoReply { attempts: u32, waited: Duration },
    /// The server's host answered that nothing listens on that port (ICMP port unreachable,
    /// reported on our connected socket).
    Refused(io::Error),
    /// The socket itself failed.
    Io(io::Error),
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::NoReply { attempts, waited } => {
                let tries = if *attempts == 1 { "try" } else { "tries" };
                write!(
                    f,
                    "no reply after {attempts} {tries} over {:.1} s",
                    waited.as_secs_f64()
                )
            }
            RequestError::Refused(_) => write!(f, "the server's host refused the request"),
            RequestError::Io(_) => write!(f, "the socket failed"),
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::NoReply { .. } => None,
            RequestError::Refused(e) | RequestError::Io(e) => Some(e),
        }
    }
}

/// What happened during a request, for a caller that wants to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send number `attempt` (from 1) is about to leave; then the client waits up to
    /// `timeout`.
    Sent { attempt: u32, timeout: Duration },
    /// No reply to send number `attempt` in time.
    TimedOut { attempt: u32 },
    /// A datagram that is not the answer: `Some(id)` for a reply to another request.
    Discarded { id: Option<u32> },
}

/// A client socket connected to one server, with its request ids and its random jitter.
pub struct Client {
    socket: UdpSocket,
    server: SocketAddr,
    next_id: u32,
    random: Random,
    pub retry: Retry,
}

impl Client {
    /// Binds a socket on a port the OS chooses and connects it to `server`: the kernel then
    /// drops datagrams from anyone else and reports a refusal.
    pub fn connect(server: SocketAddr, retry: Retry, seed: u64) -> io::Result<Client> {
        let socket = UdpSocket::bind(any_port_for(server))?;
        socket.connect(server)?;
        let mut random = Random::new(seed);
        // Ids start at a random number, so a restarted client does not reuse its last ids.
        let next_id = random.next_u64() as u32;
        Ok(Client {
            socket,
            server,
            next_id,
            random,
            retry,
        })
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    // ANCHOR: request
    /// Sends `payload` until the reply with the same id arrives, or the attempts run out.
    pub fn request(
        &mut self,
        payload: &[u8],
        mut on_event: impl FnMut(Event),
    ) -> Result<Reply, RequestError> {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let datagram = encode(id, payload);
        let started = Instant::now();
        let mut buf = vec![0u8; crate::MAX_DATAGRAM];
        let mut discarded = 0;
        for attempt in 0..self.retry.attempts {
            let timeout = self.retry.timeout(attempt, &mut self.random);
            on_event(Event::Sent {
                attempt: attempt + 1,
                timeout,
            });
            self.socket.send(&datagram).map_err(classify)?;
            let deadline = Instant::now() + timeout;
            // Wait for *our* reply: anything else is discarded and the wait goes on.
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                let n = match self.receive(&mut buf, left)? {
                    Some(n) => n,
                    None => break, // timed out
                };
                match decode(&buf[..n]) {
                    Some((got, reply)) if got == id => {
                        return Ok(Reply {
                            payload: reply.to_vec(),
                            attempts: attempt + 1,
                            discarded,
                            elapsed: started.elapsed(),
                        });
                    }
                    other => {
                        discarded += 1;
                        on_event(Event::Discarded {
                            id: other.map(|(got, _)| got),
                        });
                    }
                }
            }
            on_event(Event::TimedOut {
                attempt: attempt + 1,
            });
        }
        Err(RequestError::NoReply {
            attempts: self.retry.attempts,
            waited: started.elapsed(),
        })
    }
    // ANCHOR_END: request

    /// Receives one datagram within `wait`: `Ok(None)` when the wait ran out.
    fn receive(&self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>, RequestError> {
        // set_read_timeout refuses a zero duration (the OS would read it as "forever").
        let wait = wait.max(Duration::from_millis(1));
        self.socket
            .set_read_timeout(Some(wait))
            .map_err(RequestError::Io)?;
        match self.socket.recv(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if is_timeout(&e) || e.kind() == ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(classify(e)),
        }
    }
}

/// A refusal (Linux, macOS: `ConnectionRefused`; Windows: `ConnectionReset`) is its own error.
fn classify(e: io::Error) -> RequestError {
    match e.kind() {
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionReset => RequestError::Refused(e),
        _ => RequestError::Io(e),
    }
}

/// The hint for a client's error, if it has one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        let e = cause.downcast_ref::<RequestError>()?;
        Some(match e {
            RequestError::Refused(_) => {
                "nothing listens on that port: is the server running?\n\
                 start it with: cargo run -p udp -- server"
            }
            RequestError::NoReply { .. } => {
                "the server (or the network) lost every request or reply: is the\n\
                 address right? try more --attempts or a longer --timeout-ms"
            }
            RequestError::Io(_) => return None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_format_round_trips() {
        let d = encode(0x0102_0304, b"hi");
        assert_eq!(d, [1, 2, 3, 4, b'h', b'i']);
        assert_eq!(decode(&d), Some((0x0102_0304, &b"hi"[..])));
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[0, 0, 0, 7]), Some((7, &b""[..])));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let retry = Retry {
            first_timeout: Duration::from_millis(100),
            max_timeout: Duration::from_millis(500),
            attempts: 8,
            jitter: false,
        };
        let mut r = Random::new(1);
        let waits: Vec<u128> = (0..6)
            .map(|a| retry.timeout(a, &mut r).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 400, 500, 500, 500]);
        // Far past 32 doublings: still the cap, no overflow.
        assert_eq!(retry.timeout(200, &mut r), Duration::from_millis(500));
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        let retry = Retry {
            first_timeout: Duration::from_millis(100),
            ..Retry::default()
        };
        let mut r = Random::new(9);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let t = retry.timeout(1, &mut r).as_millis();
            assert!((100..=200).contains(&t), "{t}");
            seen.insert(t);
        }
        assert!(seen.len() > 20, "jitter spreads the waits: {seen:?}");
    }
}
