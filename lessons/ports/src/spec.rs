//! Port specifications such as `20-25,80,443`: which ports to scan, as text.
//!
//! [`parse`] is a pure function from the text to a sorted list of ports without duplicates,
//! or to a [`SpecError`] that says what is wrong and where, so a typo never turns into a scan
//! of ports nobody asked for.

use std::fmt;

// ANCHOR: error
/// What is wrong with a port specification. `at` is the byte offset, from 0, where the
/// offending part starts: `at + 1` is the column a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// The whole specification is empty.
    Empty,
    /// Nothing between two commas, or before the first: `80,,443`, `,80`.
    EmptyItem { at: usize },
    /// A comma with nothing after it: `80,443,`.
    TrailingComma { at: usize },
    /// Something that is not a decimal number where a port should be: `http`, `8o`, `20-`.
    NotANumber { at: usize, token: String },
    /// Port 0: it asks the OS for a free port when binding, and no one can connect to it.
    Zero { at: usize },
    /// A number above 65535, the largest 16-bit port.
    TooLarge { at: usize, token: String },
    /// A range whose start is above its end: `25-20`.
    Reversed { at: usize, start: u16, end: u16 },
}
// ANCHOR_END: error

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecError::Empty => write!(f, "the port specification is empty"),
            SpecError::EmptyItem { at } => write!(f, "empty item at column {}", at + 1),
            SpecError::TrailingComma { at } => write!(f, "trailing comma at column {}", at + 1),
            SpecError::NotANumber { at, token } if token.is_empty() => {
                write!(f, "a port is missing at column {}", at + 1)
            }
            SpecError::NotANumber { at, token } => {
                write!(f, "{token:?} at column {} is not a port number", at + 1)
            }
            SpecError::Zero { at } => write!(f, "port 0 at column {}", at + 1),
            SpecError::TooLarge { at, token } => {
                write!(f, "{token} at column {} is above 65535", at + 1)
            }
            SpecError::Reversed { at, start, end } => {
                write!(f, "{start}-{end} at column {} is reversed", at + 1)
            }
        }
    }
}

impl SpecError {
    /// What to do about it, in one line.
    pub fn hint(&self) -> &'static str {
        match self {
            SpecError::Zero { .. } => {
                "ports are 1 to 65535: port 0 only asks the OS to choose one when binding"
            }
            SpecError::TooLarge { .. } => "ports are 1 to 65535, the 16 bits of the TCP header",
            SpecError::Reversed { .. } => "write the lower port first, as in 20-25",
            _ => "a spec is ports and ranges separated by commas, as in 20-25,80,443",
        }
    }
}

impl std::error::Error for SpecError {}

// ANCHOR: parse
/// Parses `20-25,80,443` into the ports it names, sorted, each once. Items are ports or
/// inclusive ranges `A-B`, separated by commas, with no spaces; `-` or `all` alone means
/// every port from 1 to 65535.
pub fn parse(spec: &str) -> Result<Vec<u16>, SpecError> {
    if spec == "-" || spec == "all" {
        return Ok((1..=u16::MAX).collect());
    }
    if spec.is_empty() {
        return Err(SpecError::Empty);
    }
    let mut ports = Vec::new();
    let mut at = 0; // where the current item starts
    let items: Vec<&str> = spec.split(',').collect();
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            return Err(if i + 1 == items.len() {
                SpecError::TrailingComma { at: at - 1 }
            } else {
                SpecError::EmptyItem { at }
            });
        }
        match item.split_once('-') {
            None => ports.push(port(item, at)?),
            Some((first, last)) => {
                let start = port(first, at)?;
                let end = port(last, at + first.len() + 1)?;
                if start > end {
                    return Err(SpecError::Reversed { at, start, end });
                }
                ports.extend(start..=end);
            }
        }
        at += item.len() + 1; // the item and its comma
    }
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

