//! Checks for the Sockets exercises.
//!
//! - `cargo exercise sockets` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against `solutions/` and proves the untouched starters fail them all.
//!
//! Network checks are black-box: they talk to the code over real loopback sockets, with timeouts.

use std::io::ErrorKind;
use std::net::{SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use course_testkit::exercise::{CheckResult, Exercise, Mismatch, call, mismatch};
use course_testkit::net;

// The code under test: your exercises with `--features learner`, the reference solutions otherwise.
#[cfg(feature = "learner")]
#[path = "../exercises/mod.rs"]
mod subject;
#[cfg(not(feature = "learner"))]
#[path = "../solutions/mod.rs"]
mod subject;

// The untouched starters, to prove that every check fails on them.
#[cfg(not(feature = "learner"))]
#[path = "../exercises/mod.rs"]
mod starter;

mod ex1 {
    use super::*;

    const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 1,
        title: "Read an address off the wire",
        file: "exercises/ex1_wire_address.rs",
        pristine: 0x691fdcd43a47fed2,
    };

    type Decode = fn(&[u8]) -> Option<SocketAddrV4>;

    course_testkit::checks! {
        exercise: EXERCISE,
        subject: || subject::ex1_wire_address::decode as Decode,
        starter: || starter::ex1_wire_address::decode as Decode,
        checks: [decodes_loopback_8080, decodes_the_port_big_endian, rejects_too_few_bytes, rejects_too_many_bytes],
    }

    fn expect(decode: Decode, bytes: &[u8], expected: Option<&str>) -> CheckResult {
        let expected: Option<SocketAddrV4> =
            expected.map(|s| s.parse().expect("valid test address"));
        let sent = format!("decode(&{bytes:02x?})");
        match call(|| decode(bytes)) {
            Ok(got) if got == expected => Ok(()),
            Ok(got) => mismatch(sent, format!("{expected:?}"), format!("{got:?}")),
            Err(panic) => mismatch(sent, format!("{expected:?}"), panic),
        }
    }

    fn decodes_loopback_8080(decode: Decode) -> CheckResult {
        expect(decode, &[0x7f, 0, 0, 1, 0x1f, 0x90], Some("127.0.0.1:8080"))
    }

    fn decodes_the_port_big_endian(decode: Decode) -> CheckResult {
        // Read little-endian, 00 50 would be port 20480 instead of 80.
        expect(decode, &[192, 0, 2, 1, 0x00, 0x50], Some("192.0.2.1:80"))
    }

    fn rejects_too_few_bytes(decode: Decode) -> CheckResult {
        let bytes = [0x7f, 0, 0, 1, 0x1f, 0x90];
        (0..6).try_for_each(|n| expect(decode, &bytes[..n], None))
    }

    fn rejects_too_many_bytes(decode: Decode) -> CheckResult {
        let bytes = [0x7f, 0, 0, 1, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        (7..=bytes.len()).try_for_each(|n| expect(decode, &bytes[..n], None))
    }
}

mod ex2 {
    use super::*;

    const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 2,
        title: "Connect to the first address that answers",
        file: "exercises/ex2_connect_first.rs",
        pristine: 0x68f4255e518b82d8,
    };

    type ConnectFirst = fn(&[SocketAddr], Duration) -> std::io::Result<TcpStream>;

    course_testkit::checks! {
        exercise: EXERCISE,
        subject: || subject::ex2_connect_first::connect_first as ConnectFirst,
        starter: || starter::ex2_connect_first::connect_first as ConnectFirst,
        checks: [connects_to_a_listening_address, skips_a_refused_address, tries_addresses_in_order, gives_up_on_a_silent_address, returns_the_error_when_all_fail, rejects_an_empty_list],
    }

    /// Calls `connect_first(addrs)` and checks it connected to `want`.
    fn expect_connected(
        connect: ConnectFirst,
        addrs: &[SocketAddr],
        want: SocketAddr,
    ) -> CheckResult {
        let sent = format!("connect_first(&{addrs:?}, {:?})", net::STEP_TIMEOUT);
        match call(|| connect(addrs, net::STEP_TIMEOUT)) {
            Err(panic) => mismatch(sent, format!("a stream connected to {want}"), panic),
            Ok(Ok(stream)) => match stream.peer_addr() {
                Ok(peer) if peer == want => Ok(()),
                Ok(peer) => mismatch(
                    sent,
                    format!("a stream connected to {want}"),
                    format!("a stream connected to {peer}"),
                ),
                Err(e) => mismatch(
                    sent,
                    format!("a stream connected to {want}"),
                    format!("a stream that is not connected: {e}"),
                ),
            },
            Ok(Err(e)) => mismatch(
                sent,
                format!("a stream connected to {want}"),
                format!("Err({e})"),
            ),
        }
    }

    fn expect_error(connect: ConnectFirst, addrs: &[SocketAddr], want: ErrorKind) -> CheckResult {
        let sent = format!("connect_first(&{addrs:?}, {:?})", net::STEP_TIMEOUT);
        match call(|| connect(addrs, net::STEP_TIMEOUT)) {
            Err(panic) => mismatch(sent, format!("an error of kind {want:?}"), panic),
            Ok(Err(e)) if e.kind() == want => Ok(()),
            Ok(Err(e)) => mismatch(
                sent,
                format!("an error of kind {want:?}"),
                format!("an error of kind {:?}: {e}", e.kind()),
            ),
            Ok(Ok(stream)) => mismatch(
                sent,
                format!("an error of kind {want:?}"),
                format!("Ok({stream:?})"),
            ),
        }
    }

    fn connects_to_a_listening_address(connect: ConnectFirst) -> CheckResult {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        expect_connected(connect, &[addr], addr)
    }

    fn skips_a_refused_address(connect: ConnectFirst) -> CheckResult {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        expect_connected(connect, &[net::closed_addr(), addr], addr)
    }

    fn tries_addresses_in_order(connect: ConnectFirst) -> CheckResult {
        let (first, second) = (net::listener(), net::listener());
        let (a, b) = (
            first.local_addr().expect("bound"),
            second.local_addr().expect("bound"),
        );
        expect_connected(connect, &[a, b], a)
    }

    fn gives_up_on_a_silent_address(connect: ConnectFirst) -> CheckResult {
        let silent = net::silent_addr().map_err(|e| Mismatch {
            sent: "nothing yet".into(),
            expected: "a silent address to test with".into(),
            got: e,
        })?;
        let listener = net::listener();
        let good = listener.local_addr().expect("bound");
        let timeout = Duration::from_millis(300);
        let sent = format!(
            "connect_first(&[{} (silent: drops connection attempts), {good}], {timeout:?})",
            silent.addr
        );
        let expected = format!("a stream connected to {good} within 2s");
        let started = Instant::now();
        let result = call(|| connect(&[silent.addr, good], timeout));
        let took = started.elapsed();
        match result {
            Err(panic) => mismatch(sent, expected, panic),
            Ok(Ok(stream))
                if stream.peer_addr().ok() == Some(good) && took < Duration::from_secs(2) =>
            {
                Ok(())
            }
            Ok(Ok(stream)) => mismatch(
                sent,
                expected,
                format!(
                    "a stream connected to {:?} after {took:?}",
                    stream.peer_addr().ok()
                ),
            ),
            Ok(Err(e)) => mismatch(sent, expected, format!("Err({e}) after {took:?}")),
        }
    }

    fn returns_the_error_when_all_fail(connect: ConnectFirst) -> CheckResult {
        expect_error(
            connect,
            &[net::closed_addr(), net::closed_addr()],
            ErrorKind::ConnectionRefused,
        )
    }

    fn rejects_an_empty_list(connect: ConnectFirst) -> CheckResult {
        expect_error(connect, &[], ErrorKind::InvalidInput)
    }
}

