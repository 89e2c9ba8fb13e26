//! The DNS message format (RFC 1035 §4.1) as pure functions over bytes: no sockets here, so
//! every rule can be tested with a byte string, and the decoder can be fed garbage by the
//! million.
//!
//! The decoder is strict. A message on the wire is data from anyone: it must never make us
//! panic, loop, or allocate without bound, and it is easier to be sure of that when anything
//! RFC 1035 does not allow is an error with a name ([`DecodeError`]) rather than a guess.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The most a plain UDP message may hold (RFC 1035 §2.3.4, §4.2.1). A longer answer is cut and
/// marked with the TC bit; EDNS (RFC 6891) lets a client offer more, which we do not use.
pub const UDP_LIMIT: usize = 512;

/// A label holds at most 63 bytes: its length byte has two bits kept for other uses.
pub const MAX_LABEL: usize = 63;

/// A name holds at most 255 bytes on the wire, length bytes and the final zero included.
pub const MAX_NAME: usize = 255;

/// The header is always 12 bytes (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// Class IN, the Internet: the only class anyone uses (RFC 1035 §3.2.4).
pub const CLASS_IN: u16 = 1;

/// The opcode of a standard query (RFC 1035 §4.1.1).
pub const OPCODE_QUERY: u8 = 0;

// ANCHOR: types
/// The type of a record or of a question (RFC 1035 §3.2.2). We name the two we answer and
/// keep every other as its number: a decoder must not reject a type it does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// An IPv4 address (RFC 1035 §3.4.1).
    A,
    /// An IPv6 address (RFC 3596 §2.1).
    Aaaa,
    /// Any other type, such as 41, the EDNS OPT pseudo-record (RFC 6891 §6.1.1).
    Other(u16),
}

/// The response code, the header's last four bits (RFC 1035 §4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    /// The server could not read the query.
    FormErr,
    /// The server failed.
    ServFail,
    /// The name does not exist (meaningful from an authoritative server).
    NxDomain,
    /// The server does not do this kind of query.
    NotImp,
    /// The server will not do it, by policy.
    Refused,
    Other(u8),
}
// ANCHOR_END: types

impl RecordType {
    pub fn from_u16(n: u16) -> RecordType {
        match n {
            1 => RecordType::A,
            28 => RecordType::Aaaa,
            n => RecordType::Other(n),
        }
    }

    pub fn to_u16(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
            RecordType::Other(n) => n,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordType::A => f.write_str("A"),
            RecordType::Aaaa => f.write_str("AAAA"),
            RecordType::Other(41) => f.write_str("OPT"),
            // RFC 3597 §5: the generic way to write a type without a name.
            RecordType::Other(n) => write!(f, "TYPE{n}"),
        }
    }
}

impl Rcode {
    pub fn from_u8(n: u8) -> Rcode {
        match n {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Other(n) => n & 0x0f,
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormErr => f.write_str("FORMERR"),
            Rcode::ServFail => f.write_str("SERVFAIL"),
            Rcode::NxDomain => f.write_str("NXDOMAIN"),
            Rcode::NotImp => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(n) => write!(f, "RCODE{n}"),
        }
    }
}

/// The 12-byte header (RFC 1035 §4.1.1), its flags unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Chosen by the client, copied into the reply: how a client matches replies to queries.
    pub id: u16,
    /// QR: false in a query, true in a response.
    pub response: bool,
    /// 0 for a standard query; 4 bits.
    pub opcode: u8,
    /// AA: the answer comes from a server authoritative for the name.
    pub authoritative: bool,
    /// TC: the message was cut to fit its transport.
    pub truncated: bool,
    /// RD: the client asks the server to resolve the name for it.
    pub recursion_desired: bool,
    /// RA: the server would.
    pub recursion_available: bool,
    /// The three bits RFC 1035 called Z; DNSSEC (RFC 4035) now uses two of them, AD and CD.
    /// Kept as they came, so a decoded message encodes to the same bytes.
    pub z: u8,
    pub rcode: u8,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
}

impl Header {
    pub fn rcode(&self) -> Rcode {
        Rcode::from_u8(self.rcode)
    }