/// One port number, `token`, found at byte offset `at`.
fn port(token: &str, at: usize) -> Result<u16, SpecError> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        let token = token.to_string();
        return Err(SpecError::NotANumber { at, token });
    }
    match token.parse::<u32>() {
        Ok(0) => Err(SpecError::Zero { at }),
        Ok(n) if n <= u32::from(u16::MAX) => Ok(n as u16),
        // Too large for a port, or even for a u32: only digits get here.
        _ => Err(SpecError::TooLarge {
            at,
            token: token.to_string(),
        }),
    }
}
// ANCHOR_END: parse

#[cfg(test)]
mod tests {
    use super::*;

    fn err(spec: &str) -> SpecError {
        parse(spec).expect_err(spec)
    }

    #[test]
    fn parses_ports_and_ranges_sorted_and_once() {
        assert_eq!(
            parse("443,20-25,80").unwrap(),
            [20, 21, 22, 23, 24, 25, 80, 443]
        );
        assert_eq!(parse("80,80,79-81").unwrap(), [79, 80, 81]);
        assert_eq!(parse("7-7").unwrap(), [7]);
        assert_eq!(parse("1").unwrap(), [1]);
        assert_eq!(parse("65535").unwrap(), [65535]);
        assert_eq!(parse("0080").unwrap(), [80]);
    }

    #[test]
    fn dash_and_all_mean_every_port() {
        for spec in ["-", "all", "1-65535"] {
            let ports = parse(spec).unwrap();
            assert_eq!(ports.len(), 65_535, "{spec}");
            assert_eq!((ports[0], ports[65_534]), (1, 65_535), "{spec}");
        }
    }

    #[test]
    fn names_port_zero_and_where_it_is() {
        assert_eq!(err("0"), SpecError::Zero { at: 0 });
        assert_eq!(err("80,0-5"), SpecError::Zero { at: 3 });
        assert_eq!(err("1-0"), SpecError::Zero { at: 2 });
    }

    #[test]
    fn names_a_port_above_65535() {
        let too_large = |at: usize, token: &str| SpecError::TooLarge {
            at,
            token: token.into(),
        };
        assert_eq!(err("65536"), too_large(0, "65536"));
        assert_eq!(err("1-70000"), too_large(2, "70000"));
        assert_eq!(
            err("99999999999999999999"),
            too_large(0, "99999999999999999999")
        );
    }

    #[test]
    fn names_a_reversed_range() {
        let reversed = SpecError::Reversed {
            at: 3,
            start: 25,
            end: 20,
        };
        assert_eq!(err("80,25-20"), reversed);
        assert_eq!(reversed.to_string(), "25-20 at column 4 is reversed");
    }

    #[test]
    fn names_empty_items_and_a_trailing_comma() {
        assert_eq!(err(""), SpecError::Empty);
        assert_eq!(err(",80"), SpecError::EmptyItem { at: 0 });
        assert_eq!(err("80,,443"), SpecError::EmptyItem { at: 3 });
        assert_eq!(err("80,"), SpecError::TrailingComma { at: 2 });
        assert_eq!(err(","), SpecError::EmptyItem { at: 0 });
        assert_eq!(err("80,443,"), SpecError::TrailingComma { at: 6 });
    }

    #[test]
    fn names_garbage_with_its_token() {
        let not = |at: usize, token: &str| SpecError::NotANumber {
            at,
            token: token.into(),
        };
        assert_eq!(err("http"), not(0, "http"));
        assert_eq!(err("80,8o"), not(3, "8o"));
        assert_eq!(err("20-"), not(3, ""));
        assert_eq!(err("-20"), not(0, ""));
        assert_eq!(err("1-2-3"), not(2, "2-3"));
        assert_eq!(err("80, 443"), not(3, " 443"));
        assert_eq!(err("+80"), not(0, "+80"));
        assert_eq!(err("٣"), not(0, "٣"));
        assert_eq!(
            not(3, "8o").to_string(),
            "\"8o\" at column 4 is not a port number"
        );
    }

    #[test]
    fn never_panics_on_arbitrary_text() {
        // Every string of up to 4 characters over an alphabet that reaches every branch.
        let alphabet = ['0', '1', '9', '-', ',', 'a', ' ', 'é'];
        let mut specs = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = specs
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            specs.extend(longer);
        }
        for spec in &specs {
            if let Err(e) = parse(spec) {
                let _ = e.to_string();
            }
        }
    }
}
