//! Who is listening on this machine, read from the OS, as `ss -lntup` does it.
//!
//! On Linux the kernel publishes its socket tables as text: `/proc/net/tcp` and `/proc/net/udp`
//! for IPv4, `/proc/net/tcp6` and `/proc/net/udp6` for IPv6 (proc(5)). Each line is one socket:
//!
//! ```text
//!    1: 0100007F:8983 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 113943 ...
//!       local addr:port  remote      state                                     uid    inode
//! ```
//!
//! The address is hexadecimal, but not in the order we write it: the kernel prints each 32-bit
//! word of the address as a number *in this machine's byte order*, so `127.0.0.1` reads
//! `0100007F` on a little-endian x86 or ARM machine. The port is a plain hexadecimal number
//! (`8983` is 35203). A TCP socket in state `0A` is listening; a UDP socket has no listening
//! state, and a bound one that is not connected shows `07`, which is what `ss -lu` lists.
//!
//! The tables say which socket, not which program: that link is the inode. Every open file of
//! a process is a link in `/proc/PID/fd/`, and a socket's link reads `socket:[INODE]`, so
//! reading every process's links finds the owner, and `/proc/PID/comm` its name. Other users'
//! processes cannot be read without root; those are skipped, and their sockets have no owner.
//!
//! Parsing is pure functions over the text, tested with real lines; only [`listening`] reads
//! the OS. On another OS than Linux it returns [`ListeningError::NotLinux`].

#[cfg(target_os = "linux")]
use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

pub use crate::services::Protocol;

// ANCHOR: socket
/// One listening TCP socket or bound UDP socket, as the kernel's table shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub protocol: Protocol,
    pub local: SocketAddr,
    /// The socket's inode number: what `/proc/PID/fd/N` links to as `socket:[INODE]`.
    pub inode: u64,
}

/// A process that holds a socket open.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Owner {
    pub pid: u32,
    /// The process's name from `/proc/PID/comm` (at most 15 bytes, the kernel cuts it).
    pub name: String,
}

/// A socket and every process that holds it (several, after a fork; none that we may read,
/// if it belongs to another user or to the kernel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub socket: Socket,
    pub owners: Vec<Owner>,
}
// ANCHOR_END: socket

/// The kernel's state number for a listening TCP socket (`TCP_LISTEN`).
pub const TCP_LISTEN: u8 = 0x0A;
/// The kernel's state number for an unconnected UDP socket (`TCP_CLOSE`, reused by UDP).
pub const UDP_UNCONNECTED: u8 = 0x07;

// ANCHOR: parse_address
/// Decodes one address of a `/proc/net` table, `ADDR:PORT` in hexadecimal: 8 digits for an
/// IPv4 address, 32 for IPv6. Each group of 8 digits is a 32-bit word the kernel printed as a
/// number in this machine's byte order, so its bytes in memory (`to_ne_bytes`) are the
/// address's bytes in network order.
pub fn parse_address(text: &str) -> Result<SocketAddr, String> {
    let (addr, port) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not ADDRESS:PORT"))?;
    let port =
        u16::from_str_radix(port, 16).map_err(|_| format!("{port:?} is not a hexadecimal port"))?;
    let mut bytes = Vec::with_capacity(16);
    for chunk in addr.as_bytes().chunks(8) {
        let word = std::str::from_utf8(chunk)
            .ok()
            .filter(|word| word.len() == 8)
            .and_then(|word| u32::from_str_radix(word, 16).ok())
            .ok_or_else(|| format!("{addr:?} is not a hexadecimal address"))?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match <[u8; 4]>::try_from(bytes.as_slice()) {
        Ok(v4) => Ipv4Addr::from(v4).into(),
        Err(_) => match <[u8; 16]>::try_from(bytes.as_slice()) {
            Ok(v6) => Ipv6Addr::from(v6).into(),
            Err(_) => return Err(format!("{addr:?} has neither 8 nor 32 digits")),
        },
    };
    Ok(SocketAddr::new(ip, port))
}
// ANCHOR_END: parse_address

// ANCHOR: parse_line
/// Parses one line of `/proc/net/tcp`, `tcp6`, `udp` or `udp6`. Gives `Ok(None)` for the header
/// and for sockets that are not listening (TCP) or are connected (UDP).
pub fn parse_line(line: &str, protocol: Protocol) -> Result<Option<Socket>, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.first() == Some(&"sl") {
        return Ok(None); // the header
    }
    // sl, local_address, rem_address, st, tx:rx, tr:when, retrnsmt, uid, timeout, inode, ...
    let [_, local, _, state, _, _, _, _, _, inode, ..] = fields[..] else {
        return Err(format!("{} fields, not at least 10", fields.len()));
    };
    let state = u8::from_str_radix(state, 16).map_err(|_| format!("{state:?} is not a state"))?;
    let wanted = match protocol {
        Protocol::Tcp => TCP_LISTEN,
        Protocol::Udp => UDP_UNCONNECTED,
    };
    if state != wanted {
        return Ok(None);
    }
    Ok(Some(Socket {
        protocol,
        local: parse_address(local)?,
        inode: inode
            .parse()
            .map_err(|_| format!("{inode:?} is not an inode"))?,
    }))
}
// ANCHOR_END: parse_line

