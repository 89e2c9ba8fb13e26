//! The learner's loop, tested as a learner uses it: `cargo exercise`, `cargo progress` and
//! `cargo watch-exercises`, run for real.
//!
//! - On an untouched checkout, every check of every exercise fails on its starter, and each report
//!   says what was sent, expected and got, names the learner's own panic, and shows no harness
//!   noise (no panic header, no backtrace even with `RUST_BACKTRACE=1`, no compiler warning).
//! - Each known-wrong solution in `lessons/<lesson>/tests/wrong/` fails the checks it names.
//! - `progress` and `watch` report a solved and an unsolved exercise correctly.
//!
//! These run cargo themselves, in one copy of the workspace (`target/learner/workspace`, with its
//! own target folder), so they never wait on the build that runs them and never touch a learner's
//! files. The copy is shared, so the tests take turns ([`Scratch`]); each starts by putting the
//! reference solution in every exercise. (Two workspaces cannot share a target folder: cargo names
//! a workspace's artifacts by paths relative to its root, so they would overwrite each other.)

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock, mpsc};
use std::time::Duration;

use course_testkit::under_ci;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cargo_path() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// A cargo command run in the scratch workspace.
fn cargo(dir: &Path) -> Command {
    let mut command = Command::new(cargo_path());
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join(SCRATCH_TARGET))
        .env("RUST_BACKTRACE", "1") // a common setting: the reports must not grow backtraces
        .stdin(Stdio::null());
    command
}

fn lessons_with_exercises(root: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(root.join("lessons"))
        .expect("lessons/")
        .flatten()
        .filter(|e| e.path().join("exercises").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found
}

/// `(check, passed)` per check from `test exN::check ... ok|FAILED` lines, and the text of each
/// failure under its `---- exN::check ----` heading.
struct Outcomes {
    passed: BTreeMap<String, bool>,
    reports: BTreeMap<String, String>,
}

fn outcomes(stdout: &str) -> Outcomes {
    let mut passed = BTreeMap::new();
    let mut reports: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ex")
            && let Some((name, result)) = rest.split_once(" ... ")
        {
            passed.insert(format!("ex{}", name.trim()), result.trim() == "ok");
        } else if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" ----"))
        {
            current = Some(name.to_string());
        } else if line == "failures:" {
            current = None;
        } else if let Some(name) = &current {
            let report = reports.entry(name.clone()).or_default();
            report.push_str(line);
            report.push('\n');
        }
    }
    Outcomes { passed, reports }
}

/// True when `git` says no starter differs from the committed one. `None` when git cannot tell.
fn starters_untouched() -> Option<bool> {
    let out = Command::new("git")
        .current_dir(root())
        .args(["status", "--porcelain", "--", "lessons/*/exercises"])
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout.is_empty())
}

