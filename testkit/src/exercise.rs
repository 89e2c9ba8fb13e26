//! The exercise harness.
//!
//! Each lesson's `tests/exercises.rs` declares its exercises with [`checks!`](crate::checks). The same
//! checks run in two modes:
//!
//! - `cargo test` (the course's own suite): against the reference solutions in `solutions/`, which must
//!   pass every check, and against the untouched starters in `exercises/`, which must fail every check.
//! - `cargo exercise <lesson>` (the learner's command, an alias for
//!   `cargo test --features learner --test exercises -p <lesson>`): against the learner's code in
//!   `exercises/`, one test per check, each failure saying what was sent, expected and received.
//!
//! Each check runs on its own thread with a time limit, so a panic (`todo!()`) or a hang in the code
//! under test becomes a failed check with a readable message, never a stuck suite.

use std::sync::mpsc;
use std::time::Duration;

/// How long one check may take before it counts as hanging.
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(10);

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

/// The result of one check: `Ok(())` when the code behaved.
pub type CheckResult = Result<(), Mismatch>;

/// Shorthand for building a failed [`CheckResult`].
pub fn mismatch(
    sent: impl Into<String>,
    expected: impl Into<String>,
    got: impl Into<String>,
) -> CheckResult {
    Err(Mismatch {
        sent: sent.into(),
        expected: expected.into(),
        got: got.into(),
    })
}

/// One exercise of a lesson: where its code lives and where its hint is.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    /// The lesson crate, e.g. `sockets`.
    pub lesson: &'static str,
    /// 1-based, as numbered in the chapter.
    pub number: u32,
    /// The title used in the chapter's heading.
    pub title: &'static str,
    /// The starter file, relative to the lesson folder, e.g. `exercises/ex1_byte_order.rs`.
    pub file: &'static str,
    /// FNV-1a hash of the untouched starter file (line endings normalized to `\n`).
    pub pristine: u64,
}

/// How one check went.
#[derive(Debug)]
pub enum Outcome {
    Pass,
    Fail(Mismatch),
    Panicked(String),
    TimedOut,
}

/// Runs `check` on a thread of its own, turning a panic or a hang into an [`Outcome`].
pub fn run<F>(check: F) -> Outcome
where
    F: FnOnce() -> CheckResult + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        // A send error means the harness gave up waiting; nobody is left to tell.
        let _ = tx.send(check());
    });
    match rx.recv_timeout(CHECK_TIME_LIMIT) {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(m)) => Outcome::Fail(m),
        // The sender was dropped without a result: the check's thread panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => Outcome::Panicked(panic_text(payload.as_ref())),
            Ok(()) => Outcome::Panicked("the check stopped without a result".into()),
        },
        // The thread is left behind; the test process ends soon and takes it along.
        Err(mpsc::RecvTimeoutError::Timeout) => Outcome::TimedOut,
    }
}

/// Calls the code under test, turning a panic into `Err("a panic: <message>")`, so that a check
/// can still report what it sent and expected when the code panics (as a `todo!()` does).
pub fn call<T>(code: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(code))
        .map_err(|payload| format!("a panic: {}", panic_text(payload.as_ref())))
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

impl Exercise {
    /// Where the learner finds the hint, as printed in every failure.
    pub fn hint_location(&self) -> String {
        format!(
            "book chapter `{lesson}` (book/src/{lesson}.md), \"Exercise {n}: {title}\", under Hint",
            lesson = self.lesson,
            n = self.number,
            title = self.title
        )
    }

    /// The message a learner reads when `check` did not pass.
    pub fn explain(&self, check: &str, outcome: &Outcome) -> String {
        let head = format!(
            "{lesson} exercise {n} ({title}): check `{check}` failed\n  your code: lessons/{lesson}/{file}\n",
            lesson = self.lesson,
            n = self.number,
            title = self.title,
            file = self.file
        );
        let body = match outcome {
            Outcome::Pass => "  (it passed)\n".to_string(),
            Outcome::Fail(m) => format!(
                "  sent:      {}\n  expected:  {}\n  got:       {}\n",
                m.sent, m.expected, m.got
            ),
            Outcome::Panicked(msg) => format!(
                "  got:       a panic: {msg}\n             (the check or your code panicked; `todo!()` means the exercise is not done yet)\n"
            ),
            Outcome::TimedOut => format!(
                "  got:       no result within {CHECK_TIME_LIMIT:?}: something blocks forever (a read without a timeout? a loop that never ends?)\n"
            ),
        };
        format!("{head}{body}  hint:      {}\n", self.hint_location())
    }

    /// Runs one check against the code under test and panics with [`Exercise::explain`]'s message
    /// unless it passes. One `#[test]` per check calls this.
    pub fn expect_pass<F>(&self, check: &str, run_check: F)
    where
        F: FnOnce() -> CheckResult + Send + 'static,
    {
        let outcome = run(run_check);
        if !matches!(outcome, Outcome::Pass) {
            panic!("\n{}", self.explain(check, &outcome));
        }
    }

