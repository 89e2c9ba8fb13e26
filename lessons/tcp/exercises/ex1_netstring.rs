//! Exercise 1: A netstring codec.
//!
//! A netstring frames a message with its length in decimal ASCII digits, a colon, the
//! message, and a comma: `hello` is `5:hello,` and the empty message is `0:,`. The length
//! has no leading zeros (`05:` is malformed), and only the first colon ends it: the
//! message may hold any byte.
//!
//! - `encode` turns a message into its netstring.
//! - `Decoder` takes bytes in whatever pieces they arrive (`push`) and hands out complete
//!   messages (`next_message`): `Ok(Some(message))`, `Ok(None)` when it needs more bytes,
//!   or an error for a malformed netstring or one whose announced length is over `max`
//!   (report that as soon as the length is known, before the message arrives). Never
//!   panic on bad input. The answers must not depend on how the stream was cut into
//!   pieces. Decoding many tiny netstrings should take time in proportion to their number
//!   (the chapter's hint says why).
//!
//! Check your work: `cargo exercise tcp ex1`.

/// Why the bytes are not a valid netstring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetstringError {
    /// The announced length is over the decoder's maximum.
    TooLong,
    /// Not a netstring: a missing colon or comma, or a length that is not digits.
    Malformed,
}

pub fn encode(message: &[u8]) -> Vec<u8> {
    todo!(
        "encode {:?} as a netstring",
        String::from_utf8_lossy(message)
    )
}

pub struct Decoder {
    pub max: usize,
    // Add the fields you need.
}

impl Decoder {
    pub fn new(max: usize) -> Decoder {
        Decoder { max }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        todo!(
            "keep {:?} until a whole netstring has arrived",
            String::from_utf8_lossy(bytes)
        )
    }

    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, NetstringError> {
        todo!(
            "return the next complete message, if any (max {})",
            self.max
        )
    }
}
