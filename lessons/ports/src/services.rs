//! Service names and port numbers, from the system's services database.
//!
//! A port number means nothing on the wire: a packet to port 443 carries the number 443, not the
//! word "https". The names are a convention that IANA keeps in its registry and that every Unix
//! copies into a text file, `/etc/services` (on Debian, from the `netbase` package), one line per
//! name and protocol:
//!
//! ```text
//! http            80/tcp          www             # WorldWideWeb HTTP
//! ```
//!
//! The C library's `getservbyname` and `getservbyport` (Python's `socket.getservbyname`) read
//! that file. This module reads it too, with a parser that is a pure function over the text, so
//! its tests need no file. When the file is missing or unreadable, [`Services::load`] falls back
//! to a small built-in table of the ports the chapter teaches, and says so in its [`Source`]: a
//! program that silently used other data than the reader expects would teach the wrong lesson.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where the system's services database lives on every Unix.
pub const SYSTEM_FILE: &str = "/etc/services";

// ANCHOR: entry
/// The two transport protocols this lesson is about. (`/etc/services` also has a few lines for
/// `sctp` and `ddp`; the parser skips them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
}

/// One line of the services database: `name port/protocol [aliases...] [# comment]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub port: u16,
    pub protocol: Protocol,
    pub aliases: Vec<String>,
    /// The text after `#`, trimmed; empty if there was none.
    pub comment: String,
}
// ANCHOR_END: entry

impl Protocol {
    /// The protocol's name as `/etc/services` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Entry {
    /// The entry as a line of `/etc/services` would show it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.name, self.port, self.protocol)?;
        for alias in &self.aliases {
            write!(f, " {alias}")?;
        }
        if !self.comment.is_empty() {
            write!(f, " # {}", self.comment)?;
        }
        Ok(())
    }
}

// ANCHOR: parse_line
/// Parses one line of the services database. Blank lines, comment lines and lines for other
/// protocols than TCP and UDP give `Ok(None)`; a line that is not `name port/protocol ...`
/// gives an error saying what is wrong with it.
pub fn parse_line(line: &str) -> Result<Option<Entry>, String> {
    let (fields, comment) = match line.split_once('#') {
        Some((fields, comment)) => (fields, comment.trim()),
        None => (line, ""),
    };
    let mut words = fields.split_whitespace();
    let Some(name) = words.next() else {
        return Ok(None); // blank, or only a comment
    };
    let Some(port_proto) = words.next() else {
        return Err(format!("{name:?} has no port/protocol after it"));
    };
    let Some((port, protocol)) = port_proto.split_once('/') else {
        return Err(format!("{port_proto:?} is not port/protocol"));
    };
    let port: u16 = match port.parse() {
        Ok(port) => port,
        Err(_) => return Err(format!("{port:?} is not a port number from 0 to 65535")),
    };
    let protocol = match protocol.to_ascii_lowercase().as_str() {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "" => return Err(format!("{port_proto:?} names no protocol")),
        _ => return Ok(None), // sctp, ddp: not this lesson's
    };
    Ok(Some(Entry {
        name: name.to_string(),
        port,
        protocol,
        aliases: words.map(str::to_string).collect(),
        comment: comment.to_string(),
    }))
}
// ANCHOR_END: parse_line

// ANCHOR: source
/// Where a [`Services`] table came from, so that a program can say which one it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A services file, such as `/etc/services`.
    System(PathBuf),
    /// The built-in table instead of the file at `path`: `reason` says why it could not be
    /// read, or is empty if the built-in table was asked for.
    BuiltIn { path: PathBuf, reason: String },
}
// ANCHOR_END: source

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::System(path) => write!(f, "{}", path.display()),
            Source::BuiltIn { path, reason } if reason.is_empty() => write!(
                f,
                "the built-in table of well-known ports, not {}",
                path.display()
            ),
            Source::BuiltIn { path, reason } => write!(
                f,
                "the built-in table of well-known ports ({}: {reason})",
                path.display()
            ),
        }
    }
}

/// The services database: every TCP and UDP entry of a file, looked up by port or by name.
#[derive(Debug, Clone)]
pub struct Services {
    entries: Vec<Entry>,
    by_port: HashMap<(u16, Protocol), usize>,
    by_name: HashMap<String, Vec<usize>>,
    skipped: Vec<(usize, String)>,
    source: Source,
}

