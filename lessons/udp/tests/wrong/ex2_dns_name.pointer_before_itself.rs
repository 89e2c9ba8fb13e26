// A plausible attempt that accepts any pointer to an offset before the pointer itself. That
// rejects forward pointers and self-pointers, but not a pointer back to the start of its own
// run of labels: the walk goes round until the name is too long (or, without the 255-byte
// limit, forever).
//! Must fail: rejects_a_pointer_loop

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
    let mut end = None;
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
                if target >= at {
                    return Err(NameError::BadPointer);
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            _ => return Err(NameError::BadLabelType),
        }
    }
    if name.is_empty() {
        name.push('.');
    }
    Ok((name, end.unwrap_or(at + 1)))
}