/// Every listening (TCP) or bound, unconnected (UDP) socket of one table, in its order.
/// An error names the line (1-based) that did not parse.
pub fn parse_table(text: &str, protocol: Protocol) -> Result<Vec<Socket>, String> {
    let mut sockets = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line, protocol) {
            Ok(Some(socket)) => sockets.push(socket),
            Ok(None) => {}
            Err(why) => return Err(format!("line {}: {why}", i + 1)),
        }
    }
    Ok(sockets)
}

// ANCHOR: socket_link
/// The inode of a socket from the target of a `/proc/PID/fd/N` link, `socket:[12345]`; `None`
/// for any other kind of file (`/dev/null`, `pipe:[...]`, `anon_inode:[eventfd]`, ...).
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}
// ANCHOR_END: socket_link

/// Why the socket tables could not be read.
#[derive(Debug)]
pub enum ListeningError {
    /// This is not Linux: there is no `/proc/net` to read.
    NotLinux,
    /// A table could not be read.
    Read { path: PathBuf, source: io::Error },
    /// A table did not parse: this program does not understand this kernel.
    Parse { path: PathBuf, why: String },
}

impl fmt::Display for ListeningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListeningError::NotLinux => f.write_str("this lesson reads /proc: Linux only"),
            ListeningError::Read { path, .. } => write!(f, "could not read {}", path.display()),
            ListeningError::Parse { path, why } => {
                write!(f, "could not parse {}: {why}", path.display())
            }
        }
    }
}

impl std::error::Error for ListeningError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ListeningError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ANCHOR: listening
/// Every socket of `protocols` that listens (TCP) or is bound and unconnected (UDP), IPv4 and
/// IPv6, each with the processes that hold it, as far as this user may read them.
#[cfg(target_os = "linux")]
pub fn listening(protocols: &[Protocol]) -> Result<Vec<Listener>, ListeningError> {
    let mut sockets = Vec::new();
    for &protocol in protocols {
        for (file, ipv6) in [(protocol.as_str(), false), (protocol.as_str(), true)] {
            let path = PathBuf::from(format!("/proc/net/{file}{}", if ipv6 { "6" } else { "" }));
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                // A kernel without IPv6 has no tcp6 and udp6: no IPv6 sockets, not an error.
                Err(e) if ipv6 && e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(ListeningError::Read { path, source }),
            };
            let table = parse_table(&text, protocol);
            sockets.extend(table.map_err(|why| ListeningError::Parse { path, why })?);
        }
    }
    let mut owners = owners_of(sockets.iter().map(|s| s.inode).collect());
    Ok(sockets
        .into_iter()
        .map(|socket| {
            let owners = owners.remove(&socket.inode).unwrap_or_default();
            Listener { socket, owners }
        })
        .collect())
}

