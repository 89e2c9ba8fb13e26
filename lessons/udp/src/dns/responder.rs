//! A tiny authoritative DNS responder: it answers A and AAAA questions for the names of a
//! table like `/etc/hosts`, and nothing else.
//!
//! The work is split in two. [`answer`] is a pure function from a query's bytes to what to
//! do about it (reply with these bytes, or stay silent and say why), so every case is a unit
//! test. [`run`] is the loop around a socket: receive, [`answer`], send, never stop for one
//! client's bad packet.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, UdpSocket};

use super::message::{
    self, CLASS_IN, Header, Message, OPCODE_QUERY, Question, RData, Rcode, Record, RecordType,
    UDP_LIMIT,
};
use crate::shutdown::Shutdown;

/// How long a resolver may cache our answers, in seconds. A hosts file has no TTLs; five
/// minutes is a common choice for names that rarely change.
pub const TTL: u32 = 300;

/// The example table the transcripts and `respond` without `--table` use.
pub const EXAMPLE_TABLE: &str = include_str!("../../dns/hosts.txt");

// ANCHOR: table
/// Names and their addresses, as read from a hosts-style file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Lowercase names, without the final dot, to their addresses in file order.
    names: BTreeMap<String, Vec<IpAddr>>,
}

/// A line of a table file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    pub line: usize,
    pub message: String,
}

impl Table {
    /// Reads lines of `ADDRESS NAME...`, like `/etc/hosts`. `#` starts a comment.
    pub fn parse(text: &str) -> Result<Table, TableError> {
        let mut names: BTreeMap<String, Vec<IpAddr>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let error = |message: String| TableError {
                line: i + 1,
                message,
            };
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let Some(address) = words.next() else {
                continue; // blank, or only a comment
            };
            let address: IpAddr = address
                .parse()
                .map_err(|_| error(format!("{address:?} is not an IP address")))?;
            let mut any = false;
            for name in words {
                // Names compare without regard to ASCII case (RFC 4343 §2).
                let name = valid_name(name).map_err(&error)?;
                names.entry(name).or_default().push(address);
                any = true;
            }
            if !any {
                return Err(error(format!("{address} has no name after it")));
            }
        }
        Ok(Table { names })
    }
}
// ANCHOR_END: table

impl Table {
    /// The example table, `lessons/udp/dns/hosts.txt`, compiled in.
    pub fn example() -> Table {
        Table::parse(EXAMPLE_TABLE).unwrap_or_default()
    }

