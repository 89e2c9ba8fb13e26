//! The exercise harness: runs a lesson's checks and words every failure for a learner.
//!
//! Each lesson has one test target, `tests/exercises.rs`, with `harness = false`. It mounts the
//! code under test as a module (`solutions/` normally, `exercises/` with the `learner` feature),
//! lists its [`Exercise`]s and calls [`main`]:
//!
//! - `cargo test` (the course's own suite) runs every check against the reference solutions.
//! - `cargo exercise <lesson>` (the learner's command, an alias for
//!   `cargo test --features learner --test exercises -p <lesson>`) runs them against the learner's
//!   code, one check at a time, and ends with a tally per exercise.
//!
//! The proof that every check fails on the untouched starters lives in the course's
//! `tests/learner.rs`: it runs `cargo exercise` itself on a clean checkout and reads the report.
//!
//! A check is a plain `fn() -> CheckResult`. It says what it sends and expects with [`given`]
//! *before* calling the code under test, so that whatever happens next (a wrong answer, a panic, a
//! hang) the report still shows both. It marks what it waits for with [`step`] (the [`crate::net`]
//! helpers do that themselves) and reports a wrong answer with [`got`]. Panics are recorded by a
//! panic hook instead of printed, so a learner never sees a backtrace or the harness's internals.

use std::fmt::Display;
use std::net::{SocketAddr, TcpListener};
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};
use std::time::Duration;

/// How long one check may take before it counts as hanging.
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(10);

/// One check of an exercise: `Ok(())` when the code behaved.
pub type Check = fn() -> CheckResult;

/// The result of one check.
pub type CheckResult = Result<(), Mismatch>;

/// What a check saw when the code under test did the wrong thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What the check gave the code (arguments, bytes sent, the client's behaviour).
    pub sent: String,
    /// What a correct answer looks like.
    pub expected: String,
    /// What the code actually returned, sent or did.
    pub got: String,
}

/// One exercise of a lesson.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// The lesson crate, e.g. `sockets`.
    pub lesson: &'static str,
    /// 1-based, as numbered in the chapter.
    pub number: u32,
    /// The title used in the chapter's heading and the starter's first line.
    pub title: &'static str,
    /// The starter file, relative to the lesson folder, e.g. `exercises/ex1_wire_address.rs`.
    pub file: &'static str,
    /// The checks, in the order a learner should meet them.
    pub checks: &'static [(&'static str, Check)],
}

/// Lists check functions with their names, for [`Exercise::checks`].
#[macro_export]
macro_rules! checks {
    ($($check:ident),+ $(,)?) => {
        &[$((stringify!($check), $check as $crate::exercise::Check)),+]
    };
}

/// Whose code the checks run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// The reference solutions (`cargo test`).
    Solutions,
    /// The learner's files in `exercises/` (`cargo exercise <lesson>`).
    YourCode,
}

