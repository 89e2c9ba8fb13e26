//! Runs your exercise 3 server (`exercises/ex3_whoami.rs`) so you can try it by hand:
//!
//!     cargo run -p sockets --example whoami
//!
//! then, in a second terminal, connect to the port it prints: `nc 127.0.0.1 <port>`.
//! An optional argument sets the address: `cargo run -p sockets --example whoami -- 127.0.0.1:7878`.

use std::net::TcpListener;
use std::process::ExitCode;

#[path = "../exercises/ex3_whoami.rs"]
mod whoami;

fn main() -> ExitCode {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = match TcpListener::bind(&addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: could not bind {addr}: {e}");
            eprintln!("hint: pass a free address, or none to let the OS pick a port");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}"),
        Err(e) => eprintln!("warning: could not read the bound address: {e}"),
    }
    match whoami::serve(listener) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: the server stopped: {e}");
            ExitCode::FAILURE
        }
    }
}
