//! Checks for the Sockets exercises.
//!
//! - `cargo exercise sockets` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.
//!
//! Network checks are black-box: they talk to the code over real loopback sockets, with timeouts.

use course_testkit::exercise::{self, CheckResult, Exercise, Subject, given, got};
use course_testkit::{checks, net};

// The code under test: your exercises with `--features learner`, the reference solutions otherwise.
#[cfg(feature = "learner")]
#[allow(unused)] // an unfinished exercise is not a reason for compiler warnings
#[path = "../exercises/mod.rs"]
mod code;
#[cfg(not(feature = "learner"))]
#[path = "../solutions/mod.rs"]
mod code;

fn main() {
    exercise::main(
        Subject::from_learner_feature(cfg!(feature = "learner")),
        &[ex1::EXERCISE, ex2::EXERCISE, ex3::EXERCISE],
    )
}

mod ex1 {
    use super::*;
    use code::ex1_wire_address::decode;
    use std::net::SocketAddrV4;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 1,
        title: "Read an address off the wire",
        file: "exercises/ex1_wire_address.rs",
        checks: checks![
            decodes_loopback_8080,
            decodes_the_port_big_endian,
            rejects_too_few_bytes,
            rejects_too_many_bytes,
        ],
    };

    fn expect(bytes: &[u8], expected: Option<&str>) -> CheckResult {
        let expected: Option<SocketAddrV4> =
            expected.map(|s| s.parse().expect("valid test address"));
        given(format!("decode(&{bytes:02x?})"), format!("{expected:?}"));
        exercise::expect_eq(decode(bytes), expected, |got| format!("{got:?}"))
    }

    fn decodes_loopback_8080() -> CheckResult {
        expect(&[0x7f, 0, 0, 1, 0x1f, 0x90], Some("127.0.0.1:8080"))
    }

    fn decodes_the_port_big_endian() -> CheckResult {
        // Read little-endian, 00 50 would be port 20480 instead of 80.
        expect(&[192, 0, 2, 1, 0x00, 0x50], Some("192.0.2.1:80"))
    }

    fn rejects_too_few_bytes() -> CheckResult {
        let bytes = [0x7f, 0, 0, 1, 0x1f, 0x90];
        (0..6).try_for_each(|n| expect(&bytes[..n], None))
    }

    fn rejects_too_many_bytes() -> CheckResult {
        let bytes = [0x7f, 0, 0, 1, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        (7..=bytes.len()).try_for_each(|n| expect(&bytes[..n], None))
    }
}

mod ex2 {
    use super::*;
    use code::ex2_connect_first::connect_first;
    use std::io::ErrorKind;
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 2,
        title: "Connect to the first address that answers",
        file: "exercises/ex2_connect_first.rs",
        checks: checks![
            connects_to_a_listening_address,
            skips_a_refused_address,
            tries_addresses_in_order,
            gives_up_on_a_silent_address,
            returns_the_last_error_when_all_fail,
            rejects_an_empty_list,
        ],
    };

    /// Calls `connect_first(addrs, timeout)`, described as `shown`, and checks it connected to
    /// `want` within `within`.
    fn expect_connected(
        addrs: &[SocketAddr],
        shown: &str,
        timeout: Duration,
        want: SocketAddr,
        within: Duration,
    ) -> CheckResult {
        given(
            format!("connect_first(&[{shown}], {timeout:?})"),
            format!("a stream connected to {want} within {within:?}"),
        );
        exercise::step("waiting for connect_first to return");
        let started = Instant::now();
        let result = connect_first(addrs, timeout);
        let took = started.elapsed();
        match result {
            Ok(stream) => match stream.peer_addr() {
                Ok(peer) if peer == want && took < within => Ok(()),
                Ok(peer) => got(format!("a stream connected to {peer} after {took:?}")),
                Err(e) => got(format!("a stream that is not connected: {e}")),
            },
            Err(e) => got(format!("Err({e}) after {took:?}")),
        }
    }

    fn list(addrs: &[SocketAddr]) -> String {
        let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        shown.join(", ")
    }

    fn expect_error(
        addrs: &[SocketAddr],
        shown: &str,
        timeout: Duration,
        want: ErrorKind,
    ) -> CheckResult {
        given(
            format!("connect_first(&[{shown}], {timeout:?})"),
            format!("an error of kind {want:?}"),
        );
        exercise::step("waiting for connect_first to return");
        match connect_first(addrs, timeout) {
            Err(e) if e.kind() == want => Ok(()),
            Err(e) => got(format!("an error of kind {:?}: {e}", e.kind())),
            Ok(stream) => got(format!("Ok({stream:?})")),
        }
    }

    fn connects_to_a_listening_address() -> CheckResult {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        expect_connected(
            &[addr],
            &list(&[addr]),
            net::STEP_TIMEOUT,
            addr,
            net::STEP_TIMEOUT,
        )
    }

    fn skips_a_refused_address() -> CheckResult {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        let addrs = [net::closed_addr(), addr];
        let shown = format!("{} (closed: refuses), {addr}", addrs[0]);
        expect_connected(&addrs, &shown, net::STEP_TIMEOUT, addr, net::STEP_TIMEOUT)
    }

    fn tries_addresses_in_order() -> CheckResult {
        let (first, second) = (net::listener(), net::listener());
        let addrs = [
            first.local_addr().expect("bound"),
            second.local_addr().expect("bound"),
        ];
        expect_connected(
            &addrs,
            &list(&addrs),
            net::STEP_TIMEOUT,
            addrs[0],
            net::STEP_TIMEOUT,
        )
    }

    /// A silent address: see [`net::silent_addr`] (relies on Linux dropping a connection attempt
    /// when the listener's queue is full; on another system the check reports that it could not
    /// set up).
    fn silent() -> Result<net::Silent, exercise::Mismatch> {
        net::silent_addr().map_err(|e| exercise::Mismatch {
            sent: "nothing yet".into(),
            expected: "a silent address to test with".into(),
            got: e,
        })
    }

    fn gives_up_on_a_silent_address() -> CheckResult {
        let silent = silent()?;
        let listener = net::listener();
        let good = listener.local_addr().expect("bound");
        let shown = format!(
            "{} (silent: drops connection attempts), {good}",
            silent.addr
        );
        let timeout = Duration::from_millis(300);
        expect_connected(
            &[silent.addr, good],
            &shown,
            timeout,
            good,
            Duration::from_secs(2),
        )
    }

    fn returns_the_last_error_when_all_fail() -> CheckResult {
        // The silent address fails with TimedOut, the closed one with ConnectionRefused: only the
        // last error is the one asked for.
        let silent = silent()?;
        let closed = net::closed_addr();
        let shown = format!(
            "{} (silent: times out), {closed} (closed: refuses)",
            silent.addr
        );
        expect_error(
            &[silent.addr, closed],
            &shown,
            Duration::from_millis(300),
            ErrorKind::ConnectionRefused,
        )
    }

    fn rejects_an_empty_list() -> CheckResult {
        expect_error(&[], "", net::STEP_TIMEOUT, ErrorKind::InvalidInput)
    }
}

