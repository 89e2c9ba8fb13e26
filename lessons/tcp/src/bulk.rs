//! Bulk transfer: how fast a plain copy loop moves bytes over loopback, and why the buffer size
//! matters. Each `write` and `read` is a system call; with small buffers the program spends its
//! time entering and leaving the kernel instead of copying.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// What a transfer achieved.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Transfer {
    /// Throughput in bits per second, the unit iperf3 reports.
    pub fn bits_per_second(&self) -> f64 {
        self.bytes as f64 * 8.0 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

// ANCHOR: transfer
/// Sends bytes over a loopback connection for `duration`, writing and reading `buffer` bytes at a
/// time, and reports how many bytes the receiver got and how long it took.
pub fn transfer(duration: Duration, buffer: usize) -> io::Result<Transfer> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> io::Result<u64> {
        let (mut conn, _) = listener.accept()?;
        let mut buf = vec![0u8; buffer];
        let mut received = 0u64;
        loop {
            match conn.read(&mut buf)? {
                0 => return Ok(received), // the sender is done
                n => received += n as u64,
            }
        }
    });

    let mut sender = TcpStream::connect(addr)?;
    let chunk = vec![0x5au8; buffer];
    let started = Instant::now();
    while started.elapsed() < duration {
        sender.write_all(&chunk)?;
    }
    sender.shutdown(Shutdown::Write)?;
    let bytes = receiver
        .join()
        .map_err(|_| io::Error::other("the receiver panicked"))??;
    Ok(Transfer {
        bytes,
        elapsed: started.elapsed(),
    })
}
// ANCHOR_END: transfer

/// The largest buffer `parse_size` accepts: big enough to show the trend, small enough to allocate.
pub const MAX_BUFFER: usize = 64 << 20;

/// Parses a size such as `4096`, `64K` or `1M` (K = 1024 bytes), at most [`MAX_BUFFER`].
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let number: usize = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size such as 4096, 64K or 1M"))?;
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        _ => return Err(format!("unknown unit in {text:?}: use K or M")),
    };
    match number.checked_mul(factor) {
        Some(size @ 1..=MAX_BUFFER) => Ok(size),
        _ => Err(format!("{text:?}: the size must be between 1 byte and 64M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1m"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("100000M").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn a_short_transfer_delivers_every_byte_sent() {
        let t = transfer(Duration::from_millis(50), 4096).expect("loopback works");
        assert!(t.bytes > 0 && t.bytes.is_multiple_of(4096), "{t:?}");
        assert!(t.bits_per_second() > 0.0);
    }
}
