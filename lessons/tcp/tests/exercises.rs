//! Checks for the TCP exercises.
//!
//! - `cargo exercise tcp` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against `solutions/` and proves the untouched starters fail them all.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};

use course_testkit::exercise::{CheckResult, Exercise, call, mismatch};
use course_testkit::net;

// The code under test: your exercises with `--features learner`, the reference solutions otherwise.
#[cfg(feature = "learner")]
#[path = "../exercises/mod.rs"]
mod subject;
#[cfg(not(feature = "learner"))]
#[path = "../solutions/mod.rs"]
mod subject;

// The untouched starters, to prove that every check fails on them. They are unfinished by design.
#[cfg(not(feature = "learner"))]
#[allow(dead_code)]
#[path = "../exercises/mod.rs"]
mod starter;

mod ex1 {
    use super::*;

    const EXERCISE: Exercise = Exercise {
        lesson: "tcp",
        number: 1,
        title: "A netstring codec",
        file: "exercises/ex1_netstring.rs",
        pristine: 0xd22e670d51e408ce,
    };

    /// What a decoder handed out: messages, then possibly one error (as its `Debug` text).
    type Decoded = Vec<Result<Vec<u8>, String>>;

    /// The exercise's API, the same for starter and solution: `encode`, and `decode`, which feeds
    /// pieces to a fresh `Decoder` and collects messages until an error or the end of the input.
    #[derive(Clone, Copy)]
    struct Api {
        encode: fn(&[u8]) -> Vec<u8>,
        decode: fn(&[&[u8]], usize) -> Decoded,
    }

    macro_rules! api {
        ($($module:ident)::+) => {
            Api {
                encode: $($module)::+::encode,
                decode: |pieces, max| {
                    let mut decoder = $($module)::+::Decoder::new(max);
                    let mut out = Vec::new();
                    for piece in pieces {
                        decoder.push(piece);
                        loop {
                            match decoder.next_message() {
                                Ok(Some(message)) => out.push(Ok(message)),
                                Ok(None) => break,
                                Err(e) => {
                                    out.push(Err(format!("{e:?}")));
                                    return out;
                                }
                            }
                        }
                    }
                    out
                },
            }
        };
    }

    course_testkit::checks! {
        exercise: EXERCISE,
        subject: || api!(subject::ex1_netstring),
        starter: || api!(starter::ex1_netstring),
        checks: [
            encodes_a_message,
            encodes_the_empty_message,
            decodes_several_in_one_piece,
            decodes_byte_by_byte,
            refuses_a_missing_comma,
            refuses_a_length_that_is_not_digits,
            refuses_too_long_before_it_arrives,
            refuses_endless_digits,
            accepts_a_message_exactly_max_long,
        ],
    }

    fn show(bytes: &[u8]) -> String {
        format!("{:?}", String::from_utf8_lossy(bytes))
    }

    fn expect_encoded(api: Api, message: &[u8], expected: &[u8]) -> CheckResult {
        let sent = format!("encode({})", show(message));
        match call(|| (api.encode)(message)) {
            Ok(got) if got == expected => Ok(()),
            Ok(got) => mismatch(sent, show(expected), show(&got)),
            Err(panic) => mismatch(sent, show(expected), panic),
        }
    }

    fn expect_decoded(
        api: Api,
        pieces: &[&[u8]],
        max: usize,
        expected: &[Result<&[u8], &str>],
    ) -> CheckResult {
        let shown: Vec<String> = pieces.iter().map(|p| show(p)).collect();
        let sent = format!(
            "Decoder::new({max}), then push {} piece(s): {}",
            pieces.len(),
            shown.join(", ")
        );
        let expected: Decoded = expected
            .iter()
            .map(|r| r.map(<[u8]>::to_vec).map_err(str::to_string))
            .collect();
        let describe = |results: &[Result<Vec<u8>, String>]| {
            let parts: Vec<String> = results
                .iter()
                .map(|r| match r {
                    Ok(m) => format!("message {}", show(m)),
                    Err(e) => format!("error {e}"),
                })
                .collect();
            if parts.is_empty() {
                "nothing".to_string()
            } else {
                parts.join(", ")
            }
        };
        match call(|| (api.decode)(pieces, max)) {
            Ok(got) if got == expected => Ok(()),
            Ok(got) => mismatch(sent, describe(&expected), describe(&got)),
            Err(panic) => mismatch(sent, describe(&expected), panic),
        }
    }

