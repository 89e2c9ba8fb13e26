//! Exercise 3: A who-am-I server.
//!
//! Accept connections on `listener` forever. Send each client one line, `you are <ADDR>\n`, where
//! `<ADDR>` is the client's address as the server sees it (for example `you are
//! 127.0.0.1:51234\n`), then close that connection. A client that misbehaves (it disconnects at
//! once, or resets) must not stop the server: log it on stderr and serve the next one.
//!
//! Check your work: `cargo exercise sockets ex3`.

use std::io;
use std::net::TcpListener;

pub fn serve(listener: TcpListener) -> io::Result<()> {
    todo!(
        "greet every client that connects to {}",
        listener.local_addr()?
    )
}