#[cfg(not(target_os = "linux"))]
pub fn listening(_protocols: &[Protocol]) -> Result<Vec<Listener>, ListeningError> {
    Err(ListeningError::NotLinux)
}
// ANCHOR_END: listening

// ANCHOR: owners
/// The processes holding each of `inodes`, found through the `socket:[INODE]` links in
/// `/proc/PID/fd/`. A process that vanishes meanwhile, or that we may not read (another
/// user's, without root), is skipped without a word: `ss` does the same.
#[cfg(target_os = "linux")]
fn owners_of(inodes: std::collections::HashSet<u64>) -> HashMap<u64, Vec<Owner>> {
    let mut owners: HashMap<u64, Vec<Owner>> = HashMap::new();
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return owners;
    };
    for process in processes.flatten() {
        let Some(pid) = process
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue; // not a process: /proc/net, /proc/self, ...
        };
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let mut name = None;
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = link.to_str().and_then(socket_inode) else {
                continue;
            };
            if !inodes.contains(&inode) {
                continue;
            }
            let name = name.get_or_insert_with(|| {
                let comm = std::fs::read_to_string(process.path().join("comm"));
                comm.map(|c| c.trim_end().to_string()).unwrap_or_default()
            });
            let owner = Owner {
                pid,
                name: name.clone(),
            };
            let list = owners.entry(inode).or_default();
            if !list.contains(&owner) {
                list.push(owner);
            }
        }
    }
    for list in owners.values_mut() {
        list.sort();
    }
    owners
}
// ANCHOR_END: owners

#[cfg(test)]
mod tests {
    use super::*;

    /// Real lines from this lesson's author's machine (x86-64, little-endian): sockets a Python
    /// script bound to 127.0.0.1, 0.0.0.0, ::1, :: and ::ffff:127.0.0.1, on ports the OS chose.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1676 1 00000000db8fea72 100 0 0 10 0
   1: 0100007F:8983 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 113943 1 0000000054051588 100 0 0 10 0
   2: 0100007F:A147 0100007F:C6F0 06 00000000:00000000 03:00000FEF 00000000     0        0 0 3 000000004cace9e4
   3: 00000000:DBEF 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 113947 1 00000000521fd0da 100 0 0 10 0
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:E9E5 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 113945 1 00000000ee899f2c 100 0 0 10 0
   1: 00000000000000000000000001000000:CDD3 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 113944 1 0000000007c2b949 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:D515 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 113946 1 000000000f7d7822 100 0 0 10 0
   3: 00000000000000000000000001000000:EB12 00000000000000000000000001000000:ACE7 06 00000000:00000000 03:00000CA0 00000000     0        0 0 3 000000007b422ebd
";
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 4829: 0100007F:B56B 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 113948 2 0000000033cb9634 0
";
    const UDP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 5216: 00000000000000000000000001000000:B6EE 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 113949 2 00000000d0f7ee60 0
10998: 00000000000000000000000000000000:CD84 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 113950 2 0000000093c0f8bd 0
14056: 0000000000000000FFFF00000100007F:D976 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 113951 2 00000000304b520b 0
";

    fn found(text: &str, protocol: Protocol) -> Vec<(String, u64)> {
        let sockets = parse_table(text, protocol).unwrap();
        assert!(sockets.iter().all(|s| s.protocol == protocol));
        sockets
            .into_iter()
            .map(|s| (s.local.to_string(), s.inode))
            .collect()
    }

