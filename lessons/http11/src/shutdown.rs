//! A shutdown signal for a blocking server.
//!
//! A thread blocked in `accept` cannot be interrupted portably. So [`Shutdown::trigger`] sets a
//! flag *and* connects to the listener once: that connection wakes `accept`, and the server sees
//! the flag before it serves the connection.

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ANCHOR: shutdown
/// Cloneable handle: one clone goes to the server, another to whoever stops it (a Ctrl-C
/// handler, a test).
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    triggered: AtomicBool,
    /// Where to connect to wake the server's `accept`, once the server has said so.
    wake_addr: Mutex<Option<SocketAddr>>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the server to stop: it stops accepting, closes its clients' connections and
    /// returns.
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        let wake = *self
            .inner
            .wake_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(addr) = wake {
            // Only to wake `accept`; if it fails, the server is not in `accept` anyway.
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Called by the server before it first blocks in `accept`.
    pub fn wake_by_connecting_to(&self, addr: SocketAddr) {
        *self
            .inner
            .wake_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(addr);
    }
}
// ANCHOR_END: shutdown