    /// The addresses of `name` (any case, final dot or not), or `None` if it is not here.
    pub fn get(&self, name: &str) -> Option<&[IpAddr]> {
        let name = name.strip_suffix('.').unwrap_or(name);
        self.names
            .get(&name.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TableError {}

/// A host name as a table may hold it: labels of letters, digits, `-` and `_`, each 1 to 63
/// bytes, 255 bytes in all on the wire. Returned lowercase, without a final dot.
fn valid_name(name: &str) -> Result<String, String> {
    let ok_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if name == "." || !name.bytes().all(|b| ok_byte(b) || b == b'.') {
        return Err(format!("{name:?} is not a host name"));
    }
    message::labels(name).map_err(|e| format!("{name:?}: {e}"))?;
    let name = name.strip_suffix('.').unwrap_or(name);
    Ok(name.to_ascii_lowercase())
}

/// What to do with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Send these bytes back. `problem` says what was wrong with the query, if anything, for
    /// the log.
    Send {
        bytes: Vec<u8>,
        problem: Option<String>,
    },
    /// Send nothing, for this reason.
    Ignore(String),
}

// ANCHOR: answer
/// Decides what to answer to `packet`.
///
/// - Too short for a header: silence (there is no id to answer to).
/// - A response (QR set): silence, always. Answering responses lets two servers, or one
///   server and a forged source address, bounce packets at each other forever.
/// - An opcode other than QUERY: NOTIMP. Anything else malformed: FORMERR.
/// - A name in the table: its A or AAAA records, or none (NOERROR, "no data") if it has no
///   address of the type asked. A name not in the table: NXDOMAIN. Both with AA set: we are
///   the authority for these names.
///
/// An EDNS OPT record in the additional section (dig sends one) is decoded like any other
/// record and then ignored: our reply has no OPT, which tells the client we do not speak
/// EDNS, so it keeps to 512 bytes (RFC 6891 §7).
pub fn answer(table: &Table, packet: &[u8]) -> Reply {
    let header = match message::decode_header(packet) {
        Ok(header) => header,
        Err(_) => return Reply::Ignore("too short for a header".into()),
    };
    if header.response {
        return Reply::Ignore("a response, not a query".into());
    }
    let reply_header = Header {
        id: header.id,
        response: true,
        opcode: header.opcode,
        recursion_desired: header.recursion_desired,
        ..Header::default()
    };
    let refuse = |rcode: Rcode, question: Option<Question>, problem: String| {
        let reply = Message {
            header: Header {
                rcode: rcode.to_u8(),
                ..reply_header
            },
            questions: question.into_iter().collect(),
            ..Message::default()
        };
        Reply::Send {
            bytes: message::encode(&reply).unwrap_or_else(|_| header_only(&reply.header)),
            problem: Some(problem),
        }
    };
    if header.opcode != OPCODE_QUERY {
        let problem = format!("opcode {} is not QUERY", header.opcode);
        return refuse(Rcode::NotImp, None, problem);
    }
    let query = match message::decode(packet) {
        Ok(query) => query,
        Err(e) => return refuse(Rcode::FormErr, None, e.to_string()),
    };
    // RFC 1035 allows several questions in principle; no server answers them (RFC 9619).
    let [question] = query.questions.as_slice() else {
        let problem = format!("{} questions, not 1", query.questions.len());
        return refuse(Rcode::FormErr, None, problem);
    };
    if question.qclass != CLASS_IN {
        let problem = format!("class {} is not IN", question.qclass);
        return refuse(Rcode::Refused, Some(question.clone()), problem);
    }
    let mut reply = Message {
        header: Header {
            authoritative: true,
            ..reply_header
        },
        questions: vec![question.clone()],
        ..Message::default()
    };
    match table.get(&question.name) {
        None => reply.header.rcode = Rcode::NxDomain.to_u8(),
        Some(addresses) => {
            reply.answers = addresses
                .iter()
                .filter_map(|&ip| record(&question.name, question.qtype, ip))
                .collect();
        }
    }
    Reply::Send {
        bytes: fit_udp(reply),
        problem: None,
    }
}
// ANCHOR_END: answer

/// The record for `ip` if it is of type `rtype`.
fn record(name: &str, rtype: RecordType, ip: IpAddr) -> Option<Record> {
    let data = match (rtype, ip) {
        (RecordType::A, IpAddr::V4(ip)) => RData::A(ip),
        (RecordType::Aaaa, IpAddr::V6(ip)) => RData::Aaaa(ip),
        _ => return None,
    };
    Some(Record {
        name: name.to_string(),
        rtype,
        class: CLASS_IN,
        ttl: TTL,
        data,
    })
}

// ANCHOR: fit
/// Encodes `reply` in at most 512 bytes: while it is longer, drop the last answer and set TC,
/// which tells the client the answer is incomplete and to ask again over TCP (RFC 1035
/// §4.2.1, RFC 2181 §9).
fn fit_udp(mut reply: Message) -> Vec<u8> {
    loop {
        match message::encode(&reply) {
            Ok(bytes) if bytes.len() <= UDP_LIMIT || reply.answers.is_empty() => return bytes,
            Ok(_) => {
                reply.answers.pop();
                reply.header.truncated = true;
            }
            Err(_) => return header_only(&reply.header),
        }
    }
}
// ANCHOR_END: fit

/// A reply of just a header with no sections: always encodable.
fn header_only(header: &Header) -> Vec<u8> {
    let header = Header {
        qdcount: 0,
        ancount: 0,
        nscount: 0,
        arcount: 0,
        ..*header
    };
    message::encode_header(&header).to_vec()
}

/// What a responder did, for tests and the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub answered: u64,
    /// Of `answered`: replies with FORMERR, NOTIMP or REFUSED.
    pub refused: u64,
    pub ignored: u64,
}

// ANCHOR: run
/// Answers queries on `socket` until `shutdown` is triggered, logging problems on stderr.
pub fn run(socket: UdpSocket, shutdown: Shutdown, table: Table) -> io::Result<()> {
    serve(socket, shutdown, table, &mut io::stderr()).map(|_| ())
}

/// [`run`], logging to `log`; returns what it did.
pub fn serve(
    socket: UdpSocket,
    shutdown: Shutdown,
    table: Table,
    log: &mut dyn Write,
) -> io::Result<Stats> {
    shutdown.wake_by_sending_to(socket.local_addr()?);
    let mut stats = Stats::default();
    // Room for the largest datagram: a smaller buffer would cut long packets silently, and we
    // would answer a query we never saw whole.
    let mut buf = vec![0; crate::MAX_DATAGRAM];
    loop {
        let received = socket.recv_from(&mut buf);
        if shutdown.is_triggered() {
            return Ok(stats);
        }
        let (len, from) = match received {
            Ok(received) => received,
            // An ICMP error for an earlier reply (Windows reports them here), or a signal.
            Err(e) if is_transient(&e) => continue,
            Err(e) => return Err(e),
        };
        match answer(&table, &buf[..len]) {
            Reply::Send { bytes, problem } => {
                stats.answered += 1;
                if let Some(problem) = problem {
                    stats.refused += 1;
                    let rcode = message::decode_header(&bytes).map(|h| h.rcode());
                    let rcode = rcode.map(|r| r.to_string()).unwrap_or_default();
                    let _ = writeln!(log, "{rcode} to {from}: {problem}");
                }
                if let Err(e) = socket.send_to(&bytes, from) {
                    let _ = writeln!(log, "could not answer {from}: {e}");
                }
            }
            Reply::Ignore(why) => {
                stats.ignored += 1;
                let n = stats.ignored;
                let _ = writeln!(log, "ignored {len} bytes from {from}: {why} ({n} so far)");
            }
        }
    }
}
// ANCHOR_END: run

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || crate::is_timeout(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::message::{HEADER_LEN, decode, encode_query};

    fn table() -> Table {
        Table::parse(
            "# a comment\n\
             192.0.2.10   www.example.test  WWW2.example.test # trailing comment\n\
             2001:db8::10 www.example.test\n\
             \n\
             192.0.2.20   v4only.example.test\n",
        )
        .unwrap()
    }

    fn reply(query: &[u8]) -> Message {
        match answer(&table(), query) {
            Reply::Send { bytes, .. } => decode(&bytes).unwrap(),
            Reply::Ignore(why) => panic!("ignored: {why}"),
        }
    }

    #[test]
    fn parses_a_hosts_style_table() {
        let t = table();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get("WWW.Example.Test.").unwrap().len(), 2);
        assert!(t.get("www2.example.test").is_some());
        assert!(t.get("nope.example.test").is_none());
        let bad = |text: &str| Table::parse(text).unwrap_err().line;
        assert_eq!(bad("\n192.0.2.300 a"), 2);
        assert_eq!(bad("192.0.2.1"), 1);
        assert_eq!(bad("192.0.2.1 a..b"), 1);
        assert_eq!(bad("192.0.2.1 bad\\name"), 1);
        assert_eq!(bad(&format!("192.0.2.1 {}", "a".repeat(64))), 1);
        assert!(!Table::example().is_empty());
    }