impl Subject {
    /// `YourCode` when the lesson's `learner` feature is on: pass `cfg!(feature = "learner")`.
    pub fn from_learner_feature(on: bool) -> Subject {
        if on {
            Subject::YourCode
        } else {
            Subject::Solutions
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What a running check has said so far, shared with the harness so that a hang can be reported.

#[derive(Debug, Default)]
struct Record {
    sent: String,
    expected: String,
    step: String,
    /// How the server started by [`start_server`] ended, if it did.
    server_end: Option<String>,
    /// Panics on the check's own thread or its server's thread.
    panics: Vec<Panic>,
}

#[derive(Debug, Clone)]
struct Panic {
    message: String,
    location: String,
    in_server: bool,
}

impl Panic {
    /// True when the panic happened in the code under test rather than in the check itself.
    fn in_code_under_test(&self) -> bool {
        self.location.contains("/exercises/") || self.location.contains("/solutions/")
    }

    /// What a report says of a panic on the server's thread.
    fn server_panicked(&self) -> String {
        format!(
            "your server panicked: {}\n  at {}",
            self.message, self.location
        )
    }
}

type Shared = Arc<Mutex<Record>>;

thread_local! {
    /// The record of the check this thread works for, and whether it is the check's server.
    static CURRENT: std::cell::RefCell<Option<(Shared, bool)>> = const { std::cell::RefCell::new(None) };
}

/// Panics on threads that belong to no check: threads the code under test started itself.
static STRAY_PANICS: Mutex<Vec<Panic>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent data; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn current() -> Option<Shared> {
    CURRENT.with(|c| c.borrow().as_ref().map(|(shared, _)| Arc::clone(shared)))
}

fn with_current(f: impl FnOnce(&mut Record)) {
    if let Some(shared) = current() {
        f(&mut lock(&shared));
    }
}

/// Says what the check sends and what a correct answer is, before it calls the code under test.
pub fn given(sent: impl Display, expected: impl Display) {
    with_current(|r| {
        r.sent = sent.to_string();
        r.expected = expected.to_string();
        r.step.clear();
    });
}

/// Says what the check is waiting for now ("connecting", "waiting for the reply"), so that a hang
/// can be reported as such.
pub fn step(what: impl Display) {
    with_current(|r| r.step = what.to_string());
}

/// Fails the check: the code did `what` instead of what [`given`] said was expected. Generic so
/// that `.or_else(got)?` works on any step's result.
pub fn got<T>(what: impl Display) -> Result<T, Mismatch> {
    let (sent, expected) = current()
        .map(|shared| {
            let r = lock(&shared);
            (r.sent.clone(), r.expected.clone())
        })
        .unwrap_or_default();
    Err(Mismatch {
        sent,
        expected,
        got: what.to_string(),
    })
}

/// Passes when `actual == expected`; otherwise fails with both shown by `show`.
pub fn expect_eq<T: PartialEq>(actual: T, expected: T, show: impl Fn(&T) -> String) -> CheckResult {
    if actual == expected {
        Ok(())
    } else {
        got(show(&actual))
    }
}

/// The signature of every server exercise: serve clients of `listener` until the process ends.
pub type Serve = fn(TcpListener) -> std::io::Result<()>;

/// Starts the code under test as a server on a fresh `127.0.0.1:0` listener, on a thread of its
/// own, and returns its address. If that server panics or returns, the check's report says so
/// instead of blaming the network.
pub fn start_server(serve: Serve) -> SocketAddr {
    start_server_after(|_| (), serve)
}

/// Like [`start_server`], but runs `before` first with the address: a client it connects waits in
/// the listener's queue, so the server meets that client first.
pub fn start_server_after(before: impl FnOnce(SocketAddr), serve: Serve) -> SocketAddr {
    let listener = crate::net::listener();
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    before(addr);
    // The listening socket stays open until the server's end is recorded: clients cannot see it
    // close (refused, reset) before the report knows why.
    let keep_open = listener.try_clone();
    let record = current();
    let spawned = std::thread::Builder::new()
        .name("your server".into())
        .spawn(move || {
            if let Some(shared) = &record {
                CURRENT.with(|c| *c.borrow_mut() = Some((Arc::clone(shared), true)));
            }
            let result = std::panic::catch_unwind(move || serve(listener));
            if let Some(shared) = &record {
                let mut r = lock(shared);
                let end = match result {
                    Ok(Ok(())) => "your server returned Ok(()); it should keep serving".to_string(),
                    Ok(Err(e)) => format!("your server returned an error: {e}"),
                    Err(_) => match r.panics.iter().rev().find(|p| p.in_server) {
                        Some(p) => p.server_panicked(),
                        None => "your server panicked".to_string(),
                    },
                };
                r.server_end = Some(end);
            }
            drop(keep_open);
        });
    spawned.expect("the harness could not start a thread for your server");
    addr
}

// ---------------------------------------------------------------------------------------------
// Running checks.

/// How one check went.
#[derive(Debug)]
pub enum Outcome {
    Pass,
    /// The report to show, with what was sent and expected.
    Fail(Mismatch),
    /// The check did not finish within [`CHECK_TIME_LIMIT`].
    Hung(Mismatch),
}

/// Records panics instead of printing them (no "thread panicked at", no backtrace).
fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
                (*s).to_string()
            } else if let Some(s) = info.payload().downcast_ref::<String>() {
                s.clone()
            } else {
                "a panic without a message".to_string()
            };
            let location = info.location().map(show_location).unwrap_or_default();
            let in_server = CURRENT.with(|c| c.borrow().as_ref().is_some_and(|(_, s)| *s));
            let panic = Panic {
                message,
                location,
                in_server,
            };
            match current() {
                Some(shared) => lock(&shared).panics.push(panic),
                None => lock(&STRAY_PANICS).push(panic),
            }
        }));
    });
}

