//! Exercise 3: A who-am-I server (solution).

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};

// ANCHOR: solution
pub fn serve(listener: TcpListener) -> io::Result<()> {
    for connection in listener.incoming() {
        // One client's failure is that client's problem: log it and keep serving.
        match connection {
            Ok(stream) => {
                if let Err(e) = greet(stream) {
                    eprintln!("whoami: a client went away: {e}");
                }
            }
            Err(e) => eprintln!("whoami: accept failed: {e}"),
        }
    }
    Ok(())
}

fn greet(mut stream: TcpStream) -> io::Result<()> {
    let peer = stream.peer_addr()?; // fails if the client already reset the connection
    stream.write_all(format!("you are {peer}\n").as_bytes())
    // `stream` is dropped here, which closes the connection: the client reads end of stream.
}
// ANCHOR_END: solution
