// Does NOT compile, on purpose: a std `MutexGuard` held across an `.await` in a spawned task.
// rustc: "future cannot be sent between threads safely". (The chapter explains why.)
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ANCHOR: wrong
async fn visit(visits: Arc<Mutex<u64>>) {
    let mut count = visits.lock().unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await; // the guard is still alive here
    *count += 1;
} // the guard drops here, after the await
// ANCHOR_END: wrong

#[tokio::main]
async fn main() {
    let visits = Arc::new(Mutex::new(0));
    tokio::spawn(visit(Arc::clone(&visits))).await.unwrap();
}
