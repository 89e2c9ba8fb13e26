//! The DNS subcommands of `cargo run -p udp -- ...`: kept in their own file beside `main.rs`.

use std::fmt;
use std::io::{self, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Subcommand, ValueEnum};
use udp::dns::client::{self, Answer, LookupError};
use udp::dns::message::{RData, Record, RecordType};
use udp::dns::responder::{self, Table};
use udp::shutdown::Shutdown;

#[derive(Subcommand)]
pub enum DnsCommand {
    /// Look a name up with our DNS client and print the answer, like a short dig.
    #[command(
        after_help = "Example: cargo run -p udp -- dns www.example.test --server 127.0.0.1:8053\n  \
                      (add --type AAAA for its IPv6 addresses)"
    )]
    Dns {
        /// The name to look up.
        name: String,
        #[arg(long = "type", value_enum, default_value_t = TypeArg::A)]
        rtype: TypeArg,
        /// The DNS server to ask.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:8053")]
        server: String,
        /// Seconds to wait for each reply (0.1 to 60).
        #[arg(long, default_value_t = 2.0, value_parser = seconds)]
        timeout: f64,
        /// How many times to send the query, the first included.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
        tries: u32,
    },
    /// Run a tiny authoritative DNS server for the names of a table, until Ctrl-C.
    #[command(
        after_help = "Example: cargo run -p udp -- respond --table lessons/udp/dns/hosts.txt\n  \
                      then, in a second terminal: cargo run -p udp -- dns www.example.test"
    )]
    Respond {
        /// Where to listen. Port 0 lets the OS choose a free port.
        #[arg(long, env = "UDP_ADDR", default_value = "127.0.0.1:8053")]
        addr: String,
        /// Lines of `ADDRESS NAME...`, like /etc/hosts; `#` starts a comment.
        /// Without it: the example table lessons/udp/dns/hosts.txt, built in.
        #[arg(long)]
        table: Option<PathBuf>,
    },
    /// Show the bytes of one query and its response, each field labelled.
    #[command(after_help = "Example: cargo run -p udp -- dns-bytes www.example.test")]
    DnsBytes {
        /// The name to look up.
        #[arg(default_value = "www.example.test")]
        name: String,
        #[arg(long = "type", value_enum, default_value_t = TypeArg::A)]
        rtype: TypeArg,
        /// Ask this DNS server. Without it, a responder started in this process on
        /// 127.0.0.1:0 answers from the example table.
        #[arg(long, env = "UDP_ADDR")]
        server: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TypeArg {
    /// An IPv4 address.
    #[value(name = "A", alias = "a")]
    A,
    /// An IPv6 address.
    #[value(name = "AAAA", alias = "aaaa")]
    Aaaa,
}

impl TypeArg {
    fn rtype(self) -> RecordType {
        match self {
            TypeArg::A => RecordType::A,
            TypeArg::Aaaa => RecordType::Aaaa,
        }
    }
}

/// A number of seconds, from 0.1 to 60.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if (0.1..=60.0).contains(&s) => Ok(s),
        _ => Err(format!(
            "{text:?} is not a number of seconds from 0.1 to 60"
        )),
    }
}

/// The query id `dns-bytes` uses, so that its dump is the same on every run. Real lookups
/// draw a random id.
const DUMP_ID: u16 = 0x1234;

pub fn run(command: DnsCommand) -> Result<()> {
    match command {
        DnsCommand::Dns {
            name,
            rtype,
            server,
            timeout,
            tries,
        } => {
            let server = udp::reachable(udp::resolve(&server)?[0]);
            let timeout = Duration::from_secs_f64(timeout);
            let answer = client::lookup(server, &name, rtype.rtype(), timeout, tries - 1)?;
            print_answer(&answer, &mut io::stdout().lock())?;
            if answer.truncated() {
                anyhow::bail!(Truncated);
            }
            Ok(())
        }
        DnsCommand::Respond { addr, table } => {
            let table = match table {
                Some(path) => load(&path)?,
                None => Table::example(),
            };
            let socket = crate::bind(&addr)?;
            crate::serve(socket, |socket, shutdown| {
                responder::run(socket, shutdown, table)
            })
        }
        DnsCommand::DnsBytes {
            name,
            rtype,
            server,
        } => dump(&name, rtype.rtype(), server.as_deref()),
    }
}

/// Reads a table file; its errors carry no `io::Error`, whose hints are about sockets.
fn load(path: &Path) -> Result<Table> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadTable(format!("could not read the table {}: {e}", path.display())))?;
    Table::parse(&text)
        .map_err(|e| BadTable(format!("in the table {}: {e}", path.display())).into())
}

