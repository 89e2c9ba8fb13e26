//! Checks for the UDP exercises.
//!
//! - `cargo exercise udp` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.

use course_testkit::checks;
use course_testkit::exercise::{self, CheckResult, Exercise, Subject, given, got, step};

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
    use code::ex1_ask_again::request;
    use std::net::{SocketAddr, UdpSocket};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "udp",
        number: 1,
        title: "Ask until you get an answer",
        file: "exercises/ex1_ask_again.rs",
        checks: checks![
            sends_the_id_then_the_payload,
            returns_the_payload_of_the_reply,
            sends_again_after_a_lost_request,
            waits_twice_as_long_before_each_retry,
            gives_up_with_timed_out_after_five_sends,
            ignores_a_reply_to_another_request,
            ignores_a_duplicate_of_the_last_reply,
            ignores_a_datagram_too_short,
            ignores_a_datagram_from_a_stranger,
            gets_every_answer_through_the_lossy_relay,
        ],
    };

    /// A datagram the check's server received: when, what, from where.
    struct Arrival {
        at: Instant,
        bytes: Vec<u8>,
    }

    /// The check's server, on a thread of its own. For each datagram it receives it calls
    /// `answer(index from 0, datagram, its socket, sender)`, and it records every arrival.
    struct FakeServer {
        addr: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: Option<JoinHandle<Vec<Arrival>>>,
    }

    type Answer = fn(usize, &[u8], &UdpSocket, SocketAddr);

    impl FakeServer {
        fn start(answer: Answer) -> FakeServer {
            let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the check's server");
            let addr = socket.local_addr().expect("an address");
            let stop = Arc::new(AtomicBool::new(false));
            let stopped = Arc::clone(&stop);
            // Short timeouts only so that the thread notices `stop`.
            let _ = socket.set_read_timeout(Some(Duration::from_millis(20)));
            let thread = std::thread::spawn(move || {
                let mut arrivals = Vec::new();
                let mut buf = vec![0u8; 65_536];
                while !stopped.load(Ordering::SeqCst) {
                    if let Ok((n, from)) = socket.recv_from(&mut buf) {
                        answer(arrivals.len(), &buf[..n], &socket, from);
                        arrivals.push(Arrival {
                            at: Instant::now(),
                            bytes: buf[..n].to_vec(),
                        });
                    }
                }
                arrivals
            });
            FakeServer {
                addr,
                stop,
                thread: Some(thread),
            }
        }

        /// Stops the server and returns what it received.
        fn arrivals(mut self) -> Vec<Arrival> {
            self.stop.store(true, Ordering::SeqCst);
            self.thread
                .take()
                .and_then(|t| t.join().ok())
                .unwrap_or_default()
        }
    }

    impl Drop for FakeServer {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
        }
    }

    fn echo(_: usize, datagram: &[u8], socket: &UdpSocket, to: SocketAddr) {
        let _ = socket.send_to(datagram, to);
    }

    fn silent(_: usize, _: &[u8], _: &UdpSocket, _: SocketAddr) {}

    fn hex(bytes: &[u8]) -> String {
        let shown: Vec<String> = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
        let more = if bytes.len() > 24 { " ..." } else { "" };
        format!("[{}{more}]", shown.join(" "))
    }

    fn wire(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut d = id.to_be_bytes().to_vec();
        d.extend_from_slice(payload);
        d
    }

    fn client() -> UdpSocket {
        UdpSocket::bind("127.0.0.1:0").expect("bind the client's socket")
    }

    fn show_result(r: &std::io::Result<Vec<u8>>) -> String {
        match r {
            Ok(p) => format!("Ok({:?})", String::from_utf8_lossy(p)),
            Err(e) => format!("Err({:?}: {e})", e.kind()),
        }
    }

    /// Calls `request(socket, server, id, payload)` and expects `Ok(payload back)`.
    fn expect_answer(
        server: &FakeServer,
        socket: &UdpSocket,
        id: u32,
        payload: &str,
    ) -> CheckResult {
        step(format!("waiting for request({id}, {payload:?}) to return"));
        let result = request(socket, server.addr, id, payload.as_bytes());
        match result {
            Ok(ref p) if p == payload.as_bytes() => Ok(()),
            other => got(show_result(&other)),
        }
    }

    fn sends_the_id_then_the_payload() -> CheckResult {
        let server = FakeServer::start(echo);
        given(
            "request(socket, server, 7, \"hello\") to a server that echoes",
            "one datagram [00 00 00 07 68 65 6c 6c 6f]: id 7 in 4 big-endian bytes, then \"hello\"",
        );
        step("waiting for request to return");
        let _ = request(&client(), server.addr, 7, b"hello");
        let arrivals = server.arrivals();
        match arrivals.first() {
            Some(a) if a.bytes == wire(7, b"hello") => Ok(()),
            Some(a) => got(format!("the server received {}", hex(&a.bytes))),
            None => got("the server received nothing"),
        }
    }

    fn returns_the_payload_of_the_reply() -> CheckResult {
        let server = FakeServer::start(echo);
        given(
            "request(socket, server, 7, \"hello\") to a server that echoes",
            "Ok(\"hello\"): the reply without its 4-byte id",
        );
        expect_answer(&server, &client(), 7, "hello")
    }

    fn sends_again_after_a_lost_request() -> CheckResult {
        fn third_time(i: usize, d: &[u8], s: &UdpSocket, to: SocketAddr) {
            if i >= 2 {
                echo(i, d, s, to);
            }
        }
        let server = FakeServer::start(third_time);
        given(
            "request(socket, server, 9, \"hello\") to a server that ignores the first two sends",
            "the same datagram sent 3 times, then Ok(\"hello\")",
        );
        expect_answer(&server, &client(), 9, "hello")?;
        let arrivals = server.arrivals();
        let same = arrivals.iter().all(|a| a.bytes == wire(9, b"hello"));
        if arrivals.len() == 3 && same {
            Ok(())
        } else {
            let shown: Vec<String> = arrivals.iter().map(|a| hex(&a.bytes)).collect();
            got(format!(
                "the server received {} datagrams: {}",
                arrivals.len(),
                shown.join(", ")
            ))
        }
    }

    /// The gaps between the sends, in milliseconds.
    fn gaps_ms(arrivals: &[Arrival]) -> Vec<u128> {
        arrivals
            .windows(2)
            .map(|w| w[1].at.duration_since(w[0].at).as_millis())
            .collect()
    }

    fn waits_twice_as_long_before_each_retry() -> CheckResult {
        let server = FakeServer::start(silent);
        given(
            "request(socket, server, 3, \"hello\") to a server that never answers",
            "5 sends, the gaps between them about 100, 200, 400 and 800 ms",
        );
        step("waiting for request to give up");
        let _ = request(&client(), server.addr, 3, b"hello");
        let gaps = gaps_ms(&server.arrivals());
        let nominal = [100u128, 200, 400, 800];
        // Half to all of each wait (jitter is allowed), plus slack for a busy machine.
        let fits = gaps.len() == nominal.len()
            && gaps
                .iter()
                .zip(nominal)
                .all(|(&g, n)| g >= n / 2 && g <= n + 250);
        if fits {
            Ok(())
        } else {
            got(format!("{} sends, gaps in ms: {gaps:?}", gaps.len() + 1))
        }
    }

    fn gives_up_with_timed_out_after_five_sends() -> CheckResult {
        let server = FakeServer::start(silent);
        given(
            "request(socket, server, 4, \"hello\") to a server that never answers",
            "exactly 5 sends, then Err with kind TimedOut",
        );
        step("waiting for request to give up");
        let result = request(&client(), server.addr, 4, b"hello");
        let sends = server.arrivals().len();
        match result {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut && sends == 5 => Ok(()),
            other => got(format!("{sends} sends, then {}", show_result(&other))),
        }
    }

    fn ignores_a_reply_to_another_request() -> CheckResult {
        fn stale_first(i: usize, d: &[u8], s: &UdpSocket, to: SocketAddr) {
            if let Some(id) = d.first_chunk::<4>() {
                let earlier = u32::from_be_bytes(*id).wrapping_sub(1);
                let _ = s.send_to(&wire(earlier, b"stale"), to);
            }
            echo(i, d, s, to);
        }
        let server = FakeServer::start(stale_first);
        given(
            "request(socket, server, 12, \"hello\"); the server first sends a reply to \
             request 11 (\"stale\"), then the reply to 12",
            "Ok(\"hello\")",
        );
        expect_answer(&server, &client(), 12, "hello")
    }

    fn ignores_a_duplicate_of_the_last_reply() -> CheckResult {
        fn twice(i: usize, d: &[u8], s: &UdpSocket, to: SocketAddr) {
            echo(i, d, s, to);
            if i == 0 {
                echo(i, d, s, to); // the network duplicated the first reply
            }
        }
        let server = FakeServer::start(twice);
        given(
            "request(socket, server, 20, \"first\"), whose reply arrives twice, then \
             request(socket, server, 21, \"second\") on the same socket",
            "Ok(\"first\"), then Ok(\"second\")",
        );
        let socket = client();
        expect_answer(&server, &socket, 20, "first")?;
        expect_answer(&server, &socket, 21, "second")
    }

    fn ignores_a_datagram_too_short() -> CheckResult {
        fn scrap_first(i: usize, d: &[u8], s: &UdpSocket, to: SocketAddr) {
            let _ = s.send_to(&[0x00, 0x01], to);
            echo(i, d, s, to);
        }
        let server = FakeServer::start(scrap_first);
        given(
            "request(socket, server, 5, \"hello\"); the server first sends a 2-byte \
             datagram [00 01], then the reply",
            "Ok(\"hello\")",
        );
        expect_answer(&server, &client(), 5, "hello")
    }

    fn ignores_a_datagram_from_a_stranger() -> CheckResult {
        fn forged_first(i: usize, d: &[u8], s: &UdpSocket, to: SocketAddr) {
            if let (Ok(stranger), Some(id)) = (UdpSocket::bind("127.0.0.1:0"), d.first_chunk::<4>())
            {
                let _ = stranger.send_to(&wire(u32::from_be_bytes(*id), b"forged"), to);
            }
            echo(i, d, s, to);
        }
        let server = FakeServer::start(forged_first);
        given(
            "request(socket, server, 6, \"hello\"); another socket first sends a reply \
             with id 6 and \"forged\", then the server sends the real reply",
            "Ok(\"hello\"): only the server's datagrams count",
        );
        expect_answer(&server, &client(), 6, "hello")
    }

    fn gets_every_answer_through_the_lossy_relay() -> CheckResult {
        let echo_socket = UdpSocket::bind("127.0.0.1:0").expect("bind the echo server");
        let echo_addr = echo_socket.local_addr().expect("an address");
        let stop_echo = udp::shutdown::Shutdown::new();
        let stop = stop_echo.clone();
        let echo_thread = std::thread::spawn(move || udp::server::run(echo_socket, stop));
        let faults = udp::relay::Faults {
            drop: 0.25,
            duplicate: 0.3,
            delay: Duration::from_millis(40),
            seed: 5,
        };
        let relay = udp::relay::RunningRelay::start(echo_addr, faults, udp::relay::Log::Off)
            .expect("start the relay");
        given(
            "8 requests in turn (ids 100 to 107), through a relay to an echo server that \
             drops 25% of datagrams, duplicates 30% and delays them up to 40 ms (seed 5)",
            "each request returns its own payload",
        );
        let socket = client();
        let mut result = Ok(());
        for i in 0..8u32 {
            let payload = format!("request {i}");
            step(format!(
                "waiting for request({}, {payload:?}) to return",
                100 + i
            ));
            let answer = request(&socket, relay.addr, 100 + i, payload.as_bytes());
            if !matches!(&answer, Ok(p) if p == payload.as_bytes()) {
                result = got(format!(
                    "request {} ({payload:?}) returned {}",
                    100 + i,
                    show_result(&answer)
                ));
                break;
            }
        }
        let stats = relay.stop();
        if std::env::var_os("SHOW_RELAY").is_some() {
            eprintln!("{stats:?}");
        }
        stop_echo.trigger();
        let _ = echo_thread.join();
        result
    }
}

