//! Exercise 2: A bounded thread pool that drains on shutdown.
//!
//! A thread per client, as in exercise 1, lets ten thousand clients start ten thousand
//! threads. A pool caps that: `workers` threads, started once, take jobs from a queue that
//! holds at most `queue` jobs waiting for a worker (both are at least 1).
//!
//! - `try_execute` queues a job and returns at once, without waiting for it to run. When
//!   `queue` jobs are already waiting, it refuses the job with `Err(Full)`: a server turns
//!   that into a quick "busy" answer instead of an ever longer line.
//! - At most `workers` jobs run at the same time, and as many as that when there are jobs.
//! - A job that panics must not take its worker with it: the pool keeps `workers` threads.
//! - `shutdown` takes no new jobs, lets every queued and running job finish, waits until
//!   every worker thread has ended (`join`), and then returns.
//!
//! Check your work: `cargo exercise concurrency ex2`.

/// The answer of `try_execute` when the queue is full: the job was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

pub struct ThreadPool {
    // Add the fields you need: the queue, what the workers wait on, their JoinHandles.
}

impl ThreadPool {
    /// Starts `workers` threads that share a queue of at most `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> ThreadPool {
        todo!("start {workers} workers, with room for {queue} waiting jobs")
    }

    /// Queues `job` for a worker, or refuses it when `queue` jobs are already waiting.
    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        todo!("queue the job for a worker, or refuse it with Err(Full)")
    }

    /// Takes no new jobs, lets every queued and running job finish, and joins the workers.
    pub fn shutdown(self) {
        todo!("let every job finish, then join every worker")
    }
}
