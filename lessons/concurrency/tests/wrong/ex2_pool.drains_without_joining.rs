//! Wrong on purpose, exercise 2: `shutdown` waits until every job has finished, counting them,
//! but never joins the workers: it returns while their threads are still ending, so whatever
//! they hold (and their destructors) outlives the pool.
//!
//! Must fail: shutdown_joins_every_worker

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct ThreadPool {
    sender: SyncSender<Job>,
    /// Jobs accepted and not yet finished.
    unfinished: Arc<(Mutex<usize>, Condvar)>,
}

impl ThreadPool {
    pub fn new(workers: usize, queue: usize) -> ThreadPool {
        let (sender, receiver) = mpsc::sync_channel::<Job>(queue);
        let receiver: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(receiver));
        let unfinished = Arc::new((Mutex::new(0), Condvar::new()));
        for _ in 0..workers {
            let receiver = Arc::clone(&receiver);
            let unfinished = Arc::clone(&unfinished);
            std::thread::spawn(move || {
                loop {
                    let job = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(job) = job else { return };
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    let (count, changed) = &*unfinished;
                    *count.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
                    changed.notify_all();
                }
            });
        }
        ThreadPool { sender, unfinished }
    }

    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        let (count, _) = &*self.unfinished;
        let mut count = count.lock().unwrap_or_else(|p| p.into_inner());
        match self.sender.try_send(Box::new(job)) {
            Ok(()) => {
                *count += 1;
                Ok(())
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Full),
        }
    }

    pub fn shutdown(self) {
        drop(self.sender);
        let (count, changed) = &*self.unfinished;
        let count = count.lock().unwrap_or_else(|p| p.into_inner());
        drop(changed.wait_while(count, |n| *n > 0));
    }
}