    #[test]
    fn answers_a_and_aaaa_with_aa_set_and_the_question_as_asked() {
        let q = encode_query(7, "WWW.example.TEST", RecordType::A).unwrap();
        let r = reply(&q);
        assert_eq!(r.header.id, 7);
        assert!(r.header.response && r.header.authoritative && r.header.recursion_desired);
        assert_eq!(r.header.rcode(), Rcode::NoError);
        assert_eq!(r.questions[0].name, "WWW.example.TEST.");
        assert_eq!(r.answers[0].data, RData::A([192, 0, 2, 10].into()));
        assert_eq!(r.answers[0].ttl, TTL);
        let q = encode_query(8, "www.example.test", RecordType::Aaaa).unwrap();
        let r = reply(&q);
        assert_eq!(r.answers.len(), 1);
        assert_eq!(
            r.answers[0].data,
            RData::Aaaa("2001:db8::10".parse().unwrap())
        );
    }

    #[test]
    fn nxdomain_for_unknown_names_and_no_data_for_missing_types() {
        let r = reply(&encode_query(1, "nope.example.test", RecordType::A).unwrap());
        assert_eq!(r.header.rcode(), Rcode::NxDomain);
        assert!(r.header.authoritative);
        let r = reply(&encode_query(1, "v4only.example.test", RecordType::Aaaa).unwrap());
        assert_eq!((r.header.rcode(), r.answers.len()), (Rcode::NoError, 0));
        let r = reply(&encode_query(1, "www.example.test", RecordType::Other(15)).unwrap());
        assert_eq!((r.header.rcode(), r.answers.len()), (Rcode::NoError, 0));
    }

