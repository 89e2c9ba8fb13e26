//! An annotated hex dump of a DNS message: every field on a line of its own, with its offset,
//! its bytes and what they mean. It walks the message with the decoder's own functions, so
//! the dump shows exactly what the decoder reads.

use super::message::{
    self, DecodeError, HEADER_LEN, RData, RecordType, decode, decode_header, decode_name,
};

/// Bytes shown per line: 8 keeps a line of the dump within 80 columns.
const PER_LINE: usize = 8;

/// The dump of `packet`, one line per field (long fields continue on the next lines), or the
/// decoder's error if the packet is malformed.
pub fn annotate(packet: &[u8]) -> Result<Vec<String>, DecodeError> {
    let m = decode(packet)?; // the walk below then cannot fail
    let h = decode_header(packet)?;
    let mut out = Dump {
        packet,
        lines: Vec::new(),
    };
    let flags = h.flag_names().join(" ");
    let flags = if flags.is_empty() {
        "none".into()
    } else {
        flags
    };
    let kind = if h.response { "response" } else { "query" };
    out.field(0, 2, format!("id {}", h.id));
    out.field(2, 2, format!("flags: {kind}, opcode {}, {flags}", h.opcode));
    if h.response {
        let last = out.lines.len() - 1;
        out.lines[last].push_str(&format!(", {}", h.rcode()));
    }
    let counts = [
        ("question", h.qdcount),
        ("answer", h.ancount),
        ("authority record", h.nscount),
        ("additional record", h.arcount),
    ];
    for (i, (what, n)) in counts.iter().enumerate() {
        let plural = if *n == 1 { "" } else { "s" };
        out.field(4 + 2 * i, 2, format!("{n} {what}{plural}"));
    }
    let mut at = HEADER_LEN;
    for q in &m.questions {
        at = out.name(at)?;
        out.field(at, 2, format!("type {}", q.qtype));
        out.field(at + 2, 2, format!("class {}", class(q.qclass)));
        at += 4;
    }
    let records = m.answers.iter().chain(&m.authority).chain(&m.additional);
    for r in records {
        at = out.name(at)?;
        out.field(at, 2, format!("type {}", r.rtype));
        if r.rtype == RecordType::Other(41) {
            out.field(at + 2, 2, format!("UDP payload size {}", r.class));
            out.field(at + 4, 4, "extended rcode, version, flags");
        } else {
            out.field(at + 2, 2, format!("class {}", class(r.class)));
            out.field(at + 4, 4, format!("TTL {} seconds", r.ttl));
        }
        let len = match &r.data {
            RData::A(_) => 4,
            RData::Aaaa(_) => 16,
            RData::Other(bytes) => bytes.len(),
        };
        out.field(at + 8, 2, format!("data length {len}"));
        let data = match &r.data {
            RData::A(ip) => format!("address {ip}"),
            RData::Aaaa(ip) => format!("address {ip}"),
            RData::Other(_) => "data".into(),
        };
        if len > 0 {
            out.field(at + 10, len, data);
        }
        at += 10 + len;
    }
    Ok(out.lines)
}

fn class(n: u16) -> String {
    match n {
        1 => "IN".into(),
        n => format!("CLASS{n}"),
    }
}

struct Dump<'a> {
    packet: &'a [u8],
    lines: Vec<String>,
}

impl Dump<'_> {
    /// `len` bytes at `at`, described as `what`.
    fn field(&mut self, at: usize, len: usize, what: impl Into<String>) {
        let bytes = self.packet.get(at..at + len).unwrap_or_default();
        let mut what = Some(what.into());
        for (i, chunk) in bytes.chunks(PER_LINE).enumerate() {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let text = what.take().unwrap_or_default();
            let line = format!("{:04x}  {:<24} {text}", at + i * PER_LINE, hex.join(" "));
            self.lines.push(line.trim_end().to_string());
        }
    }

    /// The name at `at`, one line per label, then its end (a zero or a pointer); returns the
    /// offset past it.
    fn name(&mut self, mut at: usize) -> Result<usize, DecodeError> {
        let (full, end) = decode_name(self.packet, at)?;
        loop {
            let len = usize::from(self.packet.get(at).copied().unwrap_or(0));
            if len == 0 {
                self.field(at, 1, format!("end of name {full}"));
                return Ok(end);
            }
            if len >= 0xc0 {
                let target = usize::from(message::u16_at(self.packet, at, "a pointer")? & 0x3fff);
                let what = format!("pointer to {target:#06x}: {full}");
                self.field(at, 2, what);
                return Ok(end);
            }
            let label = self.packet.get(at + 1..at + 1 + len).unwrap_or_default();
            let text = String::from_utf8_lossy(label);
            self.field(at, 1 + len, format!("label of {len}: {text}"));
            at += 1 + len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::encode_query;

    #[test]
    fn labels_every_field_of_a_query_within_80_columns() {
        let q = encode_query(0x1234, "www.example.test", RecordType::A).unwrap();
        let lines = annotate(&q).unwrap();
        let text = lines.join("\n");
        assert!(text.starts_with("0000  12 34"), "{text}");
        assert!(text.contains("label of 7: example"), "{text}");
        assert!(text.contains("end of name www.example.test."), "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{text}");
        assert!(annotate(&q[..20]).is_err());
    }
}