// ANCHOR: built_in
/// The ports the chapter teaches, in the format of `/etc/services`, with the names Debian's
/// `netbase` gives them. Used only when the system's file cannot be read.
pub const BUILT_IN: &str = "\
ftp-data     20/tcp                  # FTP data (RFC 959)
ftp          21/tcp                  # FTP control (RFC 959)
ssh          22/tcp                  # SSH (RFC 4253)
telnet       23/tcp                  # Telnet (RFC 854): plaintext, use ssh
smtp         25/tcp    mail          # mail between servers (RFC 5321)
domain       53/tcp                  # DNS over TCP (RFC 1035, RFC 7766)
domain       53/udp                  # DNS (RFC 1035)
http         80/tcp    www           # HTTP/1.1 and HTTP/2 (RFC 9110)
ntp          123/udp                 # NTP (RFC 5905)
https        443/tcp                 # HTTP over TLS (RFC 9110)
https        443/udp                 # HTTP/3 over QUIC (RFC 9114)
submission   587/tcp                 # mail from clients (RFC 6409)
imaps        993/tcp                 # IMAP over TLS (RFC 8314)
mysql        3306/tcp
postgresql   5432/tcp  postgres
redis        6379/tcp
http-alt     8080/tcp  webcache
";
// ANCHOR_END: built_in

impl Services {
    // ANCHOR: parse
    /// Parses a whole services file. A line that does not parse is skipped, as the C library
    /// skips it, and remembered in [`Services::skipped`]; the first entry for a port and
    /// protocol wins, as in `getservbyport`.
    pub fn parse(text: &str, source: Source) -> Services {
        let mut services = Services {
            entries: Vec::new(),
            by_port: HashMap::new(),
            by_name: HashMap::new(),
            skipped: Vec::new(),
            source,
        };
        for (i, line) in text.lines().enumerate() {
            match parse_line(line) {
                Ok(Some(entry)) => services.add(entry),
                Ok(None) => {}
                Err(reason) => services.skipped.push((i + 1, reason)),
            }
        }
        services
    }
    // ANCHOR_END: parse

    fn add(&mut self, entry: Entry) {
        let index = self.entries.len();
        self.by_port
            .entry((entry.port, entry.protocol))
            .or_insert(index);
        for name in std::iter::once(&entry.name).chain(&entry.aliases) {
            let indexes = self.by_name.entry(name.to_ascii_lowercase()).or_default();
            if !indexes.contains(&index) {
                indexes.push(index);
            }
        }
        self.entries.push(entry);
    }

    // ANCHOR: load
    /// The system's database, `/etc/services`, or the built-in table if it cannot be read.
    pub fn load() -> Services {
        Services::load_or_built_in(Path::new(SYSTEM_FILE))
    }

    /// The services file at `path`, or the built-in table if it cannot be read; the
    /// [`Source`] says which.
    pub fn load_or_built_in(path: &Path) -> Services {
        match Services::read(path) {
            Ok(services) => services,
            Err(e) => Services::built_in(path, e.to_string()),
        }
    }

    /// The services file at `path`; an error if it cannot be read.
    pub fn read(path: &Path) -> io::Result<Services> {
        let bytes = std::fs::read(path)?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(Services::parse(&text, Source::System(path.to_path_buf())))
    }
    // ANCHOR_END: load

    /// The built-in table, standing in for the file at `path` that could not be read.
    pub fn built_in(path: &Path, reason: String) -> Services {
        let source = Source::BuiltIn {
            path: path.to_path_buf(),
            reason,
        };
        Services::parse(BUILT_IN, source)
    }

    /// The built-in table, asked for instead of the system's file.
    pub fn built_in_table() -> Services {
        Services::built_in(Path::new(SYSTEM_FILE), String::new())
    }

    // ANCHOR: lookup
    /// The service registered for `port` over `protocol`, as `getservbyport` finds it.
    pub fn by_port(&self, port: u16, protocol: Protocol) -> Option<&Entry> {
        self.by_port
            .get(&(port, protocol))
            .map(|&index| &self.entries[index])
    }

    /// Every entry whose name or alias is `name` (in any case), over `protocol` if given: the
    /// same name often has a TCP and a UDP entry.
    pub fn by_name(&self, name: &str, protocol: Option<Protocol>) -> Vec<&Entry> {
        let indexes = self.by_name.get(&name.to_ascii_lowercase());
        indexes
            .into_iter()
            .flatten()
            .map(|&index| &self.entries[index])
            .filter(|entry| protocol.is_none_or(|p| entry.protocol == p))
            .collect()
    }
    // ANCHOR_END: lookup