    /// The flags that are set, in dig's words and order: `qr aa tc rd ra ad cd`.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let flags = [
            (self.response, "qr"),
            (self.authoritative, "aa"),
            (self.truncated, "tc"),
            (self.recursion_desired, "rd"),
            (self.recursion_available, "ra"),
            (self.z & 0b010 != 0, "ad"),
            (self.z & 0b001 != 0, "cd"),
        ];
        flags.iter().filter(|f| f.0).map(|f| f.1).collect()
    }
}

/// A question (RFC 1035 §4.1.2): which name, which type, which class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// Dotted, with a final dot for the root: `www.example.test.`; bytes that are not printable
    /// ASCII, and `.` or `\` inside a label, written as `\DDD` (RFC 4343 §2.1).
    pub name: String,
    pub qtype: RecordType,
    pub qclass: u16,
}

/// What a record holds: the two address types decoded, every other kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Other(Vec<u8>),
}

/// A resource record (RFC 1035 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub rtype: RecordType,
    /// For the OPT pseudo-record this is the client's UDP payload size instead (RFC 6891).
    pub class: u16,
    /// Seconds a cache may keep it.
    pub ttl: u32,
    pub data: RData,
}

/// A whole message: the header, then four sections whose lengths the header counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub header: Header,
    pub questions: Vec<Question>,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

// ANCHOR: errors
/// Why a message could not be decoded. Each names the offset where the decoder stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ends before `what` is complete.
    Truncated { at: usize, what: &'static str },
    /// A label length over 63 (RFC 1035 §2.3.4).
    LabelTooLong { at: usize, len: usize },
    /// A name over 255 bytes on the wire (RFC 1035 §2.3.4).
    NameTooLong { at: usize },
    /// A compression pointer to `target` that is not strictly before the run of labels it
    /// ends: forward, to itself, or back into a loop (RFC 1035 §4.1.4 points only backwards).
    BadPointer { at: usize, target: usize },
    /// A length byte starting with the bits 01 or 10: label types that RFC 1035 reserves
    /// and RFC 6891 §5 retired.
    BadLabelType { at: usize, byte: u8 },
    /// An A record whose data is not 4 bytes, or an AAAA record whose data is not 16.
    BadRdata {
        at: usize,
        rtype: RecordType,
        len: usize,
    },
    /// Bytes after the last record the header counts.
    TrailingBytes { at: usize, extra: usize },
}
// ANCHOR_END: errors

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated { at, what } => {
                write!(f, "truncated at byte {at}: {what} is incomplete")
            }
            DecodeError::LabelTooLong { at, len } => {
                write!(f, "label of {len} bytes at byte {at} (at most {MAX_LABEL})")
            }
            DecodeError::NameTooLong { at } => {
                write!(f, "name at byte {at} is longer than {MAX_NAME} bytes")
            }
            DecodeError::BadPointer { at, target } => {
                write!(f, "pointer at byte {at} to {target} does not point back")
            }
            DecodeError::BadLabelType { at, byte } => {
                write!(f, "reserved label type {byte:#04x} at byte {at}")
            }
            DecodeError::BadRdata { at, rtype, len } => {
                write!(f, "{rtype} record at byte {at} has {len} bytes of data")
            }
            DecodeError::TrailingBytes { at, extra } => {
                write!(f, "{extra} bytes after the last record, from byte {at}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a name given as text cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// `a..b`, or a name that starts with a dot.
    EmptyLabel,
    LabelTooLong(usize),
    NameTooLong(usize),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::EmptyLabel => f.write_str("a name cannot have an empty label"),
            NameError::LabelTooLong(n) => {
                write!(f, "a label of {n} bytes is too long (at most {MAX_LABEL})")
            }
            NameError::NameTooLong(n) => {
                write!(
                    f,
                    "a name of {n} bytes is too long (at most {MAX_NAME} on the wire)"
                )
            }
        }
    }
}

impl std::error::Error for NameError {}

// -----------------------------------------------------------------------------------------
// Decoding.

/// Two bytes in network byte order (big-endian) at `at`.
pub(crate) fn u16_at(packet: &[u8], at: usize, what: &'static str) -> Result<u16, DecodeError> {
    match packet.get(at..at + 2) {
        Some(&[hi, lo]) => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(DecodeError::Truncated { at, what }),
    }
}

