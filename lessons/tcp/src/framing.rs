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

// ANCHOR: decoder
/// A sans-IO decoder: push the bytes you read, in whatever pieces they came, and pull
/// complete messages out. The server is written against this trait, so each mode only
/// chooses a decoder.
pub trait Decoder {
    /// Adds bytes just read from the stream.
    fn push(&mut self, bytes: &[u8]);

    /// The next complete message, `Ok(None)` if more bytes are needed, or an error if the
    /// stream cannot be framed. Call it until it returns `Ok(None)`: one read may bring
    /// several messages.
    fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError>;

    /// How many bytes of an unfinished message are buffered.
    fn buffered(&self) -> usize;

    /// Call when the stream ends: an error if part of a message is left over.
    fn finish(&self) -> Result<(), FrameError> {
        match self.buffered() {
            0 => Ok(()),
            buffered => Err(FrameError::Truncated { buffered }),
        }
    }
}

/// Bytes pushed but not yet decoded. Decoding a message only moves `start` forward; the
/// decoded bytes are dropped in `push`, and only once they are at least as many as the
/// bytes kept, so each byte is moved at most once on average. (Dropping them after every
/// message would move the rest of the buffer once per message: quadratic in the number of
/// small messages per read.)
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    start: usize,
    /// How many bytes dropping decoded ones has moved to the front, in all: the unit tests
    /// check it never exceeds the bytes pushed.
    moved: usize,
}

impl Pending {
    fn push(&mut self, bytes: &[u8]) {
        let kept = self.bytes.len() - self.start;
        if self.start > 0 && self.start >= kept {
            self.bytes.drain(..self.start); // moves the `kept` bytes to the front
            self.moved += kept;
            self.start = 0;
        }
        self.bytes.extend_from_slice(bytes);
    }

    /// The bytes not decoded yet.
    fn rest(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// Marks the first `n` bytes of [`Pending::rest`] as decoded.
    fn consume(&mut self, n: usize) {
        self.start += n;
    }
}
// ANCHOR_END: decoder

// ANCHOR: lines
/// Splits a byte stream into lines ending in `\n`. A line's message excludes the `\n`
/// (and a `\r` before it, so `\r\n` works too).
#[derive(Debug)]
pub struct LineDecoder {
    pending: Pending,
    max_line: usize,
    /// How many bytes of `pending.rest()` are known to hold no `\n`: each byte is
    /// searched once.
    scanned: usize,
}

impl LineDecoder {
    /// A decoder that refuses lines longer than `max_line` bytes (without the line
    /// ending).
    pub fn new(max_line: usize) -> Self {
        LineDecoder {
            pending: Pending::default(),
            max_line,
            scanned: 0,
        }
    }
}

impl Decoder for LineDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.pending.push(bytes);
    }

    fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let rest = self.pending.rest();
        let newline = rest[self.scanned..].iter().position(|&b| b == b'\n');
        let Some(end) = newline.map(|i| self.scanned + i) else {
            // No end in sight: refuse to buffer more than a maximal line (+ "\r\n").
            if rest.len() > self.max_line.saturating_add(1) {
                return Err(FrameError::TooLong { max: self.max_line });
            }
            self.scanned = rest.len();
            return Ok(None);
        };
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        if line.len() > self.max_line {
            return Err(FrameError::TooLong { max: self.max_line });
        }
        let line = line.to_vec();
        self.pending.consume(end + 1);
        self.scanned = 0;
        Ok(Some(line))
    }

    fn buffered(&self) -> usize {
        self.pending.rest().len()
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

/// Splits a byte stream into length-prefixed frames; a frame's message is its payload.
#[derive(Debug)]
pub struct FrameDecoder {
    pending: Pending,
    max_frame: usize,
}

impl FrameDecoder {
    /// A decoder that refuses frames whose payload is longer than `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        FrameDecoder {
            pending: Pending::default(),
            max_frame,
        }
    }
}

