//! Exercise 1: A netstring codec (solution).

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
    /// Where the next netstring starts in `buffer`: bytes before it are decoded already.
    /// They are dropped once per `push`, not once per message, so decoding stays linear.
    start: usize,
}

impl Decoder {
    pub fn new(max: usize) -> Decoder {
        Decoder {
            max,
            buffer: Vec::new(),
            start: 0,
        }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.drain(..self.start);
        self.start = 0;
        self.buffer.extend_from_slice(bytes);
    }

    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, NetstringError> {
        let rest = &self.buffer[self.start..];
        let colon = rest.iter().position(|&b| b == b':');
        let digits = &rest[..colon.unwrap_or(rest.len())];
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(NetstringError::Malformed);
        }
        // "0" is the only length that may start with a zero.
        if digits.len() > 1 && digits[0] == b'0' {
            return Err(NetstringError::Malformed);
        }
        // Checked as the digits arrive, so endless digits are refused early, wherever the
        // stream was cut. Overflowing usize is over any `max`.
        let len = digits.iter().try_fold(0usize, |n, d| {
            n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
        });
        let len = match len {
            Some(len) if len <= self.max => len,
            _ => return Err(NetstringError::TooLong),
        };
        let Some(colon) = colon else {
            return Ok(None); // the length may go on
        };
        if colon == 0 {
            return Err(NetstringError::Malformed);
        }
        // `len <= max` and the message is in memory only once it all arrived, so this
        // fits.
        let comma = colon + 1 + len;
        let Some(&after) = rest.get(comma) else {
            return Ok(None);
        };
        if after != b',' {
            return Err(NetstringError::Malformed);
        }
        let message = rest[colon + 1..comma].to_vec();
        self.start += comma + 1;
        Ok(Some(message))
    }
}
// ANCHOR_END: solution
