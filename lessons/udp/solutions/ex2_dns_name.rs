//! Exercise 2: Decode a DNS name (solution).

/// Why a name cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Truncated,
    BadLabelType,
    TooLong,
    BadPointer,
}

// ANCHOR: solution
pub fn decode_name(packet: &[u8], offset: usize) -> Result<(String, usize), NameError> {
    let mut name = String::new();
    let mut wire_len = 1; // the final zero byte
    let mut at = offset;
    let mut run_start = offset; // where the current run of labels began
    let mut end = None; // past the first pointer, if there is one
    loop {
        let &len = packet.get(at).ok_or(NameError::Truncated)?;
        match len >> 6 {
            0b00 if len == 0 => break,
            0b00 => {
                let len = usize::from(len);
                let label = packet
                    .get(at + 1..at + 1 + len)
                    .ok_or(NameError::Truncated)?;
                wire_len += 1 + len;
                if wire_len > 255 {
                    return Err(NameError::TooLong);
                }
                for &b in label {
                    match b {
                        b'.' | b'\\' => name.push_str(&format!("\\{b:03}")),
                        b'!'..=b'~' => name.push(char::from(b)),
                        _ => name.push_str(&format!("\\{b:03}")),
                    }
                }
                name.push('.');
                at += 1 + len;
            }
            0b11 => {
                let &low = packet.get(at + 1).ok_or(NameError::Truncated)?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                // Strictly before the run it ends: every jump lands lower than the last, so
                // the walk cannot come back to a byte it has read.
                if target >= run_start {
                    return Err(NameError::BadPointer);
                }
                end.get_or_insert(at + 2);
                (at, run_start) = (target, target);
            }
            _ => return Err(NameError::BadLabelType),
        }
    }
    if name.is_empty() {
        name.push('.');
    }
    Ok((name, end.unwrap_or(at + 1)))
}
// ANCHOR_END: solution
