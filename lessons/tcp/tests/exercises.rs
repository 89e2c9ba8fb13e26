//! Checks for the TCP exercises.
//!
//! - `cargo exercise tcp` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.

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
        &[ex1::EXERCISE, ex2::EXERCISE],
    )
}

mod ex1 {
    use super::*;
    use code::ex1_netstring::{Decoder, encode};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "tcp",
        number: 1,
        title: "A netstring codec",
        file: "exercises/ex1_netstring.rs",
        checks: checks![
            encodes_a_message,
            encodes_the_empty_message,
            decodes_several_in_one_piece,
            decodes_byte_by_byte,
            decodes_a_colon_inside_a_message,
            refuses_a_missing_comma,
            refuses_a_length_that_is_not_digits,
            refuses_a_length_with_leading_zeros,
            reports_an_error_after_a_good_message,
            refuses_too_long_before_it_arrives,
            refuses_endless_digits,
            accepts_a_message_exactly_max_long,
            decodes_the_same_however_the_stream_is_cut,
        ],
    };

    /// What a decoder handed out: messages, then possibly one error (as its `Debug` text).
    type Decoded = Vec<Result<Vec<u8>, String>>;

    /// Feeds `pieces` to a fresh `Decoder::new(max)` and collects messages until an error.
    fn decode(pieces: &[&[u8]], max: usize) -> Decoded {
        let mut decoder = Decoder::new(max);
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
    }

    fn show(bytes: &[u8]) -> String {
        format!("{:?}", String::from_utf8_lossy(bytes))
    }

    fn describe(results: &[Result<Vec<u8>, String>]) -> String {
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
    }

    fn expect_encoded(message: &[u8], expected: &[u8]) -> CheckResult {
        given(format!("encode({})", show(message)), show(expected));
        exercise::expect_eq(encode(message), expected.to_vec(), |g| show(g))
    }

    fn expect_decoded(
        pieces: &[&[u8]],
        max: usize,
        expected: &[Result<&[u8], &str>],
    ) -> CheckResult {
        let shown: Vec<String> = pieces.iter().map(|p| show(p)).collect();
        let expected: Decoded = expected
            .iter()
            .map(|r| r.map(<[u8]>::to_vec).map_err(str::to_string))
            .collect();
        given(
            format!(
                "Decoder::new({max}), then push {} piece(s): {}",
                pieces.len(),
                shown.join(", ")
            ),
            describe(&expected),
        );
        exercise::expect_eq(decode(pieces, max), expected, |g| describe(g))
    }

    fn encodes_a_message() -> CheckResult {
        expect_encoded(b"hello", b"5:hello,")
    }

    fn encodes_the_empty_message() -> CheckResult {
        expect_encoded(b"", b"0:,")
    }

    fn decodes_several_in_one_piece() -> CheckResult {
        expect_decoded(
            &[b"5:hello,0:,12:hello, world,"],
            64,
            &[Ok(b"hello"), Ok(b""), Ok(b"hello, world")],
        )
    }

    fn decodes_byte_by_byte() -> CheckResult {
        let stream = b"3:abc,10:0123456789,";
        let pieces: Vec<&[u8]> = stream.chunks(1).collect();
        expect_decoded(&pieces, 64, &[Ok(b"abc"), Ok(b"0123456789")])
    }

    fn decodes_a_colon_inside_a_message() -> CheckResult {
        // Only the first colon ends the length; the payload may hold any byte.
        expect_decoded(&[b"5:a:b:c,"], 64, &[Ok(b"a:b:c")])
    }

    fn refuses_a_missing_comma() -> CheckResult {
        expect_decoded(&[b"3:abc;"], 64, &[Err("Malformed")])
    }

    fn refuses_a_length_that_is_not_digits() -> CheckResult {
        expect_decoded(&[b"x3:abc,"], 64, &[Err("Malformed")])
    }

    fn refuses_a_length_with_leading_zeros() -> CheckResult {
        // The netstring format allows "0:" for the empty message but no other leading zero.
        expect_decoded(&[b"05:hello,"], 64, &[Err("Malformed")])
    }

    fn reports_an_error_after_a_good_message() -> CheckResult {
        expect_decoded(&[b"2:ok,x"], 64, &[Ok(b"ok"), Err("Malformed")])
    }

    fn refuses_endless_digits() -> CheckResult {
        // No colon ever comes: a decoder that keeps waiting for one buffers without bound.
        expect_decoded(&[b"99999999999999999999"], 64, &[Err("TooLong")])
    }

    fn accepts_a_message_exactly_max_long() -> CheckResult {
        expect_decoded(&[b"4:abcd,"], 4, &[Ok(b"abcd")])
    }

    fn refuses_too_long_before_it_arrives() -> CheckResult {
        // Only the length has arrived: a decoder that waits for 1000 bytes before complaining
        // would buffer whatever a client announces.
        expect_decoded(&[b"1000:"], 64, &[Err("TooLong")])
    }

    fn decodes_the_same_however_the_stream_is_cut() -> CheckResult {
        // TCP may cut a stream anywhere: the answer must not depend on where.
        let streams: [(&[u8], usize); 6] = [
            (b"5:hello,0:,3:a:b,", 8),
            (b"05:hello,", 8),
            (b"2:ok,x", 8),
            (b"4:abcd,", 4),
            (b"5:abcde,", 4),
            (b"123456789:", usize::MAX),
        ];
        for (stream, max) in streams {
            given(
                format!("Decoder::new({max}), then push {} whole", show(stream)),
                "the same result as when it arrives in two pieces, cut anywhere",
            );
            let whole = decode(&[stream], max);
            for cut in 1..stream.len() {
                let (a, b) = stream.split_at(cut);
                given(
                    format!("Decoder::new({max}), then push {} and {}", show(a), show(b)),
                    format!(
                        "the same as one push of {}: {}",
                        show(stream),
                        describe(&whole)
                    ),
                );
                exercise::expect_eq(decode(&[a, b], max), whole.clone(), |g| describe(g))?;
            }
        }
        Ok(())
    }
}

