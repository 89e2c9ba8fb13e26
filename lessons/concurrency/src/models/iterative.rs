//! (being built)

use std::io;
use std::net::TcpListener;

use crate::{Config, Shutdown};

pub fn run(_listener: TcpListener, _shutdown: Shutdown, _config: Config) -> io::Result<()> {
    Err(io::Error::other("the iterative model is not built yet"))
}
