//! The echo server against real and adversarial clients, over loopback. Each test starts its own
//! server on 127.0.0.1:0 and stops it through its shutdown handle.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tcp::framing::encode_frame;
use tcp::server::{Config, Mode};

mod common;
use common::{Running, STEP, read_all};

fn lines() -> Config {
    Config {
        mode: Mode::Lines,
        ..Config::default()
    }
}

#[test]
fn raw_mode_echoes_bytes_to_many_clients_at_once() {
    let server = Running::start(Config::default());
    let mut clients: Vec<TcpStream> = (0..10).map(|_| server.connect()).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("client {i}: \0\u{ff} any bytes").as_bytes())
            .expect("write");
        c.shutdown(Direction::Write).expect("half-close");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            read_all(c),
            Ok(format!("client {i}: \0\u{ff} any bytes").into_bytes())
        );
    }
    server.stop();
}

#[test]
fn lines_mode_survives_a_client_that_sends_one_byte_at_a_time() {
    let server = Running::start(lines());
    let mut c = server.connect();
    c.set_nodelay(true).expect("nodelay");
    for byte in b"one\ntwo\n" {
        c.write_all(&[*byte]).expect("write a byte");
    }
    c.shutdown(Direction::Write).expect("half-close");
    assert_eq!(read_all(&mut c), Ok(b"one\ntwo\n".to_vec()));
    server.stop();
}

#[test]
fn lines_mode_handles_several_lines_in_one_write_and_crlf() {
    let server = Running::start(lines());
    assert_eq!(server.exchange(b"a\nb\r\nc\n"), Ok(b"a\nb\nc\n".to_vec()));
    server.stop();
}

#[test]
fn a_half_closed_client_still_gets_its_replies() {
    let server = Running::start(lines());
    assert_eq!(
        server.exchange(b"last words\n"),
        Ok(b"last words\n".to_vec())
    );
    server.stop();
}

