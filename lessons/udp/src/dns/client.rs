//! A DNS lookup over UDP, as a stub resolver does it: one query, a timeout, a few retries,
//! and care about which reply to believe.

use std::fmt;
use std::hash::BuildHasher;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::message::{self, DecodeError, Message, NameError, RecordType};

/// What a lookup got.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The reply, decoded. Its header may say TC: see [`Answer::truncated`].
    pub message: Message,
    /// The bytes we sent and the bytes of the reply we accepted.
    pub query: Vec<u8>,
    pub reply: Vec<u8>,
    /// Who answered (the server: we accept nobody else).
    pub from: SocketAddr,
    /// From the first send to the accepted reply.
    pub elapsed: Duration,
    /// How many times the query was sent.
    pub attempts: u32,
    /// Datagrams that arrived but did not answer our query, and were ignored.
    pub ignored: u32,
}

impl Answer {
    /// The server cut the reply to fit 512 bytes: the records here are not all there are.
    /// A resolver would now ask again over TCP (RFC 7766); this client does not.
    pub fn truncated(&self) -> bool {
        self.message.header.truncated
    }
}

/// Why a lookup failed.
#[derive(Debug)]
pub enum LookupError {
    /// The name cannot be put in a query.
    BadName(NameError),
    /// Nothing listens at the server's port: its host answered with ICMP port unreachable.
    Refused { server: SocketAddr },
    /// No matching reply to any of `attempts` sends, each waited on for `timeout`.
    Timeout {
        server: SocketAddr,
        attempts: u32,
        timeout: Duration,
        /// Replies that came but did not match, with the last one's reason.
        ignored: u32,
        last_ignored: Option<String>,
    },
    /// The socket itself failed.
    Io(io::Error),
}

/// The cause of `BadName` and `Io` is their `source`, not part of the text, so that an error
/// chain (`{:#}`) names it once.
impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::BadName(_) => f.write_str("cannot look that name up"),
            LookupError::Refused { server } => write!(
                f,
                "no DNS server at {server}: the query was refused (ICMP port unreachable)"
            ),
            LookupError::Timeout {
                server,
                attempts,
                timeout,
                ignored,
                last_ignored,
            } => {
                let tries = if *attempts == 1 { "try" } else { "tries" };
                write!(
                    f,
                    "no reply from {server} after {attempts} {tries} of {timeout:?} each"
                )?;
                if let Some(why) = last_ignored {
                    write!(f, " ({ignored} ignored, the last: {why})")?;
                }
                Ok(())
            }
            LookupError::Io(_) => f.write_str("the lookup failed"),
        }
    }
}

impl std::error::Error for LookupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LookupError::BadName(e) => Some(e),
            LookupError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for LookupError {
    fn from(e: io::Error) -> Self {
        LookupError::Io(e)
    }
}

/// A query id nobody can guess from the last one: from the hasher keys the standard library
/// draws from the operating system's random source. An off-path attacker who wants a forged
/// reply accepted must guess the id *and* our source port (RFC 5452 §9.2).
pub fn random_id() -> u16 {
    std::collections::hash_map::RandomState::new().hash_one(Instant::now()) as u16
}

// ANCHOR: lookup
/// Asks `server` for `name`'s records of type `rtype`: sends the query, waits up to `timeout`
/// for a matching reply, and sends it again up to `retries` more times.
pub fn lookup(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
    retries: u32,
) -> Result<Answer, LookupError> {
    lookup_with_id(server, random_id(), name, rtype, timeout, retries)
}

