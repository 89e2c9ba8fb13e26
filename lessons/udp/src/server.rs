//! The echo server: every datagram it receives goes back, unchanged, to the address it came
//! from.
//!
//! There are no connections, so there is nothing per client to bound: one thread and one
//! buffer serve everybody, one datagram at a time. What a client sends cannot hurt the
//! server: an empty datagram, garbage, or the largest datagram there is are all just bytes
//! to send back. Errors are logged in one line each and the loop goes on.
//!
//! An echo server on a public address is a tool for attackers: UDP does not check the source
//! address, so a forged request makes the server send its reply to a victim (RFC 4732
//! §3.3, reflection). This one binds loopback unless told otherwise.

use std::io::{self, ErrorKind};
use std::net::UdpSocket;
use std::time::Duration;

use crate::shutdown::Shutdown;

/// How many datagrams the server answered, for a test or a log.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    pub echoed: u64,
    pub errors: u64,
}

// ANCHOR: run
/// Echoes every datagram until `shutdown` is triggered.
pub fn run(socket: UdpSocket, shutdown: Shutdown) -> io::Result<Served> {
    shutdown.wake_by_sending_to(socket.local_addr()?);
    // Large enough for any datagram: nothing a client sends is cut.
    let mut buf = vec![0u8; crate::MAX_DATAGRAM];
    let mut served = Served::default();
    while !shutdown.is_triggered() {
        let received = socket.recv_from(&mut buf);
        if shutdown.is_triggered() {
            return Ok(served);
        }
        let (n, from) = match received {
            Ok(got) => got,
            Err(e) => {
                served.errors += 1;
                log_receive_error(&e);
                continue;
            }
        };
        if let Err(e) = socket.send_to(&buf[..n], from) {
            served.errors += 1;
            eprintln!("could not answer {from}: {e}");
            continue;
        }
        served.echoed += 1;
    }
    Ok(served)
}
// ANCHOR_END: run

/// One line for a failed receive. Windows reports an ICMP "port unreachable" for an earlier
/// reply as a reset on the next receive, even on an unconnected socket: that is a client
/// that left, not a reason to stop. An unexpected error gets a short pause, so that one that
/// repeats cannot spin the loop.
fn log_receive_error(e: &io::Error) {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused => {
            eprintln!("a client is gone (an earlier reply was refused): {e}")
        }
        ErrorKind::Interrupted => {}
        _ => {
            eprintln!("could not receive: {e}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_stops_a_server_that_waits() {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        let server = std::thread::spawn(move || run(socket, stop));
        // Whether the server is already waiting or not yet started, one trigger stops it.
        shutdown.trigger();
        let served = server.join().expect("no panic").expect("no error");
        assert_eq!(served.echoed, 0);
    }
}
