//! Shared state: the three counters give exact totals, the `state` subcommand prints one line
//! for each, and a std lock held across an `.await` deadlocks where the compiler cannot see it.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use assert_cmd::Command;
use concurrency::state::{self, Counted};
use predicates::prelude::*;

#[test]
fn every_way_counts_every_visit() {
    type Count = fn(usize, u64) -> std::io::Result<Counted>;
    let ways: [(&str, Count); 3] = [
        ("mutex", state::count_with_mutex),
        ("atomic", state::count_with_atomic),
        ("channel", state::count_with_channel),
    ];
    for (name, count) in ways {
        for (threads, increments) in [(1, 1), (8, 5_000), (3, 20_001)] {
            let counted = count(threads, increments).expect("threads start");
            assert_eq!(
                counted.total,
                threads as u64 * increments,
                "{name} with {threads} threads × {increments} increments lost updates"
            );
        }
    }
}

#[test]
fn the_mutex_map_counts_each_page() {
    let visits = state::Visits::default();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let visits = Arc::clone(&visits);
            std::thread::spawn(move || {
                for page in state::PAGES {
                    for _ in 0..1000 {
                        state::record(&visits, page);
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic");
    }
    let map = visits.lock().expect("not poisoned");
    for page in state::PAGES {
        assert_eq!(map.get(page), Some(&4000), "{page}");
    }
}

#[test]
fn the_cli_prints_one_line_per_way() {
    let line = |name: &str| {
        let pad = " ".repeat(8 - name.len() - 1);
        format!(r"(?m)^{name}:{pad} 30000 counted by 3 threads in \d+(\.\d+)? (ms|s)$")
    };
    let assert = Command::cargo_bin("concurrency")
        .expect("the concurrency binary is built")
        .args(["state", "--threads", "3", "--increments", "10000"])
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stdout(predicate::str::is_match(line("mutex")).expect("regex"))
        .stdout(predicate::str::is_match(line("atomic")).expect("regex"))
        .stdout(predicate::str::is_match(line("channel")).expect("regex"));
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.lines().all(|l| l.len() <= 80), "{stdout}");
}

#[test]
fn the_cli_refuses_zero_threads() {
    Command::cargo_bin("concurrency")
        .expect("the concurrency binary is built")
        .args(["state", "--threads", "0"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--threads"));
}

// ANCHOR: deadlock
/// The deadlock that the compiler's `Send` check prevents in `tokio::spawn`, on a runtime
/// with one thread, where no `Send` is needed and the code compiles. Task `a` takes the
/// std lock and, still holding it, waits; task `b` asks for the lock, which blocks the only
/// thread; `a` can never run again to unlock. The runtime's thread stays blocked for good.
#[allow(clippy::await_holding_lock)] // the mistake this test shows
#[test]
fn a_std_lock_held_across_await_deadlocks_a_one_thread_runtime() {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime");
        let count = Mutex::new(0);
        let (locked, a_holds_it) = tokio::sync::oneshot::channel::<()>();
        let a = async {
            let mut guard = count.lock().unwrap();
            let _ = locked.send(()); // b may go now
            tokio::time::sleep(Duration::from_millis(10)).await; // parked, still locked
            *guard += 1;
        };
        let b = async {
            let _ = a_holds_it.await;
            *count.lock().unwrap() += 1; // blocks the thread: a cannot run to unlock
        };
        runtime.block_on(async { tokio::join!(a, b) });
        let _ = done.send(());
    });
    // Not a sleep to synchronise: the wait for an end that must never come, bounded.
    let outcome = finished.recv_timeout(Duration::from_secs(2));
    assert_eq!(
        outcome,
        Err(mpsc::RecvTimeoutError::Timeout),
        "the two tasks finished: the std lock held across .await did not deadlock"
    );
}
// ANCHOR_END: deadlock
