//! Exercise 1: Parse a request head.
//!
//! `parse_head` gets the bytes of a request head, up to and including the empty line that
//! ends it (any bytes after it are the body: ignore them). Return the parts, or the first
//! thing that is wrong, as a `HeadError`:
//!
//! - Lines end in CRLF (`\r\n`), and the head ends with an empty line: no `\r\n\r\n`, or a
//!   line ending in a bare `\n`, or a bare `\r`, is `MissingCrlf`.
//! - The request line is `method SP target SP version`, with exactly one space between the
//!   parts; the method is a token (letters, digits and ``!#$%&'*+-.^_`|~``), the target is
//!   visible ASCII (`!` to `~`); anything else is `BadRequestLine`.
//! - The version is `HTTP/1.1` or `HTTP/1.0`, in capitals; anything else is `BadVersion`.
//! - A header field line is `name: value`. A line starting with a space or tab (obs-fold)
//!   is `ObsFold`; whitespace between the name and the colon is `SpaceBeforeColon`; no
//!   colon, or a name that is not a token, is `BadField`. The value loses the spaces and
//!   tabs around it.
//! - `Host` (any case) must appear exactly once in HTTP/1.1: else `MissingHost` or
//!   `DuplicateHost`. HTTP/1.0 may leave it out, but never repeat it.
//!
//! Errors come in the order of the bytes: a bad request line before a bad field; the
//! `Host` checks come last. Never panic, whatever the bytes.
//!
//! Check your work: `cargo exercise http11 ex1`.

/// The parts of a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// `"HTTP/1.1"` or `"HTTP/1.0"`.
    pub version: String,
    /// In the order sent, names as sent, values without the whitespace around them.
    pub headers: Vec<(String, String)>,
}

/// What is wrong with a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    MissingCrlf,
    BadRequestLine,
    BadVersion,
    SpaceBeforeColon,
    ObsFold,
    BadField,
    MissingHost,
    DuplicateHost,
}

pub fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    todo!("parse the head {:?}", String::from_utf8_lossy(bytes))
}
