//! Sharing state between threads: three right ways to count visits, and the wrong way to
//! hold a lock in async code.
//!
//! A server runs each connection on a thread or a task of its own, and some state belongs to
//! all of them: a visit counter, the names in a chat room. Two threads that update the same
//! memory without coordination lose updates, and Rust refuses to compile that: shared data
//! must be behind something that makes each update whole. This module counts
//! `threads × increments` visits three ways, and each total is exact:
//!
//! - [`count_with_mutex`]: a map behind a lock, `Arc<Mutex<HashMap<String, u64>>>`. A
//!   thread locks, updates, unlocks. Simple and general; threads take turns at the lock.
//! - [`count_with_atomic`]: one number, an [`AtomicU64`]. Each update is one indivisible
//!   instruction, no lock; only for state that fits in one machine word.
//! - [`count_with_channel`]: one thread owns the map, and the others send it [`Command`]s
//!   (the "actor" style). Nothing is shared, so nothing is locked; a read is a command that
//!   carries a channel for the answer.
//!
//! `cargo run -p concurrency -- state` runs the three and prints how long each took.
//!
//! # A lock and `.await`
//!
//! In async code, a task gives its thread back at every `.await`, and the runtime runs
//! another task on that thread. A `std::sync::Mutex` blocks the thread that waits for it. So a
//! task that holds a std lock across an `.await` can deadlock: while it is parked, another
//! task on the same thread asks for the lock and blocks the thread, and the first task, which
//! would release the lock, needs that same thread to run again. On a runtime with a few
//! worker threads, a few such waits block them all.
//!
//! Rust stops the common case at compile time. `tokio::spawn` may move a task between
//! threads, so it requires a `Send` future, and a `std::sync::MutexGuard` is not `Send` (a
//! lock must be released by the thread that took it). A guard alive across an `.await` is
//! part of the future, so the future is not `Send`, and this does not compile; rustc says
//! "future cannot be sent between threads safely" and points at the `.await` and the guard:
//!
//! ```compile_fail
#![doc = include_str!("../snippets/lock_across_await.rs")]
//! ```
//!
//! The fixes: end the guard's scope before the `.await` (a block of its own), or, when the
//! lock really must stay held while waiting, use `tokio::sync::Mutex`, whose `lock().await`
//! parks the task instead of blocking the thread:
//!
//! ```
#![doc = include_str!("../snippets/lock_then_await.rs")]
//! ```
//!
//! The compiler does not catch everything: a single-threaded runtime (`block_on`, a
//! `LocalSet`) needs no `Send`, and there the same code compiles and deadlocks
//! (`tests/state.rs` shows it). The rule is simpler than the cases: never hold a std lock
//! across an `.await`. The chat room ([`crate::chat`]) locks only inside small functions that
//! are not async, so no caller can.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The pages the counting threads visit: thread `t` visits `PAGES[t % 4]`.
pub const PAGES: [&str; 4] = ["/", "/about", "/chat", "/news"];

/// What a count found, and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// The visits counted over every page: `threads × increments` when no update is lost.
    pub total: u64,
    /// From the first thread's start to the total being known.
    pub elapsed: Duration,
}

// ANCHOR: mutex
/// Every page's visits, behind one lock, shared by every thread.
pub type Visits = Arc<Mutex<HashMap<String, u64>>>;

/// Records one visit: lock, update, unlock. The guard drops when the function returns, so
/// the lock is held for one map update and nothing else: no I/O and no waiting under a lock.
pub fn record(visits: &Mutex<HashMap<String, u64>>, page: &str) {
    // A thread that panics while it holds the lock "poisons" it. A counter is whole after
    // every single update, so the map is still good: take it anyway.
    let mut map = visits.lock().unwrap_or_else(PoisonError::into_inner);
    match map.get_mut(page) {
        Some(count) => *count += 1,
        None => {
            map.insert(page.to_owned(), 1); // the first visit allocates the key
        }
    }
}

/// `threads` threads record `increments` visits each, in one locked map.
pub fn count_with_mutex(threads: usize, increments: u64) -> io::Result<Counted> {
    let started = Instant::now();
    let visits: Visits = Arc::default();
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let visits = Arc::clone(&visits); // one more owner of the same map
        let page = PAGES[t % PAGES.len()];
        handles.push(spawn(move || {
            for _ in 0..increments {
                record(&visits, page);
            }
        })?);
    }
    join_all(handles);
    let map = visits.lock().unwrap_or_else(PoisonError::into_inner);
    let total = map.values().sum();
    Ok(Counted {
        total,
        elapsed: started.elapsed(),
    })
}
// ANCHOR_END: mutex

