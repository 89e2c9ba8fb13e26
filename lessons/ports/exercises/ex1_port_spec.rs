//! Exercise 1: Parse a port range.
//!
//! Write `parse_ports`: turn a port specification such as `20-25,80,443` into the ports it
//! names, sorted from lowest to highest, each once.
//!
//! - Items are separated by commas, with no spaces. An item is a port (`80`) or an inclusive
//!   range of ports (`20-25`). Ports are decimal numbers from 1 to 65535.
//! - Anything else is an error that says what is wrong and in which item, counting items from
//!   1: `"80,0"` is `Err(SpecError::Zero { item: 2 })`. The variants of `SpecError` below list
//!   every mistake; the first mistake, from the left, is the one to return.
//!
//! Check your work: `cargo exercise ports ex1`.

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
    todo!("parse the port specification {spec:?}")
}