#[test]
fn untouched_starters_fail_every_check_with_a_report_a_learner_can_act_on() {
    match starters_untouched() {
        Some(true) => {}
        other => {
            let why = if other.is_none() {
                "git cannot tell whether the starters are untouched"
            } else {
                "you are working on the exercises (git status shows changes in lessons/*/exercises)"
            };
            assert!(
                !under_ci(),
                "under CI the starters must be untouched: {why}"
            );
            eprintln!("SKIPPED: the proof that every starter fails every check: {why}");
            return;
        }
    }
    let scratch = Scratch::take();
    for lesson in lessons_with_exercises(root()) {
        copy(
            &root().join("lessons").join(&lesson).join("exercises"),
            &scratch.dir.join("lessons").join(&lesson).join("exercises"),
        );
        let out = cargo(&scratch.dir)
            .args(["exercise", &lesson])
            .output()
            .expect("cargo runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let all = format!("{stdout}\n{stderr}");
        assert!(
            !out.status.success(),
            "`cargo exercise {lesson}` passed on the starters:\n{all}"
        );
        for noise in [
            "warning",
            "panicked at",
            "stack backtrace",
            "RUST_BACKTRACE",
            "testkit/src",
        ] {
            assert!(
                !all.contains(noise),
                "`cargo exercise {lesson}` on the starters shows {noise:?}:\n{all}"
            );
        }
        let found = outcomes(&stdout);
        assert!(
            !found.passed.is_empty(),
            "no checks ran for {lesson}:\n{all}"
        );
        for (check, passed) in &found.passed {
            assert!(
                !passed,
                "{lesson} {check} passes on the untouched starter: it asserts nothing"
            );
            let report = found
                .reports
                .get(check)
                .unwrap_or_else(|| panic!("{lesson} {check} failed without a report:\n{all}"));
            for field in ["  sent:", "  expected:", "  got:", "  hint:"] {
                assert!(
                    report.contains(field),
                    "{lesson} {check}: no {field:?} in\n{report}"
                );
            }
            assert!(
                !report.contains("(not said)"),
                "{lesson} {check}: a field is empty in\n{report}"
            );
            // Every starter is a `todo!()`: the report must name that panic as the learner's.
            assert!(
                report.contains("your code panicked: not yet implemented")
                    || report.contains("your server panicked: not yet implemented"),
                "{lesson} {check}: the report does not name the starter's own panic:\n{report}"
            );
        }
    }
}

/// Where the copy of the workspace lives, and its target folder.
const SCRATCH: &str = "target/learner/workspace";
const SCRATCH_TARGET: &str = "target/learner/target";

/// The copy of the workspace, held by one test at a time. Every exercise holds its reference
/// solution (under the starter's title line, which the tool reads) when a test takes it.
struct Scratch {
    dir: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Scratch {
    fn take() -> Scratch {
        static TURN: Mutex<()> = Mutex::new(());
        static MADE: OnceLock<()> = OnceLock::new();
        // A test that failed while holding the copy leaves it to be reset, not broken.
        let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = root().join(SCRATCH);
        MADE.get_or_init(|| {
            let _ = std::fs::remove_dir_all(&dir);
            for item in [
                "Cargo.toml",
                "Cargo.lock",
                ".cargo",
                "src",
                "testkit",
                "book/src/SUMMARY.md",
            ] {
                copy(&root().join(item), &dir.join(item));
            }
            for lesson in lessons_with_exercises(root()) {
                copy(
                    &root().join("lessons").join(&lesson),
                    &dir.join("lessons").join(&lesson),
                );
            }
        });
        for lesson in lessons_with_exercises(root()) {
            let exercises = dir.join("lessons").join(&lesson).join("exercises");
            for file in std::fs::read_dir(root().join("lessons").join(&lesson).join("solutions"))
                .expect("solutions/")
                .flatten()
            {
                if file.file_name() != "mod.rs" {
                    put(&exercises.join(file.file_name()), &file.path());
                }
            }
        }
        Scratch { dir, _turn: turn }
    }

    /// Puts `source` in place of the exercise file of the same name (before the first `.`).
    fn place(&self, lesson: &str, source: &Path) -> String {
        let stem = source.file_name().expect("a file").to_string_lossy();
        let file = format!("{}.rs", stem.split('.').next().expect("a name"));
        put(
            &self
                .dir
                .join("lessons")
                .join(lesson)
                .join("exercises")
                .join(&file),
            source,
        );
        file
    }
}

/// Writes `source`'s text over the exercise file `target`, keeping `target`'s first line (the
/// title the tool reads), and touching it only when the text changes (cargo rebuilds on a change).
fn put(target: &Path, source: &Path) {
    let starter = root().join(
        target
            .strip_prefix(root().join(SCRATCH))
            .expect("in the copy"),
    );
    let title = std::fs::read_to_string(starter).expect("the starter");
    let title = title.lines().next().unwrap_or_default();
    let text = std::fs::read_to_string(source).expect("the source");
    let body = text.split_once('\n').map_or("", |(_, body)| body);
    let new = format!("{title}\n{body}");
    if std::fs::read_to_string(target).ok().as_deref() != Some(new.as_str()) {
        std::fs::write(target, new).expect("write into the copy");
    }
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("create a folder");
        for entry in std::fs::read_dir(from).expect("read a folder").flatten() {
            if entry.file_name() != "target" {
                copy(&entry.path(), &to.join(entry.file_name()));
            }
        }
    } else {
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("create a folder");
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

#[test]
fn each_known_wrong_solution_fails_the_checks_it_names() {
    let mut ran = 0;
    for lesson in lessons_with_exercises(root()) {
        let mut wrongs: Vec<PathBuf> =
            std::fs::read_dir(root().join("lessons").join(&lesson).join("tests/wrong"))
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
        wrongs.sort();
        for wrong in wrongs {
            let scratch = Scratch::take();
            let file = scratch.place(&lesson, &wrong);
            let number = file
                .trim_start_matches("ex")
                .split('_')
                .next()
                .expect("exN_")
                .to_string();
            let text = std::fs::read_to_string(&wrong).expect("the wrong solution");
            let must_fail: Vec<&str> = text
                .lines()
                .find_map(|l| l.strip_prefix("//! Must fail: "))
                .unwrap_or_else(|| panic!("{}: no `//! Must fail:` line", wrong.display()))
                .split(", ")
                .collect();
            let out = cargo(&scratch.dir)
                .args(["exercise", &lesson, &format!("ex{number}::")])
                .output()
                .expect("cargo runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let found = outcomes(&stdout);
            for check in &must_fail {
                let name = format!("ex{number}::{check}");
                assert_eq!(
                    found.passed.get(&name),
                    Some(&false),
                    "{} should fail `{name}`:\n{stdout}\n{}",
                    wrong.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            ran += 1;
        }
    }
    assert!(ran > 0, "no known-wrong solutions found");
}

/// Runs the learner's tool (`cargo progress` / `cargo watch-exercises`) in `dir`.
fn learn(dir: &Path, mode: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_learn"));
    command
        .arg(mode)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join(SCRATCH_TARGET))
        .env("CARGO", cargo_path())
        .stdin(Stdio::null());
    command
}

/// Reads a child's stdout lines on a thread; `wait_for` returns once a line contains `text`.
struct Lines {
    rx: mpsc::Receiver<String>,
    seen: String,
}

impl Lines {
    fn of(child: &mut std::process::Child) -> Lines {
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: String::new(),
        }
    }

    fn wait_for(&mut self, text: &str) {
        // Generous: a run of the checks may compile the lesson first.
        let limit = Duration::from_secs(300);
        loop {
            match self.rx.recv_timeout(limit) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(_) => panic!(
                    "no line with {text:?} within {limit:?}; saw:\n{}",
                    self.seen
                ),
            }
        }
    }
}

/// Starts `cargo watch-exercises` in `dir`, with its output read line by line.
fn watch(dir: &Path) -> (Reaped, Lines) {
    let mut child = learn(dir, "watch")
        .stdout(Stdio::piped())
        .spawn()
        .expect("the learner's tool starts");
    let lines = Lines::of(&mut child);
    (Reaped(child), lines)
}

/// Kills the child on drop, so a failing test leaves nothing running.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn progress_and_watch_follow_a_learner_from_one_exercise_to_the_next() {
    let scratch = Scratch::take();
    // Every exercise holds its solution but TCP exercise 2, which fails one check.
    let unbounded = root().join("lessons/tcp/tests/wrong/ex2_line_echo.unbounded_line.rs");
    scratch.place("tcp", &unbounded);

    let out = learn(&scratch.dir, "progress")
        .output()
        .expect("learn runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The lesson column is as wide as the longest lesson name: compare words, not spaces.
    let words = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("[done] tcp ex1 A netstring codec"),
        "{stdout}"
    );
    assert!(
        words.contains("[todo] tcp ex2 A line echo server"),
        "{stdout}"
    );
    assert!(stdout.contains("8/9 checks pass"), "{stdout}");
    assert!(
        stdout.contains("Next: tcp exercise 2 (A line echo server)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("book/src/tcp.md, section \"Exercise 2: A line echo server\""),
        "{stdout}"
    );

    // Watch skips the solved exercises, reports the unsolved one, and waits for a save.
    let (mut watch, mut lines) = watch(&scratch.dir);
    lines.wait_for("tcp exercise 2: 8 of 9 checks pass.");
    lines.wait_for("Ctrl-C to leave.");
    assert!(
        lines.seen.contains("closes_a_line_that_never_ends"),
        "{}",
        lines.seen
    );

    // Saving the solution makes it check again, pass, and finish.
    scratch.place(
        "tcp",
        &root().join("lessons/tcp/solutions/ex2_line_echo.rs"),
    );
    lines.wait_for("tcp exercise 2: all 9 checks pass.");
    lines.wait_for("Every exercise passes.");
    let status = watch.0.wait().expect("watch exits");
    assert!(status.success(), "{}", lines.seen);
}

#[test]
fn watch_leaves_cleanly_on_ctrl_c() {
    let scratch = Scratch::take();
    let cut = root().join("lessons/tcp/tests/wrong/ex1_netstring.cut_dependent.rs");
    scratch.place("tcp", &cut);
    let (mut watch, mut lines) = watch(&scratch.dir);
    lines.wait_for("Ctrl-C to leave.");
    let sent = Command::new("kill")
        .args(["-INT", &watch.0.id().to_string()])
        .status()
        .expect("kill runs (Debian: procps)");
    assert!(sent.success());
    lines.wait_for("Bye");
    let status = watch.0.wait().expect("watch exits");
    assert!(status.success(), "{}", lines.seen);
}

/// Like Rustlings' `dev check`: the shape every lesson's exercises must have, so that the harness,
/// the learner's tool and the book agree.
#[test]
fn every_lesson_has_the_exercise_shape() {
    let mut problems = Vec::new();
    for lesson in lessons_with_exercises(root()) {
        let dir = root().join("lessons").join(&lesson);
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        let manifest = read(&dir.join("Cargo.toml"));
        if !manifest.contains("learner = []") {
            problems.push(format!(
                "lessons/{lesson}/Cargo.toml: no `learner = []` feature"
            ));
        }
        if !manifest.contains("name = \"exercises\"\nharness = false") {
            problems.push(format!(
                "lessons/{lesson}/Cargo.toml: no `[[test]] name = \"exercises\"` with `harness = false`"
            ));
        }
        let names = |folder: &str| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir.join(folder))
                .map(|d| {
                    d.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        };
        if names("exercises") != names("solutions") {
            problems.push(format!(
                "lessons/{lesson}: exercises/ {:?} and solutions/ {:?} differ",
                names("exercises"),
                names("solutions")
            ));
        }
        let checks = read(&dir.join("tests/exercises.rs"));
        let chapter = read(&root().join("book/src").join(format!("{lesson}.md")));
        for file in names("exercises").iter().filter(|f| *f != "mod.rs") {
            let text = read(&dir.join("exercises").join(file));
            let first = text.lines().next().unwrap_or_default();
            let Some((number, title)) = first
                .strip_prefix("//! Exercise ")
                .and_then(|rest| rest.split_once(": "))
            else {
                problems.push(format!(
                    "lessons/{lesson}/exercises/{file}: first line is not `//! Exercise N: Title.`"
                ));
                continue;
            };
            let title = title.trim_end_matches('.');
            let command = format!("cargo exercise {lesson} ex{number}");
            if !text.contains(&command) {
                problems.push(format!(
                    "lessons/{lesson}/exercises/{file}: does not name `{command}`"
                ));
            }
            if !checks.contains(&format!("number: {number},\n        title: \"{title}\",")) {
                problems.push(format!(
                    "lessons/{lesson}/tests/exercises.rs: no exercise {number} titled {title:?}"
                ));
            }
            let heading = format!("### Exercise {number}: {title}");
            match chapter.split_once(&heading) {
                None => problems.push(format!("book/src/{lesson}.md: no heading `{heading}`")),
                Some((_, section)) => {
                    let section = section.split("\n## ").next().unwrap_or_default();
                    let section = section.split("\n### ").next().unwrap_or_default();
                    if !section.contains("Hint") {
                        problems.push(format!("book/src/{lesson}.md: `{heading}` has no Hint"));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "lesson shape:\n{}",
        problems.join("\n")
    );
}