    /// The name for `port` over `protocol`, if it has one.
    pub fn name(&self, port: u16, protocol: Protocol) -> Option<&str> {
        self.by_port(port, protocol)
            .map(|entry| entry.name.as_str())
    }

    /// Every entry, in the file's order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Where the table came from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The lines that did not parse: line number (1-based) and why.
    pub fn skipped(&self) -> &[(usize, String)] {
        &self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(text: &str) -> Services {
        Services::parse(text, Source::System(PathBuf::from("test")))
    }

    /// Real lines of Debian's netbase 6.4 `/etc/services`, tabs and all.
    const DEBIAN: &str = "\
# Network services, Internet style
#
# Updated from https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xhtml .

tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
ftp-data\t20/tcp
ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol
smtp\t\t25/tcp\t\tmail
domain\t\t53/tcp\t\t\t\t# Domain Name Server
domain\t\t53/udp
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
https\t\t443/tcp\t\t\t\t# http protocol over TLS/SSL
https\t\t443/udp\t\t\t\t# HTTP/3
submissions\t465/tcp\t\tssmtp smtps urd # Submission over TLS [RFC8314]
amqp\t\t5672/sctp
postgresql\t5432/tcp\tpostgres\t# PostgreSQL Database
rtmp\t\t1/ddp\t\t\t# Routing Table Maintenance Protocol
";

    #[test]
    fn a_line_has_a_name_a_port_a_protocol_aliases_and_a_comment() {
        let entry = parse_line("submissions\t465/tcp\t\tssmtp smtps urd # Submission over TLS")
            .unwrap()
            .unwrap();
        assert_eq!(
            entry,
            Entry {
                name: "submissions".into(),
                port: 465,
                protocol: Protocol::Tcp,
                aliases: vec!["ssmtp".into(), "smtps".into(), "urd".into()],
                comment: "Submission over TLS".into(),
            }
        );
        assert_eq!(
            entry.to_string(),
            "submissions 465/tcp ssmtp smtps urd # Submission over TLS"
        );
    }

    #[test]
    fn blank_lines_comments_and_other_protocols_are_no_entry() {
        for line in [
            "",
            "   \t",
            "# a comment",
            "  # indented",
            "at-rtmp 1/ddp",
            "x 9/sctp",
        ] {
            assert_eq!(parse_line(line), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn a_comment_may_follow_without_a_space() {
        let entry = parse_line("echo 7/udp#comment").unwrap().unwrap();
        assert_eq!((entry.port, entry.comment.as_str()), (7, "comment"));
        assert!(entry.aliases.is_empty());
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let cases = [
            (
                "ddp\t\t# Datagram Delivery Protocol",
                "has no port/protocol",
            ),
            ("http 80", "is not port/protocol"),
            ("http 80/", "names no protocol"),
            ("http 65536/tcp", "not a port number"),
            ("http -1/tcp", "not a port number"),
            ("http x/tcp", "not a port number"),
        ];
        for (line, why) in cases {
            let err = parse_line(line).unwrap_err();
            assert!(err.contains(why), "{line:?}: {err}");
        }
    }

    #[test]
    fn the_protocol_is_matched_in_any_case() {
        let entry = parse_line("http 80/TCP").unwrap().unwrap();
        assert_eq!(entry.protocol, Protocol::Tcp);
    }

    #[test]
    fn a_port_finds_its_name_for_each_protocol() {
        let s = services(DEBIAN);
        assert_eq!(s.name(443, Protocol::Tcp), Some("https"));
        assert_eq!(s.name(443, Protocol::Udp), Some("https"));
        assert_eq!(s.by_port(443, Protocol::Udp).unwrap().comment, "HTTP/3");
        assert_eq!(s.name(22, Protocol::Tcp), Some("ssh"));
        assert_eq!(s.name(22, Protocol::Udp), None);
        assert_eq!(s.name(80, Protocol::Tcp), Some("http"));
        assert_eq!(s.name(9, Protocol::Tcp), None);
    }

    #[test]
    fn a_name_or_an_alias_finds_its_ports() {
        let s = services(DEBIAN);
        let ports = |name, protocol| -> Vec<(u16, Protocol)> {
            let found = s.by_name(name, protocol);
            found.iter().map(|e| (e.port, e.protocol)).collect()
        };
        let domain = vec![(53, Protocol::Tcp), (53, Protocol::Udp)];
        assert_eq!(ports("domain", None), domain);
        assert_eq!(ports("domain", Some(Protocol::Udp)), [(53, Protocol::Udp)]);
        assert_eq!(ports("www", None), [(80, Protocol::Tcp)]);
        assert_eq!(
            ports("HTTPS", None),
            [(443, Protocol::Tcp), (443, Protocol::Udp)]
        );
        assert_eq!(ports("postgres", None), [(5432, Protocol::Tcp)]);
        assert_eq!(ports("mail", Some(Protocol::Udp)), []);
        assert_eq!(ports("nosuch", None), []);
    }

    #[test]
    fn malformed_lines_are_skipped_and_remembered() {
        let text = format!("{DEBIAN}broken\nhttp 80/tcp\nalso 80\nssh 22/udp\n");
        let s = services(&text);
        let lines: Vec<usize> = s.skipped().iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [18, 20]);
        assert_eq!(s.entries().len(), 13);
        assert!(services(DEBIAN).skipped().is_empty());
    }

    #[test]
    fn the_first_entry_for_a_port_wins() {
        let s = services("first 7/tcp\nsecond 7/tcp\n");
        assert_eq!(s.name(7, Protocol::Tcp), Some("first"));
        assert_eq!(s.by_name("second", None).len(), 1);
    }

    #[test]
    fn the_built_in_table_parses_cleanly_and_has_the_chapters_ports() {
        let s = Services::built_in(Path::new("/nowhere"), "missing".into());
        assert!(s.skipped().is_empty(), "{:?}", s.skipped());
        let expected = [
            (20, Protocol::Tcp, "ftp-data"),
            (21, Protocol::Tcp, "ftp"),
            (22, Protocol::Tcp, "ssh"),
            (23, Protocol::Tcp, "telnet"),
            (25, Protocol::Tcp, "smtp"),
            (53, Protocol::Tcp, "domain"),
            (53, Protocol::Udp, "domain"),
            (80, Protocol::Tcp, "http"),
            (123, Protocol::Udp, "ntp"),
            (443, Protocol::Tcp, "https"),
            (443, Protocol::Udp, "https"),
            (587, Protocol::Tcp, "submission"),
            (993, Protocol::Tcp, "imaps"),
            (3306, Protocol::Tcp, "mysql"),
            (5432, Protocol::Tcp, "postgresql"),
            (6379, Protocol::Tcp, "redis"),
            (8080, Protocol::Tcp, "http-alt"),
        ];
        for (port, protocol, name) in expected {
            assert_eq!(s.name(port, protocol), Some(name), "{port}/{protocol}");
        }
        assert_eq!(s.entries().len(), expected.len());
    }

    #[test]
    fn a_missing_file_falls_back_to_the_built_in_table_and_says_so() {
        let path = Path::new("/nonexistent/services");
        let s = Services::load_or_built_in(path);
        let Source::BuiltIn { path: p, reason } = s.source() else {
            panic!("expected the built-in table, got {:?}", s.source());
        };
        assert_eq!(p, path);
        assert!(reason.contains("No such file"), "{reason}");
        assert!(s.source().to_string().starts_with("the built-in table"));
        assert_eq!(s.name(443, Protocol::Udp), Some("https"));
    }

    /// Every line of the real file, wherever it exists, parses or is one we know to skip.
    #[test]
    fn the_systems_file_parses_if_there_is_one() {
        let Ok(s) = Services::read(Path::new(SYSTEM_FILE)) else {
            eprintln!("SKIPPED: no {SYSTEM_FILE} here (Debian: apt-get install netbase)");
            return;
        };
        assert_eq!(s.source(), &Source::System(PathBuf::from(SYSTEM_FILE)));
        assert!(s.entries().len() > 100, "{} entries", s.entries().len());
        let (entries, skipped) = (s.entries().len(), s.skipped().len());
        eprintln!("{SYSTEM_FILE}: {entries} TCP and UDP entries, {skipped} lines skipped");
        for (line, why) in s.skipped() {
            assert!(why.contains("has no port/protocol"), "line {line}: {why}");
        }
    }
}