    fn encodes_a_message(api: Api) -> CheckResult {
        expect_encoded(api, b"hello", b"5:hello,")
    }

    fn encodes_the_empty_message(api: Api) -> CheckResult {
        expect_encoded(api, b"", b"0:,")
    }

    fn decodes_several_in_one_piece(api: Api) -> CheckResult {
        expect_decoded(
            api,
            &[b"5:hello,0:,12:hello, world,"],
            64,
            &[Ok(b"hello"), Ok(b""), Ok(b"hello, world")],
        )
    }

    fn decodes_byte_by_byte(api: Api) -> CheckResult {
        let stream = b"3:abc,10:0123456789,";
        let pieces: Vec<&[u8]> = stream.chunks(1).collect();
        expect_decoded(api, &pieces, 64, &[Ok(b"abc"), Ok(b"0123456789")])
    }

    fn refuses_a_missing_comma(api: Api) -> CheckResult {
        expect_decoded(api, &[b"3:abc;"], 64, &[Err("Malformed")])
    }

    fn refuses_a_length_that_is_not_digits(api: Api) -> CheckResult {
        expect_decoded(api, &[b"x3:abc,"], 64, &[Err("Malformed")])
    }

    fn refuses_endless_digits(api: Api) -> CheckResult {
        // No colon ever comes: a decoder that keeps waiting for one buffers without bound.
        expect_decoded(api, &[b"99999999999999999999"], 64, &[Err("TooLong")])
    }

    fn accepts_a_message_exactly_max_long(api: Api) -> CheckResult {
        expect_decoded(api, &[b"4:abcd,"], 4, &[Ok(b"abcd")])
    }

    fn refuses_too_long_before_it_arrives(api: Api) -> CheckResult {
        // Only the length has arrived: a decoder that waits for 1000 bytes before complaining
        // would buffer whatever a client announces.
        expect_decoded(api, &[b"1000:"], 64, &[Err("TooLong")])
    }
}

mod ex2 {
    use super::*;

    const EXERCISE: Exercise = Exercise {
        lesson: "tcp",
        number: 2,
        title: "A line echo server",
        file: "exercises/ex2_line_echo.rs",
        pristine: 0x200c56b39ec81575,
    };

    type Serve = fn(std::net::TcpListener) -> std::io::Result<()>;

    course_testkit::checks! {
        exercise: EXERCISE,
        subject: || subject::ex2_line_echo::serve as Serve,
        starter: || starter::ex2_line_echo::serve as Serve,
        checks: [
            echoes_a_line,
            echoes_a_client_that_sends_one_byte_at_a_time,
            echoes_several_lines_sent_in_one_write,
            replies_after_the_client_half_closes,
            does_not_echo_an_unfinished_last_line,
            echoes_each_line_before_the_client_is_done,
            survives_a_client_that_resets,
            serves_a_second_client_while_the_first_is_silent,
        ],
    }

    /// Starts `serve` on a loopback listener of its own thread (left running: the test process
    /// ends it).
    fn start(serve: Serve) -> SocketAddr {
        let listener = net::listener();
        let addr = listener.local_addr().expect("bound");
        std::thread::spawn(move || serve(listener));
        addr
    }

