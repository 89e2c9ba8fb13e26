//! Wrong on purpose, exercise 2: `while let Ok(job) = receiver.lock().unwrap().recv()` keeps the
//! lock for the whole loop body (a `while let` keeps its scrutinee's temporaries until the body
//! ends), so a worker runs its job while holding the queue, and the workers run one at a time.
//!
//! Must fail: runs_at_most_workers_jobs_at_once, refuses_a_job_when_the_queue_is_full, shutdown_finishes_every_job, a_panicking_job_does_not_shrink_the_pool

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct ThreadPool {
    sender: SyncSender<Job>,
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    pub fn new(workers: usize, queue: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(receiver));
        let workers = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                std::thread::spawn(move || {
                    while let Ok(job) = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv() {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })
            })
            .collect();
        ThreadPool { sender, workers }
    }

    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        match self.sender.try_send(Box::new(job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Full),
        }
    }

    pub fn shutdown(self) {
        drop(self.sender);
        for worker in self.workers {
            let _ = worker.join();
        }
    }
}