mod ex3 {
    use super::*;
    use code::ex3_whoami::serve;
    use exercise::{start_server, start_server_after};
    use std::net::{SocketAddr, TcpStream};
    use std::time::Duration;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "sockets",
        number: 3,
        title: "A who-am-I server",
        file: "exercises/ex3_whoami.rs",
        checks: checks![
            greets_a_client_and_closes,
            greets_clients_one_after_another,
            survives_a_client_that_resets,
            survives_a_client_that_leaves_at_once,
        ],
    };

    /// Connects as a client and checks the greeting names this client's address, then the end of
    /// the stream.
    fn expect_greeting(server: SocketAddr, what: &str) -> CheckResult {
        given(
            what,
            "\"you are <this client's address>\\n\" and then end of stream",
        );
        let mut client = net::connect(server).or_else(got)?;
        let me = client.local_addr().expect("connected");
        let expected = format!("you are {me}\n");
        given(what, format!("{expected:?} and then end of stream"));
        match net::read_until_close(&mut client, 256) {
            Ok(bytes) if bytes == expected.as_bytes() => Ok(()),
            Ok(bytes) => got(format!(
                "{} and then end of stream",
                net::show_bytes(&bytes)
            )),
            Err(e) => got(e),
        }
    }

    fn greets_a_client_and_closes() -> CheckResult {
        expect_greeting(
            start_server(serve),
            "connect, then read until the server closes",
        )
    }

    fn greets_clients_one_after_another() -> CheckResult {
        let server = start_server(serve);
        for n in 1..=3 {
            expect_greeting(
                server,
                &format!("client {n} of 3 connects, then reads until the server closes"),
            )?;
        }
        Ok(())
    }

    fn survives_a_client_that_resets() -> CheckResult {
        let server = start_server_after(
            |addr| {
                if let Ok(rude) = net::connect(addr) {
                    // SO_LINGER with a zero timeout makes the close send RST instead of FIN, so
                    // the server accepts an already dead connection: `peer_addr` and `write` fail.
                    let _ = linger_zero(&rude);
                }
            },
            serve,
        );
        expect_greeting(
            server,
            "a first client connects and resets before the server accepts it;\n\
             a second client connects and reads",
        )
    }

    fn survives_a_client_that_leaves_at_once() -> CheckResult {
        let server = start_server_after(|addr| drop(net::connect(addr)), serve);
        expect_greeting(
            server,
            "a first client connects and closes before the server accepts it;\n\
             a second client connects and reads",
        )
    }

    fn linger_zero(stream: &TcpStream) -> std::io::Result<()> {
        // std has no stable setter for SO_LINGER; socket2 is the lesson's own dependency.
        socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO))
    }
}