mod ex2 {
    use super::*;
    use code::ex2_line_echo::serve;
    use exercise::start_server;
    use std::io::Read;
    use std::net::{Shutdown, SocketAddr, TcpStream};
    use std::time::Duration;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "tcp",
        number: 2,
        title: "A line echo server",
        file: "exercises/ex2_line_echo.rs",
        checks: checks![
            echoes_a_line,
            echoes_a_client_that_sends_one_byte_at_a_time,
            echoes_several_lines_sent_in_one_write,
            replies_after_the_client_half_closes,
            does_not_echo_an_unfinished_last_line,
            echoes_each_line_before_the_client_is_done,
            survives_a_client_that_resets,
            serves_a_second_client_while_the_first_is_silent,
            closes_a_line_that_never_ends,
        ],
    };

    /// Connects, sends `pieces` (one write each), half-closes, and expects `expected` then the
    /// end of the stream.
    fn exchange(server: SocketAddr, pieces: &[&[u8]], expected: &[u8], what: &str) -> CheckResult {
        given(
            what,
            format!("{} and then end of stream", net::show_bytes(expected)),
        );
        let mut client = net::connect(server).or_else(got)?;
        let _ = client.set_nodelay(true); // each piece goes out on its own
        for piece in pieces {
            net::send(&mut client, piece).or_else(got)?;
        }
        exercise::step("half-closing");
        client
            .shutdown(Shutdown::Write)
            .or_else(|e| got(format!("could not half-close: {e}")))?;
        match net::read_until_close(&mut client, 4096) {
            Ok(bytes) if bytes == expected => Ok(()),
            Ok(bytes) => got(format!(
                "{} and then end of stream",
                net::show_bytes(&bytes)
            )),
            Err(e) => got(e),
        }
    }

    fn echoes_a_line() -> CheckResult {
        exchange(
            start_server(serve),
            &[b"hello\n"],
            b"hello\n",
            "\"hello\\n\", then half-close",
        )
    }

    fn echoes_a_client_that_sends_one_byte_at_a_time() -> CheckResult {
        let message = b"one\ntwo\n";
        let pieces: Vec<&[u8]> = message.chunks(1).collect();
        exchange(
            start_server(serve),
            &pieces,
            message,
            "\"one\\ntwo\\n\" one byte per write, then half-close",
        )
    }

    fn echoes_several_lines_sent_in_one_write() -> CheckResult {
        exchange(
            start_server(serve),
            &[b"a\nbb\nccc\n"],
            b"a\nbb\nccc\n",
            "\"a\\nbb\\nccc\\n\" in one write, then half-close",
        )
    }

    fn echoes_each_line_before_the_client_is_done() -> CheckResult {
        given(
            "\"first\\n\", then wait for its echo before sending anything else",
            "\"first\\n\" while the client is still connected and sending",
        );
        let mut client = net::connect(start_server(serve)).or_else(got)?;
        net::send(&mut client, b"first\n").or_else(got)?;
        exercise::step("waiting for the echo of the first line");
        let mut echo = [0u8; 6];
        match client.read_exact(&mut echo) {
            Ok(()) if &echo == b"first\n" => Ok(()),
            Ok(()) => got(net::show_bytes(&echo)),
            Err(e) => got(format!(
                "no complete echo within {:?}: {e}",
                net::STEP_TIMEOUT
            )),
        }
    }

    fn survives_a_client_that_resets() -> CheckResult {
        let server = start_server(serve);
        if let Ok(mut rude) = net::connect(server) {
            let _ = net::send(&mut rude, b"half a li");
            // SO_LINGER with a zero timeout makes the close send RST instead of FIN.
            let _ = socket2::SockRef::from(&rude).set_linger(Some(Duration::ZERO));
        }
        exchange(
            server,
            &[b"still there?\n"],
            b"still there?\n",
            "a first client sends half a line and resets;\n\
             a second sends \"still there?\\n\"",
        )
    }

    fn does_not_echo_an_unfinished_last_line() -> CheckResult {
        // "b" never gets its newline: it is not a line, so it is not echoed.
        exchange(
            start_server(serve),
            &[b"a\nb"],
            b"a\n",
            "\"a\\nb\", then half-close",
        )
    }

    fn replies_after_the_client_half_closes() -> CheckResult {
        exchange(
            start_server(serve),
            &[b"first\n", b"last\n"],
            b"first\nlast\n",
            "two lines, then half-close: the server must still reply, then close its side",
        )
    }

    fn serves_a_second_client_while_the_first_is_silent() -> CheckResult {
        let server = start_server(serve);
        let _silent: Option<TcpStream> = net::connect(server).ok(); // connects, sends nothing
        exchange(
            server,
            &[b"meanwhile\n"],
            b"meanwhile\n",
            "a first client connects and stays silent;\n\
             a second sends \"meanwhile\\n\"",
        )
    }

    fn closes_a_line_that_never_ends() -> CheckResult {
        // A server that waits for the newline buffers whatever a client sends: its memory is the
        // client's to fill.
        const ENDLESS: usize = 1024 * 1024;
        given(
            "\"ping\\n\", then 1 MiB without a newline, then wait (no half-close)",
            "\"ping\\n\", then the server closes the connection\n\
             (end of stream or reset) without echoing the endless line",
        );
        let mut client = net::connect(start_server(serve)).or_else(got)?;
        // First a normal line, so that only a working server gets further.
        net::send(&mut client, b"ping\n").or_else(got)?;
        exercise::step("waiting for the echo of \"ping\\n\"");
        let mut echo = [0u8; 5];
        match client.read_exact(&mut echo) {
            Ok(()) if &echo == b"ping\n" => {}
            Ok(()) => return got(net::show_bytes(&echo)),
            Err(e) => return got(format!("no echo of \"ping\\n\": {e}")),
        }
        // The server may close while we still send: a failed write is the expected outcome.
        if net::send(&mut client, &vec![b'x'; ENDLESS]).is_err() {
            return Ok(());
        }
        exercise::step("waiting for the server to close the connection");
        let mut buf = [0u8; 64];
        match client.read(&mut buf) {
            Ok(0) => Ok(()),
            Ok(n) => got(format!("an echo: {}...", net::show_bytes(&buf[..n]))),
            Err(e) if net::is_timeout(&e) => got(format!(
                "the connection still open after {:?}: the server is still buffering",
                net::STEP_TIMEOUT
            )),
            Err(_) => Ok(()), // a reset also closes it
        }
    }
}
