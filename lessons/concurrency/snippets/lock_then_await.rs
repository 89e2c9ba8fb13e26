// Compiles and runs: the two ways to hold no std lock across an `.await`.
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ANCHOR: block
/// Fix 1: lock in a block of its own. The guard drops at the block's end, before the await.
async fn visit(visits: Arc<Mutex<u64>>) -> u64 {
    let count = {
        let mut count = visits.lock().unwrap();
        *count += 1;
        *count
    }; // unlocked here
    tokio::time::sleep(Duration::from_millis(10)).await; // no lock held while waiting
    count
}
// ANCHOR_END: block

// ANCHOR: async_mutex
/// Fix 2: when the lock must be held while waiting, an async lock: its `lock().await` lets the
/// thread run other tasks instead of blocking it, and its guard may cross an await.
async fn visit_slowly(visits: Arc<tokio::sync::Mutex<u64>>) -> u64 {
    let mut count = visits.lock().await;
    tokio::time::sleep(Duration::from_millis(10)).await; // still locked, and that is fine
    *count += 1;
    *count
}
// ANCHOR_END: async_mutex

#[tokio::main]
async fn main() {
    let visits = Arc::new(Mutex::new(0));
    let first = tokio::spawn(visit(Arc::clone(&visits))).await.unwrap();
    let slow = Arc::new(tokio::sync::Mutex::new(0));
    let second = tokio::spawn(visit_slowly(Arc::clone(&slow))).await.unwrap();
    assert_eq!((first, second), (1, 1));
}
