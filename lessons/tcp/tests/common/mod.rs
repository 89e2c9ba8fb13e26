//! What the TCP tests share: the lesson's server run in-process on `127.0.0.1:0`.

#![allow(dead_code)] // each test file uses its own part

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown as Direction, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use tcp::server::{self, Config};
use tcp::shutdown::Shutdown;

/// How long a test waits for any one step: the test kit's, for every network test.
pub const STEP: Duration = course_testkit::net::STEP_TIMEOUT;

pub struct Running {
    pub addr: SocketAddr,
    shutdown: Shutdown,
    /// Receives what `run` returned, when it returns.
    done: Receiver<std::io::Result<()>>,
}

impl Running {
    pub fn start(config: Config) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = Shutdown::new();
        let handle = shutdown.clone();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || tx.send(server::run(listener, handle, config)));
        Running {
            addr,
            shutdown,
            done,
        }
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, STEP).expect("connect");
        stream.set_read_timeout(Some(STEP)).expect("timeout");
        stream
    }

    /// Connects, sends `request` in one write, half-closes, and returns everything the server
    /// sends back until it closes (or the error kind if it resets).
    pub fn exchange(&self, request: &[u8]) -> Result<Vec<u8>, ErrorKind> {
        let mut c = self.connect();
        c.write_all(request).expect("write");
        c.shutdown(Direction::Write).expect("half-close");
        read_all(&mut c)
    }

    /// Stops the server and checks that `run` returned `Ok` within `STEP`.
    pub fn stop(self) {
        self.shutdown.trigger();
        match self.done.recv_timeout(STEP) {
            Ok(result) => result.expect("run returns Ok"),
            Err(e) => panic!("the server did not stop within {STEP:?}: {e}"),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// Reads until the server closes; the error kind if it resets instead.
pub fn read_all(stream: &mut TcpStream) -> Result<Vec<u8>, ErrorKind> {
    let mut got = Vec::new();
    stream.read_to_end(&mut got).map_err(|e| e.kind())?;
    Ok(got)
}