    /// Proves that every check fails on the untouched starter, each with a [`Mismatch`] (what was
    /// sent, expected and received). `checks` pairs each check's name with a closure that runs it
    /// against the starter.
    ///
    /// If the starter file is not the pristine one (a learner is working on it), the proof cannot
    /// apply: under CI that is an error; elsewhere it is skipped with a note on stderr.
    pub fn expect_starter_fails_every_check(&self, checks: Vec<(&'static str, StarterCheck)>) {
        let path = crate::workspace_root()
            .join("lessons")
            .join(self.lesson)
            .join(self.file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the starter {}: {e}", path.display()));
        let hash = fnv1a(&text.replace("\r\n", "\n"));
        if hash != self.pristine {
            let msg = format!(
                "lessons/{}/{} differs from the untouched starter (hash {hash:#018x}, expected {:#018x})",
                self.lesson, self.file, self.pristine
            );
            if crate::under_ci() {
                panic!(
                    "{msg}.\nIf you changed the starter on purpose, set `pristine: {hash:#018x}` for exercise {} in lessons/{}/tests/exercises.rs.",
                    self.number, self.lesson
                );
            }
            eprintln!(
                "note: {msg}: you are working on it, so the proof that it fails every check is skipped."
            );
            return;
        }
        assert!(!checks.is_empty(), "exercise {} has no checks", self.number);
        let mut passed = Vec::new();
        let mut unexplained = Vec::new();
        for (name, check) in checks {
            match run(check) {
                Outcome::Pass => passed.push(name),
                Outcome::Fail(_) => {}
                other => unexplained.push(format!("{name}: {other:?}")),
            }
        }
        assert!(
            passed.is_empty(),
            "{} exercise {}: the untouched starter passes {passed:?}; a check that the starter passes asserts nothing",
            self.lesson,
            self.number
        );
        // A learner's first run must say what was sent, expected and received, so each check
        // must catch the starter's failure itself (see `call`), not panic or hang.
        assert!(
            unexplained.is_empty(),
            "{} exercise {}: on the untouched starter these checks fail without a sent/expected/got report:\n{}",
            self.lesson,
            self.number,
            unexplained.join("\n")
        );
    }
}

/// A check bound to the starter code, ready to [`run`].
pub type StarterCheck = Box<dyn FnOnce() -> CheckResult + Send + 'static>;

/// 64-bit FNV-1a: a small, stable fingerprint to tell whether a starter file was edited.
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Declares the checks of one exercise.
///
/// ```text
/// mod ex1 {
///     use super::*;
///     course_testkit::checks! {
///         exercise: EXERCISE,
///         subject: || subject::ex1_byte_order::API,
///         starter: || starter::ex1_byte_order::API,
///         checks: [encodes_loopback, decodes_loopback],
///     }
///     fn encodes_loopback(api: Api) -> CheckResult { ... }
/// }
/// ```
///
/// For each check this generates `#[test] fn <check>()` in a module `checks`, run against `subject`;
/// and, unless the `learner` feature is on, `untouched_starter_fails_every_check`. A check is a
/// function taking the exercise's API value (something `Copy + Send + 'static`, usually a struct of
/// function pointers) and returning a [`CheckResult`].
#[macro_export]
macro_rules! checks {
    (
        exercise: $exercise:expr,
        subject: $subject:expr,
        starter: $starter:expr,
        checks: [$($check:ident),+ $(,)?] $(,)?
    ) => {
        mod checks {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    let api = ($subject)();
                    $exercise.expect_pass(stringify!($check), move || super::$check(api));
                }
            )+

            #[cfg(not(feature = "learner"))]
            #[test]
            fn untouched_starter_fails_every_check() {
                let api = ($starter)();
                $exercise.expect_starter_fails_every_check(vec![$(
                    (
                        stringify!($check),
                        Box::new(move || super::$check(api)) as $crate::exercise::StarterCheck,
                    ),
                )+]);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const EX: Exercise = Exercise {
        lesson: "demo",
        number: 1,
        title: "Demo",
        file: "exercises/ex1.rs",
        pristine: 0,
    };

    #[test]
    fn a_panic_becomes_a_failed_check() {
        let outcome = run(|| todo!("write me"));
        assert!(
            matches!(&outcome, Outcome::Panicked(m) if m.contains("write me")),
            "{outcome:?}"
        );
        let text = EX.explain("c", &outcome);
        assert!(
            text.contains("write me") && text.contains("Exercise 1: Demo"),
            "{text}"
        );
    }

    #[test]
    fn a_mismatch_names_sent_expected_got_and_hint() {
        let outcome = run(|| mismatch("ping", "pong", "silence"));
        let text = EX.explain("c", &outcome);
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
    fn a_panic_in_the_code_under_test_becomes_a_description() {
        assert_eq!(call(|| 7), Ok(7));
        let got: Result<u8, String> = call(|| todo!("decode"));
        assert_eq!(got, Err("a panic: not yet implemented: decode".to_string()));
    }

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv, section 8).
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar"), 0x8594_4171_f739_67e8);
    }
}
