//! Framing: how to find messages in a byte stream. TCP delivers bytes, not messages, so a
//! protocol must mark where each message ends. Two common ways:
//!
//! - **Lines**: each message ends with `\n` (SMTP, HTTP/1.1 headers, Redis' inline commands).
//! - **Length prefix**: each message starts with its length (here a 4-byte big-endian `u32`).
//!
//! Both decoders here are *sans-IO*: you push the bytes you read, in whatever pieces they came, and
//! pull complete frames out. They never touch a socket, so they are tested byte by byte without
//! one, and the same code serves blocking, non-blocking and async programs.

use std::fmt;

/// Why a stream of bytes cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A frame is longer than the decoder allows. Reading on would mean buffering without bound.
    TooLong { max: usize },
    /// The stream ended in the middle of a frame: the peer closed or vanished mid-message.
    Truncated { buffered: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLong { max } => write!(f, "message longer than {max} bytes"),
            FrameError::Truncated { buffered } => {
                write!(
                    f,
                    "stream ended inside a message ({buffered} bytes of it received)"
                )
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// At the end of the stream, bytes still buffered are a message cut short.
fn nothing_left(buffer: &[u8]) -> Result<(), FrameError> {
    match buffer.len() {
        0 => Ok(()),
        buffered => Err(FrameError::Truncated { buffered }),
    }
}

// ANCHOR: lines
/// Splits a byte stream into lines ending in `\n`. A line's frame excludes the `\n` (and a `\r`
/// before it, so `\r\n` works too).
#[derive(Debug)]
pub struct LineDecoder {
    buffer: Vec<u8>,
    max_line: usize,
    /// How much of `buffer` is known to hold no `\n`: each byte is searched once.
    scanned: usize,
}

impl LineDecoder {
    /// A decoder that refuses lines longer than `max_line` bytes (without the line ending).
    pub fn new(max_line: usize) -> Self {
        LineDecoder {
            buffer: Vec::new(),
            max_line,
            scanned: 0,
        }
    }

    /// Adds bytes just read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete line, `Ok(None)` if more bytes are needed, or an error if the line being
    /// collected is already too long. Call it until it returns `Ok(None)`: one read may have
    /// brought several lines.
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let newline = self.buffer[self.scanned..].iter().position(|&b| b == b'\n');
        match newline.map(|i| self.scanned + i) {
            Some(end) => {
                self.scanned = 0;
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop(); // the \n
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > self.max_line {
                    return Err(FrameError::TooLong { max: self.max_line });
                }
                Ok(Some(line))
            }
            // No end in sight: refuse to buffer more than a maximal line (+ "\r\n").
            None if self.buffer.len() > self.max_line + 1 => {
                Err(FrameError::TooLong { max: self.max_line })
            }
            None => {
                self.scanned = self.buffer.len();
                Ok(None)
            }
        }
    }

    /// How many bytes of an unfinished line are buffered.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Call when the stream ends: an error if a partial line is left over.
    pub fn finish(&self) -> Result<(), FrameError> {
        nothing_left(&self.buffer)
    }
}
// ANCHOR_END: lines

// ANCHOR: length_prefixed
/// The size of the length prefix: a `u32` in network byte order.
pub const PREFIX_LEN: usize = 4;

/// Encodes one frame: its length as 4 big-endian bytes, then the payload.
///
/// Panics if the payload is longer than `u32::MAX` bytes, which no caller here sends.
pub fn encode_frame(payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("a frame payload fits in u32");
    let mut frame = Vec::with_capacity(PREFIX_LEN + payload.len());
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Splits a byte stream into length-prefixed frames.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder that refuses frames whose payload is longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            buffer: Vec::new(),
            max_frame,
        }
    }

    /// Adds bytes just read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next complete payload, `Ok(None)` if more bytes are needed, or an error as soon as a
    /// prefix announces a frame that is too long (before its bytes are even read).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(prefix) = self.buffer.first_chunk::<PREFIX_LEN>() else {
            return Ok(None); // not even the length yet
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > self.max_frame {
            return Err(FrameError::TooLong {
                max: self.max_frame,
            });
        }
        if self.buffer.len() < PREFIX_LEN + len {
            return Ok(None); // the payload has not all arrived
        }
        let payload = self.buffer[PREFIX_LEN..PREFIX_LEN + len].to_vec();
        self.buffer.drain(..PREFIX_LEN + len);
        Ok(Some(payload))
    }

    /// How many bytes of an unfinished frame are buffered.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Call when the stream ends: an error if a partial frame is left over.
    pub fn finish(&self) -> Result<(), FrameError> {
        nothing_left(&self.buffer)
    }
}
// ANCHOR_END: length_prefixed

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` to a line decoder in pieces of `piece` bytes, collecting every line.
    fn lines_in_pieces(
        stream: &[u8],
        piece: usize,
        max: usize,
    ) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut decoder = LineDecoder::new(max);
        let mut lines = Vec::new();
        for chunk in stream.chunks(piece) {
            decoder.push(chunk);
            while let Some(line) = decoder.next_line()? {
                lines.push(line);
            }
        }
        decoder.finish()?;
        Ok(lines)
    }

    #[test]
    fn lines_come_out_the_same_however_the_stream_is_cut() {
        let stream = b"hello\nworld\r\n\nlast\n";
        let expected: Vec<Vec<u8>> = vec![
            b"hello".to_vec(),
            b"world".to_vec(),
            vec![],
            b"last".to_vec(),
        ];
        for piece in 1..=stream.len() {
            assert_eq!(
                lines_in_pieces(stream, piece, 64),
                Ok(expected.clone()),
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn a_line_too_long_is_refused_before_its_end_arrives() {
        let mut decoder = LineDecoder::new(4);
        decoder.push(b"abcd\n");
        assert_eq!(decoder.next_line(), Ok(Some(b"abcd".to_vec())));
        decoder.push(b"abcdef");
        assert_eq!(decoder.next_line(), Err(FrameError::TooLong { max: 4 }));
        // Memory stays bounded: an endless line never grows the buffer past max + 2 per push.
        assert_eq!(
            lines_in_pieces(&[b'x'; 10_000], 100, 64),
            Err(FrameError::TooLong { max: 64 })
        );
    }

    #[test]
    fn a_partial_line_at_the_end_is_truncation() {
        assert_eq!(
            lines_in_pieces(b"one\ntw", 3, 64),
            Err(FrameError::Truncated { buffered: 2 })
        );
    }

    #[test]
    fn frames_round_trip_however_the_stream_is_cut() {
        let payloads: Vec<Vec<u8>> =
            vec![b"hi".to_vec(), vec![], vec![0xff; 300], b"\n\r\0".to_vec()];
        let stream: Vec<u8> = payloads.iter().flat_map(|p| encode_frame(p)).collect();
        for piece in 1..=stream.len() {
            let mut decoder = FrameDecoder::new(1024);
            let mut got = Vec::new();
            for chunk in stream.chunks(piece) {
                decoder.push(chunk);
                while let Some(frame) = decoder.next_frame().expect("valid") {
                    got.push(frame);
                }
            }
            assert_eq!(decoder.finish(), Ok(()));
            assert_eq!(got, payloads, "pieces of {piece}");
        }
    }

    #[test]
    fn a_frame_too_long_is_refused_from_its_prefix() {
        let mut decoder = FrameDecoder::new(10);
        decoder.push(&11u32.to_be_bytes());
        assert_eq!(decoder.next_frame(), Err(FrameError::TooLong { max: 10 }));
    }

    #[test]
    fn the_prefix_is_big_endian() {
        assert_eq!(encode_frame(b"abc"), [0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn a_partial_frame_at_the_end_is_truncation() {
        let mut decoder = FrameDecoder::new(10);
        decoder.push(&[0, 0, 0, 5, b'a']);
        assert_eq!(decoder.next_frame(), Ok(None));
        assert_eq!(decoder.finish(), Err(FrameError::Truncated { buffered: 5 }));
    }
}