mod ex2 {
    use super::*;
    use code::ex2_dns_name::{NameError, decode_name};
    use udp::random::Random;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "udp",
        number: 2,
        title: "Decode a DNS name",
        file: "exercises/ex2_dns_name.rs",
        checks: checks![
            decodes_a_name,
            decodes_the_root,
            stops_at_the_end_of_the_name,
            escapes_bytes_that_are_not_printable,
            follows_a_pointer_back,
            follows_pointers_through_several_names,
            rejects_a_truncated_name,
            rejects_a_label_over_63_bytes,
            rejects_a_name_over_255_bytes,
            rejects_a_pointer_to_itself,
            rejects_a_forward_pointer,
            rejects_a_pointer_loop,
            never_panics_on_arbitrary_bytes,
        ],
    };

    type Decoded = Result<(String, usize), NameError>;

    /// A message: a 12-byte header of zeros (a name never starts before offset 12), then
    /// `body`.
    fn packet(body: &[u8]) -> Vec<u8> {
        [&[0u8; 12][..], body].concat()
    }

    /// The packet as the report shows it: the header, then the body's bytes in hex.
    fn show(packet: &[u8]) -> String {
        let body = packet.get(12..).unwrap_or_default();
        let hex: Vec<String> = body.iter().take(48).map(|b| format!("{b:02x}")).collect();
        let more = if body.len() > 48 { " ..." } else { "" };
        format!(
            "a {}-byte packet: 12 zero bytes, then from offset 12: {}{more}",
            packet.len(),
            hex.join(" ")
        )
    }

    /// Calls `decode_name(packet, offset)`, described by `shown`, and compares with `want`.
    fn expect_shown(packet: &[u8], offset: usize, shown: &str, want: Decoded) -> CheckResult {
        let wanted = format!("{want:?}");
        expect_described(packet, offset, shown, want, &wanted)
    }

    /// The same, with the expected answer described as `wanted` (for a long name).
    fn expect_described(
        packet: &[u8],
        offset: usize,
        shown: &str,
        want: Decoded,
        wanted: &str,
    ) -> CheckResult {
        given(
            format!("decode_name(&packet, {offset}) with {shown}"),
            wanted,
        );
        step("waiting for decode_name to return");
        let show = |got: &Decoded| match got {
            Ok((name, end)) if name.len() > 40 => {
                format!("Ok((a name of {} characters: {name:?}, {end}))", name.len())
            }
            got => format!("{got:?}"),
        };
        exercise::expect_eq(decode_name(packet, offset), want, show)
    }

    fn expect(packet: &[u8], offset: usize, want: Decoded) -> CheckResult {
        expect_shown(packet, offset, &show(packet), want)
    }

    fn name(text: &str, end: usize) -> Decoded {
        Ok((text.to_string(), end))
    }

    fn decodes_a_name() -> CheckResult {
        let p = packet(b"\x03www\x07example\x04test\x00");
        expect(&p, 12, name("www.example.test.", 30))
    }

    fn decodes_the_root() -> CheckResult {
        expect(&packet(b"\x00"), 12, name(".", 13))
    }

    fn stops_at_the_end_of_the_name() -> CheckResult {
        // A name "a." at 12, then "www.test." at 15, then a question's type and class.
        let p = packet(b"\x01a\x00\x03www\x04test\x00\x00\x01\x00\x01");
        expect(&p, 15, name("www.test.", 25))
    }

    fn escapes_bytes_that_are_not_printable() -> CheckResult {
        // One label `a.b` (a dot inside a label), then one of 7, space, backslash and 255.
        let p = packet(b"\x03a.b\x04\x07 \\\xff\x00");
        expect(&p, 12, name("a\\046b.\\007\\032\\092\\255.", 22))
    }

    fn follows_a_pointer_back() -> CheckResult {
        // "test." at 12; at 18, "www" and a pointer to 12. The name at 18 ends after the
        // pointer, at 24, not where the labels it points to end.
        let p = packet(b"\x04test\x00\x03www\xc0\x0c");
        expect(&p, 18, name("www.test.", 24))
    }

    fn follows_pointers_through_several_names() -> CheckResult {
        // 12: "test."; 18: "example" + pointer to 12; 28: "www" + pointer to 18;
        // 34: only a pointer to 28.
        let p = packet(b"\x04test\x00\x07example\xc0\x0c\x03www\xc0\x12\xc0\x1c");
        expect(&p, 28, name("www.example.test.", 34))?;
        expect(&p, 34, name("www.example.test.", 36))
    }

    fn rejects_a_truncated_name() -> CheckResult {
        let whole = packet(b"\x03www\x04test\x00");
        for len in 12..whole.len() {
            expect(&whole[..len], 12, Err(NameError::Truncated))?;
        }
        // A pointer cut after its first byte.
        expect(&packet(b"\x04test\x00\xc0"), 18, Err(NameError::Truncated))?;
        // An offset past the end.
        expect(&packet(b"\x00"), 40, Err(NameError::Truncated))
    }

    fn rejects_a_label_over_63_bytes() -> CheckResult {
        let mut ok = vec![63];
        ok.extend_from_slice(&[b'a'; 63]);
        ok.push(0);
        let shown = "a label of 63 bytes `a` at offset 12, then 00";
        let want = name(&format!("{}.", "a".repeat(63)), 77);
        let wanted = "Ok((\"aaa...a.\" (63 a's and a dot), 77))";
        expect_described(&packet(&ok), 12, shown, want, wanted)?;
        for byte in [64u8, 0x80, 0xbf] {
            let mut body = vec![byte];
            body.extend_from_slice(&[b'a'; 64]);
            body.push(0);
            let shown = format!("the length byte {byte} ({byte:#04x}) at offset 12");
            expect_shown(&packet(&body), 12, &shown, Err(NameError::BadLabelType))?;
        }
        Ok(())
    }

    /// Labels of `lens` bytes of `x`, then a zero byte.
    fn labels(lens: &[u8]) -> Vec<u8> {
        let mut body = Vec::new();
        for &len in lens {
            body.push(len);
            body.extend(std::iter::repeat_n(b'x', usize::from(len)));
        }
        body.push(0);
        body
    }

    fn rejects_a_name_over_255_bytes() -> CheckResult {
        let exactly = labels(&[63, 63, 63, 61]);
        let text = format!("{0}.{0}.{0}.{1}.", "x".repeat(63), "x".repeat(61));
        let shown = "labels of 63, 63, 63 and 61 bytes, then 00: 255 bytes in all";
        let wanted = "Ok((the four labels, dotted: 254 characters, 267))";
        expect_described(&packet(&exactly), 12, shown, name(&text, 12 + 255), wanted)?;
        let over = labels(&[63, 63, 63, 62]);
        let shown = "labels of 63, 63, 63 and 62 bytes, then 00: 256 bytes in all";
        expect_shown(&packet(&over), 12, shown, Err(NameError::TooLong))?;
        // Over the limit only through a pointer: "a" and then the 255-byte name.
        let mut body = exactly;
        body.extend_from_slice(b"\x01a\xc0\x0c");
        let shown = "the 255-byte name at 12, then at 267: a label `a` and a pointer to 12";
        expect_shown(&packet(&body), 267, shown, Err(NameError::TooLong))
    }

    fn rejects_a_pointer_to_itself() -> CheckResult {
        expect(&packet(b"\xc0\x0c"), 12, Err(NameError::BadPointer))?;
        expect(&packet(b"\x01a\xc0\x0e"), 12, Err(NameError::BadPointer))
    }

    fn rejects_a_forward_pointer() -> CheckResult {
        // At 12 a pointer to 14, where a valid name (the root) waits.
        expect(&packet(b"\xc0\x0e\x00"), 12, Err(NameError::BadPointer))
    }

    fn rejects_a_pointer_loop() -> CheckResult {
        // "a" and a pointer back to the "a": each pointer is before itself, yet they loop.
        expect(&packet(b"\x01a\xc0\x0c"), 12, Err(NameError::BadPointer))?;
        // At 16: "b" and a pointer to 12; at 12: "a" and a pointer to 16.
        expect(
            &packet(b"\x01a\xc0\x10\x01b\xc0\x0c"),
            16,
            Err(NameError::BadPointer),
        )
    }

    fn never_panics_on_arbitrary_bytes() -> CheckResult {
        let mut rng = Random::new(2);
        let good = packet(b"\x04test\x00\x07example\xc0\x0c\x03www\xc0\x12\xc0\x1c");
        for case in 0..4_000 {
            let p: Vec<u8> = if case % 2 == 0 {
                let len = (rng.next_u64() % 48) as usize;
                (0..len).map(|_| rng.next_u64() as u8).collect()
            } else {
                let mut p = good.clone();
                for _ in 0..1 + rng.next_u64() % 3 {
                    let i = (rng.next_u64() as usize) % p.len();
                    p[i] = rng.next_u64() as u8;
                }
                p
            };
            let offset = (rng.next_u64() as usize) % (p.len() + 2);
            given(
                format!("decode_name(&packet, {offset}) with {}", show_all(&p)),
                "Ok((name, end)) with offset < end <= packet.len(), or an error; no panic",
            );
            step("waiting for decode_name to return");
            match decode_name(&p, offset) {
                Ok((name, end)) if end <= offset || end > p.len() => {
                    return got(format!("Ok(({name:?}, {end}))"));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Every byte of a short random packet, header included.
    fn show_all(p: &[u8]) -> String {
        let hex: Vec<String> = p.iter().map(|b| format!("{b:02x}")).collect();
        format!("the {}-byte packet [{}]", p.len(), hex.join(" "))
    }
}