fn u32_at(packet: &[u8], at: usize, what: &'static str) -> Result<u32, DecodeError> {
    match packet.get(at..at + 4) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(DecodeError::Truncated { at, what }),
    }
}

// ANCHOR: header
/// Reads the header: six 16-bit fields in network byte order, the second one packed with
/// flags (RFC 1035 §4.1.1).
pub fn decode_header(packet: &[u8]) -> Result<Header, DecodeError> {
    let Some(&[id_hi, id_lo, b2, b3, ..]) = packet.get(..HEADER_LEN) else {
        return Err(DecodeError::Truncated {
            at: packet.len(),
            what: "the 12-byte header",
        });
    };
    let count = |at| u16_at(packet, at, "the header");
    Ok(Header {
        id: u16::from_be_bytes([id_hi, id_lo]),
        //  bit: 7    6..3     2    1    0   |   7    6..4    3..0
        //       QR  OPCODE   AA   TC   RD   |   RA    Z     RCODE
        response: b2 & 0x80 != 0,
        opcode: (b2 >> 3) & 0x0f,
        authoritative: b2 & 0x04 != 0,
        truncated: b2 & 0x02 != 0,
        recursion_desired: b2 & 0x01 != 0,
        recursion_available: b3 & 0x80 != 0,
        z: (b3 >> 4) & 0x07,
        rcode: b3 & 0x0f,
        qdcount: count(4)?,
        ancount: count(6)?,
        nscount: count(8)?,
        arcount: count(10)?,
    })
}
// ANCHOR_END: header

// ANCHOR: name
/// Reads the name at `offset`: returns it dotted, and the offset just past it *where it
/// started* (a pointer ends the name there, wherever it leads).
///
/// A name is a run of labels, each a length byte and that many bytes, ended by a zero byte;
/// or ended instead by a two-byte pointer (top bits 11) to a run written earlier in the
/// message (RFC 1035 §4.1.4). Each pointer must lead strictly before the run it ends. So the
/// decoder only ever jumps backwards, past bytes it cannot meet again: no loop is possible,
/// and at most `offset` jumps happen.
pub fn decode_name(packet: &[u8], offset: usize) -> Result<(String, usize), DecodeError> {
    let mut name = String::new();
    let mut wire_len = 1; // the final zero byte (or the root's)
    let mut at = offset;
    let mut run_start = offset; // where the current run of labels began
    let mut end = None; // where the name ends in its original position
    loop {
        let &len = packet
            .get(at)
            .ok_or(DecodeError::Truncated { at, what: "a name" })?;
        match len >> 6 {
            0b00 if len == 0 => break,
            0b00 => {
                let len = usize::from(len);
                let label = packet
                    .get(at + 1..at + 1 + len)
                    .ok_or(DecodeError::Truncated {
                        at,
                        what: "a label",
                    })?;
                wire_len += 1 + len;
                if wire_len > MAX_NAME {
                    return Err(DecodeError::NameTooLong { at: offset });
                }
                push_label(&mut name, label);
                at += 1 + len;
            }
            0b11 => {
                let target = usize::from(u16_at(packet, at, "a pointer")? & 0x3fff);
                if target >= run_start {
                    return Err(DecodeError::BadPointer { at, target });
                }
                end.get_or_insert(at + 2);
                (at, run_start) = (target, target);
            }
            _ => return Err(DecodeError::BadLabelType { at, byte: len }),
        }
    }
    if name.is_empty() {
        name.push('.'); // the root
    }
    Ok((name, end.unwrap_or(at + 1)))
}

/// Appends `label` and a dot. A label may hold any byte (RFC 2181 §11): printable ASCII goes
/// in as it is, but `.` and `\` inside a label, and every other byte, go in as `\DDD`, three
/// decimal digits, as dig writes them (RFC 4343 §2.1). So no label can pass for two.
fn push_label(name: &mut String, label: &[u8]) {
    for &b in label {
        match b {
            b'.' | b'\\' => name.push_str(&format!("\\{b:03}")),
            0x21..=0x7e => name.push(char::from(b)),
            _ => name.push_str(&format!("\\{b:03}")),
        }
    }
    name.push('.');
}
// ANCHOR_END: name