// ANCHOR: print
/// Prints an answer the way dig does, shortened: the header's status and flags, then each
/// section that has something in it.
fn print_answer(answer: &Answer, out: &mut impl Write) -> io::Result<()> {
    let m = &answer.message;
    let h = &m.header;
    writeln!(out, ";; status: {}", h.rcode())?;
    writeln!(
        out,
        ";; flags: {}; query: {}, answer: {}, authority: {}, additional: {}",
        h.flag_names().join(" "),
        h.qdcount,
        h.ancount,
        h.nscount,
        h.arcount
    )?;
    writeln!(out, "\n;; QUESTION SECTION:")?;
    for q in &m.questions {
        writeln!(out, ";{:<31} IN {}", q.name, q.qtype)?;
    }
    let sections = [
        ("ANSWER", &m.answers),
        ("AUTHORITY", &m.authority),
        ("ADDITIONAL", &m.additional),
    ];
    for (title, records) in sections {
        if records.is_empty() {
            continue;
        }
        writeln!(out, "\n;; {title} SECTION:")?;
        for r in records.iter() {
            writeln!(out, "{}", record_line(r))?;
        }
    }
    let tries = if answer.attempts == 1 { "try" } else { "tries" };
    write!(
        out,
        "\n;; from {} in {:.1?}, {} {tries}",
        answer.from, answer.elapsed, answer.attempts
    )?;
    if answer.ignored > 0 {
        write!(out, ", {} other datagrams ignored", answer.ignored)?;
    }
    writeln!(out)
}
// ANCHOR_END: print

/// One record as a line: name, TTL, class, type, data. Data we do not decode is shown in
/// the generic form of RFC 3597 §5: `\# LENGTH HEX`.
fn record_line(r: &Record) -> String {
    if r.rtype == RecordType::Other(41) {
        return format!(";; EDNS OPT, UDP payload size {}", r.class);
    }
    let data = match &r.data {
        RData::A(ip) => ip.to_string(),
        RData::Aaaa(ip) => ip.to_string(),
        RData::Other(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("\\# {} {hex}", bytes.len())
        }
    };
    let class = if r.class == 1 {
        "IN".to_string()
    } else {
        format!("CLASS{}", r.class)
    };
    format!(
        "{:<24} {:>7} {class} {:<5} {data}",
        r.name,
        r.ttl,
        r.rtype.to_string()
    )
}

// ANCHOR: dump
/// Sends one query (with a fixed id) and prints both messages, field by field.
fn dump(name: &str, rtype: RecordType, server: Option<&str>) -> Result<()> {
    let mut local = None;
    let server = match server {
        Some(server) => udp::reachable(udp::resolve(server)?[0]),
        None => {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))
                .context("could not bind a socket for the responder")?;
            let addr = socket.local_addr()?;
            let shutdown = Shutdown::new();
            let stop = shutdown.clone();
            let thread =
                std::thread::spawn(move || responder::run(socket, shutdown, Table::example()));
            local = Some((stop, thread));
            addr
        }
    };
    let timeout = Duration::from_secs(2);
    let answer = client::lookup_with_id(server, DUMP_ID, name, rtype, timeout, 2);
    if let Some((stop, thread)) = local {
        stop.trigger();
        let _ = thread.join();
    }
    let answer = answer?;
    let mut out = io::stdout().lock();
    for (what, bytes) in [("query", &answer.query), ("response", &answer.reply)] {
        writeln!(out, "{what}, {} bytes:", bytes.len())?;
        // Both decoded already, so neither can fail here.
        for line in udp::dns::annotate::annotate(bytes).unwrap_or_default() {
            writeln!(out, "  {line}")?;
        }
        if what == "query" {
            writeln!(out)?;
        }
    }
    Ok(())
}
// ANCHOR_END: dump

/// A reply with the TC bit: what we printed is not the whole answer.
#[derive(Debug)]
struct Truncated;

impl fmt::Display for Truncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the answer was truncated (TC): it did not fit in 512 bytes")
    }
}

impl std::error::Error for Truncated {}

/// A table file that could not be read or parsed.
#[derive(Debug)]
struct BadTable(String);

impl fmt::Display for BadTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadTable {}

/// The hint for an error of a DNS subcommand, if it has one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if cause.is::<Truncated>() {
            return Some(
                "a resolver would ask again over TCP, which this client does not do:\n\
                 try dig +tcp",
            );
        }
        if cause.is::<BadTable>() {
            return Some(
                "a table has lines of ADDRESS NAME..., like /etc/hosts;\n\
                 see lessons/udp/dns/hosts.txt",
            );
        }
        Some(match cause.downcast_ref::<LookupError>()? {
            LookupError::Refused { .. } => {
                "is the responder running? start it with: cargo run -p udp -- respond"
            }
            LookupError::Timeout { .. } => {
                "nothing answered: is --server right? a DNS server usually\n\
                 listens on port 53; try a longer --timeout or more --tries"
            }
            LookupError::BadName(_) => {
                "a name is labels of 1 to 63 bytes joined by dots, 255 bytes in all"
            }
            LookupError::Io(_) => return None,
        })
    })
}
