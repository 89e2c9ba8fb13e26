//! Checks for the Concurrency exercises.
//!
//! - `cargo exercise concurrency` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use course_testkit::exercise::{self, CheckResult, Exercise, Subject, given, got, step};
use course_testkit::{checks, net};

// The code under test: your exercises with `--features learner`, the reference solutions otherwise.
#[cfg(feature = "learner")]
#[allow(unused)] // an unfinished exercise is not a reason for compiler warnings
#[path = "../exercises/mod.rs"]
mod code;
#[cfg(not(feature = "learner"))]
#[path = "../solutions/mod.rs"]
mod code;

fn main() {
    exercise::main(
        Subject::from_learner_feature(cfg!(feature = "learner")),
        &[ex1::EXERCISE, ex2::EXERCISE, ex3::EXERCISE],
    )
}

/// How long a client waits for a line it expects. A working server answers in microseconds;
/// this is for a busy machine.
const WITHIN: Duration = Duration::from_secs(2);

/// A client of the check: a connection read line by line, with a time limit on every line.
struct Client {
    /// How the reports name it ("the second client").
    who: &'static str,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: SocketAddr, who: &'static str) -> Result<Client, String> {
        Client::from(net::connect(server)?, who)
    }

    fn from(stream: TcpStream, who: &'static str) -> Result<Client, String> {
        // Every piece the check writes leaves at once, as the check means it to.
        let _ = stream.set_nodelay(true);
        Ok(Client {
            who,
            reader: BufReader::new(stream),
        })
    }

    fn stream(&mut self) -> &mut TcpStream {
        self.reader.get_mut()
    }

    fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        step(format!("{} sending {}", self.who, net::show_bytes(bytes)));
        let who = self.who;
        self.stream()
            .write_all(bytes)
            .map_err(|e| format!("{who}'s connection failed while sending: {e}"))
    }

    /// The next line, `\n` included, if it comes within `limit`.
    fn line_within(&mut self, limit: Duration) -> Result<Vec<u8>, String> {
        step(format!("waiting for a line to {}", self.who));
        // Whole milliseconds, so that a report reads "1.5s", not "1.499999872s".
        let limit = Duration::from_millis(limit.as_millis().clamp(1, u128::from(u32::MAX)) as u64);
        let who = self.who;
        self.reader
            .get_ref()
            .set_read_timeout(Some(limit))
            .map_err(|e| format!("could not set a timeout: {e}"))?;
        // Acknowledge what arrives at once. A server that writes many small lines waits, by
        // Nagle's algorithm, for the last one's ACK before it sends the next, and a receiver
        // delays its ACK by up to 40 ms: a check that waits for line after line would crawl.
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(self.reader.get_ref()).set_tcp_quickack(true);
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(_) if line.ends_with(b"\n") => Ok(line),
            Ok(0) => Err(format!("{who}'s connection closed, with no line")),
            Ok(_) => Err(format!(
                "{who} got {} and then the connection closed",
                net::show_bytes(&line)
            )),
            Err(e) if net::is_timeout(&e) && line.is_empty() => {
                Err(format!("{who} got nothing within {limit:?}"))
            }
            Err(e) if net::is_timeout(&e) => Err(format!(
                "{who} got {} and then nothing within {limit:?}",
                net::show_bytes(&line)
            )),
            Err(e) => Err(format!("{who}'s connection failed: {e}")),
        }
    }

    /// Fails unless the next line is `expected`, within [`WITHIN`].
    fn expect(&mut self, expected: &str) -> Result<(), String> {
        let line = self.line_within(WITHIN)?;
        if line == expected.as_bytes() {
            Ok(())
        } else {
            Err(format!(
                "{} got {} where {} was expected",
                self.who,
                net::show_bytes(&line),
                net::show_bytes(expected.as_bytes())
            ))
        }
    }
}

/// Connects with a tuned socket: what `tune` sets is set before the connection exists (a
/// receive buffer's size must be, for the window it announces). std cannot set these;
/// Tokio's `TcpSocket` can, and hands back a plain blocking `TcpStream`.
fn connect_tuned(
    server: SocketAddr,
    tune: impl FnOnce(&tokio::net::TcpSocket) -> std::io::Result<()>,
) -> Result<TcpStream, String> {
    step(format!("connecting to {server}"));
    let failed = |e: std::io::Error| format!("could not connect to {server}: {e}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(failed)?;
    let stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            tune(&socket)?;
            let connected = tokio::time::timeout(net::STEP_TIMEOUT, socket.connect(server));
            connected
                .await
                .map_err(|_| std::io::ErrorKind::TimedOut)??
                .into_std()
        })
        .map_err(failed)?;
    stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_write_timeout(Some(net::STEP_TIMEOUT)))
        .map_err(failed)?;
    Ok(stream)
}