    #[test]
    fn refuses_what_it_does_not_do() {
        let mut q = encode_query(1, "www.example.test", RecordType::A).unwrap();
        q[2] |= 2 << 3; // opcode 2, STATUS
        assert_eq!(reply(&q).header.rcode(), Rcode::NotImp);
        let mut q = encode_query(1, "www.example.test", RecordType::A).unwrap();
        let n = q.len();
        q[n - 1] = 3; // class CH
        assert_eq!(reply(&q).header.rcode(), Rcode::Refused);
        let mut q = encode_query(1, "www.example.test", RecordType::A).unwrap();
        q.push(0);
        let r = reply(&q);
        assert_eq!((r.header.rcode(), r.header.id), (Rcode::FormErr, 1));
        let mut q = encode_query(1, "www.example.test", RecordType::A).unwrap();
        q[5] = 0; // no question
        q.truncate(HEADER_LEN);
        assert_eq!(reply(&q).header.rcode(), Rcode::FormErr);
    }

    #[test]
    fn never_answers_a_response_or_a_scrap() {
        let q = encode_query(1, "www.example.test", RecordType::A).unwrap();
        let Reply::Send { bytes, .. } = answer(&table(), &q) else {
            panic!("no answer")
        };
        assert!(matches!(answer(&table(), &bytes), Reply::Ignore(_)));
        assert!(matches!(answer(&table(), &[]), Reply::Ignore(_)));
        assert!(matches!(answer(&table(), &q[..11]), Reply::Ignore(_)));
    }

    #[test]
    fn ignores_an_edns_opt_record() {
        let mut m = decode(&encode_query(3, "www.example.test", RecordType::A).unwrap()).unwrap();
        m.additional.push(Record {
            name: ".".into(),
            rtype: RecordType::Other(41),
            class: 1232,
            ttl: 0,
            data: RData::Other(b"\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08".to_vec()),
        });
        let r = reply(&message::encode(&m).unwrap());
        assert_eq!(r.header.rcode(), Rcode::NoError);
        assert_eq!(r.answers.len(), 1);
        assert!(r.additional.is_empty());
    }

    #[test]
    fn cuts_a_long_answer_to_512_bytes_and_sets_tc() {
        let text: String = (1..=40)
            .map(|i| format!("2001:db8::{i} many.example.test\n"))
            .collect();
        let table = Table::parse(&text).unwrap();
        let q = encode_query(1, "many.example.test", RecordType::Aaaa).unwrap();
        let Reply::Send { bytes, .. } = answer(&table, &q) else {
            panic!("no answer")
        };
        assert!(bytes.len() <= UDP_LIMIT, "{} bytes", bytes.len());
        let r = decode(&bytes).unwrap();
        assert!(r.header.truncated);
        assert!(!r.answers.is_empty() && r.answers.len() < 40);
    }

    #[test]
    fn never_panics_on_arbitrary_or_mutated_queries() {
        let mut rng = crate::random::Random::new(42);
        let table = table();
        let good = encode_query(1, "www.example.test", RecordType::A).unwrap();
        for case in 0..50_000 {
            let bytes: Vec<u8> = if case % 2 == 0 {
                (0..rng.next_u64() % 64)
                    .map(|_| rng.next_u64() as u8)
                    .collect()
            } else {
                let mut b = good.clone();
                let i = (rng.next_u64() as usize) % b.len();
                b[i] = rng.next_u64() as u8;
                b
            };
            if let Reply::Send { bytes: out, .. } = answer(&table, &bytes) {
                let h = message::decode_header(&out).unwrap();
                assert!(h.response && out.len() <= UDP_LIMIT);
            }
        }
    }
}