#[test]
fn an_overlong_line_gets_an_error_and_others_are_still_served() {
    let server = Running::start(Config {
        max_line: 16,
        ..lines()
    });
    let mut rude = server.connect();
    rude.write_all(&[b'x'; 100]).expect("write");
    let mut got = Vec::new();
    let _ = rude.read_to_end(&mut got); // the error line, then close (or a reset after it)
    assert!(
        got.starts_with(b"error: message longer than 16 bytes\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );

    assert_eq!(server.exchange(b"fine\n"), Ok(b"fine\n".to_vec()));
    server.stop();
}

#[test]
fn invalid_utf8_gets_an_error_line() {
    let server = Running::start(lines());
    let mut c = server.connect();
    c.write_all(b"ok\n\xff\xfe\n").expect("write");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    assert!(
        got.starts_with(b"ok\nerror: line is not valid UTF-8\n"),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    server.stop();
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout_without_blocking_others() {
    let server = Running::start(Config {
        idle_timeout: Duration::from_millis(300),
        ..lines()
    });
    let mut silent = server.connect();
    let started = Instant::now();

    assert_eq!(server.exchange(b"meanwhile\n"), Ok(b"meanwhile\n".to_vec()));

    assert!(
        read_all(&mut silent).is_ok_or_reset(),
        "the silent client is disconnected"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < STEP,
        "dropped after {waited:?}"
    );
    server.stop();
}

#[test]
fn a_client_that_resets_mid_line_does_not_stop_the_server() {
    let server = Running::start(lines());
    let rude = server.connect();
    (&rude).write_all(b"half a li").expect("write");
    socket2::SockRef::from(&rude)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(rude); // RST

    assert_eq!(
        server.exchange(b"still here?\n"),
        Ok(b"still here?\n".to_vec())
    );
    server.stop();
}

#[test]
fn clients_beyond_the_limit_are_turned_away_and_served_again_later() {
    let server = Running::start(Config {
        max_clients: 2,
        ..lines()
    });
    let mut first = server.connect();
    let mut second = server.connect();
    // Both are being served once they get an echo back.
    for c in [&mut first, &mut second] {
        c.write_all(b"hi\n").expect("write");
        let mut buf = [0u8; 3];
        c.read_exact(&mut buf).expect("echo");
    }
    // The third client sends its line at once, as the lesson's client does: the busy line must
    // reach it anyway, not be lost to a reset.
    let reply = tcp::client::exchange(&[server.addr], b"me too\n", STEP, 1024).expect("a reply");
    assert_eq!(reply, b"error: server busy, try again later\n");

    drop(first);
    drop(second);
    // A slot frees up when a client thread ends; retry for a bounded time.
    let deadline = Instant::now() + STEP;
    loop {
        let mut again = server.connect();
        // While still turned away, the server may close (even reset) before these go through.
        let _ = again.write_all(b"back\n");
        let _ = again.shutdown(Direction::Write);
        match read_all(&mut again) {
            Ok(got) if got == b"back\n" => break,
            other => assert!(Instant::now() < deadline, "still turned away: {other:?}"),
        }
    }
    server.stop();
}

#[test]
fn shutdown_closes_idle_connections_and_returns() {
    let server = Running::start(lines());
    let mut idle = server.connect();
    idle.write_all(b"x\n").expect("write");
    let mut buf = [0u8; 2];
    idle.read_exact(&mut buf).expect("echo");
    server.stop(); // returns although `idle` never closed
    assert!(read_all(&mut idle).is_ok_or_reset());
}

#[test]
fn frames_mode_echoes_frames_sent_one_byte_at_a_time() {
    let server = Running::start(Config {
        mode: Mode::Frames,
        ..Config::default()
    });
    let mut c = server.connect();
    c.set_nodelay(true).expect("nodelay");
    let stream: Vec<u8> = [
        encode_frame(b"one"),
        encode_frame(b""),
        encode_frame(b"\n\0"),
    ]
    .concat();
    for byte in &stream {
        c.write_all(&[*byte]).expect("write a byte");
    }
    c.shutdown(Direction::Write).expect("half-close");
    assert_eq!(read_all(&mut c), Ok(stream));
    server.stop();
}

#[test]
fn frames_mode_closes_a_connection_that_announces_a_frame_too_long() {
    let server = Running::start(Config {
        mode: Mode::Frames,
        max_line: 16,
        ..Config::default()
    });
    let mut rude = server.connect();
    rude.write_all(&1000u32.to_be_bytes())
        .expect("write the prefix only");
    // Closed at once: the server does not wait for 1000 bytes it would refuse anyway.
    assert!(read_all(&mut rude).is_ok_or_reset());

    assert_eq!(
        server.exchange(&encode_frame(b"fine")),
        Ok(encode_frame(b"fine"))
    );
    server.stop();
}

trait OkOrReset {
    fn is_ok_or_reset(&self) -> bool;
}

impl OkOrReset for Result<Vec<u8>, ErrorKind> {
    /// The server closed the connection: cleanly (end of stream) or with a reset.
    fn is_ok_or_reset(&self) -> bool {
        matches!(self, Ok(_) | Err(ErrorKind::ConnectionReset))
    }
}

#[test]
fn a_client_that_trickles_a_line_is_dropped_at_the_message_timeout() {
    let timeout = Duration::from_millis(400);
    let server = Running::start(Config {
        message_timeout: timeout,
        ..lines()
    });
    let mut slow = server.connect();
    slow.set_nodelay(true).expect("nodelay");
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let started = Instant::now();
    // A byte every 50 ms (the read's timeout paces it): never idle, never a whole line.
    let closed_after = loop {
        let mut probe = [0u8; 1];
        let closed = match slow.write_all(b"x") {
            Err(_) => true, // the connection is gone
            Ok(()) => match slow.read(&mut probe) {
                Ok(0) => true,
                Err(e) => e.kind() != ErrorKind::WouldBlock && e.kind() != ErrorKind::TimedOut,
                Ok(_) => false,
            },
        };
        if closed {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < STEP,
            "a trickling client was still connected after {STEP:?}"
        );
    };
    assert!(
        closed_after >= timeout,
        "dropped too early, after {closed_after:?}"
    );
    server.stop();
}

#[test]
fn a_client_that_vanishes_mid_frame_does_not_stop_the_server() {
    let server = Running::start(Config {
        mode: Mode::Frames,
        ..Config::default()
    });
    let mut gone = server.connect();
    gone.write_all(&[0, 0, 0, 10, b'h', b'a'])
        .expect("half a frame");
    gone.shutdown(Direction::Write).expect("FIN mid-frame");
    assert_eq!(
        read_all(&mut gone),
        Ok(Vec::new()),
        "the server closes without a reply"
    );

    assert_eq!(
        server.exchange(&encode_frame(b"whole")),
        Ok(encode_frame(b"whole"))
    );
    server.stop();
}

#[test]
fn an_overlong_line_error_reaches_a_client_that_keeps_sending() {
    let server = Running::start(Config {
        max_line: 16,
        ..lines()
    });
    let mut rude = server.connect();
    // More than one read's worth, sent before reading anything: the server must not reset the
    // connection while the error line is on its way.
    rude.write_all(&[b'y'; 40_000]).expect("write");
    rude.shutdown(Direction::Write).expect("half-close");
    assert_eq!(
        read_all(&mut rude),
        Ok(b"error: message longer than 16 bytes\n".to_vec())
    );
    server.stop();
}

#[test]
fn a_client_that_pipelines_lines_is_not_mistaken_for_a_slow_one() {
    // Every read ends in the middle of the next line, but each line is complete 100 ms after it
    // began: well within the message timeout, for longer than the timeout in all.
    let server = Running::start(Config {
        message_timeout: Duration::from_millis(300),
        ..lines()
    });
    let mut c = server.connect();
    c.set_nodelay(true).expect("nodelay");
    c.write_all(b"a\nb").expect("write");
    for _ in 0..12 {
        std::thread::sleep(Duration::from_millis(100)); // the client's pace, not synchronisation
        c.write_all(b"\nb").expect("the server still reads");
    }
    c.write_all(b"\n").expect("write");
    c.shutdown(Direction::Write).expect("half-close");
    let mut expected = b"a\n".to_vec();
    expected.extend(b"b\n".repeat(13));
    assert_eq!(read_all(&mut c), Ok(expected));
    server.stop();
}

#[test]
fn a_client_that_never_reads_the_replies_is_dropped_at_the_write_timeout() {
    let server = Running::start(Config {
        write_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut greedy = server.connect();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Sends far more than the buffers hold and never reads the echo.
        let _ = tx.send(greedy.write_all(&vec![b'z'; 256 * 1024 * 1024]));
    });
    let sent = rx
        .recv_timeout(STEP)
        .expect("the server dropped the client within the time limit");
    assert!(
        sent.is_err(),
        "the client wrote everything: the server never stopped reading"
    );
    server.stop();
}

#[test]
fn a_client_that_keeps_sending_just_in_time_is_closed_at_the_end_of_its_lifetime() {
    // Each line arrives well within the idle and message timeouts; only the lifetime ends it.
    let server = Running::start(Config {
        idle_timeout: Duration::from_secs(5),
        message_timeout: Duration::from_secs(5),
        lifetime: Duration::from_millis(300),
        ..lines()
    });
    let mut client = server.connect();
    let started = Instant::now();
    let mut echoed = Vec::new();
    let mut buf = [0u8; 64];
    let closed = loop {
        if client.write_all(b"x\n").is_err() {
            break true;
        }
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break true,
            Ok(n) => echoed.extend_from_slice(&buf[..n]),
        }
        if started.elapsed() > STEP {
            break false;
        }
    };
    assert!(closed, "still open after {STEP:?}");
    assert!(
        echoed.starts_with(b"x\n"),
        "served before its lifetime ended: {echoed:?}"
    );
    server.stop();
}

#[test]
fn many_tiny_lines_in_one_write_are_all_echoed() {
    // 256 Ki empty lines: each read's replies go out in one write, not one write per line.
    let server = Running::start(lines());
    let request = vec![b'\n'; 256 * 1024];
    let mut client = server.connect();
    let writer = {
        let mut w = client.try_clone().expect("clone");
        let request = request.clone();
        std::thread::spawn(move || {
            w.write_all(&request).expect("write");
            w.shutdown(Direction::Write).expect("half-close");
        })
    };
    assert_eq!(read_all(&mut client).map(|r| r.len()), Ok(request.len()));
    writer.join().expect("writer");
    server.stop();
}