// ANCHOR: atomic
/// `threads` threads add `increments` visits each to one atomic counter.
pub fn count_with_atomic(threads: usize, increments: u64) -> io::Result<Counted> {
    let started = Instant::now();
    let visits = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::with_capacity(threads);
    for _ in 0..threads {
        let visits = Arc::clone(&visits);
        handles.push(spawn(move || {
            for _ in 0..increments {
                // One indivisible read-add-write. `Relaxed`: no other memory is published
                // through this counter; joining the threads makes the final value visible.
                visits.fetch_add(1, Ordering::Relaxed);
            }
        })?);
    }
    join_all(handles);
    Ok(Counted {
        total: visits.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    })
}
// ANCHOR_END: atomic

// ANCHOR: command
/// What the counting threads ask of the thread that owns the visits.
pub enum Command {
    /// Count one visit of this page.
    Visit(String),
    /// Send back the total over every page, on this channel.
    Total(mpsc::Sender<u64>),
}
// ANCHOR_END: command

// ANCHOR: owner
/// The owner: the only code that ever touches the map, so the map needs no lock. It serves
/// the commands one at a time, in the order they arrive, until every sender is gone.
pub fn own_visits(commands: mpsc::Receiver<Command>) {
    let mut visits: HashMap<String, u64> = HashMap::new();
    for command in commands {
        match command {
            Command::Visit(page) => *visits.entry(page).or_insert(0) += 1,
            Command::Total(reply) => {
                let _ = reply.send(visits.values().sum()); // the asker may have gone
            }
        }
    }
}
// ANCHOR_END: owner

// ANCHOR: channel
/// `threads` threads send `increments` visits each to one owner thread.
pub fn count_with_channel(threads: usize, increments: u64) -> io::Result<Counted> {
    let started = Instant::now();
    // Bounded: a sender waits while 1024 commands are queued, so an owner that falls behind
    // slows the senders down instead of letting the queue grow without limit.
    let (commands, inbox) = mpsc::sync_channel(1024);
    let owner = spawn(move || own_visits(inbox))?;
    let mut handles = Vec::with_capacity(threads);
    for t in 0..threads {
        let commands = commands.clone();
        let page = PAGES[t % PAGES.len()];
        handles.push(spawn(move || {
            for _ in 0..increments {
                if commands.send(Command::Visit(page.to_owned())).is_err() {
                    break; // the owner is gone
                }
            }
        })?);
    }
    join_all(handles); // every visit is queued before the question below
    let (reply, answer) = mpsc::channel();
    let asked = commands.send(Command::Total(reply));
    drop(commands); // the owner's loop ends once the last sender is dropped
    join_all(vec![owner]);
    let total = asked
        .ok()
        .and_then(|()| answer.recv().ok())
        .ok_or_else(|| io::Error::other("the owner thread did not answer"))?;
    Ok(Counted {
        total,
        elapsed: started.elapsed(),
    })
}
// ANCHOR_END: channel

/// Starts a named thread; the OS may refuse (a limit on threads), which is an error, not a
/// panic.
fn spawn(work: impl FnOnce() + Send + 'static) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name("counter".into()).spawn(work)
}

/// Waits for every thread; a thread's panic goes on in the caller (none of ours panics).
fn join_all(handles: Vec<JoinHandle<()>>) {
    for handle in handles {
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_counts_each_page() {
        let visits = Mutex::new(HashMap::new());
        record(&visits, "/");
        record(&visits, "/");
        record(&visits, "/about");
        let map = visits.lock().expect("not poisoned");
        assert_eq!(map.get("/"), Some(&2));
        assert_eq!(map.get("/about"), Some(&1));
    }

    #[test]
    fn the_owner_answers_a_total_after_the_visits_before_it() {
        let (commands, inbox) = mpsc::channel();
        let owner = thread::spawn(move || own_visits(inbox));
        for page in ["/", "/", "/news"] {
            commands
                .send(Command::Visit(page.into()))
                .expect("owner alive");
        }
        let (reply, answer) = mpsc::channel();
        commands.send(Command::Total(reply)).expect("owner alive");
        assert_eq!(answer.recv().expect("an answer"), 3);
        drop(commands);
        owner
            .join()
            .expect("the owner ends when the senders are gone");
    }
}
