//! A server running as a child process: started, awaited until it prints `listening on ADDR`, and
//! killed when dropped, so a failing test never leaves it behind.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to print its `listening on` line, or to exit when asked.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(15);

pub struct ServerProcess {
    child: Child,
    /// The address from the `listening on` line.
    pub addr: SocketAddr,
    /// Everything printed on stdout after the `listening on` line, line by line.
    stdout_lines: mpsc::Receiver<String>,
}

impl ServerProcess {
    /// Starts `command` with piped output and waits for its first stdout line,
    /// `listening on <addr>`.
    pub fn start(mut command: Command) -> Result<ServerProcess, String> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let (tx, stdout_lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = ServerProcess {
            child,
            addr: ([0, 0, 0, 0], 0).into(),
            stdout_lines,
        };
        let first = server.stdout_lines.recv_timeout(STARTUP_LIMIT).map_err(|_| {
            let stderr = server.kill_and_read_stderr();
            format!("{command:?} printed no `listening on` line within {STARTUP_LIMIT:?}; stderr: {stderr}")
        })?;
        server.addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| format!("first line is not `listening on ADDR`: {first:?}"))?;
        Ok(server)
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to [`STARTUP_LIMIT`] for the process to exit; returns its status and stderr.
    pub fn wait(mut self) -> Result<(ExitStatus, String), String> {
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    let mut stderr = String::new();
                    if let Some(mut pipe) = self.child.stderr.take() {
                        let _ = pipe.read_to_string(&mut stderr);
                    }
                    return Ok((status, stderr));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Ok(None) => return Err(format!("still running after {STARTUP_LIMIT:?}")),
                Err(e) => return Err(format!("cannot wait: {e}")),
            }
        }
    }

    /// Sends SIGINT, as Ctrl-C in a terminal would, and waits for the process to exit; returns its
    /// status and stderr. Needs the `kill` command (Debian: procps).
    pub fn interrupt(self) -> Result<(ExitStatus, String), String> {
        self.stop_with("INT")
    }

    /// Sends SIGTERM, as a service manager would, and waits for the process to exit.
    pub fn terminate(self) -> Result<(ExitStatus, String), String> {
        self.stop_with("TERM")
    }

    fn stop_with(self, signal: &str) -> Result<(ExitStatus, String), String> {
        let kill = which("kill").ok_or("`kill` is missing (apt-get install procps)")?;
        let sent = Command::new(kill)
            .args([format!("-{signal}"), self.id().to_string()])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -{signal} failed"));
        }
        self.wait()
    }

    fn kill_and_read_stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        stderr
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `tool` on `PATH`, if it is there.
pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// For a test that needs `tool`: its path, or `None` after a loud note. Under CI a missing tool is
/// a failure, never a skip.
pub fn require(tool: &str, install: &str) -> Option<std::path::PathBuf> {
    let found = which(tool);
    if found.is_none() {
        assert!(
            !crate::under_ci(),
            "`{tool}` is missing under CI: {install}"
        );
        eprintln!("SKIPPED: `{tool}` is not installed ({install})");
    }
    found
}
