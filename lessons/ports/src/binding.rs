//! Binding a port: what fails, and what the options change.

use std::io::{self, Write};

pub fn in_use(_out: &mut impl Write) -> io::Result<()> {
    Ok(())
}

pub fn reuse(_out: &mut impl Write) -> io::Result<()> {
    Ok(())
}

pub fn privileged(_out: &mut impl Write) -> io::Result<()> {
    Ok(())
}

pub fn interfaces(_out: &mut impl Write) -> io::Result<()> {
    Ok(())
}
