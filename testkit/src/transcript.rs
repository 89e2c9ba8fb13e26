//! Terminal sessions shown in the book are transcript files in `lessons/<lesson>/transcripts/`:
//!
//! ```text
//! $ cargo run -q -p sockets -- byte-order 8080
//! (what the command printed: stdout, then stderr)
//! ```
//!
//! [`check_lesson`] runs each command for real and compares its output with the file, after
//! replacing what must differ between runs (ephemeral ports, durations) on both sides. With
//! `UPDATE_TRANSCRIPTS=1` it rewrites the files from the real runs instead.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;

/// How long one transcript command may run.
const COMMAND_TIME_LIMIT: Duration = Duration::from_secs(30);

/// One command of a transcript and the output the book shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of the `$ ` line in the file.
    pub line: usize,
    /// The command as typed, without the `$ `.
    pub command: String,
    /// The output shown under it, each line ending in `\n`.
    pub output: String,
}

/// Splits a transcript into its steps. Lines before the first `$ ` line are an error.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: i + 1,
                command: command.to_string(),
                output: String::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.output.push_str(line);
            step.output.push('\n');
        } else {
            return Err(format!(
                "line {}: a transcript starts with a `$ ` command line",
                i + 1
            ));
        }
    }
    if steps.is_empty() {
        return Err("no `$ ` command line".into());
    }
    Ok(steps)
}

/// Replaces what legitimately differs between runs: ephemeral ports (32768-65535, the range every
/// common OS hands out for port 0) after a colon or before `/tcp` or `/udp` (as a port scanner
/// shows them), durations, and numbers a program itself marks as `(varies by system)`, such as
/// default buffer sizes.
pub fn normalize(output: &str) -> String {
    static PORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r":(3[2-9]\d{3}|[4-5]\d{4}|6[0-5]\d{3})\b").expect("valid regex")
    });
    static PORT_PROTOCOL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(3[2-9]\d{3}|[4-5]\d{4}|6[0-5]\d{3})/(tcp|udp)\b").expect("valid regex")
    });
    static DURATION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s)\b").expect("valid regex"));
    static VARYING: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b\d+ (\w+ )?\(varies by system\)").expect("valid regex"));
    let output = PORT.replace_all(output, ":<port>");
    let output = PORT_PROTOCOL.replace_all(&output, "<port>/$2");
    let output = VARYING.replace_all(&output, "<n> ${1}(varies by system)");
    DURATION.replace_all(&output, "<duration>").into_owned()
}