/// The question at `at` and the offset past it.
fn decode_question(packet: &[u8], at: usize) -> Result<(Question, usize), DecodeError> {
    let (name, at) = decode_name(packet, at)?;
    let qtype = u16_at(packet, at, "a question's type")?;
    let qclass = u16_at(packet, at + 2, "a question's class")?;
    let question = Question {
        name,
        qtype: RecordType::from_u16(qtype),
        qclass,
    };
    Ok((question, at + 4))
}

/// The record at `at` and the offset past it.
fn decode_record(packet: &[u8], at: usize) -> Result<(Record, usize), DecodeError> {
    let (name, at) = decode_name(packet, at)?;
    let rtype = RecordType::from_u16(u16_at(packet, at, "a record's type")?);
    let class = u16_at(packet, at + 2, "a record's class")?;
    let ttl = u32_at(packet, at + 4, "a record's TTL")?;
    let len = usize::from(u16_at(packet, at + 8, "a record's data length")?);
    let start = at + 10;
    let bytes = packet
        .get(start..start + len)
        .ok_or(DecodeError::Truncated {
            at: start,
            what: "a record's data",
        })?;
    let bad = DecodeError::BadRdata { at, rtype, len };
    let data = match rtype {
        RecordType::A => RData::A(<[u8; 4]>::try_from(bytes).map_err(|_| bad)?.into()),
        RecordType::Aaaa => RData::Aaaa(<[u8; 16]>::try_from(bytes).map_err(|_| bad)?.into()),
        RecordType::Other(_) => RData::Other(bytes.to_vec()),
    };
    let record = Record {
        name,
        rtype,
        class,
        ttl,
        data,
    };
    Ok((record, start + len))
}

// ANCHOR: decode
/// Decodes a whole message.
///
/// Trailing bytes are an error: a message is exactly what its header counts, so bytes past
/// the last record mean a count is wrong, and we would rather refuse a message than act on
/// one we misread. (RFC 1035 does not say; the padding that EDNS allows lives *inside* an OPT
/// record, RFC 7830, so no well-formed message has trailing bytes.)
pub fn decode(packet: &[u8]) -> Result<Message, DecodeError> {
    let header = decode_header(packet)?;
    let mut at = HEADER_LEN;
    let mut questions = Vec::new();
    for _ in 0..header.qdcount {
        let (question, next) = decode_question(packet, at)?;
        questions.push(question);
        at = next;
    }
    // No `Vec::with_capacity(count)`: the counts come from the sender, and every record
    // takes at least 11 bytes, so a lying count runs out of bytes before it costs memory.
    let mut sections = [Vec::new(), Vec::new(), Vec::new()];
    let counts = [header.ancount, header.nscount, header.arcount];
    for (section, count) in sections.iter_mut().zip(counts) {
        for _ in 0..count {
            let (record, next) = decode_record(packet, at)?;
            section.push(record);
            at = next;
        }
    }
    if at < packet.len() {
        return Err(DecodeError::TrailingBytes {
            at,
            extra: packet.len() - at,
        });
    }
    let [answers, authority, additional] = sections;
    Ok(Message {
        header,
        questions,
        answers,
        authority,
        additional,
    })
}
// ANCHOR_END: decode

// -----------------------------------------------------------------------------------------
// Encoding.

/// Splits a dotted name into labels and checks their lengths. `example.test` and
/// `example.test.` are the same name; `.` alone is the root, which has no labels.
pub fn labels(name: &str) -> Result<Vec<&[u8]>, NameError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return if name.is_empty() {
            Err(NameError::EmptyLabel)
        } else {
            Ok(Vec::new())
        };
    }
    let labels: Vec<&[u8]> = trimmed.split('.').map(str::as_bytes).collect();
    let mut wire_len = 1;
    for label in &labels {
        if label.is_empty() {
            return Err(NameError::EmptyLabel);
        }
        if label.len() > MAX_LABEL {
            return Err(NameError::LabelTooLong(label.len()));
        }
        wire_len += 1 + label.len();
    }
    if wire_len > MAX_NAME {
        return Err(NameError::NameTooLong(wire_len));
    }
    Ok(labels)
}

/// Builds a message's bytes, compressing a name that repeats one written before it (as a
/// pointer to the first: RFC 1035 §4.1.4).
struct Encoder {
    bytes: Vec<u8>,
    /// Names written so far (lowercased) and where.
    names: Vec<(String, usize)>,
}