/// `lessons/tcp/tests/../exercises/ex2.rs:15` becomes `lessons/tcp/exercises/ex2.rs:15`.
fn show_location(location: &Location<'_>) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in location.file().split('/') {
        if part == ".." && parts.last().is_some_and(|p| *p != "..") {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    format!("{}:{}", parts.join("/"), location.line())
}

/// Runs `check` on a thread of its own, with a time limit, and turns whatever happened into an
/// [`Outcome`] that says what was sent and expected.
pub fn run(check: impl FnOnce() -> CheckResult + Send + 'static) -> Outcome {
    run_within(CHECK_TIME_LIMIT, check)
}

fn run_within(limit: Duration, check: impl FnOnce() -> CheckResult + Send + 'static) -> Outcome {
    install_panic_hook();
    let shared: Shared = Arc::default();
    let strays_before = lock(&STRAY_PANICS).len();
    let (tx, rx) = mpsc::channel();
    let record = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name("check".into())
        .spawn(move || {
            CURRENT.with(|c| *c.borrow_mut() = Some((record, false)));
            // A send error means the harness gave up waiting; nobody is left to tell.
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
                check,
            )));
        });
    if let Err(e) = spawned {
        return Outcome::Fail(Mismatch {
            sent: String::new(),
            expected: String::new(),
            got: format!("the harness could not start a thread for the check: {e}"),
        });
    }
    let result = rx.recv_timeout(limit);
    let r = lock(&shared);
    let strays: Vec<Panic> = lock(&STRAY_PANICS)
        .get(strays_before..)
        .unwrap_or_default()
        .to_vec();
    let report = |got: String| {
        let mut got = got;
        // A panic unwinding out of the server closes its sockets before the server's thread
        // records its end: a check that saw the close may get here first. The panic itself
        // was recorded before any socket closed.
        let end = r.server_end.clone().or_else(|| {
            r.panics
                .iter()
                .rev()
                .find(|p| p.in_server)
                .map(Panic::server_panicked)
        });
        if let Some(end) = end {
            got = format!("{end}\n(what the client saw: {got})");
        }
        for p in &strays {
            got.push_str(&format!(
                "\na thread your code started panicked: {}\n  at {}",
                p.message, p.location
            ));
        }
        Mismatch {
            sent: r.sent.clone(),
            expected: r.expected.clone(),
            got,
        }
    };
    match result {
        Ok(Ok(Ok(()))) => Outcome::Pass,
        Ok(Ok(Err(mismatch))) => Outcome::Fail(Mismatch {
            got: report(mismatch.got).got,
            ..mismatch
        }),
        Ok(Err(_)) => {
            let got = match r.panics.iter().rev().find(|p| !p.in_server) {
                Some(p) if p.in_code_under_test() => {
                    format!("your code panicked: {}\n  at {}", p.message, p.location)
                }
                Some(p) => format!(
                    "the check itself panicked (a bug in the course; please report it): {}\n  at {}",
                    p.message, p.location
                ),
                None => "a panic".to_string(),
            };
            Outcome::Fail(report(got))
        }
        Err(_) => {
            // The thread is left behind; the test process ends soon and takes it along.
            let waiting = if r.step.is_empty() {
                "waiting for your code to return".to_string()
            } else {
                r.step.clone()
            };
            Outcome::Hung(report(format!(
                "nothing within {limit:?}: the check was still {waiting}\n\
                 (does your code wait without a timeout, or loop without end?)"
            )))
        }
    }
}

impl Exercise {
    /// Where the learner finds the hint.
    pub fn hint_location(&self) -> String {
        format!(
            "book/src/{}.md, \"Exercise {}: {}\", under Hint",
            self.lesson, self.number, self.title
        )
    }