/// Splits a command line into words, honouring '...' and "..." quoting.
pub fn split_words(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(format!("unbalanced quote in `{command}`"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Checks (or, with `UPDATE_TRANSCRIPTS=1`, rewrites) every transcript of `lesson`. Each command must
/// start with `cargo run -q -p <lesson> --`; it runs as `bin` with the words after `--`.
///
/// A transcript `X.txt` with a sibling `X.server.txt` is a two-terminal session: the server's one
/// command (terminal 1) runs in the background while `X.txt`'s commands (terminal 2) run, then it is
/// stopped as Ctrl-C would. The server listens on a free port, passed to every command through the
/// environment variable `<LESSON>_ADDR` (which the lesson's `--addr` options read), and the port
/// is written back as the one the book shows in `listening on ...`.
///
/// Panics listing every mismatch with the chapter lines that show the transcript.
pub fn check_lesson(lesson: &str, bin: &Path) {
    let dir = crate::workspace_root()
        .join("lessons")
        .join(lesson)
        .join("transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no transcripts in {}", dir.display());

    let update = std::env::var("UPDATE_TRANSCRIPTS").is_ok_and(|v| v == "1");
    let shown = |file: &Path| {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!("lessons/{lesson}/transcripts/{name}")
    };
    let read = |file: &Path| std::fs::read_to_string(file).unwrap_or_default();
    let mut problems = Vec::new();
    for file in &files {
        let name = file.to_string_lossy();
        if let Some(client) = name.strip_suffix(".server.txt") {
            if !Path::new(&format!("{client}.txt")).is_file() {
                problems.push(format!(
                    "{}: no {client}.txt to run while it serves",
                    shown(file)
                ));
            }
            continue;
        }
        let server_file = PathBuf::from(format!("{}.server.txt", name.trim_end_matches(".txt")));
        let checked: Result<Vec<(&Path, String)>, String> = if server_file.is_file() {
            check_with_server(lesson, bin, &read(&server_file), &read(file)).map(
                |(server, client)| vec![(server_file.as_path(), server), (file.as_path(), client)],
            )
        } else {
            check_file(lesson, bin, &read(file), &[], None).map(|real| vec![(file.as_path(), real)])
        };
        let checked = match checked {
            Ok(checked) => checked,
            Err(e) => {
                problems.push(format!("{}: {e}", shown(file)));
                continue;
            }
        };
        for (path, real) in checked {
            let chapters = crate::book_mentions(&shown(path));
            if chapters.is_empty() {
                problems.push(format!(
                    "{}: no chapter in book/src includes it",
                    shown(path)
                ));
            }
            let text = read(path);
            let Some(diff) = first_difference(&text, &real) else {
                continue;
            };
            if update {
                std::fs::write(path, real)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
                eprintln!("updated {}", shown(path));
            } else {
                problems.push(format!(
                    "{} (shown at {}) does not match a real run:\n{diff}",
                    shown(path),
                    chapters.join(", ")
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "\n{}\n\nIf the program changed on purpose, regenerate with:\n  UPDATE_TRANSCRIPTS=1 cargo test -p {lesson} --test transcripts\n",
        problems.join("\n\n")
    );
}

/// The words after `cargo run -q -p <lesson> --` in `step`.
fn lesson_args(lesson: &str, step: &Step) -> Result<Vec<String>, String> {
    let prefix = ["cargo", "run", "-q", "-p", lesson, "--"];
    let words = split_words(&step.command)?;
    if words.len() < prefix.len() || words[..prefix.len()] != prefix {
        return Err(format!(
            "line {}: a command must start with `{}`",
            step.line,
            prefix.join(" ")
        ));
    }
    Ok(words[prefix.len()..].to_vec())
}

/// Runs every step of `text` with `env` set, and returns the transcript the real runs produce.
/// With `ports = Some((real, shown))`, the port `real` is written as `shown` in the output.
fn check_file(
    lesson: &str,
    bin: &Path,
    text: &str,
    env: &[(String, String)],
    ports: Option<(u16, u16)>,
) -> Result<String, String> {
    let mut real = String::new();
    for step in parse(text)? {
        let args = lesson_args(lesson, &step)?;
        let output = run_command(bin, &args, env)
            .map_err(|e| format!("line {}: `{}`: {e}", step.line, step.command))?;
        real.push_str(&format!(
            "$ {}\n{}",
            step.command,
            show_port(&output, ports)
        ));
    }
    Ok(real)
}

fn show_port(output: &str, ports: Option<(u16, u16)>) -> String {
    match ports {
        Some((real, shown)) => {
            let pattern = Regex::new(&format!(r":{real}\b")).expect("valid regex");
            pattern
                .replace_all(output, format!(":{shown}").as_str())
                .into_owned()
        }
        None => output.to_string(),
    }
}

/// Ports for the server of a two-terminal transcript to try, in order, before any free port:
/// the port the book shows, then a few others with as many digits, each free a moment ago.
/// A port of another length would change what depends on the address's length, such as a
/// response that echoes the `Host` header, and its `Content-Length`; the book shows the
/// lesson's default port, which is what a reader gets.
fn ports_like(shown: u16) -> Vec<u16> {
    let digits = shown.to_string().len() as u32;
    let (low, high) = (
        10u32.pow(digits - 1).max(1024),
        10u32.pow(digits).min(65536),
    );
    if low >= high {
        return Vec::new();
    }
    // A different choice in each process, so that a port held by someone else is not tried
    // over and over.
    let mut next = std::process::id().wrapping_mul(2_654_435_761);
    let mut candidates = vec![shown];
    for _ in 0..8 {
        next = next.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        candidates.push((low + (next >> 8) % (high - low)) as u16);
    }
    candidates
        .into_iter()
        .filter(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .collect()
}

/// Runs a two-terminal session; returns the real transcripts of the server and of the client.
fn check_with_server(
    lesson: &str,
    bin: &Path,
    server_text: &str,
    client_text: &str,
) -> Result<(String, String), String> {
    let steps = parse(server_text)?;
    let [step] = steps.as_slice() else {
        return Err("a .server.txt transcript holds exactly one command".into());
    };
    let shown_port = step
        .output
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("listening on "))
        .and_then(|a| a.trim().parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .ok_or("the server's transcript must start with `listening on ADDR`")?;
    let env_name = format!("{}_ADDR", lesson.to_uppercase());
    let args = lesson_args(lesson, step)?;
    let start = |port: u16| {
        let mut command = Command::new(bin);
        command
            .args(&args)
            .env(&env_name, format!("127.0.0.1:{port}"));
        crate::process::ServerProcess::start(command)
    };
    let server = ports_like(shown_port)
        .into_iter()
        .find_map(|port| start(port).ok())
        .map_or_else(|| start(0), Ok)?;
    let listening = server.addr;
    let ports = Some((listening.port(), shown_port));
    let env = [(env_name, listening.to_string())];
    let client = check_file(lesson, bin, client_text, &env, ports)?;
    let (_status, stderr) = server.interrupt()?;
    let server_real = format!(
        "$ {}\nlistening on {}\n{}",
        step.command,
        show_port(&listening.to_string(), ports),
        show_port(&stderr, ports)
    );
    Ok((server_real, client))
}

/// Runs `bin args`, returning stdout followed by stderr, within [`COMMAND_TIME_LIMIT`].
fn run_command(bin: &Path, args: &[String], env: &[(String, String)]) -> Result<String, String> {
    let mut child = Command::new(bin)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let readers = [
        child.stdout.take().map(drain),
        child.stderr.take().map(drain),
    ];
    let deadline = Instant::now() + COMMAND_TIME_LIMIT;
    loop {
        match child.try_wait() {
            Ok(Some(_status)) => break,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {COMMAND_TIME_LIMIT:?}"));
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    }
    let mut out = String::new();
    for reader in readers.into_iter().flatten() {
        out.push_str(&reader.join().unwrap_or_default());
    }
    Ok(out)
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Compares normalized texts; describes the first differing line, or `None` when they match.
fn first_difference(shown: &str, real: &str) -> Option<String> {
    let (shown_n, real_n) = (normalize(shown), normalize(real));
    if shown_n == real_n {
        return None;
    }
    let (a, b): (Vec<&str>, Vec<&str>) = (shown_n.lines().collect(), real_n.lines().collect());
    let i = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    Some(format!(
        "  line {}:\n    book shows: {}\n    real run:   {}",
        i + 1,
        a.get(i)
            .map_or("(nothing more)".to_string(), |l| format!("{l:?}")),
        b.get(i)
            .map_or("(nothing more)".to_string(), |l| format!("{l:?}")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_their_output() {
        let steps = parse("$ a b\none\ntwo\n$ c\n").expect("valid");
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].output, "one\ntwo\n");
        assert_eq!((steps[1].line, steps[1].command.as_str()), (4, "c"));
        assert!(parse("stray\n$ a\n").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn normalizes_ephemeral_ports_and_durations_only() {
        assert_eq!(
            normalize("127.0.0.1:54321 [::1]:40000 took 1.5 ms, 3s"),
            "127.0.0.1:<port> [::1]:<port> took <duration>, <duration>"
        );
        // Fixed, well-known and user ports are content, not noise.
        assert_eq!(
            normalize("127.0.0.1:7878 :80 :8080"),
            "127.0.0.1:7878 :80 :8080"
        );
        assert_eq!(
            normalize("45939/tcp open, 60000/udp; 8080/tcp 22/tcp 45939 a45939/tcp"),
            "<port>/tcp open, <port>/udp; 8080/tcp 22/tcp 45939 a45939/tcp"
        );
    }

    #[test]
    fn splits_quoted_words() {
        assert_eq!(
            split_words(r#"run -- resolve "[::1]:80" 'a b'"#).expect("valid"),
            ["run", "--", "resolve", "[::1]:80", "a b"]
        );
        assert!(split_words("say \"unterminated").is_err());
    }

    #[test]
    fn reports_the_first_differing_line() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        let diff = first_difference("a\nb\n", "a\nc\n").expect("differs");
        assert!(diff.contains("line 2") && diff.contains("\"b\"") && diff.contains("\"c\""));
    }
}
