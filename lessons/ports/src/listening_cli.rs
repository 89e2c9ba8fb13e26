//! The `listening` and `service` subcommands of `cargo run -p ports -- ...`, in their own file
//! beside `main.rs`: who is listening on this machine, and what a port number is called.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use ports::listening::{self, Listener, ListeningError};
use ports::services::{Entry, Protocol, Services, Source};

#[derive(Subcommand)]
pub enum Command {
    /// List this machine's listening TCP sockets and bound UDP sockets, like `ss -lntup`.
    #[command(after_help = "Example: cargo run -p ports -- listening --tcp")]
    Listening {
        /// Only TCP sockets (with --udp too: both).
        #[arg(long)]
        tcp: bool,
        /// Only UDP sockets (with --tcp too: both).
        #[arg(long)]
        udp: bool,
        #[command(flatten)]
        services: ServicesArgs,
    },
    /// Look up the service name of a port, or the ports of a service name.
    #[command(after_help = "Example: cargo run -p ports -- service 443
Also: cargo run -p ports -- service https
      cargo run -p ports -- service 53 --proto udp")]
    Service {
        /// A port number (1 to 65535) or a service name, such as https or domain.
        #[arg(value_name = "NAME_OR_PORT", value_parser = query)]
        query: Query,
        /// Only this protocol's entries.
        #[arg(long, value_enum)]
        proto: Option<ProtoArg>,
        #[command(flatten)]
        services: ServicesArgs,
    },
}

/// Which services database to read.
#[derive(Args)]
pub struct ServicesArgs {
    /// Read this services file instead of /etc/services.
    #[arg(long, value_name = "FILE", conflicts_with = "built_in")]
    services: Option<PathBuf>,
    /// Use the built-in table of well-known ports instead of /etc/services.
    #[arg(long)]
    built_in: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProtoArg {
    Tcp,
    Udp,
}

impl From<ProtoArg> for Protocol {
    fn from(arg: ProtoArg) -> Protocol {
        match arg {
            ProtoArg::Tcp => Protocol::Tcp,
            ProtoArg::Udp => Protocol::Udp,
        }
    }
}

/// What `service` looks up: a port's name, or a name's ports.
#[derive(Clone, Debug)]
pub enum Query {
    Port(u16),
    Name(String),
}

// ANCHOR: query
/// A port from 1 to 65535 if the text is digits; otherwise a service name, which
/// `/etc/services` spells with letters, digits and `-` (some systems also use `_`, `.`, `+`).
fn query(text: &str) -> Result<Query, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u16>() {
            Ok(0) | Err(_) => Err("a service port is 1 to 65535".into()),
            Ok(port) => Ok(Query::Port(port)),
        };
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || "-_.+".contains(c);
    let has_letter = text.chars().any(|c| c.is_ascii_alphabetic());
    if text.len() <= 64 && has_letter && text.chars().all(name_char) {
        return Ok(Query::Name(text.to_string()));
    }
    Err("not a port or a service name".into())
}
// ANCHOR_END: query

pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Listening { tcp, udp, services } => {
            let protocols = match (tcp, udp) {
                (true, false) => vec![Protocol::Tcp],
                (false, true) => vec![Protocol::Udp],
                _ => vec![Protocol::Tcp, Protocol::Udp],
            };
            let services = services.load()?;
            let listeners = listening::listening(&protocols)?;
            print_listeners(listeners, &services, &mut io::stdout().lock())?;
            Ok(())
        }
        Command::Service {
            query,
            proto,
            services,
        } => {
            let services = services.load()?;
            let proto = proto.map(Protocol::from);
            let found = look_up(&services, &query, proto)?;
            let mut out = io::stdout().lock();
            for entry in found {
                writeln!(out, "{}", show_entry(entry))?;
            }
            writeln!(out, "{}", from(services.source()))?;
            Ok(())
        }
    }
}

impl ServicesArgs {
    /// The database these options name: a file given with --services must be readable; the
    /// system's may be missing, and then the built-in table stands in and says so.
    fn load(&self) -> Result<Services> {
        if self.built_in {
            return Ok(Services::built_in_table());
        }
        match &self.services {
            None => Ok(Services::load()),
            Some(path) => Services::read(path).map_err(|e| {
                BadServicesFile(format!(
                    "could not read the services file {}: {e}",
                    path.display()
                ))
                .into()
            }),
        }
    }
}

// ANCHOR: look_up
/// The entries `query` finds: a port's, over one protocol or both; or a name's.
fn look_up<'a>(
    services: &'a Services,
    query: &Query,
    proto: Option<Protocol>,
) -> Result<Vec<&'a Entry>, NotFound> {
    let found: Vec<&Entry> = match query {
        Query::Port(port) => [Protocol::Tcp, Protocol::Udp]
            .into_iter()
            .filter(|&p| proto.is_none_or(|wanted| wanted == p))
            .filter_map(|p| services.by_port(*port, p))
            .collect(),
        Query::Name(name) => services.by_name(name, proto),
    };
    if found.is_empty() {
        let proto = proto.map_or("tcp or udp".to_string(), |p| p.to_string());
        let what = match query {
            Query::Port(port) => format!("no service name for port {port} over {proto}"),
            Query::Name(name) => format!("no service named {name:?} over {proto}"),
        };
        return Err(NotFound {
            what,
            source: services.source().clone(),
            by_port: matches!(query, Query::Port(_)),
        });
    }
    Ok(found)
}
// ANCHOR_END: look_up