impl Encoder {
    fn u16(&mut self, n: u16) {
        self.bytes.extend_from_slice(&n.to_be_bytes());
    }

    fn name(&mut self, name: &str) -> Result<(), NameError> {
        let key = name.to_ascii_lowercase();
        if let Some(&(_, at)) = self.names.iter().find(|(n, _)| *n == key) {
            self.u16(0xc000 | at as u16);
            return Ok(());
        }
        if self.bytes.len() < 0x4000 {
            self.names.push((key, self.bytes.len()));
        }
        for label in labels(name)? {
            self.bytes.push(label.len() as u8);
            self.bytes.extend_from_slice(label);
        }
        self.bytes.push(0);
        Ok(())
    }

    fn record(&mut self, r: &Record) -> Result<(), NameError> {
        self.name(&r.name)?;
        self.u16(r.rtype.to_u16());
        self.u16(r.class);
        self.bytes.extend_from_slice(&r.ttl.to_be_bytes());
        let data: &[u8] = match &r.data {
            RData::A(ip) => &ip.octets(),
            RData::Aaaa(ip) => &ip.octets(),
            RData::Other(bytes) => bytes,
        };
        self.u16(data.len().min(usize::from(u16::MAX)) as u16);
        self.bytes.extend_from_slice(data);
        Ok(())
    }
}

/// The header's 12 bytes. The counts are written as the header says.
pub fn encode_header(h: &Header) -> [u8; HEADER_LEN] {
    let b2 = u8::from(h.response) << 7
        | (h.opcode & 0x0f) << 3
        | u8::from(h.authoritative) << 2
        | u8::from(h.truncated) << 1
        | u8::from(h.recursion_desired);
    let b3 = u8::from(h.recursion_available) << 7 | (h.z & 0x07) << 4 | (h.rcode & 0x0f);
    let mut out = [0; HEADER_LEN];
    out[..2].copy_from_slice(&h.id.to_be_bytes());
    (out[2], out[3]) = (b2, b3);
    for (i, n) in [h.qdcount, h.ancount, h.nscount, h.arcount]
        .iter()
        .enumerate()
    {
        out[4 + 2 * i..6 + 2 * i].copy_from_slice(&n.to_be_bytes());
    }
    out
}

/// Encodes `message`, with the header's counts taken from its sections (a section of more
/// than 65,535 entries is cut there). Names compress when one repeats.
pub fn encode(message: &Message) -> Result<Vec<u8>, NameError> {
    let count = |n: usize| n.min(usize::from(u16::MAX)) as u16;
    let header = Header {
        qdcount: count(message.questions.len()),
        ancount: count(message.answers.len()),
        nscount: count(message.authority.len()),
        arcount: count(message.additional.len()),
        ..message.header
    };
    let mut e = Encoder {
        bytes: encode_header(&header).to_vec(),
        names: Vec::new(),
    };
    for q in message.questions.iter().take(usize::from(header.qdcount)) {
        e.name(&q.name)?;
        e.u16(q.qtype.to_u16());
        e.u16(q.qclass);
    }
    let sections = [&message.answers, &message.authority, &message.additional];
    for section in sections {
        for record in section.iter().take(usize::from(u16::MAX)) {
            e.record(record)?;
        }
    }
    Ok(e.bytes)
}

