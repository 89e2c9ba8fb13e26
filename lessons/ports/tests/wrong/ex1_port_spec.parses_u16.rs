// A plausible attempt that parses each number straight into a u16: 65536 then fails like
// garbage, and the error says "not a port" instead of "too large".
//! Must fail: rejects_a_port_above_65535

/// What is wrong with a port specification. `item` counts the comma-separated items from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// The whole specification is empty: `""`.
    Empty,
    /// Nothing between two commas, or before the first: `80,,443` (item 2), `,80` (item 1).
    EmptyItem { item: usize },
    /// The specification ends with a comma: `80,443,`.
    TrailingComma,
    /// An item that is neither a port nor a range of two ports: `http`, `8o`, `20-`, `1-2-3`.
    /// `text` is the whole item.
    NotAPort { item: usize, text: String },
    /// Port 0 (alone or as one end of a range): it cannot be connected to.
    Zero { item: usize },
    /// A number above 65535 (alone or as one end of a range).
    TooLarge { item: usize },
    /// A range whose start is above its end: `25-20`.
    Reversed { item: usize, start: u16, end: u16 },
}

pub fn parse_ports(spec: &str) -> Result<Vec<u16>, SpecError> {
    if spec.is_empty() {
        return Err(SpecError::Empty);
    }
    let items: Vec<&str> = spec.split(',').collect();
    let mut ports = Vec::new();
    for (i, text) in items.iter().enumerate() {
        let item = i + 1;
        if text.is_empty() {
            return Err(if item == items.len() {
                SpecError::TrailingComma
            } else {
                SpecError::EmptyItem { item }
            });
        }
        let (start, end) = match text.split_once('-') {
            Some((start, end)) => (port(start, item, text)?, port(end, item, text)?),
            None => (port(text, item, text)?, port(text, item, text)?),
        };
        if start > end {
            return Err(SpecError::Reversed { item, start, end });
        }
        ports.extend(start..=end);
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// One port, `number`, of item number `item`, whose whole text is `text`.
fn port(number: &str, item: usize, text: &str) -> Result<u16, SpecError> {
    // `parse` alone would accept "+80"; digits only, then.
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        let text = text.to_string();
        return Err(SpecError::NotAPort { item, text });
    }
    match number.parse::<u16>() {
        Ok(0) => Err(SpecError::Zero { item }),
        Ok(n) => Ok(n),
        Err(_) => Err(SpecError::NotAPort {
            item,
            text: text.to_string(),
        }),
    }
}
