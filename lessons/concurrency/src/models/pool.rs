//! The pool model: a fixed set of worker threads, fed by a bounded queue of connections.
//!
//! [`Config::workers`] threads start once, with the server. The accept loop puts each new
//! connection at the end of a queue; a free worker takes the oldest and serves it with the
//! iterative model's [`Connection`].
//!
//! **Cost.** Fixed, whatever the load: `workers` threads, and at most [`Config::queue`]
//! connections waiting for one. The queue is bounded on purpose. An unbounded queue turns a
//! burst into unbounded memory, and into waits so long that the clients behind it give up
//! anyway; so when the queue is full the accept loop answers `503 Service Unavailable` with
//! `Retry-After` at once: a clear refusal that a client, or a load balancer, can act on,
//! instead of a connection that hangs.
//!
//! **Fairness.** A keep-alive connection stays open between requests, and a worker that
//! waited in `read` for its next request would be lost to every other connection
//! meanwhile. So no step of a connection waits long: each wait in [`Connection::step`]
//! lasts at most the time it is given, for a read, a write or the closing linger alike,
//! and what is left goes on at the connection's next step. After every step (an answer, a
//! piece of a request, or a wait with nothing new), a worker that finds others waiting puts
//! its connection at the end of the queue and takes the oldest. While others wait, each
//! wait is a [`TURN`] (a step waits at most once for bytes and once to write); alone, a
//! [`TICK`](super::iterative::TICK). A slowloris, a client that never reads our answers,
//! and a silent keep-alive connection each cost a worker a turn or two per round: none of
//! them can hold it.
//!
//! **Workers.** One per core by default, as the async model and axum have. Since nothing
//! holds a worker, it sleeps only when its connection is silent; more workers than cores
//! would take turns for the same cores, and each turn would cost a context switch. With 64
//! workers for 64 busy connections, every worker sleeps in `read` after each answer, as
//! under thread per connection; with one per core, a worker that has answered usually finds
//! the next connection's request already there.
//!
//! **The limit.** A blocking read waits for one socket, so the workers take turns looking
//! at the silent connections, a turn each, and a turn lasts up to the kernel's shortest
//! socket timeout (about 4 ms, see [`TURN`]). With 1,000 silent connections and 2 workers,
//! a request that arrives on one of them can wait for some 500 turns, a few seconds, before
//! a worker looks; and the silent connections nearly fill the queue (1,024 places by
//! default), so that a few more clients get `503`.
//! Only a model that waits for many sockets at once, the readiness loop or async tasks, gets
//! past that.
//!
//! **Right for.** Bounding a blocking server's threads and memory under load; work that is
//! mostly CPU. A database's connection pool is the same idea.
//!
//! **Panics.** A worker catches a panic while it serves a connection: that connection
//! closes, and the worker takes the next one. Without the catch, each panic would kill a
//! worker for good, and enough of them would leave a pool that accepts and never answers.
//!
//! **Shutdown.** The accept loop stops and closes the listener, then closes the queue. The
//! workers finish what is under way (reads look at the shutdown flag every
//! [`TICK`](super::iterative::TICK): idle connections close, a request under way gets the
//! drain timeout), take what is left in the queue (answering a request that has already
//! arrived, with `Connection: close`), and end once it is empty; `run` joins every one.

use std::collections::VecDeque;
use std::io;
use std::net::TcpListener;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::iterative::{Connection, Step, TICK, accept_failed};
use super::reachable;
use super::threads::turn_away;
use crate::{Config, Shutdown};

// ANCHOR: run
/// Serves HTTP on `listener` with `config.workers` threads until `shutdown` is triggered;
/// then lets the workers finish and joins them.
pub fn run(listener: TcpListener, shutdown: Shutdown, config: Config) -> io::Result<()> {
    shutdown.wake_by_connecting_to(reachable(listener.local_addr()?));
    let queue = Arc::new(Queue::new(config.queue.max(1)));
    let workers = start_workers(config.workers.max(1), &queue, &shutdown)?;
    while !shutdown.is_triggered() {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e);
                continue;
            }
        };
        if shutdown.is_triggered() {
            break; // the wake-up connection, or a client that came too late
        }
        let connection = Box::new(Connection::new(stream, peer, &config));
        if let Err(refused) = queue.push(connection) {
            let waiting = queue.capacity;
            eprintln!("{peer}: turned away with 503, {waiting} connections already waiting");
            turn_away(refused.into_stream());
        }
    }
    drop(listener); // from now on a new client is refused, not left waiting
    queue.close();
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}
// ANCHOR_END: run

