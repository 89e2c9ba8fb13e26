//! The learner's tool: `cargo progress` and `cargo watch-exercises` (aliases in `.cargo/config.toml`).
//!
//! - `progress` runs every lesson's checks against your code and shows, per exercise, how many
//!   pass, then names the next exercise to do and where its section is in the book.
//! - `watch` runs the checks of the next unfinished exercise, then again each time you save its
//!   file; when it passes, it moves on to the next one. Ctrl-C leaves.
//!
//! Both run the same command as `cargo exercise <lesson>`, so what they report is what that
//! command reports. Everything runs offline, on loopback.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use notify::{RecursiveMode, Watcher};

#[derive(Parser)]
#[command(
    max_term_width = 80,
    about = "Your progress through the course's exercises",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Run every exercise's checks and show what passes, and what to do next.
    #[command(after_help = "Example: cargo progress")]
    Progress,
    /// Check the next unfinished exercise each time you save it; move on when it passes.
    #[command(after_help = "Example: cargo watch-exercises   (Ctrl-C to leave)")]
    Watch,
}

/// One exercise, as the lesson's files describe it.
#[derive(Debug, Clone)]
struct Exercise {
    lesson: String,
    number: u32,
    title: String,
    /// The starter file, relative to the workspace root.
    file: PathBuf,
}

impl Exercise {
    fn name(&self) -> String {
        format!("{} exercise {}", self.lesson, self.number)
    }

    fn chapter_section(&self) -> String {
        format!(
            "book/src/{}.md, section \"Exercise {}: {}\"",
            self.lesson, self.number, self.title
        )
    }
}

/// How the checks of one exercise went.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    passed: usize,
    ran: usize,
}

