//! Wrong on purpose, exercise 2: the shape of a pool without one: every job refused, and a
//! shutdown with nothing to wait for.
//!
//! Must fail: runs_every_job, runs_at_most_workers_jobs_at_once, refuses_a_job_when_the_queue_is_full, shutdown_finishes_every_job, shutdown_joins_every_worker, a_panicking_job_does_not_shrink_the_pool

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

pub struct ThreadPool {}

impl ThreadPool {
    pub fn new(_workers: usize, _queue: usize) -> ThreadPool {
        ThreadPool {}
    }

    pub fn try_execute(&self, _job: impl FnOnce() + Send + 'static) -> Result<(), Full> {
        Err(Full)
    }

    pub fn shutdown(self) {}
}