mod ex3 {
    use super::*;

    const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 3,
        title: "A who-am-I server",
        file: "exercises/ex3_whoami.rs",
        pristine: 0x4f8aa4fdcd241260,
    };

    type Serve = fn(TcpListener) -> std::io::Result<()>;

    course_testkit::checks! {
        exercise: EXERCISE,
        subject: || subject::ex3_whoami::serve as Serve,
        starter: || starter::ex3_whoami::serve as Serve,
        checks: [greets_a_client_and_closes, greets_clients_one_after_another, survives_a_client_that_resets, survives_a_client_that_leaves_at_once],
    }

    /// Starts `serve` on a fresh loopback listener, on a thread of its own (left running: the
    /// test process ends it). `first` runs before `serve` starts: a client it connects waits in
    /// the listener's queue, so `serve` meets that client first, whatever it did meanwhile.
    fn start(serve: Serve, first: impl FnOnce(SocketAddr)) -> SocketAddr {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        first(addr);
        std::thread::spawn(move || serve(listener));
        addr
    }

    /// Connects as a client and checks the greeting names this client's address, then the end of
    /// the stream.
    fn expect_greeting(server: SocketAddr, what: &str) -> CheckResult {
        let mut client = match net::connect(server) {
            Ok(c) => c,
            Err(e) => return mismatch(what, "a connection", e),
        };
        let me = client.local_addr().expect("connected");
        let expected = format!("you are {me}\n");
        match net::read_until_close(&mut client, 256) {
            Ok(got) if got == expected.as_bytes() => Ok(()),
            Ok(got) => mismatch(
                what,
                format!("{expected:?} and then end of stream"),
                format!("{} and then end of stream", net::show_bytes(&got)),
            ),
            Err(got) => mismatch(what, format!("{expected:?} and then end of stream"), got),
        }
    }

    fn greets_a_client_and_closes(serve: Serve) -> CheckResult {
        expect_greeting(
            start(serve, |_| ()),
            "connect, then read until the server closes",
        )
    }

    fn greets_clients_one_after_another(serve: Serve) -> CheckResult {
        let server = start(serve, |_| ());
        for n in 1..=3 {
            expect_greeting(
                server,
                &format!("client {n} of 3 connects, then reads until the server closes"),
            )?;
        }
        Ok(())
    }

    fn survives_a_client_that_resets(serve: Serve) -> CheckResult {
        let server = start(serve, |addr| {
            if let Ok(rude) = net::connect(addr) {
                // SO_LINGER with a zero timeout makes the close send RST instead of FIN, so the
                // server accepts an already dead connection: `peer_addr` and `write` fail on it.
                let _ = socket_linger_zero(&rude);
            }
        });
        expect_greeting(
            server,
            "a first client connects and resets before the server accepts it; a second client connects and reads",
        )
    }

    fn survives_a_client_that_leaves_at_once(serve: Serve) -> CheckResult {
        let server = start(serve, |addr| drop(net::connect(addr)));
        expect_greeting(
            server,
            "a first client connects and closes before the server accepts it; a second client connects and reads",
        )
    }

    fn socket_linger_zero(stream: &TcpStream) -> std::io::Result<()> {
        // std has no setter for SO_LINGER on stable; `set_linger` is unstable. socket2 is the lesson's
        // own dependency, so the check uses it too.
        socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))
    }
}
