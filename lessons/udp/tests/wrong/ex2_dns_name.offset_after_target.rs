// A plausible attempt that follows pointers correctly but returns the offset where the walk
// ended (past the labels a pointer led to), not past the name where it started: the caller
// would then read the question's type from the wrong bytes.
//! Must fail: follows_a_pointer_back, follows_pointers_through_several_names, never_panics_on_arbitrary_bytes

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Truncated,
    BadLabelType,
    TooLong,
    BadPointer,
}

pub fn decode_name(packet: &[u8], offset: usize) -> Result<(String, usize), NameError> {
    let mut name = String::new();
    let mut wire_len = 1;
    let mut at = offset;
    let mut run_start = offset;
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
                if target >= run_start {
                    return Err(NameError::BadPointer);
                }
                (at, run_start) = (target, target);
            }
            _ => return Err(NameError::BadLabelType),
        }
    }
    if name.is_empty() {
        name.push('.');
    }
    Ok((name, at + 1))
}