/// Starts `count` workers on `queue`. If one cannot start, stops those that did.
fn start_workers(
    count: usize,
    queue: &Arc<Queue>,
    shutdown: &Shutdown,
) -> io::Result<Vec<JoinHandle<()>>> {
    let mut workers = Vec::with_capacity(count);
    for n in 0..count {
        let (queue_, shutdown) = (Arc::clone(queue), shutdown.clone());
        let started = thread::Builder::new()
            .name(format!("worker {n}")) // a panic message names the thread
            .spawn(move || work(&queue_, &shutdown));
        match started {
            Ok(worker) => workers.push(worker),
            Err(e) => {
                queue.close();
                for worker in workers {
                    let _ = worker.join();
                }
                return Err(io::Error::new(
                    e.kind(),
                    format!("could not start worker {n}: {e}"),
                ));
            }
        }
    }
    Ok(workers)
}

/// How long a worker waits on a silent connection while other connections wait for a
/// worker: as short as the kernel allows, because a request may be waiting on one of them.
/// (Linux rounds a socket's timeout up to a step of its clock: 4 ms where the clock steps
/// 250 times a second, as on the machine of the book's benchmark.) Alone, a worker waits a
/// [`TICK`].
const TURN: Duration = Duration::from_millis(1);

// ANCHOR: work
/// One worker: serves connections from the queue until it is closed and empty. After each
/// step (an answer, a piece of a request, or a wait with nothing new) it takes turns with
/// the connections waiting, if there are any.
fn work(queue: &Queue, shutdown: &Shutdown) {
    while let Some((mut connection, mut others)) = queue.pop() {
        loop {
            let peer = connection.peer();
            let wait = if others { TURN } else { TICK };
            // A panic while serving ends this connection, not the worker. AssertUnwindSafe:
            // a panic may leave the connection half-updated, so after one it is dropped
            // (closing its socket) and never used again; and the queue is not touched
            // inside.
            let step = panic::catch_unwind(AssertUnwindSafe(|| connection.step(shutdown, wait)));
            match step {
                Err(_) => {
                    eprintln!("{peer}: panicked; connection closed, the worker goes on");
                    break;
                }
                Ok(Step::Closed) => break,
                Ok(Step::Read | Step::Waited) => {
                    (connection, others) = queue.take_turns(connection)
                }
            }
        }
    }
}
// ANCHOR_END: work

// ANCHOR: queue
/// A bounded first-in, first-out queue of connections, shared by the accept loop and the
/// workers: a `VecDeque` behind a `Mutex`, and a `Condvar` on which idle workers sleep.
struct Queue {
    state: Mutex<QueueState>,
    /// Signalled when a connection is added, or the queue closes.
    ready: Condvar,
    capacity: usize,
}

struct QueueState {
    /// Boxed, so that moving one in and out (after every answer) moves a pointer.
    waiting: VecDeque<Box<Connection>>,
    closed: bool,
}

impl Queue {
    fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::new(QueueState {
                waiting: VecDeque::with_capacity(capacity),
                closed: false,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    /// Adds `connection` at the end, or gives it back if the queue is full or closed.
    fn push(&self, connection: Box<Connection>) -> Result<(), Box<Connection>> {
        let mut state = self.lock();
        if state.closed || state.waiting.len() >= self.capacity {
            return Err(connection);
        }
        state.waiting.push_back(connection);
        drop(state); // the woken worker needs the lock
        self.ready.notify_one();
        Ok(())
    }

    /// Takes the oldest connection, sleeping until there is one, and says whether others
    /// still wait; `None` once the queue is closed and empty.
    fn pop(&self) -> Option<(Box<Connection>, bool)> {
        let mut state = self.lock();
        loop {
            if let Some(connection) = state.waiting.pop_front() {
                return Some((connection, !state.waiting.is_empty()));
            }
            if state.closed {
                return None;
            }
            // Releases the lock while it sleeps; wakes by `notify` (or spuriously).
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Fairness: if other connections wait, puts `current` at the end of the queue and
    /// returns the oldest one, and `true` (others still wait); else returns `current` and
    /// `false`. One step under one lock, so the queue never holds more than its capacity.
    fn take_turns(&self, current: Box<Connection>) -> (Box<Connection>, bool) {
        let mut state = self.lock();
        match state.waiting.pop_front() {
            Some(next) => {
                state.waiting.push_back(current);
                (next, true)
            }
            None => (current, false),
        }
    }

    /// No more connections come in; the workers empty the queue and end.
    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// A poisoned lock would only mean a panic while it was held, which the code above
    /// never allows; the queue is still whole.
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: queue