impl Decoder for FrameDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.pending.push(bytes);
    }

    /// Refuses a frame as soon as its prefix announces too much, before its bytes are
    /// even read.
    fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let rest = self.pending.rest();
        let Some(prefix) = rest.first_chunk::<PREFIX_LEN>() else {
            return Ok(None); // not even the length yet
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        if len > self.max_frame {
            return Err(FrameError::TooLong {
                max: self.max_frame,
            });
        }
        let Some(payload) = rest.get(PREFIX_LEN..PREFIX_LEN + len) else {
            return Ok(None); // the payload has not all arrived
        };
        let payload = payload.to_vec();
        self.pending.consume(PREFIX_LEN + len);
        Ok(Some(payload))
    }

    fn buffered(&self) -> usize {
        self.pending.rest().len()
    }
}
// ANCHOR_END: length_prefixed

// ANCHOR: raw
/// No framing at all: every read is a "message" of whatever bytes it brought. The echo
/// server's raw mode uses it to echo bytes as they arrive.
#[derive(Debug, Default)]
pub struct RawDecoder {
    pending: Vec<u8>,
}

impl Decoder for RawDecoder {
    fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        Ok((!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending)))
    }

    fn buffered(&self) -> usize {
        self.pending.len()
    }
}
// ANCHOR_END: raw

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
            while let Some(line) = decoder.next_message()? {
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
        assert_eq!(decoder.next_message(), Ok(Some(b"abcd".to_vec())));
        decoder.push(b"abcdef");
        assert_eq!(decoder.next_message(), Err(FrameError::TooLong { max: 4 }));
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
                while let Some(frame) = decoder.next_message().expect("valid") {
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
        assert_eq!(decoder.next_message(), Err(FrameError::TooLong { max: 10 }));
    }

    #[test]
    fn the_prefix_is_big_endian() {
        assert_eq!(encode_frame(b"abc"), [0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn a_partial_frame_at_the_end_is_truncation() {
        let mut decoder = FrameDecoder::new(10);
        decoder.push(&[0, 0, 0, 5, b'a']);
        assert_eq!(decoder.next_message(), Ok(None));
        assert_eq!(decoder.finish(), Err(FrameError::Truncated { buffered: 5 }));
    }

    /// Pushes `stream` in reads of `piece` bytes, decoding after each; returns how many
    /// messages came out.
    fn decode_in_pieces(decoder: &mut dyn Decoder, stream: &[u8], piece: usize) -> usize {
        let mut count = 0;
        for chunk in stream.chunks(piece) {
            decoder.push(chunk);
            while decoder.next_message().expect("valid").is_some() {
                count += 1;
            }
        }
        count
    }

    /// The work per byte must not grow with the number of messages per read. The only bytes a
    /// decoder moves are the ones `Pending::push` moves to the front, and those must be at most
    /// the bytes pushed, whatever the messages and however the stream is cut. (Dropping the
    /// decoded bytes after every message instead moved the rest of the buffer once per message:
    /// 1 MiB of empty lines took 7.1 s instead of 0.09 s in a debug build.)
    #[test]
    fn many_tiny_messages_move_each_byte_at_most_once_on_average() {
        const SIZE: usize = 256 * 1024;
        let lines = vec![b'\n'; SIZE];
        let frames = encode_frame(b"").repeat(SIZE / PREFIX_LEN);
        let long_lines = [[b'x'; 999].as_slice(), b"\n"].concat().repeat(SIZE / 1000);
        for piece in [1, 3, 1000, 16 * 1024, SIZE] {
            let mut decoder = LineDecoder::new(8192);
            assert_eq!(decode_in_pieces(&mut decoder, &lines, piece), SIZE);
            assert!(
                decoder.pending.moved <= SIZE,
                "lines in pieces of {piece}: {decoder:?}"
            );

            let mut decoder = LineDecoder::new(8192);
            assert_eq!(
                decode_in_pieces(&mut decoder, &long_lines, piece),
                SIZE / 1000
            );
            let moved = decoder.pending.moved;
            assert!(
                moved <= long_lines.len(),
                "long lines in pieces of {piece}: {moved}"
            );

            let mut decoder = FrameDecoder::new(8192);
            assert_eq!(
                decode_in_pieces(&mut decoder, &frames, piece),
                SIZE / PREFIX_LEN
            );
            let moved = decoder.pending.moved;
            assert!(
                moved <= frames.len(),
                "frames in pieces of {piece}: {moved}"
            );
        }
    }
}
