//! Exercise 2: A bounded thread pool that drains on shutdown (solution).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

/// The answer of `try_execute` when the queue is full: the job was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

// ANCHOR: solution
type Job = Box<dyn FnOnce() + Send + 'static>;

/// What the pool's handle and its workers share: the waiting jobs, and whether the pool is
/// shutting down, under one lock, with a condition variable to wake a worker.
struct Queue {
    state: Mutex<State>,
    job_or_shutdown: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    shutting_down: bool,
}

pub struct ThreadPool {
    queue: Arc<Queue>,
    capacity: usize,
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    /// Starts `workers` threads that share a queue of at most `queue` waiting jobs.
    pub fn new(workers: usize, queue: usize) -> ThreadPool {
        let shared = Arc::new(Queue {
            state: Mutex::new(State {
                jobs: VecDeque::with_capacity(queue),
                shutting_down: false,
            }),
            job_or_shutdown: Condvar::new(),
        });
        let workers = (0..workers)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || work(&shared))
            })
            .collect();
        ThreadPool {
            queue: shared,
            capacity: queue,
            workers,
        }
    }

    /// Queues `job` for a worker, or refuses it when `queue` jobs are already waiting.
    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        let mut state = lock(&self.queue.state);
        if state.jobs.len() >= self.capacity {
            return Err(Full); // `job` is dropped, not run
        }
        state.jobs.push_back(Box::new(job));
        // One job: one worker to wake.
        self.queue.job_or_shutdown.notify_one();
        Ok(())
    }

    /// Takes no new jobs, lets every queued and running job finish, and joins the workers.
    pub fn shutdown(self) {
        // `self` is moved in: nobody can call `try_execute` any more.
        lock(&self.queue.state).shutting_down = true;
        // Every worker must wake, see the flag, finish the queue, and leave.
        self.queue.job_or_shutdown.notify_all();
        for worker in self.workers {
            // A worker never panics (jobs run under catch_unwind), so `join` is Ok.
            let _ = worker.join();
        }
    }
}

/// A worker's life: take the next job, run it, until the pool shuts down and the queue is
/// empty.
fn work(queue: &Queue) {
    loop {
        let job = {
            let mut state = lock(&queue.state);
            loop {
                if let Some(job) = state.jobs.pop_front() {
                    break job;
                }
                if state.shutting_down {
                    return;
                }
                // Releases the lock while waiting; a spurious wake-up just loops.
                state = queue
                    .job_or_shutdown
                    .wait(state)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }; // the lock is released here: the job runs while others take jobs
        // A panicking job unwinds to here, not out of the worker: the pool keeps its size.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            eprintln!("thread pool: a job panicked; the worker carries on");
        }
    }
}

/// No job runs under this lock, so a poisoned lock still holds a consistent queue.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
// ANCHOR_END: solution