/// An entry as a line: name, port/protocol, aliases, and the comment.
fn show_entry(entry: &Entry) -> String {
    let port = format!("{}/{}", entry.port, entry.protocol);
    let mut line = format!("{:<12} {port:<9}", entry.name);
    if !entry.aliases.is_empty() {
        line.push(' ');
        line.push_str(&entry.aliases.join(" "));
    }
    if !entry.comment.is_empty() {
        line.push_str(" # ");
        line.push_str(&entry.comment);
    }
    line.trim_end().to_string()
}

/// The line that says which services database was used.
fn from(source: &Source) -> String {
    match source {
        Source::System(path) => format!("(from {})", path.display()),
        Source::BuiltIn { path, reason } if reason.is_empty() => format!(
            "(from the built-in table of well-known ports, not {})",
            path.display()
        ),
        Source::BuiltIn { path, reason } => format!(
            "(from the built-in table of well-known ports:\n {}: {reason})",
            path.display()
        ),
    }
}

// ANCHOR: print_listeners
/// Prints one line per socket, sorted by port: protocol, local address, service name, and the
/// owning process as `PID/NAME`, or `-` when no process we may read holds it.
fn print_listeners(
    mut listeners: Vec<Listener>,
    services: &Services,
    out: &mut impl Write,
) -> io::Result<()> {
    listeners.sort_by_key(|l| {
        let s = &l.socket;
        (s.local.port(), s.protocol, s.local.ip())
    });
    let rows: Vec<[String; 4]> = listeners.iter().map(|l| row(l, services)).collect();
    let header = ["proto", "local address", "service", "process"].map(String::from);
    let width = |column: usize, cap: usize| {
        let widest = rows.iter().map(|r| r[column].chars().count()).max();
        widest.unwrap_or(0).clamp(header[column].len(), cap)
    };
    let (address, service) = (width(1, 40), width(2, 15));
    for [proto, local, name, process] in std::iter::once(header.clone()).chain(rows) {
        let line = format!("{proto:<5} {local:<address$} {name:<service$} {process}");
        if line.chars().count() <= 80 {
            writeln!(out, "{line}")?;
        } else {
            // A long IPv6 address: the process goes on a line of its own.
            writeln!(out, "{}", line[..line.len() - process.len()].trim_end())?;
            writeln!(out, "{:6}{process}", "")?;
        }
    }
    writeln!(out, "{}", from(services.source()))?;
    if listeners.iter().any(|l| l.owners.is_empty()) {
        writeln!(
            out,
            "(process -: none this user may read; another user's needs root, and the\n \
             kernel's or another container's sockets have none here)"
        )?;
    }
    Ok(())
}
// ANCHOR_END: print_listeners

fn row(listener: &Listener, services: &Services) -> [String; 4] {
    let socket = &listener.socket;
    let name = services.name(socket.local.port(), socket.protocol);
    let name: String = name.unwrap_or("-").chars().take(15).collect();
    let process = match listener.owners.as_slice() {
        [] => "-".to_string(),
        [first, rest @ ..] => {
            // A process may name itself anything, control characters included.
            let shown: String = first
                .name
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect();
            let more = if rest.is_empty() {
                String::new()
            } else {
                format!(" +{}", rest.len())
            };
            format!("{}/{shown}{more}", first.pid)
        }
    };
    [
        socket.protocol.to_string(),
        socket.local.to_string(),
        name,
        process,
    ]
}

/// A name or port that the services database does not have.
#[derive(Debug)]
struct NotFound {
    what: String,
    source: Source,
    by_port: bool,
}

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::System(path) => write!(f, "{} in {}", self.what, path.display()),
            Source::BuiltIn { .. } => write!(f, "{} in the built-in table", self.what),
        }
    }
}

impl std::error::Error for NotFound {}

/// A services file given with --services that could not be read.
#[derive(Debug)]
struct BadServicesFile(String);

impl fmt::Display for BadServicesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadServicesFile {}

/// The hint for an error of these subcommands, if it has one.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    err.chain().find_map(|cause| {
        if let Some(not_found) = cause.downcast_ref::<NotFound>() {
            return Some(if not_found.by_port {
                "most ports have no registered name; a name is a convention that IANA\n\
                 keeps, and any program may use any port"
            } else {
                "a name is spelled as in /etc/services, such as https, domain or ssh;\n\
                 look a port up instead: cargo run -p ports -- service 443"
            });
        }
        if cause.is::<BadServicesFile>() {
            return Some(
                "a services file has lines of NAME PORT/PROTOCOL [ALIASES], like\n\
                 /etc/services; leave out --services to use the system's",
            );
        }
        Some(match cause.downcast_ref::<ListeningError>()? {
            ListeningError::NotLinux => {
                "on macOS try: lsof -nP -iTCP -sTCP:LISTEN; on Windows: netstat -ano"
            }
            ListeningError::Read { .. } => {
                "is /proc mounted? ss -lntup reads the same tables (as root it sees\n\
                 every process)"
            }
            ListeningError::Parse { .. } => {
                "this kernel writes its socket tables in a form this program does not\n\
                 know; compare with: ss -lntup"
            }
        })
    })
}
