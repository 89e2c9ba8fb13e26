//! Wrong on purpose, exercise 1: A netstring codec, as first written: what it decodes depends on where the stream
//! was cut, and it accepts leading zeros.
//!
//! Must fail: decodes_the_same_however_the_stream_is_cut, refuses_a_length_with_leading_zeros

/// Why the bytes are not a valid netstring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetstringError {
    /// The announced length is over the decoder's maximum.
    TooLong,
    /// Not a netstring: a missing colon or comma, or a length that is not digits.
    Malformed,
}

// ANCHOR: solution
pub fn encode(message: &[u8]) -> Vec<u8> {
    let mut out = format!("{}:", message.len()).into_bytes();
    out.extend_from_slice(message);
    out.push(b',');
    out
}

pub struct Decoder {
    pub max: usize,
    buffer: Vec<u8>,
}

impl Decoder {
    pub fn new(max: usize) -> Decoder {
        Decoder {
            max,
            buffer: Vec::new(),
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, NetstringError> {
        // The length's digits end at the colon; more digits than `max` could need is an error.
        let most_digits = self.max.to_string().len();
        let Some(colon) = self.buffer.iter().position(|&b| b == b':') else {
            if self.buffer.iter().any(|b| !b.is_ascii_digit()) {
                return Err(NetstringError::Malformed);
            }
            if self.buffer.len() > most_digits {
                return Err(NetstringError::TooLong);
            }
            return Ok(None);
        };
        let digits = &self.buffer[..colon];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(NetstringError::Malformed);
        }
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or(NetstringError::TooLong)?; // only digits, so it can only overflow
        if len > self.max {
            return Err(NetstringError::TooLong);
        }
        let end = colon + 1 + len; // index of the comma
        if self.buffer.len() <= end {
            return Ok(None);
        }
        if self.buffer[end] != b',' {
            return Err(NetstringError::Malformed);
        }
        let message = self.buffer[colon + 1..end].to_vec();
        self.buffer.drain(..=end);
        Ok(Some(message))
    }
}
// ANCHOR_END: solution
