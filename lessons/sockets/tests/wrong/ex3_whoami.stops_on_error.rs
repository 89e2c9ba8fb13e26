//! Wrong on purpose, exercise 3: A who-am-I server that stops at the first client that fails.
//!
//! Must fail: survives_a_client_that_resets, survives_a_client_that_leaves_at_once

use std::io::{self, Write};
use std::net::TcpListener;

pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        let mut stream = connection?;
        let peer = stream.peer_addr()?;
        // `writeln!` makes several writes; `shutdown` reports a connection the peer already reset.
        writeln!(stream, "you are {peer}")?;
        stream.shutdown(std::net::Shutdown::Both)?;
    }
    Ok(())
}