// ANCHOR: query
/// The bytes of a standard query for `name`'s records of type `rtype`: a header with one
/// question, and RD set, as a stub resolver sends it (RFC 1035 §4.1.1, §7.1).
pub fn encode_query(id: u16, name: &str, rtype: RecordType) -> Result<Vec<u8>, NameError> {
    let query = Message {
        header: Header {
            id,
            opcode: OPCODE_QUERY,
            recursion_desired: true,
            ..Header::default()
        },
        questions: vec![Question {
            name: name.to_string(),
            qtype: rtype,
            qclass: CLASS_IN,
        }],
        ..Message::default()
    };
    encode(&query)
}
// ANCHOR_END: query

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Random;

    /// The query of the chapter's dump: id 0x1234, RD, one question for `www.example.test` A.
    const QUERY: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\
        \x03www\x07example\x04test\x00\x00\x01\x00\x01";

    fn response() -> Vec<u8> {
        let mut r = QUERY.to_vec();
        r[2] = 0x85; // QR, AA, RD
        r[7] = 1; // ancount
        r.extend_from_slice(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc0\x00\x02\x0a");
        r
    }

    #[test]
    fn encodes_a_query_byte_for_byte() {
        let bytes = encode_query(0x1234, "www.example.test", RecordType::A).unwrap();
        assert_eq!(bytes, QUERY);
        let with_dot = encode_query(0x1234, "www.example.test.", RecordType::A).unwrap();
        assert_eq!(with_dot, QUERY);
    }

    #[test]
    fn decodes_a_compressed_response() {
        let m = decode(&response()).unwrap();
        assert!(m.header.response && m.header.authoritative && m.header.recursion_desired);
        assert_eq!(m.header.rcode(), Rcode::NoError);
        assert_eq!(m.questions[0].name, "www.example.test.");
        assert_eq!(m.answers.len(), 1);
        assert_eq!(m.answers[0].name, "www.example.test.");
        assert_eq!(m.answers[0].ttl, 300);
        assert_eq!(m.answers[0].data, RData::A([192, 0, 2, 10].into()));
        assert_eq!(
            encode(&m).unwrap(),
            response(),
            "encodes back to the same bytes"
        );
    }

    #[test]
    fn header_flags_round_trip() {
        for bits in [0u16, 0xffff, 0x8180, 0x0120, 0x7a5f] {
            let mut bytes = [0u8; 12];
            bytes[2..4].copy_from_slice(&bits.to_be_bytes());
            let h = decode_header(&bytes).unwrap();
            assert_eq!(encode_header(&h), bytes, "{bits:#06x}");
        }
    }

    #[test]
    fn every_cut_of_a_good_message_is_truncated() {
        let r = response();
        for n in 0..r.len() {
            assert!(
                matches!(decode(&r[..n]), Err(DecodeError::Truncated { .. })),
                "{n} bytes: {:?}",
                decode(&r[..n])
            );
        }
    }

    #[test]
    fn rejects_trailing_bytes() {
        let mut r = response();
        r.push(0);
        assert_eq!(
            decode(&r),
            Err(DecodeError::TrailingBytes {
                at: r.len() - 1,
                extra: 1
            })
        );
    }

    #[test]
    fn names_follow_backward_pointers_and_end_where_they_started() {
        // 12: "a" root; 15: "b" + pointer to 12; 19: pointer to 15.
        let mut p = vec![0; 12];
        p.extend_from_slice(b"\x01a\x00\x01b\xc0\x0c\xc0\x0f");
        assert_eq!(decode_name(&p, 12).unwrap(), ("a.".into(), 15));
        assert_eq!(decode_name(&p, 15).unwrap(), ("b.a.".into(), 19));
        assert_eq!(decode_name(&p, 19).unwrap(), ("b.a.".into(), 21));
    }

    #[test]
    fn rejects_pointers_forward_to_themselves_and_in_loops() {
        let mut p = vec![0; 12];
        p.extend_from_slice(b"\xc0\x0c"); // 12: to itself
        p.extend_from_slice(b"\xc0\x10\x00\x00"); // 14: forward to 16
        p.extend_from_slice(b"\x01x\xc0\x12"); // 18: "x" then back to its own start
        let bad = |at, target| Err(DecodeError::BadPointer { at, target });
        assert_eq!(decode_name(&p, 12), bad(12, 12));
        assert_eq!(decode_name(&p, 14), bad(14, 16));
        assert_eq!(decode_name(&p, 18), bad(20, 18));
        // Backwards from the pointer but not from the run it ends: a loop of two.
        let mut p = vec![0; 12];
        p.extend_from_slice(b"\x01a\xc0\x10\x01b\xc0\x0c"); // 12: a -> 16; 16: b -> 12
        assert_eq!(decode_name(&p, 16), bad(14, 16));
    }

    #[test]
    fn rejects_long_labels_long_names_and_reserved_label_types() {
        let mut p = vec![0; 12];
        p.push(64);
        p.extend_from_slice(&[b'a'; 64]);
        p.push(0);
        assert_eq!(
            decode_name(&p, 12),
            Err(DecodeError::BadLabelType { at: 12, byte: 64 })
        );
        for byte in [0x40, 0x80, 0xbf] {
            let p = [&[0; 12][..], &[byte, 0]].concat();
            assert_eq!(
                decode_name(&p, 12),
                Err(DecodeError::BadLabelType { at: 12, byte })
            );
        }
        // 4 labels of 63 = 256 bytes with the length bytes, 257 with the zero.
        let mut p = vec![0; 12];
        for _ in 0..4 {
            p.push(63);
            p.extend_from_slice(&[b'a'; 63]);
        }
        p.push(0);
        assert_eq!(
            decode_name(&p, 12),
            Err(DecodeError::NameTooLong { at: 12 })
        );
        // 3 of 63 and one of 61: 255 exactly.
        let mut p = vec![0; 12];
        for len in [63, 63, 63, 61] {
            p.push(len);
            p.extend_from_slice(&vec![b'a'; usize::from(len)]);
        }
        p.push(0);
        assert_eq!(decode_name(&p, 12).unwrap().1, p.len());
    }

    #[test]
    fn label_lengths_over_63_come_from_the_reserved_bits() {
        // 64..=191 all have a top bit set: they cannot be lengths at all.
        assert_eq!(64u8 >> 6, 0b01);
        assert_eq!(191u8 >> 6, 0b10);
        let too_long = "a".repeat(64);
        assert_eq!(labels(&too_long), Err(NameError::LabelTooLong(64)));
        assert_eq!(labels("a..b"), Err(NameError::EmptyLabel));
        assert_eq!(labels(""), Err(NameError::EmptyLabel));
        assert_eq!(labels(".").unwrap().len(), 0);
        let long = vec!["a".repeat(63); 4].join(".");
        assert_eq!(labels(&long), Err(NameError::NameTooLong(257)));
    }

    #[test]
    fn escapes_bytes_that_are_not_printable() {
        let p = [&[0; 12][..], b"\x04a.\\\x07\x00"].concat();
        assert_eq!(decode_name(&p, 12).unwrap().0, "a\\046\\092\\007.");
        let root = [&[0; 12][..], b"\x00"].concat();
        assert_eq!(decode_name(&root, 12).unwrap(), (".".into(), 13));
    }

    #[test]
    fn rejects_address_records_of_the_wrong_length() {
        let mut r = response();
        let n = r.len();
        r[n - 5] = 3; // rdlength 3
        r.pop();
        assert!(matches!(
            decode(&r),
            Err(DecodeError::BadRdata { len: 3, .. })
        ));
    }

    /// The decoder's promise, tested on many thousands of inputs: any bytes give `Ok` or an
    /// error, never a panic, and quickly. Half the inputs are random bytes; half are good
    /// messages with a few bytes changed, which reach far deeper into the decoder.
    #[test]
    fn never_panics_on_arbitrary_or_mutated_bytes() {
        let mut rng = Random::new(0xD15EA5E);
        let good = [QUERY.to_vec(), response(), {
            let mut m = decode(&response()).unwrap();
            m.additional.push(Record {
                name: ".".into(),
                rtype: RecordType::Other(41),
                class: 1232,
                ttl: 0,
                data: RData::Other(vec![]),
            });
            m.answers.push(m.answers[0].clone());
            encode(&m).unwrap()
        }];
        let started = std::time::Instant::now();
        let (mut ok, mut err) = (0, 0);
        for case in 0..200_000 {
            let bytes: Vec<u8> = if case % 2 == 0 {
                let len = (rng.next_u64() % 80) as usize;
                (0..len).map(|_| rng.next_u64() as u8).collect()
            } else {
                let mut b = good[case % good.len()].clone();
                for _ in 0..1 + rng.next_u64() % 4 {
                    let i = (rng.next_u64() as usize) % b.len();
                    match rng.next_u64() % 4 {
                        0 => b[i] = rng.next_u64() as u8,
                        1 => b[i] = 0xc0 | (rng.next_u64() as u8 & 0x3f),
                        2 => b.truncate(i),
                        _ => b.insert(i, rng.next_u64() as u8),
                    }
                    if b.is_empty() {
                        break;
                    }
                }
                b
            };
            match decode(&bytes) {
                Ok(m) => {
                    ok += 1;
                    // What decodes also encodes, without panicking either.
                    let _ = encode(&m);
                }
                Err(_) => err += 1,
            }
        }
        assert!(ok > 300 && err > 30_000, "{ok} decoded, {err} refused");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