/// [`lookup`] with a chosen query id (for a reproducible dump: real lookups use a random id).
pub fn lookup_with_id(
    server: SocketAddr,
    id: u16,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
    retries: u32,
) -> Result<Answer, LookupError> {
    let query = message::encode_query(id, name, rtype).map_err(LookupError::BadName)?;
    // A fresh socket on a port the OS picks at random. `connect` makes the kernel drop
    // datagrams from any other address, and report an ICMP refusal as an error.
    let socket = UdpSocket::bind(crate::any_port_for(server))?;
    socket.connect(server)?;
    let started = Instant::now();
    let mut buf = vec![0; crate::MAX_DATAGRAM];
    let (mut ignored, mut last_ignored) = (0, None);
    for attempt in 1..=retries.saturating_add(1) {
        socket.send(&query)?;
        let deadline = Instant::now() + timeout;
        // Wait out this attempt's deadline, skipping datagrams that are not our answer.
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            socket.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let len = match socket.recv(&mut buf) {
                Ok(len) => len,
                // (Checked against the deadline again: a timeout may end a little early.)
                Err(e) if crate::is_timeout(&e) => continue,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(LookupError::Refused { server });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            match matches_query(&query, &buf[..len]) {
                Ok(message) => {
                    return Ok(Answer {
                        message,
                        query,
                        reply: buf[..len].to_vec(),
                        from: server,
                        elapsed: started.elapsed(),
                        attempts: attempt,
                        ignored,
                    });
                }
                Err(why) => {
                    ignored += 1;
                    last_ignored = Some(why);
                }
            }
        }
    }
    Err(LookupError::Timeout {
        server,
        attempts: retries.saturating_add(1),
        timeout,
        ignored,
        last_ignored,
    })
}
// ANCHOR_END: lookup

// ANCHOR: matches
/// The reply decoded, if it answers `query`: it must decode, be a response, carry our id,
/// and repeat our question (name compared without regard to case, RFC 4343). Anything else
/// is someone else's packet, a late reply to an earlier query, or a forgery (RFC 5452 §4,
/// §9.1): ignore it and keep waiting.
pub fn matches_query(query: &[u8], reply: &[u8]) -> Result<Message, String> {
    let sent = message::decode(query).map_err(|e| format!("our own query: {e}"))?;
    let got = message::decode(reply).map_err(|e: DecodeError| format!("undecodable: {e}"))?;
    if !got.header.response {
        return Err("a query, not a response".into());
    }
    if got.header.id != sent.header.id {
        return Err(format!(
            "id {} instead of {}",
            got.header.id, sent.header.id
        ));
    }
    let same = |a: &message::Question, b: &message::Question| {
        a.name.eq_ignore_ascii_case(&b.name) && a.qtype == b.qtype && a.qclass == b.qclass
    };
    // A server may leave the question out of an error reply (FORMERR, NOTIMP).
    let error_without_question = got.questions.is_empty() && got.header.rcode != 0;
    let question_matches = got.questions.len() == sent.questions.len()
        && got
            .questions
            .iter()
            .zip(&sent.questions)
            .all(|(a, b)| same(a, b));
    if !(question_matches || error_without_question) {
        return Err("a different question".into());
    }
    Ok(got)
}
// ANCHOR_END: matches

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::{Header, decode, encode, encode_query};

    fn reply_to(query: &[u8]) -> Message {
        let mut m = decode(query).unwrap();
        m.header = Header {
            response: true,
            ..m.header
        };
        m
    }

    #[test]
    fn accepts_only_a_reply_to_our_query() {
        let q = encode_query(99, "www.example.test", RecordType::A).unwrap();
        let good = reply_to(&q);
        assert!(matches_query(&q, &encode(&good).unwrap()).is_ok());
        assert!(
            matches_query(&q, &q).is_err(),
            "our own query is not a reply"
        );
        let mut other = good.clone();
        other.header.id = 98;
        assert!(matches_query(&q, &encode(&other).unwrap()).is_err());
        let mut other = good.clone();
        other.questions[0].name = "evil.example.test.".into();
        assert!(matches_query(&q, &encode(&other).unwrap()).is_err());
        let mut other = good.clone();
        other.questions[0].name = "WWW.EXAMPLE.TEST.".into();
        assert!(matches_query(&q, &encode(&other).unwrap()).is_ok());
        assert!(matches_query(&q, b"garbage").is_err());
    }

    #[test]
    fn ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..50).map(|_| random_id()).collect();
        assert!(ids.len() > 40, "{} distinct ids of 50", ids.len());
    }
}