    fn owned(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
        pairs.iter().map(|&(a, i)| (a.to_string(), i)).collect()
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn tcp_lists_only_listening_sockets() {
        let expected = [
            ("0.0.0.0:2024", 1676),
            ("127.0.0.1:35203", 113943),
            ("0.0.0.0:56303", 113947),
        ];
        assert_eq!(found(TCP, Protocol::Tcp), owned(&expected));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn tcp6_decodes_the_unspecified_loopback_and_v4_mapped_forms() {
        let expected = [
            ("[::]:59877", 113945),
            ("[::1]:52691", 113944),
            ("[::ffff:127.0.0.1]:54549", 113946),
        ];
        assert_eq!(found(TCP6, Protocol::Tcp), owned(&expected));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn udp_lists_bound_unconnected_sockets() {
        assert_eq!(
            found(UDP, Protocol::Udp),
            owned(&[("127.0.0.1:46443", 113948)])
        );
        let expected = [
            ("[::1]:46830", 113949),
            ("[::]:52612", 113950),
            ("[::ffff:127.0.0.1]:55670", 113951),
        ];
        assert_eq!(found(UDP6, Protocol::Udp), owned(&expected));
    }

    /// Whatever this machine's byte order: a word printed as the kernel prints it decodes back.
    #[test]
    fn each_word_is_in_this_machines_byte_order() {
        let word = |bytes: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(bytes));
        let v4 = format!("{}:1F90", word([127, 0, 0, 1]));
        assert_eq!(parse_address(&v4).unwrap().to_string(), "127.0.0.1:8080");
        let v6 = format!(
            "{}{}{}{}:0050",
            word([0x20, 0x01, 0x0d, 0xb8]),
            word([0, 0, 0, 0]),
            word([0, 0, 0, 0]),
            word([0, 0, 0, 1])
        );
        assert_eq!(parse_address(&v6).unwrap().to_string(), "[2001:db8::1]:80");
    }

    #[test]
    fn a_tcp_table_state_is_not_a_udp_state() {
        // A listening TCP line read as UDP is not an unconnected UDP socket, and vice versa.
        assert_eq!(parse_table(TCP, Protocol::Udp).unwrap(), []);
        assert_eq!(parse_table(UDP, Protocol::Tcp).unwrap(), []);
    }

    #[test]
    fn bad_lines_are_errors_that_say_where() {
        let cases = [
            ("   0: 0100007F:1F90 00000000:0000 0A", "line 1: 4 fields"),
            (
                "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "is not ADDRESS:PORT",
            ),
            (
                "   0: 0100007F:XYZW 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "not a hexadecimal port",
            ),
            (
                "   0: 0100007:1F90 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "not a hexadecimal address",
            ),
            (
                "   0: 0100007F0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "neither 8 nor 32 digits",
            ),
            (
                "   0: 0100007G:1F90 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "not a hexadecimal address",
            ),
            (
                "   0: 0100007F:1F90 00000000:0000 ZZ 0:0 0:0 0 0 0 7",
                "is not a state",
            ),
            (
                "   0: 0100007F:1F90 00000000:0000 0A 0:0 0:0 0 0 0 -7",
                "is not an inode",
            ),
            (
                "   0: éééééééé:1F90 00000000:0000 0A 0:0 0:0 0 0 0 7",
                "not a hexadecimal address",
            ),
        ];
        for (line, why) in cases {
            let err = parse_table(line, Protocol::Tcp).unwrap_err();
            assert!(err.contains(why), "{line:?}: {err}");
        }
    }

    #[test]
    fn a_socket_link_names_its_inode() {
        assert_eq!(socket_inode("socket:[113943]"), Some(113943));
        for other in [
            "/dev/null",
            "pipe:[4242]",
            "anon_inode:[eventfd]",
            "socket:[x]",
            "socket:[1",
        ] {
            assert_eq!(socket_inode(other), None, "{other}");
        }
    }

    /// This process's own listener, found with this process as its owner.
    #[cfg(target_os = "linux")]
    #[test]
    fn our_own_listener_is_found_with_our_pid() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let all = listening(&[Protocol::Tcp]).unwrap();
        let ours = all.iter().find(|l| l.socket.local == addr).unwrap();
        let pids: Vec<u32> = ours.owners.iter().map(|o| o.pid).collect();
        assert_eq!(pids, [std::process::id()]);
    }
}
