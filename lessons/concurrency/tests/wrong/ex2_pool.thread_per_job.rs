//! Wrong on purpose, exercise 2: a thread per job, which is no pool: nothing bounds how many run
//! at once, and nothing is ever refused.
//!
//! Must fail: runs_at_most_workers_jobs_at_once, refuses_a_job_when_the_queue_is_full

use std::sync::Mutex;
use std::thread::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

pub struct ThreadPool {
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl ThreadPool {
    pub fn new(_workers: usize, _queue: usize) -> ThreadPool {
        ThreadPool {
            threads: Mutex::new(Vec::new()),
        }
    }

    pub fn try_execute(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        let thread = std::thread::spawn(move || {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
        });
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(thread);
        Ok(())
    }

    pub fn shutdown(self) {
        for thread in self.threads.into_inner().unwrap_or_else(|p| p.into_inner()) {
            let _ = thread.join();
        }
    }
}