    /// Connects, sends `pieces` (one write each), half-closes, and expects `expected` then the
    /// end of the stream.
    fn exchange(server: SocketAddr, pieces: &[&[u8]], expected: &[u8], what: &str) -> CheckResult {
        let expected_text = format!("{} and then end of stream", net::show_bytes(expected));
        let mut client = match net::connect(server) {
            Ok(c) => c,
            Err(e) => return mismatch(what, expected_text, e),
        };
        let _ = client.set_nodelay(true); // each piece goes out on its own
        for piece in pieces {
            if let Err(e) = client.write_all(piece) {
                return mismatch(
                    what,
                    expected_text,
                    format!("the connection failed while sending: {e}"),
                );
            }
        }
        if let Err(e) = client.shutdown(Shutdown::Write) {
            return mismatch(what, expected_text, format!("could not half-close: {e}"));
        }
        match net::read_until_close(&mut client, 4096) {
            Ok(got) if got == expected => Ok(()),
            Ok(got) => mismatch(
                what,
                expected_text,
                format!("{} and then end of stream", net::show_bytes(&got)),
            ),
            Err(got) => mismatch(what, expected_text, got),
        }
    }

    fn echoes_a_line(serve: Serve) -> CheckResult {
        exchange(
            start(serve),
            &[b"hello\n"],
            b"hello\n",
            "\"hello\\n\", then half-close",
        )
    }

    fn echoes_a_client_that_sends_one_byte_at_a_time(serve: Serve) -> CheckResult {
        let message = b"one\ntwo\n";
        let pieces: Vec<&[u8]> = message.chunks(1).collect();
        exchange(
            start(serve),
            &pieces,
            message,
            "\"one\\ntwo\\n\" one byte per write, then half-close",
        )
    }

    fn echoes_several_lines_sent_in_one_write(serve: Serve) -> CheckResult {
        exchange(
            start(serve),
            &[b"a\nbb\nccc\n"],
            b"a\nbb\nccc\n",
            "\"a\\nbb\\nccc\\n\" in one write, then half-close",
        )
    }

    fn echoes_each_line_before_the_client_is_done(serve: Serve) -> CheckResult {
        let what = "\"first\\n\", then wait for its echo before sending anything else";
        let expected = "\"first\\n\" while the client is still connected and sending";
        let mut client = match net::connect(start(serve)) {
            Ok(c) => c,
            Err(e) => return mismatch(what, expected, e),
        };
        if let Err(e) = client.write_all(b"first\n") {
            return mismatch(
                what,
                expected,
                format!("the connection failed while sending: {e}"),
            );
        }
        let mut echo = [0u8; 6];
        match client.read_exact(&mut echo) {
            Ok(()) if &echo == b"first\n" => Ok(()),
            Ok(()) => mismatch(what, expected, net::show_bytes(&echo)),
            Err(e) => mismatch(
                what,
                expected,
                format!("no complete echo within {:?}: {e}", net::STEP_TIMEOUT),
            ),
        }
    }

    fn survives_a_client_that_resets(serve: Serve) -> CheckResult {
        let server = start(serve);
        if let Ok(mut rude) = net::connect(server) {
            let _ = rude.write_all(b"half a li");
            // SO_LINGER with a zero timeout makes the close send RST instead of FIN.
            let _ = socket2::SockRef::from(&rude).set_linger(Some(std::time::Duration::ZERO));
        }
        exchange(
            server,
            &[b"still there?\n"],
            b"still there?\n",
            "a first client sends half a line and resets; a second sends \"still there?\\n\"",
        )
    }

    fn does_not_echo_an_unfinished_last_line(serve: Serve) -> CheckResult {
        // "b" never gets its newline: it is not a line, so it is not echoed.
        exchange(
            start(serve),
            &[b"a\nb"],
            b"a\n",
            "\"a\\nb\", then half-close",
        )
    }

    fn replies_after_the_client_half_closes(serve: Serve) -> CheckResult {
        exchange(
            start(serve),
            &[b"first\n", b"last\n"],
            b"first\nlast\n",
            "two lines, then half-close: the server must still reply, then close its side",
        )
    }

    fn serves_a_second_client_while_the_first_is_silent(serve: Serve) -> CheckResult {
        let server = start(serve);
        let _silent: Option<TcpStream> = net::connect(server).ok(); // connects, sends nothing
        exchange(
            server,
            &[b"meanwhile\n"],
            b"meanwhile\n",
            "a first client connects and stays silent; a second sends \"meanwhile\\n\"",
        )
    }
}