    /// The report a learner reads when `check` did not pass.
    pub fn explain(&self, check: &str, outcome: &Outcome) -> String {
        let m = match outcome {
            Outcome::Pass => return format!("{check}: passed\n"),
            Outcome::Fail(m) | Outcome::Hung(m) => m,
        };
        let field = |name: &str, value: &str| {
            let value = if value.is_empty() {
                "(not said)"
            } else {
                value
            };
            let lines: Vec<String> = value
                .lines()
                .flat_map(|l| wrap(l, REPORT_WIDTH - 13))
                .collect();
            format!("  {name:<10} {}\n", lines.join("\n             "))
        };
        format!(
            "{lesson} exercise {n} ({title}): check `{check}` failed\n{}{}{}{}{}",
            field(
                "your code:",
                &format!("lessons/{}/{}", self.lesson, self.file)
            ),
            field("sent:", &m.sent),
            field("expected:", &m.expected),
            field("got:", &m.got),
            field("hint:", &self.hint_location()),
            lesson = self.lesson,
            n = self.number,
            title = self.title,
        )
    }

    /// The command that checks only this exercise.
    pub fn command(&self) -> String {
        format!("cargo exercise {} ex{}", self.lesson, self.number)
    }
}

/// How wide a report's lines may be: a terminal's 80 columns.
const REPORT_WIDTH: usize = 80;

/// Breaks `line` at spaces into lines of at most `width` characters (a longer word stays
/// whole), keeping its indentation on each.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let indent = &line[..line.len() - line.trim_start().len()];
    let mut lines = Vec::new();
    let mut current = indent.to_string();
    for word in line.split(' ').filter(|w| !w.is_empty()) {
        let len = current.chars().count();
        if len > indent.len() && len + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut current, indent.to_string()));
        }
        if current.len() > indent.len() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(current);
    lines
}

/// The `main` of a lesson's `tests/exercises.rs`: runs every check of `exercises` as one test
/// named `exN::check`, accepts the usual test arguments (a name filter, `--list`, ...), prints
/// cargo's usual summary, and exits with its status.
pub fn main(subject: Subject, exercises: &[Exercise]) -> ! {
    install_panic_hook();
    let mut args = libtest_mimic::Arguments::from_args();
    let Some(lesson) = exercises.first().map(|e| e.lesson) else {
        eprintln!("this lesson declares no exercises");
        std::process::exit(1);
    };
    match subject {
        Subject::Solutions => println!(
            "note: these checks run against the reference solutions in lessons/{lesson}/solutions/;\n      \
             to check your own work, run: cargo exercise {lesson}"
        ),
        // One check at a time: the report of each is then about that check alone, and in order.
        Subject::YourCode => {
            println!("Checking your code in lessons/{lesson}/exercises/");
            args.test_threads.get_or_insert(1);
        }
    }
    let tally: Arc<Mutex<Vec<(u32, usize, usize)>>> = Arc::default();
    let mut trials = Vec::new();
    for exercise in exercises.iter().copied() {
        lock(&tally).push((exercise.number, 0, 0));
        for &(name, check) in exercise.checks {
            let tally = Arc::clone(&tally);
            trials.push(libtest_mimic::Trial::test(
                format!("ex{}::{name}", exercise.number),
                move || {
                    let outcome = run(check);
                    let passed = matches!(outcome, Outcome::Pass);
                    if let Some(t) = lock(&tally).iter_mut().find(|t| t.0 == exercise.number) {
                        t.1 += usize::from(passed);
                        t.2 += 1;
                    }
                    if passed {
                        Ok(())
                    } else {
                        Err(exercise.explain(name, &outcome).into())
                    }
                },
            ));
        }
    }
    let conclusion = libtest_mimic::run(&args, trials);
    if subject == Subject::YourCode && !args.list {
        print_tally(exercises, &lock(&tally));
    }
    conclusion.exit()
}

