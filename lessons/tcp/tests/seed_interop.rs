//! Our TCP programs and the seed tutorial's Python ones (`seed/client.py`, `seed/server.py`,
//! unchanged) talk to each other, in both directions.

use std::path::{Path, PathBuf};
use std::process::Command;

use course_testkit::process::{ServerProcess, require};
use tcp::server::Config;

mod common;
use common::{Running, STEP};

fn seed(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seed")
        .join(file)
}

/// `python3 seed/on_port.py PORT seed/PROGRAM`: the seed program with 8080 replaced by PORT.
fn seed_program(python: &Path, port: u16, program: &str) -> Command {
    let mut command = Command::new(python);
    command
        .arg(seed("on_port.py"))
        .arg(port.to_string())
        .arg(seed(program));
    command
}

#[test]
fn the_seed_client_talks_to_our_server() {
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let server = Running::start(Config::default());
    let output = seed_program(&python, server.addr.port(), "client.py")
        .output()
        .expect("python3 runs");
    server.stop();
    assert!(
        output.status.success(),
        "client.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Hello, world!\n");
}

#[test]
fn our_client_talks_to_the_seed_server() {
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let seed_server =
        ServerProcess::start(seed_program(&python, 0, "server.py")).expect("server.py listens");
    let reply = tcp::client::exchange(&[seed_server.addr], b"Hello from Rust", STEP, 4096)
        .expect("the exchange works");
    assert_eq!(reply, b"Hello, world!");
    let (status, stderr) = seed_server
        .wait()
        .expect("server.py exits after one client");
    assert!(status.success(), "server.py failed: {stderr}");
}

#[test]
fn the_seed_server_resets_a_client_that_sends_more_than_it_reads() {
    // server.py reads at most 1024 bytes, replies and closes; with bytes left unread, its close
    // sends RST, and our client sees a reset instead of the end of the reply.
    let Some(python) = require("python3", "apt-get install python3") else {
        return;
    };
    let seed_server =
        ServerProcess::start(seed_program(&python, 0, "server.py")).expect("server.py listens");
    let result = tcp::client::exchange(&[seed_server.addr], &[b'x'; 4096], STEP, 4096);
    let err = result.expect_err("the connection is reset");
    // Usually met while reading the reply; if the reset comes first, while still sending.
    use std::io::ErrorKind::{BrokenPipe, ConnectionReset, NotConnected};
    assert!(
        matches!(
            err.source.kind(),
            ConnectionReset | BrokenPipe | NotConnected
        ),
        "{err}: {}",
        err.source
    );
    let _ = seed_server.wait();
}
