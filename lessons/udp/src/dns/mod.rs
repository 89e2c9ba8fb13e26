//! DNS, the binary protocol that most UDP traffic carries (RFC 1035).
//!
//! - [`message`]: the message format as pure functions over bytes: encode a query, decode any
//!   message, strictly (sans-IO: no sockets, so it is tested on bytes alone).
//! - [`client`]: a lookup over UDP with a random id, a timeout and retries, that believes
//!   only a reply that matches its query.
//! - [`responder`]: a tiny authoritative server for the names of a hosts-style table.
//! - [`annotate`]: an annotated hex dump of a message, field by field.
//!
//! Out of scope, on purpose: TCP (a truncated answer is reported, not fetched again over
//! TCP, RFC 7766), EDNS (RFC 6891: an OPT record is read and ignored), DNSSEC, and
//! recursion: the client asks one server, and the responder knows only its table.

pub mod annotate;
pub mod client;
pub mod message;
pub mod responder;

pub use client::{Answer, LookupError, lookup};
pub use message::{DecodeError, Message, Rcode, RecordType, decode, encode_query};
pub use responder::{Table, run};