/// Waits up to `limit` for `n` messages on `rx`; says how many came if not all did.
fn receive<T>(
    rx: &std::sync::mpsc::Receiver<T>,
    n: usize,
    limit: Duration,
) -> Result<Vec<T>, Vec<T>> {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    while received.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(message) => received.push(message),
            Err(_) => return Err(received),
        }
    }
    Ok(received)
}

mod ex1 {
    use super::*;
    use code::ex1_upper_echo::serve;
    use exercise::start_server;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "concurrency",
        number: 1,
        title: "One slow client must not block the others",
        file: "exercises/ex1_upper_echo.rs",
        checks: checks![
            answers_a_client_while_another_is_silent,
            answers_two_clients_taking_turns,
            answers_twenty_clients_at_once,
            answers_lines_however_they_arrive,
            keeps_serving_after_clients_leave,
            answers_and_closes_after_a_half_close,
        ],
    };

    /// What every check does first, so that a server serving one client at a time fails them
    /// all: this client connects first, sends half a line, and stays silent to the end.
    const SLOW: &str = "a first client connects, sends \"half a li\" (no newline)\n\
                    and stays silent";

    /// Starts the server and connects the silent client, which must stay alive for the check.
    fn start_with_a_silent_client() -> Result<(SocketAddr, Client), String> {
        let server = start_server(serve);
        let mut slow = Client::connect(server, "the silent client")?;
        slow.send(b"half a li")?;
        Ok((server, slow))
    }

    fn answers_a_client_while_another_is_silent() -> CheckResult {
        given(
            format!("{SLOW};\nthen a second client sends \"hello\\n\""),
            "\"HELLO\\n\" to the second client, while the first is still silent",
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        let mut fast = Client::connect(server, "the second client").or_else(got)?;
        fast.send(b"hello\n").or_else(got)?;
        fast.expect("HELLO\n").or_else(got)
    }

    fn answers_two_clients_taking_turns() -> CheckResult {
        given(
            format!(
                "{SLOW};\nthen clients A and B connect and take turns, each waiting for\n\
                 its answer: A \"a1\\n\", B \"b1\\n\", A \"a2\\n\", B \"b2\\n\""
            ),
            "\"A1\\n\", \"B1\\n\", \"A2\\n\", \"B2\\n\", each to the client that sent it",
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        let mut clients = [
            Client::connect(server, "client A").or_else(got)?,
            Client::connect(server, "client B").or_else(got)?,
        ];
        for (turn, line, answer) in [
            (0, "a1\n", "A1\n"),
            (1, "b1\n", "B1\n"),
            (0, "a2\n", "A2\n"),
            (1, "b2\n", "B2\n"),
        ] {
            clients[turn].send(line.as_bytes()).or_else(got)?;
            clients[turn].expect(answer).or_else(got)?;
        }
        Ok(())
    }

    fn answers_twenty_clients_at_once() -> CheckResult {
        const CLIENTS: usize = 20;
        given(
            format!(
                "{SLOW};\nthen {CLIENTS} more clients connect and stay connected; each\n\
                 sends \"client N\\n\" (N = 1 to {CLIENTS}), and then they read"
            ),
            format!("\"CLIENT N\\n\" to each of the {CLIENTS} clients, within {WITHIN:?} in all"),
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        let mut clients = Vec::new();
        for n in 1..=CLIENTS {
            let mut client = Client::connect(server, "a client").or_else(got)?;
            client
                .send(format!("client {n}\n").as_bytes())
                .or_else(got)?;
            clients.push(client);
        }
        let deadline = Instant::now() + WITHIN;
        let mut answered = 0;
        for (i, client) in clients.iter_mut().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let expected = format!("CLIENT {}\n", i + 1);
            match client.line_within(left) {
                Ok(line) if line == expected.as_bytes() => answered += 1,
                Ok(line) => {
                    return got(format!(
                        "client {} got {} where {} was expected",
                        i + 1,
                        net::show_bytes(&line),
                        net::show_bytes(expected.as_bytes())
                    ));
                }
                Err(e) => {
                    return got(format!(
                        "{answered} of {CLIENTS} clients got their answer; client {} did not: {e}",
                        i + 1
                    ));
                }
            }
        }
        Ok(())
    }

    fn answers_lines_however_they_arrive() -> CheckResult {
        given(
            format!(
                "{SLOW};\nthen a second client sends \"one\\ntwo\\n\" one byte per write,\n\
                 then \"a\\nbb\\nccc\\n\" in one write"
            ),
            "\"ONE\\n\", \"TWO\\n\", \"A\\n\", \"BB\\n\", \"CCC\\n\" to the second client",
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        let mut client = Client::connect(server, "the second client").or_else(got)?;
        for byte in b"one\ntwo\n" {
            client.send(&[*byte]).or_else(got)?;
        }
        client.send(b"a\nbb\nccc\n").or_else(got)?;
        for answer in ["ONE\n", "TWO\n", "A\n", "BB\n", "CCC\n"] {
            client.expect(answer).or_else(got)?;
        }
        Ok(())
    }

    fn keeps_serving_after_clients_leave() -> CheckResult {
        given(
            format!(
                "{SLOW};\nthen a client connects and closes at once; another sends\n\
                 \"bye\\n\" and, its answer unread, closes (so its close is a\n\
                 reset); then a last client sends \"still there?\\n\""
            ),
            "\"STILL THERE?\\n\" to the last client",
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        drop(net::connect(server).or_else(got)?);
        let mut rude = Client::connect(server, "the client that resets").or_else(got)?;
        rude.send(b"bye\n").or_else(got)?;
        // Closing a socket that holds unread bytes sends a reset (RST) instead of a FIN.
        step("waiting for the answer to \"bye\\n\" to arrive, unread");
        let _ = rude.stream().set_read_timeout(Some(WITHIN));
        let mut peeked = [0u8; 4];
        match rude.stream().peek(&mut peeked) {
            Ok(n) if n > 0 => {}
            Ok(_) => return got("the client that sent \"bye\\n\" saw its connection closed"),
            Err(e) if net::is_timeout(&e) => {
                return got(format!("no answer to \"bye\\n\" within {WITHIN:?}"));
            }
            Err(e) => return got(format!("the connection failed: {e}")),
        }
        drop(rude);
        let mut last = Client::connect(server, "the last client").or_else(got)?;
        last.send(b"still there?\n").or_else(got)?;
        last.expect("STILL THERE?\n").or_else(got)
    }

    fn answers_and_closes_after_a_half_close() -> CheckResult {
        given(
            format!(
                "{SLOW};\nthen a second client sends \"last\\n\" and shuts down its\n\
                 sending side"
            ),
            "\"LAST\\n\", then the end of the stream, to the second client",
        );
        let (server, _slow) = start_with_a_silent_client().or_else(got)?;
        let mut client = Client::connect(server, "the second client").or_else(got)?;
        client.send(b"last\n").or_else(got)?;
        step("half-closing");
        client
            .stream()
            .shutdown(std::net::Shutdown::Write)
            .or_else(|e| got(format!("could not half-close: {e}")))?;
        client.expect("LAST\n").or_else(got)?;
        step("waiting for the end of the stream");
        let mut rest = Vec::new();
        match client.reader.read_to_end(&mut rest) {
            Ok(_) if rest.is_empty() => Ok(()),
            Ok(_) => got(format!("\"LAST\\n\", then {}", net::show_bytes(&rest))),
            Err(e) if net::is_timeout(&e) => got(format!(
                "\"LAST\\n\", and then the connection stayed open for {WITHIN:?}"
            )),
            Err(e) => got(format!("\"LAST\\n\", and then an error: {e}")),
        }
    }
}

mod ex2 {
    use super::*;
    use code::ex2_pool::{Full, ThreadPool};
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{self, Sender};
    use std::sync::{Arc, Condvar, Mutex};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "concurrency",
        number: 2,
        title: "A bounded thread pool that drains on shutdown",
        file: "exercises/ex2_pool.rs",
        checks: checks![
            runs_every_job,
            runs_at_most_workers_jobs_at_once,
            refuses_a_job_when_the_queue_is_full,
            shutdown_finishes_every_job,
            shutdown_joins_every_worker,
            a_panicking_job_does_not_shrink_the_pool,
        ],
    };

    /// The longest a job of the check waits at a closed gate, so that nothing hangs.
    const GATE_LIMIT: Duration = Duration::from_secs(5);
    /// How long the check watches for a job that should not start.
    const WATCH: Duration = Duration::from_millis(300);

    /// A gate that jobs wait at until the check opens it (or [`GATE_LIMIT`] passes).
    #[derive(Clone, Default)]
    struct Gate(Arc<(Mutex<bool>, Condvar)>);

    impl Gate {
        fn open(&self) {
            let (open, changed) = &*self.0;
            *open.lock().unwrap_or_else(|p| p.into_inner()) = true;
            changed.notify_all();
        }

        fn wait(&self) {
            let (open, changed) = &*self.0;
            let guard = open.lock().unwrap_or_else(|p| p.into_inner());
            let _ = changed.wait_timeout_while(guard, GATE_LIMIT, |open| !*open);
        }
    }

    /// How many jobs run now, and the most that ever ran at once.
    #[derive(Default)]
    struct Running {
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    /// A job that says it started, waits at `gate`, and says it finished.
    fn blocked_job(
        gate: &Gate,
        running: &Arc<Running>,
        started: &Sender<()>,
        finished: &Sender<()>,
    ) -> impl FnOnce() + Send + 'static {
        let (gate, running) = (gate.clone(), Arc::clone(running));
        let (started, finished) = (started.clone(), finished.clone());
        move || {
            let now = running.now.fetch_add(1, Ordering::SeqCst) + 1;
            running.peak.fetch_max(now, Ordering::SeqCst);
            let _ = started.send(());
            gate.wait();
            running.now.fetch_sub(1, Ordering::SeqCst);
            let _ = finished.send(());
        }
    }

    /// Submits `job`, failing the check with a description if it is refused.
    fn submit(pool: &ThreadPool, job: impl FnOnce() + Send + 'static, what: &str) -> CheckResult {
        step(format!("calling try_execute for {what}"));
        match pool.try_execute(job) {
            Ok(()) => Ok(()),
            Err(Full) => got(format!("try_execute refused {what} with Err(Full)")),
        }
    }

    fn runs_every_job() -> CheckResult {
        const JOBS: usize = 50;
        given(
            format!("ThreadPool::new(4, 64), then try_execute {JOBS} jobs;\neach sends its number"),
            format!(
                "every number from 0 to {}, each once, within {WITHIN:?}",
                JOBS - 1
            ),
        );
        step("calling ThreadPool::new(4, 64)");
        let pool = ThreadPool::new(4, 64);
        let (tx, rx) = mpsc::channel();
        for i in 0..JOBS {
            let tx = tx.clone();
            submit(
                &pool,
                move || {
                    let _ = tx.send(i);
                },
                &format!("job {i}"),
            )?;
        }
        step("waiting for the jobs to run");
        let mut seen = match receive(&rx, JOBS, WITHIN) {
            Ok(seen) => seen,
            Err(seen) => return got(format!("{} of {JOBS} jobs ran", seen.len())),
        };
        seen.sort_unstable();
        exercise::expect_eq(seen, (0..JOBS).collect(), |seen| {
            format!("the numbers {seen:?}")
        })
    }

    fn runs_at_most_workers_jobs_at_once() -> CheckResult {
        const JOBS: usize = 8;
        given(
            format!(
                "ThreadPool::new(3, 16), then {JOBS} jobs that each wait until the\n\
                 check lets them finish; the check waits for 3 to start,\n\
                 watches {WATCH:?} for a 4th, then lets them all finish"
            ),
            "3 jobs running at once, never more; then all 8 finish",
        );
        step("calling ThreadPool::new(3, 16)");
        let pool = ThreadPool::new(3, 16);
        let (gate, running) = (Gate::default(), Arc::new(Running::default()));
        let (started, started_rx) = mpsc::channel();
        let (finished, finished_rx) = mpsc::channel();
        for i in 0..JOBS {
            let job = blocked_job(&gate, &running, &started, &finished);
            submit(&pool, job, &format!("job {i}"))?;
        }
        step("waiting for 3 jobs to start");
        let result = match receive(&started_rx, 3, WITHIN) {
            Err(seen) => got(format!(
                "{} job(s) started, and no more within {WITHIN:?}: 3 workers should run 3",
                seen.len()
            )),
            Ok(_) => match started_rx.recv_timeout(WATCH) {
                Ok(()) => got(format!(
                    "{} jobs running at once with 3 workers",
                    running.now.load(Ordering::SeqCst)
                )),
                Err(_) => Ok(()),
            },
        };
        gate.open(); // whatever happened, let the jobs go
        result?;
        step("waiting for every job to finish");
        if let Err(seen) = receive(&finished_rx, JOBS, WITHIN) {
            return got(format!("{} of {JOBS} jobs finished", seen.len()));
        }
        let peak = running.peak.load(Ordering::SeqCst);
        exercise::expect_eq(peak, 3, |peak| format!("at most {peak} jobs ran at once"))
    }

    fn refuses_a_job_when_the_queue_is_full() -> CheckResult {
        given(
            "ThreadPool::new(2, 3); 2 jobs that wait until the check lets them\n\
             finish, and, once both run, 3 more jobs (the queue is then full),\n\
             then a 6th job; then the check lets the jobs finish and submits\n\
             one more",
            "Ok for the first 5 jobs, Err(Full) for the 6th (without running\n\
             it), and Ok again once the queue has room",
        );
        step("calling ThreadPool::new(2, 3)");
        let pool = ThreadPool::new(2, 3);
        let (gate, running) = (Gate::default(), Arc::new(Running::default()));
        let (started, started_rx) = mpsc::channel();
        let (finished, finished_rx) = mpsc::channel();
        let outcome = (|| {
            for i in 1..=2 {
                let job = blocked_job(&gate, &running, &started, &finished);
                submit(&pool, job, &format!("job {i}"))?;
            }
            step("waiting for both workers to be busy");
            if let Err(seen) = receive(&started_rx, 2, WITHIN) {
                return got(format!("{} of the first 2 jobs started", seen.len()));
            }
            for i in 3..=5 {
                let job = blocked_job(&gate, &running, &started, &finished);
                submit(&pool, job, &format!("job {i}, with {} waiting", i - 3))?;
            }
            step("calling try_execute for a 6th job, with 3 waiting");
            match pool.try_execute(|| ()) {
                Err(Full) => Ok(()),
                Ok(()) => got("Ok(()) for the 6th job, with 3 jobs waiting in a queue of 3"),
            }
        })();
        gate.open();
        outcome?;
        step("waiting for the 5 jobs to finish");
        if let Err(seen) = receive(&finished_rx, 5, WITHIN) {
            return got(format!("{} of the 5 accepted jobs finished", seen.len()));
        }
        let (tx, rx) = mpsc::channel();
        submit(
            &pool,
            move || {
                let _ = tx.send(());
            },
            "a job after the queue emptied",
        )?;
        match rx.recv_timeout(WITHIN) {
            Ok(()) => Ok(()),
            Err(_) => got("the job accepted after the queue emptied did not run"),
        }
    }

    /// Calls `shutdown` while something is still held up, and lets it go after `shutdown`
    /// returns or after [`WATCH`], whichever comes first. Returns what `measure` saw the moment
    /// `shutdown` returned: if that was before the release, it sees the held-up work unfinished.
    fn shut_down_while_held(
        pool: ThreadPool,
        gate: &Gate,
        measure: impl FnOnce() -> usize,
    ) -> usize {
        let (returned, returned_rx) = mpsc::channel::<()>();
        let release = gate.clone();
        std::thread::spawn(move || {
            let _ = returned_rx.recv_timeout(WATCH);
            release.open();
        });
        step("waiting for shutdown() to return");
        pool.shutdown();
        let seen = measure();
        let _ = returned.send(());
        seen
    }

    fn shutdown_finishes_every_job() -> CheckResult {
        given(
            "ThreadPool::new(2, 8); 2 jobs that wait until the check lets them\n\
             finish, and 6 quick jobs queued behind them; then shutdown(),\n\
             and while it runs the check lets the jobs finish",
            "shutdown() returns only once all 8 jobs have finished",
        );
        step("calling ThreadPool::new(2, 8)");
        let pool = ThreadPool::new(2, 8);
        let (gate, running) = (Gate::default(), Arc::new(Running::default()));
        let (started, started_rx) = mpsc::channel();
        let (finished, finished_rx) = mpsc::channel();
        let done = Arc::new(AtomicUsize::new(0));
        let setup = (|| {
            for i in 1..=2 {
                let job = blocked_job(&gate, &running, &started, &finished);
                let done = Arc::clone(&done);
                let job = move || {
                    job();
                    done.fetch_add(1, Ordering::SeqCst);
                };
                submit(&pool, job, &format!("job {i}"))?;
            }
            for i in 3..=8 {
                let done = Arc::clone(&done);
                let job = move || {
                    done.fetch_add(1, Ordering::SeqCst);
                };
                submit(&pool, job, &format!("job {i}"))?;
            }
            step("waiting for the first 2 jobs to start");
            match receive(&started_rx, 2, WITHIN) {
                Ok(_) => Ok(()),
                Err(seen) => got(format!("{} of the first 2 jobs started", seen.len())),
            }
        })();
        if let Err(mismatch) = setup {
            gate.open();
            return Err(mismatch);
        }
        let counted = Arc::clone(&done);
        let done_at_return =
            shut_down_while_held(pool, &gate, move || counted.load(Ordering::SeqCst));
        drop(finished_rx);
        exercise::expect_eq(done_at_return, 8, |n| {
            format!("shutdown() returned when {n} of the 8 jobs had finished")
        })
    }

    /// Set on a thread by a job; its destructor runs when the thread ends, and holds the
    /// thread there until the check opens the gate. While the thread exists, so does `alive`.
    struct EndWatch {
        gate: Gate,
        _alive: Arc<()>,
    }

    impl Drop for EndWatch {
        fn drop(&mut self) {
            self.gate.wait();
        }
    }

    thread_local! {
        static END_WATCH: RefCell<Option<EndWatch>> = const { RefCell::new(None) };
    }

    fn shutdown_joins_every_worker() -> CheckResult {
        given(
            "ThreadPool::new(3, 8), then 3 jobs that each mark their thread, so\n\
             that the check sees when that thread ends (it holds each end\n\
             until it lets it go); then shutdown(), and while it runs the\n\
             check lets the threads end",
            "shutdown() returns only once every worker thread that ran a job\n\
             has ended",
        );
        step("calling ThreadPool::new(3, 8)");
        let pool = ThreadPool::new(3, 8);
        let gate = Gate::default();
        let alive = Arc::new(());
        let (ran, ran_rx) = mpsc::channel();
        let setup = (|| {
            for i in 1..=3 {
                let (gate, alive, ran) = (gate.clone(), Arc::clone(&alive), ran.clone());
                let job = move || {
                    END_WATCH.with(|slot| {
                        let mut slot = slot.borrow_mut();
                        // A thread's first job marks it; a second one changes nothing.
                        if slot.is_none() {
                            *slot = Some(EndWatch {
                                gate,
                                _alive: alive,
                            });
                        }
                    });
                    let _ = ran.send(());
                };
                submit(&pool, job, &format!("job {i}"))?;
            }
            step("waiting for the 3 jobs to run");
            match receive(&ran_rx, 3, WITHIN) {
                Ok(_) => Ok(()),
                Err(seen) => got(format!("{} of the 3 jobs ran", seen.len())),
            }
        })();
        if let Err(mismatch) = setup {
            gate.open();
            return Err(mismatch);
        }
        let watched = Arc::clone(&alive);
        // The check holds two counts itself: `alive` and `watched`.
        let threads_left = shut_down_while_held(pool, &gate, move || {
            Arc::strong_count(&watched).saturating_sub(2)
        });
        exercise::expect_eq(threads_left, 0, |n| {
            format!("shutdown() returned while {n} thread(s) that ran jobs had not ended")
        })
    }

    fn a_panicking_job_does_not_shrink_the_pool() -> CheckResult {
        given(
            "ThreadPool::new(2, 8); 2 jobs that panic, then 2 jobs that wait\n\
             until the check lets them finish",
            "both waiting jobs running at once: the pool still has 2 workers",
        );
        step("calling ThreadPool::new(2, 8)");
        let pool = ThreadPool::new(2, 8);
        let (gate, running) = (Gate::default(), Arc::new(Running::default()));
        let (started, started_rx) = mpsc::channel();
        let (finished, finished_rx) = mpsc::channel();
        let outcome = (|| {
            for i in 1..=2 {
                let job = || panic!("this job of the check panics on purpose");
                submit(&pool, job, &format!("panicking job {i}"))?;
            }
            for i in 1..=2 {
                let job = blocked_job(&gate, &running, &started, &finished);
                submit(&pool, job, &format!("waiting job {i}"))?;
            }
            step("waiting for both waiting jobs to start");
            match receive(&started_rx, 2, WITHIN) {
                Ok(_) => Ok(()),
                Err(seen) => got(format!(
                    "{} of the 2 waiting jobs started within {WITHIN:?} after 2 jobs panicked",
                    seen.len()
                )),
            }
        })();
        gate.open();
        outcome?;
        step("waiting for both waiting jobs to finish");
        match receive(&finished_rx, 2, WITHIN) {
            Ok(_) => Ok(()),
            Err(seen) => got(format!("{} of the 2 waiting jobs finished", seen.len())),
        }
    }
}

mod ex3 {
    use super::*;
    use exercise::start_server;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "concurrency",
        number: 3,
        title: "Broadcast to the room",
        file: "exercises/ex3_room.rs",
        checks: checks![
            sends_a_line_to_every_other_client,
            names_guests_in_the_order_they_join,
            does_not_echo_a_line_to_its_sender,
            keeps_the_order_of_a_senders_lines,
            a_line_sent_in_pieces_arrives_whole,
            a_guest_who_joins_later_hears_later_lines,
            a_client_that_never_reads_does_not_stall_the_room,
            a_client_leaving_does_not_break_the_room,
        ],
    };

    /// Runs your `serve` on a Tokio runtime of its own, as `#[tokio::main]` would.
    fn serve(listener: std::net::TcpListener) -> std::io::Result<()> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            code::ex3_room::serve(listener).await
        })
    }

    /// A client in the room, and the name its welcome gave it.
    struct Guest {
        client: Client,
        name: String,
    }

    /// Joins `stream` to the room: reads its welcome line, `welcome, guest-N\n`.
    fn join_with(stream: TcpStream, who: &'static str) -> Result<Guest, String> {
        let mut client = Client::from(stream, who)?;
        let line = client
            .line_within(WITHIN)
            .map_err(|e| format!("no welcome line: {e}"))?;
        let text = String::from_utf8_lossy(&line);
        match text.strip_prefix("welcome, ").map(str::trim_end) {
            Some(name) if name.starts_with("guest-") => Ok(Guest {
                client,
                name: name.to_string(),
            }),
            _ => Err(format!(
                "{who} got {} where its welcome, \"welcome, guest-N\\n\", was expected",
                net::show_bytes(&line)
            )),
        }
    }

    fn join(server: SocketAddr, who: &'static str) -> Result<Guest, String> {
        join_with(net::connect(server)?, who)
    }

    impl Guest {
        fn say(&mut self, line: &str) -> Result<(), String> {
            self.client.send(format!("{line}\n").as_bytes())
        }

        /// Fails unless the next line this guest hears is `from` saying `line`.
        fn hears(&mut self, from: &Guest, line: &str) -> Result<(), String> {
            self.client.expect(&format!("{}: {line}\n", from.name))
        }
    }

    fn sends_a_line_to_every_other_client() -> CheckResult {
        given(
            "clients A, B and C join the room (each reads its welcome line);\n\
             A sends \"hello\\n\"",
            "\"guest-1: hello\\n\" to B and to C (A's name, from A's welcome)",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        let mut c = join(server, "C").or_else(got)?;
        a.say("hello").or_else(got)?;
        b.hears(&a, "hello").or_else(got)?;
        c.hears(&a, "hello").or_else(got)
    }

    fn names_guests_in_the_order_they_join() -> CheckResult {
        given(
            "clients A, B and C join the room, one after the other;\n\
             C sends \"hi\\n\"",
            "welcome lines \"welcome, guest-1\\n\", \"welcome, guest-2\\n\",\n\
             \"welcome, guest-3\\n\" to A, B and C;\nthen \"guest-3: hi\\n\" to A",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let b = join(server, "B").or_else(got)?;
        let mut c = join(server, "C").or_else(got)?;
        for (n, guest) in [(1, &a), (2, &b), (3, &c)] {
            if guest.name != format!("guest-{n}") {
                return got(format!(
                    "{}, client number {n}, was welcomed as {:?}",
                    guest.client.who, guest.name
                ));
            }
        }
        c.say("hi").or_else(got)?;
        a.hears(&c, "hi").or_else(got)
    }

    fn does_not_echo_a_line_to_its_sender() -> CheckResult {
        given(
            "clients A and B join; A sends \"one\\n\"; once B has it,\n\
             B sends \"two\\n\"",
            "\"guest-2: two\\n\" as the first line A gets after its welcome\n\
             (A never gets its own \"one\" back)",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        a.say("one").or_else(got)?;
        b.hears(&a, "one").or_else(got)?;
        b.say("two").or_else(got)?;
        a.hears(&b, "two").or_else(got)
    }

    fn keeps_the_order_of_a_senders_lines() -> CheckResult {
        const LINES: usize = 20;
        given(
            format!(
                "clients A and B join;\nA sends \"line 1\\n\" to \"line {LINES}\\n\" in one write"
            ),
            format!("\"guest-1: line 1\\n\" to \"guest-1: line {LINES}\\n\" to B,\nin that order"),
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        let all: String = (1..=LINES).map(|n| format!("line {n}\n")).collect();
        a.client.send(all.as_bytes()).or_else(got)?;
        for n in 1..=LINES {
            b.hears(&a, &format!("line {n}")).or_else(got)?;
        }
        Ok(())
    }

    fn a_line_sent_in_pieces_arrives_whole() -> CheckResult {
        given(
            "clients A and B join; A sends \"in pieces\\n\" one byte per\n\
             write, then \"one\\ntwo\\n\" in one write",
            "\"guest-1: in pieces\\n\", \"guest-1: one\\n\", \"guest-1: two\\n\"\n\
             to B",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        for byte in b"in pieces\n" {
            a.client.send(&[*byte]).or_else(got)?;
        }
        a.client.send(b"one\ntwo\n").or_else(got)?;
        for line in ["in pieces", "one", "two"] {
            b.hears(&a, line).or_else(got)?;
        }
        Ok(())
    }

    fn a_guest_who_joins_later_hears_later_lines() -> CheckResult {
        given(
            "clients A and B join; A sends \"before\\n\"; once B has it,\n\
             client C joins, and A sends \"after\\n\"",
            "\"guest-1: after\\n\" to B, and to C as its first line after its\n\
             welcome",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        a.say("before").or_else(got)?;
        b.hears(&a, "before").or_else(got)?;
        let mut c = join(server, "C").or_else(got)?;
        a.say("after").or_else(got)?;
        b.hears(&a, "after").or_else(got)?;
        c.hears(&a, "after").or_else(got)
    }

    /// How many bytes fill the kernel's send buffer towards a client that does not read, and
    /// that client's small receive buffer, with room to spare. Linux grows a socket's send
    /// buffer up to the third number of `tcp_wmem` (4 MiB by default), on loopback at once.
    fn bytes_to_fill_the_buffers() -> usize {
        let most = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
            .ok()
            .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(4 << 20);
        most + (1 << 20)
    }

    fn a_client_that_never_reads_does_not_stall_the_room() -> CheckResult {
        const BATCH: usize = 16;
        const FILLER: usize = 1000;
        let total = bytes_to_fill_the_buffers();
        let lines = total.div_ceil(FILLER);
        given(
            format!(
                "client S joins with a small receive buffer, reads its welcome,\n\
                 and never reads again; clients A and B join; A sends {lines}\n\
                 lines of {FILLER} bytes ({} MiB: more than the kernel's buffers\n\
                 for S hold), {BATCH} at a time, each time waiting until B has them",
                total >> 20
            ),
            format!("all {lines} lines to B, while S is stuck"),
        );
        let server = start_server(serve);
        let silent =
            connect_tuned(server, |socket| socket.set_recv_buffer_size(4096)).or_else(got)?;
        let _s = join_with(silent, "S").or_else(got)?;
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        let filler = "x".repeat(FILLER - 7);
        let mut heard = 0;
        while heard < lines {
            let batch: Vec<String> = (heard..lines.min(heard + BATCH))
                .map(|n| format!("{n:06} {filler}"))
                .collect();
            let write: String = batch.iter().map(|line| format!("{line}\n")).collect();
            a.client.send(write.as_bytes()).or_else(got)?;
            for line in &batch {
                if let Err(e) = b.hears(&a, line) {
                    return got(format!("B heard {heard} of the {lines} lines; then: {e}"));
                }
                heard += 1;
            }
        }
        Ok(())
    }

    fn a_client_leaving_does_not_break_the_room() -> CheckResult {
        given(
            "clients A, B, C and D join; A sends \"one\\n\"; once B, C and D\n\
             have it, C leaves with a reset and D closes politely;\n\
             A sends \"two\\n\" and \"three\\n\", then B sends \"four\\n\"",
            "\"guest-1: two\\n\" and \"guest-1: three\\n\" to B,\n\
             then \"guest-2: four\\n\" to A",
        );
        let server = start_server(serve);
        let mut a = join(server, "A").or_else(got)?;
        let mut b = join(server, "B").or_else(got)?;
        // SO_LINGER with a zero timeout: closing sends a reset (RST) instead of a FIN.
        let abrupt = connect_tuned(server, |socket| socket.set_zero_linger()).or_else(got)?;
        let mut c = join_with(abrupt, "C").or_else(got)?;
        let mut d = join(server, "D").or_else(got)?;
        a.say("one").or_else(got)?;
        for guest in [&mut b, &mut c, &mut d] {
            guest.hears(&a, "one").or_else(got)?;
        }
        drop(c);
        drop(d);
        a.say("two").or_else(got)?;
        b.hears(&a, "two").or_else(got)?;
        a.say("three").or_else(got)?;
        b.hears(&a, "three").or_else(got)?;
        b.say("four").or_else(got)?;
        a.hears(&b, "four").or_else(got)
    }
}
