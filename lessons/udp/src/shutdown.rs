//! A shutdown signal for a blocking UDP server.
//!
//! A thread blocked in `recv_from` cannot be interrupted portably. So [`Shutdown::trigger`]
//! sets a flag *and* sends the server one empty datagram: it wakes `recv_from`, and the server
//! sees the flag before it answers. (The TCP lesson does the same with a connection.)

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

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
    /// Where to send the datagram that wakes the server, once the server has said so.
    wake_addrs: Mutex<Vec<SocketAddr>>,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the server to stop: it returns after the datagram it is waiting for.
    pub fn trigger(&self) {
        self.inner.triggered.store(true, Ordering::SeqCst);
        let wake = self
            .inner
            .wake_addrs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for addr in wake {
            // Only to wake `recv_from`; if it fails, the server is not waiting anyway.
            if let Ok(socket) = UdpSocket::bind(crate::any_port_for(addr)) {
                let _ = socket.send_to(&[], addr);
            }
        }
    }

    pub fn is_triggered(&self) -> bool {
        self.inner.triggered.load(Ordering::SeqCst)
    }

    /// Called by a server on a socket bound to `addr`, before it first checks
    /// [`Shutdown::is_triggered`] and blocks in `recv_from`. Either `trigger` then sees the
    /// address, or the server sees the flag: a trigger is never lost.
    pub fn wake_by_sending_to(&self, addr: SocketAddr) {
        let addr = crate::reachable(addr);
        self.inner
            .wake_addrs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(addr);
    }
}
// ANCHOR_END: shutdown
