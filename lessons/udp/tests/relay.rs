//! The lesson's client through the lesson's lossy relay: every request gets its own answer,
//! although the relay (with a fixed seed) drops, duplicates and delays datagrams both ways.

use std::net::UdpSocket;
use std::time::Duration;

use udp::client::{Client, Event, Retry};
use udp::relay::{Faults, Log, RunningRelay};
use udp::shutdown::Shutdown;

#[test]
fn every_request_gets_its_own_answer_through_loss_duplicates_and_delay() {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the echo server");
    let server = socket.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let echo = std::thread::spawn(move || udp::server::run(socket, stop));

    let faults = Faults {
        drop: 0.3,
        duplicate: 0.3,
        delay: Duration::from_millis(40),
        seed: 11,
    };
    let relay = RunningRelay::start(server, faults, Log::Off).expect("start the relay");
    let retry = Retry {
        first_timeout: Duration::from_millis(100),
        attempts: 8,
        ..Retry::default()
    };
    let mut client = Client::connect(relay.addr, retry, 11).expect("a client socket");
    let (mut retries, mut discarded) = (0, 0);
    for i in 0..20 {
        let payload = format!("request {i}");
        let reply = client
            .request(payload.as_bytes(), |event| {
                if let Event::Discarded { .. } = event {
                    discarded += 1;
                }
            })
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(reply.payload, payload.as_bytes(), "request {i}");
        retries += reply.attempts - 1;
    }
    let stats = relay.stop().expect("the relay stops cleanly");
    shutdown.trigger();
    let served = echo.join().expect("no panic").expect("no error");

    // The faults really happened, and the client really worked around them.
    assert!(stats.dropped > 0 && stats.duplicated > 0, "{stats:?}");
    assert!(retries > 0, "no request needed a retry: {stats:?}");
    assert!(
        discarded > 0,
        "no late or duplicate reply was discarded: {stats:?}"
    );
    assert!(served.echoed >= 20, "{served:?}");
}
