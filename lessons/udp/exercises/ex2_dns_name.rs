//! Exercise 2: Decode a DNS name.
//!
//! Write `decode_name`: read the name that starts at `offset` in the DNS message `packet`
//! (RFC 1035 §3.1, §4.1.4), and return it with the offset just past it.
//!
//! - A name is a run of labels, each a length byte (0 to 63) and that many bytes, ended by a
//!   zero byte. Return it dotted, with a final dot: `03 77 77 77 04 74 65 73 74 00` is
//!   `www.test.`; a lone zero byte is the root, `.`. Put each label byte that is printable
//!   ASCII (`!` to `~`) in as it is, except `.` and `\`; write those, and every other byte,
//!   as `\` and three decimal digits (`\046` for `.`, `\007` for 7), as dig does.
//! - A length byte whose top two bits are 11 starts a two-byte pointer instead: its other 14
//!   bits are the offset of more labels, written earlier in the message, that end the name.
//!   The offset you return is past the pointer, where the name *started*, however far the
//!   pointers lead.
//! - Return an error, and never panic or loop, for a name that:
//!   - runs past the end of `packet`: `NameError::Truncated`;
//!   - has a length byte whose top bits are 01 or 10 (64 to 191: a label over 63 bytes
//!     cannot be written): `NameError::BadLabelType`;
//!   - takes more than 255 bytes on the wire, counting every length byte, label byte and the
//!     final zero (but not the pointers): `NameError::TooLong`;
//!   - has a pointer to an offset that is not strictly before the run of labels the pointer
//!     ends (the run begins at `offset`, or at the target of the pointer that led to it):
//!     `NameError::BadPointer`. That rule rejects pointers forward, pointers to themselves,
//!     and every loop.
//!
//! Check your work: `cargo exercise udp ex2`.

/// Why a name cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Truncated,
    BadLabelType,
    TooLong,
    BadPointer,
}

pub fn decode_name(packet: &[u8], offset: usize) -> Result<(String, usize), NameError> {
    todo!(
        "decode the name at offset {offset} of a {}-byte packet",
        packet.len()
    )
}