impl Tally {
    fn done(self) -> bool {
        self.ran > 0 && self.passed == self.ran
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = workspace_root().and_then(|root| match cli.command {
        Mode::Progress => progress(&root),
        Mode::Watch => watch(&root),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The folder holding `lessons/`: the current folder or one above it.
fn workspace_root() -> Result<PathBuf> {
    let here = std::env::current_dir().context("cannot read the current folder")?;
    here.ancestors()
        .find(|dir| dir.join("lessons").is_dir() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .context("no lessons/ folder here or above: run this inside the course's folder")
}

/// Every exercise of every lesson, in course order (the order of SUMMARY.md's lessons, then by
/// number). An exercise is a file `lessons/<lesson>/exercises/exN_*.rs` whose first line is
/// `//! Exercise N: Title.`
fn exercises(root: &Path) -> Result<Vec<Exercise>> {
    let summary = std::fs::read_to_string(root.join("book/src/SUMMARY.md")).unwrap_or_default();
    let mut lessons: Vec<(usize, String)> = Vec::new();
    for entry in std::fs::read_dir(root.join("lessons")).context("cannot list lessons/")? {
        let dir = entry?.path();
        if dir.join("exercises").is_dir() {
            let name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let place = summary.find(&format!("({name}.md)")).unwrap_or(usize::MAX);
            lessons.push((place, name));
        }
    }
    lessons.sort();
    let mut found = Vec::new();
    for (_, lesson) in lessons {
        let files: Vec<PathBuf> =
            std::fs::read_dir(root.join("lessons").join(&lesson).join("exercises"))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.ends_with("mod.rs"))
                .collect();
        let mut in_lesson = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let first = text.lines().next().unwrap_or_default();
            let Some((number, title)) = first
                .strip_prefix("//! Exercise ")
                .and_then(|rest| rest.split_once(": "))
            else {
                bail!(
                    "{}: the first line should be `//! Exercise N: Title.`",
                    path.display()
                );
            };
            in_lesson.push(Exercise {
                lesson: lesson.clone(),
                number: number
                    .parse()
                    .with_context(|| format!("{}: exercise number", path.display()))?,
                title: title.trim_end_matches('.').to_string(),
                file: path.strip_prefix(root).unwrap_or(&path).to_path_buf(),
            });
        }
        in_lesson.sort_by_key(|e| e.number);
        found.extend(in_lesson);
    }
    Ok(found)
}

/// What `cargo exercise <lesson> [filter]` printed, and per exercise number, how its checks went.
struct Run {
    output: String,
    compiled: bool,
    tallies: BTreeMap<u32, Tally>,
}

/// Runs the lesson's checks against the learner's code: the command `cargo exercise` stands for.
fn run_checks(root: &Path, lesson: &str, filter: Option<&str>) -> Result<Run> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args([
            "test",
            "--features",
            "learner",
            "--test",
            "exercises",
            "-p",
            lesson,
            "--",
        ])
        .args(filter)
        .stdin(Stdio::null());
    let out = command
        .output()
        .with_context(|| format!("cannot run cargo to check the {lesson} exercises"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut tallies: BTreeMap<u32, Tally> = BTreeMap::new();
    // Lines such as `test ex2::echoes_a_line ... ok`.
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ex") else {
            continue;
        };
        let Some((number, rest)) = rest.split_once("::") else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        let tally = tallies.entry(number).or_default();
        tally.ran += 1;
        if rest.trim_end().ends_with("... ok") {
            tally.passed += 1;
        }
    }
    let compiled = stdout.contains("running ");
    Ok(Run {
        output: if compiled { stdout } else { stderr },
        compiled,
        tallies,
    })
}

fn progress(root: &Path) -> Result<()> {
    let all = exercises(root)?;
    let mut lessons: Vec<&str> = all.iter().map(|e| e.lesson.as_str()).collect();
    lessons.dedup();
    println!(
        "Checking every exercise against your code (this runs `cargo exercise` per lesson;\n\
         the first time, compiling the checks takes a minute or more)...\n"
    );
    let mut next: Option<&Exercise> = None;
    let width = all.iter().map(|e| e.title.len()).max().unwrap_or(0);
    let lesson_width = all.iter().map(|e| e.lesson.len()).max().unwrap_or(0);
    for lesson in lessons {
        let run = run_checks(root, lesson, None)?;
        if !run.compiled {
            println!(
                "  {lesson}: your code does not compile yet; `cargo exercise {lesson}` shows why"
            );
        }
        for e in all.iter().filter(|e| e.lesson == lesson) {
            let tally = run.tallies.get(&e.number).copied().unwrap_or_default();
            let mark = if tally.done() { "done" } else { "todo" };
            println!(
                "  [{mark}] {lesson:<lesson_width$} ex{}  {:<width$}  {}/{} checks pass",
                e.number, e.title, tally.passed, tally.ran
            );
            if !tally.done() && next.is_none() {
                next = Some(e);
            }
        }
    }
    println!();
    match next {
        Some(e) => {
            println!("Next: {} ({})", e.name(), e.title);
            println!("  edit:  {}", e.file.display());
            println!("  read:  {}", e.chapter_section());
            println!(
                "  check: cargo exercise {} ex{}   (or: cargo watch-exercises)",
                e.lesson, e.number
            );
        }
        None => println!("Every exercise passes. Well done!"),
    }
    Ok(())
}

enum Event {
    Saved,
    Quit,
}

fn watch(root: &Path) -> Result<()> {
    let all = exercises(root)?;
    let (tx, events) = mpsc::channel();
    let quit = tx.clone();
    ctrlc::set_handler(move || {
        let _ = quit.send(Event::Quit);
    })
    .context("cannot catch Ctrl-C")?;
    let mut index = 0;
    while let Some(exercise) = all.get(index) {
        let path = root.join(&exercise.file);
        let file_name = path.file_name().map(ToOwned::to_owned);
        let saved = tx.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                // Editors save in place or write a new file and rename it: either names the file.
                let ours = event
                    .paths
                    .iter()
                    .any(|p| p.file_name() == file_name.as_deref());
                if ours && (event.kind.is_modify() || event.kind.is_create()) {
                    let _ = saved.send(Event::Saved);
                }
            })
            .context("cannot watch files")?;
        let folder = path.parent().unwrap_or(root);
        watcher
            .watch(folder, RecursiveMode::NonRecursive)
            .with_context(|| format!("cannot watch {}", folder.display()))?;
        loop {
            // Clear the screen, as a fresh report is easier to read than a scrolled one.
            print!("\x1b[2J\x1b[H");
            println!("Checking {} ({})...", exercise.name(), exercise.title);
            let filter = format!("ex{}::", exercise.number);
            let run = run_checks(root, &exercise.lesson, Some(&filter))?;
            let tally = run
                .tallies
                .get(&exercise.number)
                .copied()
                .unwrap_or_default();
            if tally.done() {
                println!("{}: all {} checks pass.", exercise.name(), tally.ran);
                break;
            }
            println!("{}", run.output.trim_end());
            println!();
            if run.compiled {
                println!(
                    "{}: {} of {} checks pass.",
                    exercise.name(),
                    tally.passed,
                    tally.ran
                );
            } else {
                println!(
                    "{}: your code does not compile yet (above).",
                    exercise.name()
                );
            }
            println!(
                "Watching {}: save it to check again. Hint: {}",
                exercise.file.display(),
                exercise.chapter_section()
            );
            println!("Ctrl-C to leave.");
            let mut event = events.recv().unwrap_or(Event::Quit);
            // One save often makes several events: take them all, then check once.
            std::thread::sleep(Duration::from_millis(100));
            while let Ok(more) = events.try_recv() {
                if matches!(more, Event::Quit) {
                    event = more;
                }
            }
            if matches!(event, Event::Quit) {
                println!("Bye: run `cargo watch-exercises` to carry on.");
                return Ok(());
            }
        }
        index += 1;
    }
    println!("Every exercise passes. Well done!");
    Ok(())
}