fn print_tally(exercises: &[Exercise], tally: &[(u32, usize, usize)]) {
    println!("Your progress in this lesson:");
    let mut next = None;
    for &(number, passed, ran) in tally.iter().filter(|t| t.2 > 0) {
        let Some(exercise) = exercises.iter().find(|e| e.number == number) else {
            continue;
        };
        let mark = if passed == ran { "done" } else { "todo" };
        println!(
            "  [{mark}] exercise {number}: {} ({passed} of {ran} checks pass)",
            exercise.title
        );
        if passed < ran && next.is_none() {
            next = Some(exercise);
        }
    }
    match next {
        Some(e) => println!(
            "Next: make lessons/{}/{} pass, then run: {}\n      hint: {}\n",
            e.lesson,
            e.file,
            e.command(),
            e.hint_location()
        ),
        None => println!("Every check that ran passes.\n"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wraps_long_report_lines_at_spaces() {
        let long = "your code panicked: not yet implemented: decode the six bytes into an IPv4 socket address";
        let lines = super::wrap(long, 40);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert_eq!(lines.join(" "), long);
        assert_eq!(super::wrap("  short", 40), vec!["  short".to_string()]);
        assert_eq!(super::wrap("", 40), vec![String::new()]);
    }

    use super::*;

    const EX: Exercise = Exercise {
        lesson: "demo",
        number: 1,
        title: "Demo",
        file: "exercises/ex1.rs",
        checks: &[],
    };

    fn report(outcome: &Outcome) -> String {
        EX.explain("c", outcome)
    }

    #[test]
    fn a_mismatch_names_sent_expected_got_and_hint() {
        let text = report(&run(|| {
            given("ping", "pong");
            got("silence")
        }));
        for part in [
            "sent:      ping",
            "expected:  pong",
            "got:       silence",
            "hint:",
        ] {
            assert!(text.contains(part), "missing {part:?} in:\n{text}");
        }
    }

    #[test]
    fn a_panic_keeps_what_was_sent_and_expected() {
        let text = report(&run(|| {
            given("decode(b\"\")", "None");
            todo!("decode")
        }));
        assert!(text.contains("sent:      decode(b\"\")"), "{text}");
        assert!(text.contains("expected:  None"), "{text}");
        // The panic happened in this file, not in an exercise: the check itself is to blame.
        assert!(text.contains("the check itself panicked"), "{text}");
        assert!(text.contains("not yet implemented: decode"), "{text}");
        assert!(text.contains("testkit/src/exercise.rs:"), "{text}");
    }

    /// A check that connects to `serve` and fails with whatever it reads.
    fn greet(serve: Serve) -> CheckResult {
        given("hello", "hello back");
        let addr = start_server(serve);
        let mut client = crate::net::connect(addr).or_else(got)?;
        match crate::net::read_until_close(&mut client, 64) {
            Ok(bytes) => got(crate::net::show_bytes(&bytes)),
            Err(e) => got(e),
        }
    }

    #[test]
    fn a_server_that_panics_is_named_as_the_cause() {
        fn serve(_: TcpListener) -> std::io::Result<()> {
            panic!("not serving")
        }
        let text = report(&run(move || greet(serve)));
        assert!(
            text.contains("got:       your server panicked: not serving"),
            "{text}"
        );
        assert!(text.contains("what the client saw:"), "{text}");
    }

    /// The client sees the close while the server's thread has not recorded its end yet: here
    /// it never does, since the server catches its own panic and then waits for ever.
    #[test]
    fn a_server_panic_is_named_even_before_the_server_ends() {
        fn serve(listener: TcpListener) -> std::io::Result<()> {
            let (stream, _) = listener.accept()?;
            let _ = std::panic::catch_unwind(move || {
                let _stream = stream; // closed by the unwinding, as a panicking handler's is
                panic!("not answering")
            });
            loop {
                std::thread::park();
            }
        }
        let text = report(&run(move || greet(serve)));
        assert!(
            text.contains("got:       your server panicked: not answering"),
            "{text}"
        );
    }

    #[test]
    fn a_server_that_returns_an_error_is_named_as_the_cause() {
        fn serve(_: TcpListener) -> std::io::Result<()> {
            Err(std::io::Error::other("gave up"))
        }
        let text = report(&run(move || greet(serve)));
        assert!(
            text.contains("your server returned an error: gave up"),
            "{text}"
        );
    }

    #[test]
    fn a_hang_says_what_the_check_was_waiting_for() {
        let (_release, wait) = mpsc::channel::<()>();
        let outcome = run_within(Duration::from_millis(200), move || {
            given("a request", "a reply");
            step("waiting for the reply");
            let _ = wait.recv(); // blocks until the test ends
            Ok(())
        });
        let text = report(&outcome);
        assert!(matches!(outcome, Outcome::Hung(_)), "{text}");
        assert!(text.contains("sent:      a request"), "{text}");
        assert!(text.contains("still waiting for the reply"), "{text}");
    }

    #[test]
    fn a_location_through_tests_dotdot_is_shown_from_the_lesson() {
        #[track_caller]
        fn here() -> &'static Location<'static> {
            Location::caller()
        }
        let shown = show_location(here());
        assert!(shown.starts_with("testkit/src/exercise.rs:"), "{shown}");
    }
}
