//! Wrong on purpose, exercise 2: a good pool whose `shutdown` only closes the queue and
//! returns: the jobs still queued or running finish (or not) after it, and the workers live on.
//!
//! Must fail: shutdown_finishes_every_job, shutdown_joins_every_worker

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct ThreadPool {
    sender: SyncSender<Job>,
    _workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    pub fn new(workers: usize, queue: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(receiver));
        let workers = (0..workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                std::thread::spawn(move || {
                    loop {
                        let job = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                            }
                            Err(_) => return,
                        }
                    }
                })
            })
            .collect();
        ThreadPool {
            sender,
            _workers: workers,
        }
    }

    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        match self.sender.try_send(Box::new(job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Full),
        }
    }

    pub fn shutdown(self) {
        drop(self.sender); // the workers leave once the queue is empty; nobody waits for them
    }
}
