//! The lesson's benchmark: the five server models and axum, side by side, in one run.
//!
//! `lessons/concurrency/bench/models.sh` runs it (it installs wrk and builds what it needs):
//!
//! ```text
//! cargo build --release -p concurrency --bins --examples
//! cargo run --release -p concurrency --example bench -- [--rounds 3] [--seconds 3] [--quick]
//! ```
//!
//! Every server is its own process (`concurrency serve --model M`, and the reference
//! `examples/reference_server` on axum), started afresh for every measurement on 127.0.0.1,
//! so that its peak memory (VmHWM) belongs to that measurement alone. At 1, 64 and 1,000
//! keep-alive connections it is loaded by our generator (`concurrency::load`, in this
//! process) and by `wrk`; the rounds are interleaved (round 1 runs every server, then round 2
//! ...), so a change in the machine's load spreads over all of them, and the tables give the
//! median and the range. Then ten thousand connections are held open on the async model, the
//! threads model and axum: memory per connection, and the latency of a new client meanwhile.
//!
//! Writes `lessons/concurrency/bench/results.md` and the chart the chapter shows,
//! `book/src/concurrency/bench.svg` (with `--out DIR` or `--quick`, both go to that folder or to
//! a temporary one, as `results.md` and `chart.svg`), and prints the tables.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use concurrency::Model;

use concurrency::load::{self, LoadConfig, Report};

/// The connection counts of the main table.
const CONNECTIONS: [usize; 3] = [1, 64, 1000];
/// A connect or a response that takes longer than this is an error (our generator; for wrk,
/// `--timeout` counts only answers that come late, not requests never answered). Short,
/// because the iterative model leaves all its connections but one waiting; longer than the
/// 1 s a client waits to resend a SYN that a full listen queue dropped.
const TIMEOUT: Duration = Duration::from_secs(2);
/// Before each measurement, wait (up to 10 s) until the machine is this idle: the servers
/// are stopped between measurements, so what runs then is other programs.
const QUIET: f64 = 0.10;
/// A measurement during which other programs used more of the CPU than this is taken
/// again (at most twice, and at most RETRY_BUDGET times in a run).
const DISTURBED: f64 = 0.15;
const RETRY_BUDGET: usize = 40;
/// Our generator's threads. One, like `wrk -t1`: on a 2-core machine the generator and the
/// server share the CPU, and one generator thread leaves the server at least one core.
const GENERATOR_THREADS: usize = 1;
/// The crowd test: connections held open, and the sequential new-connection GETs meanwhile.
const CROWD: usize = 10_000;
const PROBES: usize = 200;
/// The crowd opens this many connections at a time: fewer than the listen backlog (128 for
/// std's and Tokio's listeners), so that a server slow to accept never drops a handshake,
/// which would cost the client a 1 s SYN retransmission.
const BATCH: usize = 100;
/// Targets the benchmark checks.
const ASYNC_VS_AXUM: f64 = 1.0;
const POOL_VS_AXUM: f64 = 0.8;
const KIB_PER_CONNECTION: f64 = 16.0;
const CROWDED_P99: Duration = Duration::from_millis(10);

#[derive(Parser)]
#[command(
    max_term_width = 80,
    about = "Benchmark the five server models and axum: requests/s, latency, memory, threads",
    after_help = "Example: lessons/concurrency/bench/models.sh (builds, runs, writes the \
                  results), or: cargo run --release -p concurrency --example bench -- --quick"
)]
struct Args {
    /// Interleaved rounds: every server is measured once per round.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds of load per measurement.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// A smoke test: 1 round of 1 s, written to a temporary folder unless --out is given.
    #[arg(long)]
    quick: bool,
    /// Where results.md and chart.svg go [default: lessons/concurrency/bench, and the chart
    /// to book/src/concurrency/bench.svg]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these servers, comma-separated (iterative, threads, pool, pool-64, poll, async,
    /// axum)
    #[arg(long, value_delimiter = ',')]
    servers: Vec<String>,
    /// Skip the ten-thousand-connection test.
    #[arg(long)]
    skip_crowd: bool,
}

fn main() -> ExitCode {
    let args = Args::parse(); // exits with code 2 on a usage error
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(mut args: Args) -> Result<()> {
    if args.quick {
        args.rounds = 1;
        args.seconds = 1;
    }
    if args.rounds == 0 || args.seconds == 0 {
        bail!("--rounds and --seconds must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build: run with --release for figures that mean anything");
    }
    let lesson = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The chart is a picture of the book's, so by default it goes where the book's pictures
    // are; the table is included from the lesson's bench folder.
    let (out, chart_path) = match (&args.out, args.quick) {
        (Some(out), _) => (out.clone(), out.join("chart.svg")),
        (None, true) => {
            let out = std::env::temp_dir().join("concurrency-bench");
            (out.clone(), out.join("chart.svg"))
        }
        (None, false) => (
            lesson.join("bench"),
            lesson.join("../../book/src/concurrency/bench.svg"),
        ),
    };
    let servers = pick_servers(&args.servers)?;
    let bins = binaries()?;
    // 1,000 connections from our generator, and ten thousand held open: lift our own limit
    // on open files (wrk, started from here, inherits it).
    let nofile = rlimit::increase_nofile_limit(u64::MAX).context("raising RLIMIT_NOFILE")?;
    let wrk = wrk_version();
    if wrk.is_none() {
        eprintln!("note: wrk is not installed: its columns are skipped");
        eprintln!("hint: apt-get install wrk (bench/models.sh does it)");
    }
    let tools: Vec<Tool> = match wrk {
        Some(_) => vec![Tool::Ours, Tool::Wrk],
        None => vec![Tool::Ours],
    };
    let cells = servers.len() * CONNECTIONS.len() * tools.len() * args.rounds;
    eprintln!(
        "{cells} measurements of {} s, then the {CROWD}-connection test",
        args.seconds
    );

    let seconds = Duration::from_secs(args.seconds);
    let mut runs = Runs::new(args.rounds);
    let mut retries = 0;
    for round in 0..args.rounds {
        for (s, &server) in servers.iter().enumerate() {
            for &connections in &CONNECTIONS {
                // The first generator alternates from round to round.
                let mut order = tools.clone();
                if round % 2 == 1 {
                    order.reverse();
                }
                for tool in order {
                    let key = Key {
                        server: s,
                        connections,
                        tool,
                    };
                    let result =
                        measure_quietly(server, &bins, connections, tool, seconds, &mut retries);
                    let line = match &result {
                        Ok(sample) => sample.summary(),
                        Err(e) => format!("failed: {e:#}"),
                    };
                    eprintln!(
                        "[{}/{}] {:9} {:>5} conn, {:4}: {line}",
                        round + 1,
                        args.rounds,
                        server.name(),
                        connections,
                        tool.name()
                    );
                    runs.record(key, round, result);
                }
            }
        }
    }

    runs.retries = retries;
    let mut crowds = Vec::new();
    if !args.skip_crowd {
        let room = usize::try_from(nofile)
            .unwrap_or(usize::MAX)
            .saturating_sub(100);
        let n = CROWD.min(room);
        if n < CROWD {
            runs.notes.push(format!(
                "the open-file limit ({nofile}) let the crowd test open {n}, not {CROWD}"
            ));
        }
        let crowd_servers = [Server::Model(Model::Async), Server::Model(Model::Threads)];
        for server in crowd_servers.into_iter().chain([Server::Axum]) {
            if !servers.contains(&server) {
                continue;
            }
            eprintln!("crowd: {n} connections held open on {}", server.name());
            let result = crowd(server, &bins, n);
            match &result {
                Ok(c) => eprintln!("crowd: {}", c.summary()),
                Err(e) => eprintln!("crowd: {} failed: {e:#}", server.name()),
            }
            crowds.push((server, result));
        }
    }

    let machine = Machine::here(wrk);
    let table = markdown(&machine, &args, &servers, &tools, &runs, &crowds);
    let chart = chart_svg(&machine, &args, &servers, &runs);
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    fs::write(out.join("results.md"), &table).context("writing results.md")?;
    fs::write(&chart_path, &chart).context("writing the chart")?;
    println!("{table}");
    eprintln!(
        "wrote {} and {}",
        out.join("results.md").display(),
        chart_path.display()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The servers, as processes.

/// One of the servers measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Model(Model),
    /// The pool with 64 workers instead of one per core: its other operating point, which
    /// at 64 connections is thread per connection in all but name.
    Pool64,
    /// The production reference: `examples/reference_server.rs`, on axum.
    Axum,
}

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Model(model) => model.name(),
            Server::Pool64 => "pool-64",
            Server::Axum => "axum",
        }
    }

    fn all() -> Vec<Server> {
        let mut all = Vec::new();
        for model in Model::ALL {
            all.push(Server::Model(model));
            if model == Model::Pool {
                all.push(Server::Pool64);
            }
        }
        all.push(Server::Axum);
        all
    }

    /// The command that starts it on a free port of 127.0.0.1.
    fn command(self, bins: &Path, extra: &[String]) -> Command {
        let mut command = match self {
            Server::Model(model) => {
                let mut c = Command::new(bins.join("concurrency"));
                c.args(["serve", "--model", model.name()]);
                c
            }
            Server::Pool64 => {
                let mut c = Server::Model(Model::Pool).command(bins, extra);
                c.args(["--workers", "64"]);
                return c;
            }
            Server::Axum => Command::new(bins.join("examples").join("reference_server")),
        };
        command.args(["--addr", "127.0.0.1:0"]).args(extra);
        command
    }
}

fn pick_servers(names: &[String]) -> Result<Vec<Server>> {
    if names.is_empty() {
        return Ok(Server::all());
    }
    names
        .iter()
        .map(|name| {
            Server::all()
                .into_iter()
                .find(|s| s.name() == name)
                .ok_or_else(|| anyhow!("no server named {name:?}"))
        })
        .collect()
}

/// The folder of the release binaries: the one this example was built into, two up.
fn binaries() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the benchmark's own path")?;
    let bins = exe
        .parent()
        .and_then(Path::parent)
        .context("the benchmark is not in target/<profile>/examples")?
        .to_path_buf();
    for needed in [
        bins.join("concurrency"),
        bins.join("examples").join("reference_server"),
    ] {
        if !needed.is_file() {
            bail!(
                "{} is missing\nhint: build it first: cargo build --release -p concurrency \
                 --bins --examples (bench/models.sh does it)",
                needed.display()
            );
        }
    }
    Ok(bins)
}

/// A server process, stopped (SIGTERM, then SIGKILL) when dropped.
struct Running {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// How long a server may take to say it listens, and to stop after SIGTERM.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl Running {
    fn start(server: Server, bins: &Path, extra: &[String]) -> Result<Running> {
        let mut child = server
            .command(bins, extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", server.name()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("the server's stdout")?;
        let stderr_pipe = child.stderr.take().context("the server's stderr")?;
        // Keep the last lines of stderr for an error message; drain stdout so that a
        // chatty server never blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                if line.trim().is_empty() {
                    continue;
                }
                if let Ok(mut tail) = tail.lock() {
                    if tail.len() == 6 {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            }
        });
        let (first, first_line) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first.send(lines.next());
            for _ in lines {}
        });
        let mut running = Running {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            stderr,
        };
        let line = match first_line.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => {
                let _ = running.child.wait();
                bail!(
                    "{} exited before listening{}",
                    server.name(),
                    running.tail()
                );
            }
            Err(_) => bail!("{} did not say `listening on` within 10 s", server.name()),
        };
        running.addr = line
            .strip_prefix("listening on ")
            .and_then(|addr| addr.trim().parse().ok())
            .with_context(|| format!("{}'s first line is {line:?}", server.name()))?;
        Ok(running)
    }

    /// The server's last lines of stderr, for an error message.
    fn tail(&self) -> String {
        // A moment for the drain thread to read what a dying server wrote.
        thread::sleep(Duration::from_millis(50));
        let lines: Vec<String> = match self.stderr.lock() {
            Ok(tail) => tail.iter().cloned().collect(),
            Err(_) => Vec::new(),
        };
        if lines.is_empty() {
            String::new()
        } else {
            format!(": {}", lines.join(" / "))
        }
    }

    /// `Err` if the server has exited.
    fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!("the server exited ({status}){}", self.tail()),
        }
    }

    /// SIGTERM, and a wait for the exit (SIGKILL after STOP_TIMEOUT). `Err` if the server
    /// had died, did not stop in time, or exited with a failure.
    fn stop(mut self) -> Result<()> {
        self.check_alive()?;
        Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .context("running kill")?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                if status.success() {
                    return Ok(());
                }
                bail!("it exited with {status} on SIGTERM{}", self.tail());
            }
            if Instant::now() > deadline {
                bail!("it did not stop within 10 s of SIGTERM (killed)");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// /proc/PID/status: memory and threads.

#[derive(Debug, Default, Clone, Copy)]
struct Status {
    /// Resident memory now, and its peak (high-water mark), in KiB.
    rss_kib: u64,
    hwm_kib: u64,
    threads: u64,
}

fn read_status(pid: u32) -> io::Result<Status> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(parse_status(&text))
}

fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let number = || {
            value
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        match name {
            "VmRSS" => status.rss_kib = number(),
            "VmHWM" => status.hwm_kib = number(),
            "Threads" => status.threads = number(),
            _ => {}
        }
    }
    status
}

/// The machine's CPU time so far, in clock ticks: `(total, busy)`. Busy counts user, nice,
/// system and steal (the hypervisor's) time, not interrupts: the kernel charges those to no
/// process, and loopback traffic is mostly softirq time.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let total = fields.iter().take(8).sum();
    let busy = fields.first()? + fields.get(1)? + fields.get(2)? + fields.get(7)?;
    Some((total, busy))
}

/// A process's CPU time so far (user and system, all its threads), in clock ticks.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command name in brackets: state, ppid, ..., utime (11th), stime (12th).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The CPU that programs other than the server and the generator use, from a start.
struct Others {
    machine: (u64, u64),
    processes: Vec<(u32, u64)>,
}

impl Others {
    /// Starts counting; the CPU time of `ours` (the server, this process) is not counted.
    fn start(ours: &[u32]) -> Option<Others> {
        let processes = ours
            .iter()
            .map(|&pid| Some((pid, process_ticks(pid)?)))
            .collect::<Option<_>>()?;
        Some(Others {
            machine: machine_ticks()?,
            processes,
        })
    }

    /// The share of the machine's CPU that others used since the start; `extra` is CPU
    /// time (ticks) of ours that ended in the meantime (wrk's).
    fn share(&self, extra: u64) -> Option<f64> {
        let (total, busy) = machine_ticks()?;
        let mut ours = extra;
        for &(pid, before) in &self.processes {
            ours += process_ticks(pid)?.saturating_sub(before);
        }
        let total = total.checked_sub(self.machine.0).filter(|&t| t > 0)?;
        let others = busy.saturating_sub(self.machine.1).saturating_sub(ours);
        Some(others as f64 / total as f64)
    }
}

/// Waits, up to 10 s, until other programs leave the CPU [`QUIET`] (nothing of ours runs
/// between measurements); returns the busy share last seen.
fn settle() -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let start = machine_ticks();
        thread::sleep(Duration::from_millis(200));
        let busy = match (start, machine_ticks()) {
            (Some((t0, b0)), Some((t1, b1))) if t1 > t0 => {
                b1.saturating_sub(b0) as f64 / (t1 - t0) as f64
            }
            _ => 0.0,
        };
        if busy <= QUIET || Instant::now() > deadline {
            return busy;
        }
    }
}

/// The kernel's count of connections dropped because a listen queue was full (TcpExt
/// ListenOverflows in /proc/net/netstat), machine-wide.
fn listen_overflows() -> Option<u64> {
    let text = fs::read_to_string("/proc/net/netstat").ok()?;
    let mut tcp_ext = text.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (tcp_ext.next()?, tcp_ext.next()?);
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse().ok())
}

/// A process's context switches so far, voluntary and not, summed over its threads.
fn context_switches(pid: u32) -> Option<u64> {
    let mut total = 0;
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue; // the thread has just ended
        };
        for line in status.lines() {
            if let Some((name, value)) = line.split_once(':')
                && name.ends_with("ctxt_switches")
            {
                total += value.trim().parse::<u64>().unwrap_or(0);
            }
        }
    }
    Some(total)
}

/// The server's context switches in a window inside the measurement (from 0.5 s after its
/// start to 0.3 s before its end), and the window's length: read twice only, because
/// reading the status of a thousand threads costs CPU the server would miss.
fn count_switches(pid: u32, seconds: Duration) -> JoinHandle<Option<(u64, Duration)>> {
    thread::spawn(move || {
        let start = Instant::now();
        thread::sleep(Duration::from_millis(500));
        let (t0, s0) = (Instant::now(), context_switches(pid)?);
        let end = start + seconds.saturating_sub(Duration::from_millis(300));
        thread::sleep(end.saturating_duration_since(Instant::now()));
        let (t1, s1) = (Instant::now(), context_switches(pid)?);
        (t1 > t0).then(|| (s1.saturating_sub(s0), t1 - t0))
    })
}

/// Samples a process's status every 50 ms on a thread of its own; `finish` returns the
/// highest resident memory and thread count seen.
struct Sampler {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<Status>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = thread::spawn(move || {
            let mut peak = Status::default();
            loop {
                if let Ok(now) = read_status(pid) {
                    peak.rss_kib = peak.rss_kib.max(now.rss_kib);
                    peak.hwm_kib = peak.hwm_kib.max(now.hwm_kib);
                    peak.threads = peak.threads.max(now.threads);
                }
                match stopped.recv_timeout(Duration::from_millis(50)) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return peak,
                }
            }
        });
        Sampler { stop, handle }
    }

    fn finish(self) -> Status {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// One measurement: a fresh server, one generator, N connections.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tool {
    /// `concurrency::load`, in this process.
    Ours,
    /// `wrk -t1`.
    Wrk,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Wrk => "wrk",
        }
    }
}

/// What one measurement found.
#[derive(Debug, Clone, Default)]
struct Sample {
    /// Answered (2xx) requests per second.
    rps: f64,
    p50: Duration,
    p99: Duration,
    ok: u64,
    /// Non-2xx answers, socket errors and timeouts, by kind.
    errors: BTreeMap<String, u64>,
    /// The server's peak resident memory (VmHWM) and most threads seen.
    peak_rss_kib: u64,
    threads: u64,
    /// The share of the CPU that other programs used just before the measurement, and
    /// during it.
    busy_before: f64,
    disturbed: f64,
    /// The server's context switches (all its threads) per answered request.
    switches: Option<f64>,
    /// Handshakes the kernel dropped because a listen queue was full (machine-wide; during
    /// a measurement, that is the server's).
    overflows: u64,
}

impl Sample {
    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    fn summary(&self) -> String {
        let mut line = format!(
            "{} req/s, p99 {} ms, {} thr",
            thousands(self.rps),
            ms(self.p99),
            self.threads
        );
        if !self.errors.is_empty() {
            let _ = write!(line, ", errors: {}", kinds(&self.errors));
        }
        if self.overflows > 0 {
            let _ = write!(line, ", {} overflows", self.overflows);
        }
        if self.disturbed > DISTURBED {
            let _ = write!(line, ", others {:.0}%", self.disturbed * 100.0);
        }
        line
    }
}

fn measure(
    server: Server,
    bins: &Path,
    connections: usize,
    tool: Tool,
    seconds: Duration,
) -> Result<Sample> {
    let busy = settle();
    let mut running = Running::start(server, bins, &[])?;
    let sampler = Sampler::start(running.pid);
    let switches = count_switches(running.pid, seconds);
    let others = Others::start(&[running.pid, std::process::id()]);
    let overflows_before = listen_overflows();
    let result = match tool {
        Tool::Ours => load_ours(running.addr, connections, seconds).map(|s| (s, 0)),
        Tool::Wrk => load_wrk(running.addr, connections, seconds),
    };
    let overflows = match (overflows_before, listen_overflows()) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => 0,
    };
    let disturbed = match (&others, &result) {
        (Some(others), Ok((_, wrk_ticks))) => others.share(*wrk_ticks).unwrap_or(0.0),
        _ => 0.0,
    };
    let peak = sampler.finish();
    let end = read_status(running.pid).unwrap_or_default();
    running.check_alive()?;
    let (mut sample, _) = result?;
    sample.peak_rss_kib = peak.hwm_kib.max(end.hwm_kib).max(peak.rss_kib);
    sample.threads = peak.threads.max(end.threads);
    sample.busy_before = busy;
    sample.disturbed = disturbed;
    sample.overflows = overflows;
    if let Ok(Some((switches, window))) = switches.join() {
        let requests = sample.rps * window.as_secs_f64();
        sample.switches = (requests > 0.0).then(|| switches as f64 / requests);
    }
    if let Err(e) = running.stop() {
        // The figures stand; a server that does not stop cleanly is worth a line.
        eprintln!("warning: stopping {}: {e:#}", server.name());
    }
    Ok(sample)
}

/// A measurement disturbed by other programs (more than [`DISTURBED`] of the CPU during it)
/// is taken again, at most twice, within a budget for the whole run; the least disturbed
/// one stands.
fn measure_quietly(
    server: Server,
    bins: &Path,
    connections: usize,
    tool: Tool,
    seconds: Duration,
    retries: &mut usize,
) -> Result<Sample> {
    let mut best = measure(server, bins, connections, tool, seconds)?;
    for _ in 0..2 {
        if best.disturbed <= DISTURBED || *retries >= RETRY_BUDGET {
            break;
        }
        eprintln!(
            "  other programs used {:.0}% of the CPU during it: again",
            best.disturbed * 100.0
        );
        *retries += 1;
        match measure(server, bins, connections, tool, seconds) {
            Ok(again) if again.disturbed < best.disturbed => best = again,
            Ok(_) => {}
            Err(e) => eprintln!("  failed: {e:#}"),
        }
    }
    Ok(best)
}

fn load_ours(addr: SocketAddr, connections: usize, seconds: Duration) -> Result<Sample> {
    let mut config = LoadConfig::new(addr);
    config.connections = connections;
    config.duration = Some(seconds);
    config.requests = None;
    config.timeout = TIMEOUT;
    config.threads = GENERATOR_THREADS;
    let report: Report = load::run(&config).context("our load generator")?;
    Ok(Sample {
        rps: report.requests_per_second(),
        p50: report.percentile(50.0),
        p99: report.percentile(99.0),
        ok: report.ok,
        errors: report.errors.clone(),
        ..Sample::default()
    })
}

/// wrk's version line (`wrk debian/4.1.0-3+b2`), or `None` if it is not installed.
fn wrk_version() -> Option<String> {
    let out = Command::new("wrk").arg("-v").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let first = text.lines().next()?.trim();
    let version = first.split(" [").next().unwrap_or(first);
    version.starts_with("wrk").then(|| version.to_string())
}

/// wrk's measurement, and the CPU time (ticks) wrk used.
fn load_wrk(addr: SocketAddr, connections: usize, seconds: Duration) -> Result<(Sample, u64)> {
    let mut child = Command::new("wrk")
        .arg("-t1")
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", seconds.as_secs()))
        .arg("--timeout")
        .arg(format!("{}s", TIMEOUT.as_secs()))
        .arg("--latency")
        .arg(format!("http://{addr}/"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting wrk")?;
    let mut stdout = child.stdout.take().context("wrk's stdout")?;
    let mut stderr = child.stderr.take().context("wrk's stderr")?;
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + seconds + TIMEOUT + Duration::from_secs(20);
    let mut ticks = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        // Its CPU time, read while it lives (at most 20 ms of it is missed).
        ticks = process_ticks(child.id()).unwrap_or(ticks);
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("wrk did not finish in time (killed)");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap_or_default();
    let errors = err_reader.join().unwrap_or_default();
    if !status.success() {
        bail!("wrk failed ({status}): {}", errors.trim());
    }
    let sample = parse_wrk(&text).with_context(|| format!("reading wrk's output:\n{text}"))?;
    Ok((sample, ticks))
}

/// Reads wrk's report: its Requests/sec, the 50% and 99% lines of `--latency`, the request
/// count, and the error lines (`Socket errors: ...`, `Non-2xx or 3xx responses: N`).
fn parse_wrk(text: &str) -> Result<Sample> {
    let mut sample = Sample::default();
    let mut rps = None;
    let mut requests = None;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => sample.p50 = wrk_duration(value)?,
            ["99%", value] => sample.p99 = wrk_duration(value)?,
            ["Requests/sec:", value] => rps = Some(value.parse::<f64>()?),
            [count, "requests", "in", ..] => requests = Some(count.parse::<u64>()?),
            ["Non-2xx", "or", "3xx", "responses:", n] => {
                sample.errors.insert("non-2xx".into(), n.parse()?);
            }
            ["Socket", "errors:", rest @ ..] => {
                // connect 0, read 0, write 0, timeout 63
                for pair in rest.join(" ").split(',') {
                    if let Some((kind, n)) = pair.trim().split_once(' ') {
                        let n: u64 = n.trim().parse()?;
                        if n > 0 {
                            sample.errors.insert(kind.to_string(), n);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let rps = rps.context("no Requests/sec line")?;
    let requests = requests.context("no `N requests in` line")?;
    let non_2xx = sample.errors.get("non-2xx").copied().unwrap_or(0);
    sample.ok = requests.saturating_sub(non_2xx);
    // wrk's rate counts every answer; ours counts the 2xx ones.
    sample.rps = if requests == 0 {
        0.0
    } else {
        rps * sample.ok as f64 / requests as f64
    };
    if sample.errors.values().all(|&n| n == 0) {
        sample.errors.clear();
    }
    Ok(sample)
}

/// `537.00us`, `1.55ms`, `2.00s`, `1.00m`.
fn wrk_duration(text: &str) -> Result<Duration> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .with_context(|| format!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => bail!("unknown unit in {text:?}"),
    };
    Ok(Duration::from_secs_f64(seconds))
}

// ---------------------------------------------------------------------------------------
// All the measurements.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    /// The index in the list of servers measured.
    server: usize,
    connections: usize,
    tool: Tool,
}

/// Every measurement, by key and round (`None`: that round's measurement failed).
struct Runs {
    rounds: usize,
    samples: BTreeMap<Key, Vec<Option<Sample>>>,
    /// What failed, and anything else the reader should know.
    notes: Vec<String>,
    /// Measurements taken again because other programs disturbed them.
    retries: usize,
}

impl Runs {
    fn new(rounds: usize) -> Runs {
        Runs {
            rounds,
            samples: BTreeMap::new(),
            notes: Vec::new(),
            retries: 0,
        }
    }

    fn record(&mut self, key: Key, round: usize, result: Result<Sample>) {
        let rounds = self.rounds;
        let slot = self
            .samples
            .entry(key)
            .or_insert_with(|| vec![None; rounds]);
        match result {
            Ok(sample) => slot[round] = Some(sample),
            Err(e) => {
                let note = format!("{e:#}");
                if !self.notes.contains(&note) {
                    self.notes.push(note);
                }
            }
        }
    }

    fn samples(&self, key: Key) -> impl Iterator<Item = &Sample> {
        self.samples.get(&key).into_iter().flatten().flatten()
    }

    /// The values of `f` over the rounds that measured `key`.
    fn values(&self, key: Key, f: impl Fn(&Sample) -> f64) -> Vec<f64> {
        self.samples(key).map(f).collect()
    }

    /// `key`'s requests per second divided by `base`'s, round by round.
    fn ratios(&self, key: Key, base: Key) -> Vec<f64> {
        let (Some(a), Some(b)) = (self.samples.get(&key), self.samples.get(&base)) else {
            return Vec::new();
        };
        a.iter()
            .zip(b)
            .filter_map(|pair| match pair {
                (Some(a), Some(b)) if b.rps > 0.0 => Some(a.rps / b.rps),
                _ => None,
            })
            .collect()
    }
}

/// The median, the lowest and the highest.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

fn spread(values: &[f64]) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    Some(Spread {
        median,
        min: sorted[0],
        max: sorted[n - 1],
    })
}

// ---------------------------------------------------------------------------------------
// Ten thousand connections.

/// What holding many connections open did to one server.
#[derive(Debug, Default)]
struct Crowd {
    server: &'static str,
    wanted: usize,
    /// Connections that got `200` to their GET and were held open.
    held: usize,
    /// How the others failed, by kind.
    failures: BTreeMap<String, u64>,
    /// How many of the held connections were still open at the end.
    still_open: usize,
    before: Status,
    after: Status,
    open_time: Duration,
    /// New-connection GETs, one after the other: with nothing else open, then with the
    /// crowd held open.
    idle: Probes,
    crowded: Probes,
    /// The server died or did not stop cleanly.
    trouble: Option<String>,
}

#[derive(Debug, Default)]
struct Probes {
    latencies: Vec<Duration>,
    failures: BTreeMap<String, u64>,
}

impl Probes {
    fn quantile(&self, q: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(sorted[rank - 1])
    }
}

impl Crowd {
    fn kib_per_connection(&self) -> Option<f64> {
        (self.held > 0)
            .then(|| (self.after.rss_kib as f64 - self.before.rss_kib as f64) / self.held as f64)
    }

    fn summary(&self) -> String {
        let per = self
            .kib_per_connection()
            .map_or("-".into(), |k| format!("{k:.1}"));
        let p99 = self.crowded.quantile(0.99).map_or("-".into(), ms);
        format!(
            "{}: {} held, {per} KiB each, {} threads, new GET p99 {p99} ms",
            self.server, self.held, self.after.threads
        )
    }
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads one HTTP response (head and a Content-Length body) and returns its status code.
fn read_response(stream: &mut TcpStream) -> io::Result<u16> {
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]);
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|code| code.parse().ok())
                .ok_or_else(|| io::Error::other("not an HTTP response"))?;
            let length: usize = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return Ok(status);
            }
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("response too long"));
        }
    }
}

/// A short name for how a connection failed.
fn failure(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "timeout".into(),
        io::ErrorKind::ConnectionRefused => "refused".into(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => "reset".into(),
        io::ErrorKind::UnexpectedEof => "closed".into(),
        _ => e.to_string(),
    }
}

fn status_failure(code: u16) -> String {
    if code == 503 {
        "503 busy".into()
    } else {
        format!("status {code}")
    }
}

/// A new connection, one GET, closed: its time from connect to the whole response.
fn probe(addr: SocketAddr) -> Result<Duration, String> {
    let start = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| failure(&e))?;
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    stream.write_all(GET).map_err(|e| failure(&e))?;
    match read_response(&mut stream) {
        Ok(200) => Ok(start.elapsed()),
        Ok(code) => Err(status_failure(code)),
        Err(e) => Err(failure(&e)),
    }
}

fn probes(addr: SocketAddr) -> Probes {
    let mut probes = Probes::default();
    for _ in 0..PROBES {
        match probe(addr) {
            Ok(latency) => probes.latencies.push(latency),
            Err(kind) => *probes.failures.entry(kind).or_insert(0) += 1,
        }
    }
    probes
}

/// The crowd test on one server: open `n` keep-alive connections in batches, each doing one
/// GET and staying open; the server's memory before and after; new-connection GETs before and
/// while they are open. Bounded: it stops opening after a minute or 500 failures.
fn crowd(server: Server, bins: &Path, n: usize) -> Result<Crowd> {
    let mut extra = Vec::new();
    if let Server::Model(_) = server {
        extra.extend(["--max-connections".to_string(), (2 * n).to_string()]);
        // The models close a connection idle for 5 s unless told otherwise; the crowd has to
        // stay open while it is measured.
        if serve_accepts("--idle-timeout", bins) {
            extra.extend(["--idle-timeout".to_string(), "120".to_string()]);
        }
    }
    let mut running = Running::start(server, bins, &extra)?;
    let addr = running.addr;
    let mut crowd = Crowd {
        server: server.name(),
        wanted: n,
        ..Crowd::default()
    };
    // A baseline, which also warms the server up before its memory is read.
    crowd.idle = probes(addr);
    crowd.before = read_status(running.pid)?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let mut held: Vec<TcpStream> = Vec::with_capacity(n);
    let fail = |failures: &mut BTreeMap<String, u64>, kind: String| {
        *failures.entry(kind).or_insert(0) += 1;
    };
    loop {
        let failed = usize::try_from(failed_total(&crowd.failures)).unwrap_or(usize::MAX);
        let left = n.saturating_sub(held.len() + failed);
        if left == 0 || failed >= 500 || Instant::now() > deadline {
            break;
        }
        // A batch: connect and send, then read the answers, so the server works on many.
        let mut sent = Vec::with_capacity(BATCH);
        for _ in 0..left.min(BATCH) {
            let sending = TcpStream::connect_timeout(&addr, IO_TIMEOUT).and_then(|mut stream| {
                stream.set_read_timeout(Some(IO_TIMEOUT))?;
                stream.set_write_timeout(Some(IO_TIMEOUT))?;
                stream.write_all(GET)?;
                Ok(stream)
            });
            match sending {
                Ok(stream) => sent.push(stream),
                Err(e) => fail(&mut crowd.failures, failure(&e)),
            }
        }
        for mut stream in sent {
            match read_response(&mut stream) {
                Ok(200) => held.push(stream),
                Ok(code) => fail(&mut crowd.failures, status_failure(code)),
                Err(e) => fail(&mut crowd.failures, failure(&e)),
            }
        }
        if running.check_alive().is_err() {
            break;
        }
    }
    crowd.open_time = started.elapsed();
    crowd.held = held.len();
    if let Err(e) = running.check_alive() {
        crowd.trouble = Some(format!("{e:#}"));
        return Ok(crowd);
    }
    crowd.after = read_status(running.pid)?;
    crowd.crowded = probes(addr);
    crowd.still_open = held.iter().filter(|stream| is_open(stream)).count();
    drop(held);
    if let Err(e) = running.stop() {
        crowd.trouble = Some(format!("stopping it: {e:#}"));
    }
    Ok(crowd)
}

fn failed_total(failures: &BTreeMap<String, u64>) -> u64 {
    failures.values().sum()
}

/// Whether the server still holds `stream` open: nothing to read yet, and no end of stream.
fn is_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    matches!(stream.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
}

/// Whether `concurrency serve` takes `flag` (read from its --help).
fn serve_accepts(flag: &str, bins: &Path) -> bool {
    Command::new(bins.join("concurrency"))
        .args(["serve", "--help"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).contains(flag))
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// The report: markdown tables.

/// Where and when: the caption of the tables and the chart.
struct Machine {
    date: String,
    cpu: String,
    cores: usize,
    kernel: String,
    wrk: Option<String>,
}

impl Machine {
    fn here(wrk: Option<String>) -> Machine {
        let cpu = fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, name)| name.trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_string())
            .unwrap_or_else(|_| "unknown".into());
        Machine {
            date: today(),
            cpu,
            cores: thread::available_parallelism().map_or(1, |n| n.get()),
            kernel,
            wrk,
        }
    }

    fn line(&self) -> String {
        format!(
            "{}: {}, {} cores, Linux {}",
            self.date, self.cpu, self.cores, self.kernel
        )
    }
}

/// Today's date (UTC), as YYYY-MM-DD.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a (year, month, day) of the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Requests per second, short: `812`, `41.2k`, `123k`.
fn thousands(rps: f64) -> String {
    if rps < 1000.0 {
        format!("{rps:.0}")
    } else if rps < 100_000.0 {
        format!("{:.1}k", rps / 1000.0)
    } else {
        format!("{:.0}k", rps / 1000.0)
    }
}

/// Milliseconds with about three significant digits.
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// A count with thousands separators: `10,000`.
/// One table cell: `what` summed over every round of server `s` at `n` connections, for each
/// tool, as `ours / wrk`.
fn totals_per_tool(
    runs: &Runs,
    tools: &[Tool],
    s: usize,
    n: usize,
    what: impl Fn(&Sample) -> u64,
) -> String {
    let cells: Vec<String> = tools
        .iter()
        .map(|&tool| {
            let key = Key {
                server: s,
                connections: n,
                tool,
            };
            count(runs.samples(key).map(&what).sum())
        })
        .collect();
    cells.join(" / ")
}

fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn connections_label(n: usize) -> String {
    match n {
        1 => "1 connection".into(),
        n => format!("{} connections", count(n as u64)),
    }
}

/// Wraps `text` at `width` columns.
fn wrap(text: &str, width: usize) -> String {
    wrap_indent(text, width, "")
}

/// A markdown list item, wrapped, its continuation lines indented.
fn item(text: &str) -> String {
    wrap_indent(&format!("- {text}"), WIDTH, "  ")
}

fn wrap_indent(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
            line.push_str(indent);
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// A table with a row per server and a column per connection count.
fn table(out: &mut String, title: &str, servers: &[Server], cell: impl Fn(usize, usize) -> String) {
    out.push_str(&wrap(title, WIDTH));
    out.push('\n');
    let _ = write!(out, "| server |");
    for n in CONNECTIONS {
        let _ = write!(out, " {} |", connections_label(n));
    }
    let _ = write!(out, "\n|---|");
    for _ in CONNECTIONS {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    for (s, server) in servers.iter().enumerate() {
        let _ = write!(out, "| {} |", server.name());
        for n in CONNECTIONS {
            let _ = write!(out, " {} |", cell(s, n));
        }
        out.push('\n');
    }
    out.push('\n');
}

const WIDTH: usize = 80;

fn markdown(
    machine: &Machine,
    args: &Args,
    servers: &[Server],
    tools: &[Tool],
    runs: &Runs,
    crowds: &[(Server, Result<Crowd>)],
) -> String {
    let mut out = String::new();
    let wrk = machine.wrk.as_deref().unwrap_or("wrk not installed");
    let plural = if args.rounds == 1 { "" } else { "s" };
    let paragraphs = [
        format!(
            "Measured on {}, {wrk}. Each server is its own process (release build) on \
             127.0.0.1, started afresh for every measurement; {} interleaved round{plural} of \
             {} s per measurement: the median, and in brackets the lowest and highest round; \
             ratios to axum are taken round by round. One run of \
             `lessons/concurrency/bench/models.sh`.",
            machine.line(),
            args.rounds,
            args.seconds,
        ),
        format!(
            "The load: our generator (`concurrency::load`, {GENERATOR_THREADS} thread, in the \
             benchmark's process; a connect or a response slower than {} s is an error) and \
             `wrk -t1 -cN -d{}s --timeout {}s --latency` (wrk counts a timeout when an \
             answer comes that late; a request never answered is in none of its counts). Both run on the same {} cores as the server: \
             with one thread a generator leaves the server at least one core, and at most \
             what it does not use itself. These are figures of a server sharing the machine \
             with its client, not its ceiling.",
            TIMEOUT.as_secs(),
            args.seconds,
            TIMEOUT.as_secs(),
            machine.cores,
        ),
        "At 1 connection the client and the server take turns, each idle while the other \
         works: the figure is a round trip's latency, which includes waking an idle CPU (on a \
         virtual machine, a virtual one), and it varies between rounds far more than the \
         others."
            .to_string(),
        busy_note(runs),
    ];
    for paragraph in paragraphs {
        out.push_str(&wrap(&paragraph, WIDTH));
        out.push('\n');
    }

    let axum = servers.iter().position(|&s| s == Server::Axum);
    for &tool in tools {
        let key = |s: usize, n: usize| Key {
            server: s,
            connections: n,
            tool,
        };
        let by = match tool {
            Tool::Ours => "our generator",
            Tool::Wrk => "wrk",
        };
        table(
            &mut out,
            &format!("Requests per second, {by}:"),
            servers,
            |s, n| match spread(&runs.values(key(s, n), |x| x.rps)) {
                Some(v) => format!(
                    "{} ({}–{})",
                    thousands(v.median),
                    thousands(v.min),
                    thousands(v.max)
                ),
                None => "failed".into(),
            },
        );
        if let Some(axum) = axum {
            table(
                &mut out,
                &format!("Requests per second as a ratio to axum's, {by}:"),
                servers,
                |s, n| ratio_cell(&runs.ratios(key(s, n), key(axum, n))),
            );
        }
        table(
            &mut out,
            &format!("Latency p50 / p99 in ms, {by} (the median of the rounds):"),
            servers,
            |s, n| {
                let p50 = spread(&runs.values(key(s, n), |x| x.p50.as_secs_f64()));
                let p99 = spread(&runs.values(key(s, n), |x| x.p99.as_secs_f64()));
                match (p50, p99) {
                    (Some(a), Some(b)) => format!(
                        "{} / {}",
                        ms(Duration::from_secs_f64(a.median)),
                        ms(Duration::from_secs_f64(b.median))
                    ),
                    _ => "failed".into(),
                }
            },
        );
    }

    let errors_title = if tools.contains(&Tool::Wrk) {
        "Errors (non-2xx answers, socket errors, timeouts), all rounds together, our \
         generator / wrk:"
    } else {
        "Errors (non-2xx answers, socket errors, timeouts), all rounds together:"
    };
    table(&mut out, errors_title, servers, |s, n| {
        totals_per_tool(runs, tools, s, n, Sample::error_count)
    });
    table(
        &mut out,
        &format!(
            "Handshakes dropped because the server's listen queue was full (the kernel's \
             ListenOverflows; the models' and axum's listeners are bound with a backlog of \
             128), all rounds together, {}:",
            if tools.contains(&Tool::Wrk) {
                "our generator / wrk"
            } else {
                "our generator"
            }
        ),
        servers,
        |s, n| totals_per_tool(runs, tools, s, n, |x| x.overflows),
    );
    if runs
        .samples
        .values()
        .flatten()
        .flatten()
        .any(|x| x.overflows > 0)
    {
        out.push_str(&wrap(
            &format!(
                "Both generators open all their connections at once, faster than a server \
                 accepts them. When its listen queue is full the kernel drops a step of \
                 the handshake, which TCP sends again 1 s later (then 3 s, 7 s...), so at 1,000 \
                 connections part of the connections start late, and a request can wait \
                 past the {} s timeout: an error all the same, which a longer queue (the \
                 backlog given to listen) would avoid.",
                TIMEOUT.as_secs()
            ),
            WIDTH,
        ));
        out.push('\n');
    }
    table(
        &mut out,
        "The server process: peak resident memory (VmHWM) in MiB, and most threads, the \
         highest over the rounds and both generators:",
        servers,
        |s, n| {
            let all: Vec<&Sample> = tools
                .iter()
                .flat_map(|&tool| {
                    runs.samples(Key {
                        server: s,
                        connections: n,
                        tool,
                    })
                })
                .collect();
            if all.is_empty() {
                return "failed".into();
            }
            let rss = all.iter().map(|x| x.peak_rss_kib).max().unwrap_or(0);
            let threads = all.iter().map(|x| x.threads).max().unwrap_or(0);
            format!("{:.1}, {}", rss as f64 / 1024.0, count(threads))
        },
    );

    table(
        &mut out,
        "The server's context switches per answered request, all its threads, our \
         generator (the median of the rounds):",
        servers,
        |s, n| {
            let key = Key {
                server: s,
                connections: n,
                tool: Tool::Ours,
            };
            let values: Vec<f64> = runs.samples(key).filter_map(|x| x.switches).collect();
            spread(&values).map_or("-".into(), |v| format!("{:.2}", v.median))
        },
    );

    if servers.contains(&Server::Model(Model::Iterative)) {
        let mut text = format!(
            "The iterative model serves one connection at a time, to its end: at 64 and \
             1,000 connections it serves one of them for the whole measurement while the \
             others wait, unanswered, until their requests time out after {} s. Its \
             requests per second are that one connection's, its latencies are of the \
             answered requests only, and its errors are the others' timeouts, as our \
             generator counts them; wrk shows none, because it counts no request that is \
             never answered. It is not correct under load, which is the point of the models \
             that follow it.",
            TIMEOUT.as_secs()
        );
        if args.seconds <= TIMEOUT.as_secs() {
            let _ = write!(
                text,
                " (In this run the measurements, {} s, are no longer than the timeout: the \
                 waiting requests do not time out before the end, and are not counted.)",
                args.seconds
            );
        }
        out.push_str(&wrap(&text, WIDTH));
        out.push('\n');
    }

    let _ = writeln!(out, "Targets:\n");
    for line in targets(servers, runs, crowds) {
        out.push_str(&item(&line));
    }
    out.push('\n');

    if !crowds.is_empty() {
        crowd_section(&mut out, crowds);
    }
    let errors = error_details(servers, runs);
    if !errors.is_empty() {
        let _ = writeln!(out, "Errors by kind, every model but iterative:\n");
        for line in errors {
            out.push_str(&item(&line));
        }
        out.push('\n');
    }
    if !runs.notes.is_empty() {
        let _ = writeln!(out, "Failures during the run:\n");
        for note in &runs.notes {
            out.push_str(&item(note));
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

/// How much other programs disturbed the measurements.
fn busy_note(runs: &Runs) -> String {
    let all: Vec<&Sample> = runs.samples.values().flatten().flatten().collect();
    let busy = all.iter().filter(|s| s.busy_before > QUIET).count();
    let disturbed: Vec<f64> = all
        .iter()
        .map(|s| s.disturbed)
        .filter(|&d| d > DISTURBED)
        .collect();
    let mut text = format!(
        "Other programs: before each measurement the benchmark waited (up to 10 s) until \
         they used less than {:.0}% of the CPU, and it took a measurement again (at most \
         twice) when they used more than {:.0}% during it, keeping the least disturbed \
         try. ",
        QUIET * 100.0,
        DISTURBED * 100.0
    );
    let _ = write!(
        text,
        "In this run: {} measurement{} taken again; ",
        runs.retries,
        if runs.retries == 1 { "" } else { "s" }
    );
    if busy == 0 && disturbed.is_empty() {
        let _ = write!(text, "every measurement that stands was undisturbed.");
    } else {
        let worst = disturbed.iter().copied().fold(0.0, f64::max) * 100.0;
        let _ = write!(
            text,
            "of the {} that stand, {busy} started on a busy machine and {} were disturbed \
             (up to {worst:.0}%): read their spread with that in mind.",
            all.len(),
            disturbed.len()
        );
    }
    text
}

/// Each error count of the models that should have none: server, connections, generator,
/// round, and the kinds.
fn error_details(servers: &[Server], runs: &Runs) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, rounds) in &runs.samples {
        let server = servers[key.server];
        if server == Server::Model(Model::Iterative) {
            continue;
        }
        for (round, sample) in rounds.iter().enumerate() {
            if let Some(sample) = sample.as_ref().filter(|s| !s.errors.is_empty()) {
                let overflows = match sample.overflows {
                    0 => String::new(),
                    n => format!(" ({} handshakes dropped by the listen queue)", count(n)),
                };
                lines.push(format!(
                    "{} at {}, {}, round {}: {}{overflows}",
                    server.name(),
                    connections_label(key.connections),
                    key.tool.name(),
                    round + 1,
                    kinds(&sample.errors)
                ));
            }
        }
    }
    lines
}

fn ratio_cell(ratios: &[f64]) -> String {
    match spread(ratios) {
        Some(r) => format!("{:.2}x ({:.2}–{:.2})", r.median, r.min, r.max),
        None => "-".into(),
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// The PASS/MISS lines.
fn targets(servers: &[Server], runs: &Runs, crowds: &[(Server, Result<Crowd>)]) -> Vec<String> {
    let mut lines = Vec::new();
    let index = |server: Server| servers.iter().position(|&s| s == server);
    let key = |s: usize| Key {
        server: s,
        connections: 64,
        tool: Tool::Ours,
    };
    let axum = index(Server::Axum);
    for (model, target) in [(Model::Async, ASYNC_VS_AXUM), (Model::Pool, POOL_VS_AXUM)] {
        let (Some(m), Some(axum)) = (index(Server::Model(model)), axum) else {
            continue;
        };
        let ratios = runs.ratios(key(m), key(axum));
        let line = match spread(&ratios) {
            Some(r) => format!(
                "{} {} ≥ {target:.1}x axum at 64 connections (our generator): {}",
                pass(r.median >= target),
                model.name(),
                ratio_cell(&ratios)
            ),
            None => format!(
                "MISS {} ≥ {target:.1}x axum at 64 connections: not measured",
                model.name()
            ),
        };
        lines.push(line);
    }
    // Correct under load: every model but iterative answers every request.
    let mut wrong = Vec::new();
    let mut measured = 0;
    for (s, server) in servers.iter().enumerate() {
        if *server == Server::Model(Model::Iterative) || *server == Server::Axum {
            continue;
        }
        let (mut errors, mut failed, mut cells) = (0, 0, Vec::new());
        for (key, rounds) in runs.samples.iter().filter(|(k, _)| k.server == s) {
            let here: u64 = rounds.iter().flatten().map(Sample::error_count).sum();
            measured += rounds.len();
            failed += rounds.iter().filter(|r| r.is_none()).count();
            if here > 0 {
                errors += here;
                cells.push(format!(
                    "{} {}",
                    count(key.connections as u64),
                    key.tool.name()
                ));
            }
        }
        let mut what = Vec::new();
        if errors > 0 {
            what.push(format!("{} errors ({})", count(errors), cells.join(", ")));
        }
        if failed > 0 {
            what.push(format!("{failed} failed measurements"));
        }
        if !what.is_empty() {
            wrong.push(format!("{}: {}", server.name(), what.join(", ")));
        }
    }
    if measured > 0 {
        if wrong.is_empty() {
            lines.push(format!(
                "PASS every model but iterative: 0 errors in {measured} measurements"
            ));
        } else {
            lines.push(format!(
                "MISS every model but iterative with 0 errors: {}",
                wrong.join("; ")
            ));
        }
    }
    for (server, result) in crowds {
        if *server != Server::Model(Model::Async) {
            continue;
        }
        let Ok(crowd) = result else {
            lines.push("MISS async with 10,000 connections: the test failed".into());
            continue;
        };
        match crowd.kib_per_connection() {
            Some(kib) if crowd.held == crowd.wanted => lines.push(format!(
                "{} async memory per connection < {KIB_PER_CONNECTION:.0} KiB: {kib:.1} KiB",
                pass(kib < KIB_PER_CONNECTION)
            )),
            _ => lines.push(format!(
                "MISS async held {} of {} connections open",
                count(crowd.held as u64),
                count(crowd.wanted as u64)
            )),
        }
        match crowd.crowded.quantile(0.99) {
            Some(p99) => lines.push(format!(
                "{} async new-connection GET p99 < {} ms with {} open: {} ms",
                pass(p99 < CROWDED_P99 && crowd.crowded.failures.is_empty()),
                CROWDED_P99.as_millis(),
                count(crowd.held as u64),
                ms(p99)
            )),
            None => lines.push("MISS async new-connection GETs: none answered".into()),
        }
    }
    lines
}

fn kinds(failures: &BTreeMap<String, u64>) -> String {
    failures
        .iter()
        .map(|(kind, n)| format!("{} {kind}", count(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn crowd_section(out: &mut String, crowds: &[(Server, Result<Crowd>)]) {
    let n = crowds
        .iter()
        .find_map(|(_, c)| c.as_ref().ok().map(|c| c.wanted))
        .unwrap_or(CROWD);
    out.push_str(&wrap(
        &format!(
            "Ten thousand connections: the server (the models with `--max-connections {}`) \
             gets {} keep-alive connections from the benchmark, opened in batches of {BATCH}, \
             each doing one GET and staying open. Memory per connection is the growth of \
             the server's resident memory (VmRSS) divided by the connections held; the \
             kernel's socket buffers are not in it. Then a new client makes {PROBES} \
             GETs, each on a new connection, one after the other: its latency (connect to \
             the whole response), its p99 with nothing else open (idle), and with the \
             crowd open (crowded).",
            2 * n,
            count(n as u64)
        ),
        WIDTH,
    ));
    out.push('\n');
    let _ = writeln!(
        out,
        "| server | held | MiB before, after | KiB each | threads | p99 ms idle, crowded |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    let mut remarks = Vec::new();
    for (server, result) in crowds {
        let crowd = match result {
            Ok(crowd) => crowd,
            Err(e) => {
                let _ = writeln!(out, "| {} | failed | | | | |", server.name());
                remarks.push(format!("{}: {e:#}", server.name()));
                continue;
            }
        };
        let p99 = |p: &Probes| p.quantile(0.99).map_or("-".into(), ms);
        let _ = writeln!(
            out,
            "| {} | {} | {:.1}, {:.1} | {} | {} | {}, {} |",
            crowd.server,
            count(crowd.held as u64),
            crowd.before.rss_kib as f64 / 1024.0,
            crowd.after.rss_kib as f64 / 1024.0,
            crowd
                .kib_per_connection()
                .map_or("-".into(), |k| format!("{k:.1}")),
            count(crowd.after.threads),
            p99(&crowd.idle),
            p99(&crowd.crowded),
        );
        let mut remark = format!(
            "{}: {} of {} connections held, opened in {:.1} s; {} still open when \
             measured",
            crowd.server,
            count(crowd.held as u64),
            count(crowd.wanted as u64),
            crowd.open_time.as_secs_f64(),
            count(crowd.still_open as u64)
        );
        if !crowd.failures.is_empty() {
            let _ = write!(remark, "; the others failed: {}", kinds(&crowd.failures));
        }
        for (when, probes) in [("idle", &crowd.idle), ("crowded", &crowd.crowded)] {
            if !probes.failures.is_empty() {
                let _ = write!(remark, "; {when} GETs failed: {}", kinds(&probes.failures));
            }
        }
        if let Some(trouble) = &crowd.trouble {
            let _ = write!(remark, "; {trouble}");
        }
        remarks.push(remark + ".");
    }
    out.push('\n');
    for remark in remarks {
        out.push_str(&item(&remark));
    }
    out.push('\n');
}

// ---------------------------------------------------------------------------------------
// The chart: hand-made SVG, two panels of grouped bars.

/// One colour per server, in `Server::all()` order (Okabe and Ito's palette; axum in grey).
const COLOURS: [&str; 7] = [
    "#CC79A7", "#E69F00", "#56B4E9", "#D55E00", "#009E73", "#0072B2", "#555555",
];

fn colour(server: Server) -> &'static str {
    let i = Server::all().iter().position(|&s| s == server).unwrap_or(0);
    COLOURS[i % COLOURS.len()]
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar's median and whisker, already in the panel's units.
type Bars = Vec<Vec<Option<Spread>>>; // [connection count][server]

/// A "nice" upper bound for a linear axis, and its tick step.
fn nice_axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 0.25);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

/// A panel's y axis: value to y, and the ticks with their labels.
type Axis<'a> = (Box<dyn Fn(f64) -> f64 + 'a>, Vec<(f64, String)>);

struct Panel<'a> {
    top: f64,
    bottom: f64,
    title: &'a str,
    log: bool,
    bars: &'a Bars,
    label: fn(f64) -> String,
}

const SVG_W: f64 = 700.0;
const SVG_H: f64 = 685.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 690.0;

fn chart_svg(machine: &Machine, args: &Args, servers: &[Server], runs: &Runs) -> String {
    let bars = |f: &dyn Fn(&Sample) -> f64| -> Bars {
        CONNECTIONS
            .iter()
            .map(|&n| {
                (0..servers.len())
                    .map(|s| {
                        spread(&runs.values(
                            Key {
                                server: s,
                                connections: n,
                                tool: Tool::Ours,
                            },
                            f,
                        ))
                    })
                    .collect()
            })
            .collect()
    };
    let rps = bars(&|x| x.rps / 1000.0);
    let p99 = bars(&|x| x.p99.as_secs_f64() * 1000.0);

    let mut svg = String::new();
    let title = "Hello, world over HTTP/1.1: five server models and axum";
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_W}" height="{SVG_H}" viewBox="0 0 {SVG_W} {SVG_H}" font-family="sans-serif">"#
    );
    let _ = writeln!(svg, "  <title>{}</title>", xml_escape(title));
    let _ = writeln!(
        svg,
        "  <desc>{}</desc>",
        xml_escape(&describe(servers, &rps, &p99))
    );
    let _ = writeln!(
        svg,
        r##"  <rect x="0" y="0" width="{SVG_W}" height="{SVG_H}" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r##"  <text x="{}" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="#222">{}</text>"##,
        SVG_W / 2.0,
        xml_escape(title)
    );
    // The legend: one swatch per server, centred.
    let item = 96.0;
    let x0 = (SVG_W - item * servers.len() as f64) / 2.0;
    for (i, &server) in servers.iter().enumerate() {
        let x = x0 + i as f64 * item;
        let _ = writeln!(
            svg,
            r##"  <rect x="{x:.1}" y="42" width="14" height="14" fill="{}"/><text x="{:.1}" y="54" font-size="13" fill="#222">{}</text>"##,
            colour(server),
            x + 19.0,
            server.name()
        );
    }
    let panels = [
        Panel {
            top: 96.0,
            bottom: 322.0,
            title: "Requests per second, thousands (our generator): median, whiskers min–max",
            log: false,
            bars: &rps,
            label: |v| {
                if v == 0.0 {
                    "0".into()
                } else if v < 10.0 {
                    format!("{v:.1}")
                } else {
                    format!("{v:.0}")
                }
            },
        },
        Panel {
            top: 386.0,
            bottom: 590.0,
            title: "Latency p99, ms, log scale (our generator): median, whiskers min–max",
            log: true,
            bars: &p99,
            label: |v| ms(Duration::from_secs_f64(v / 1000.0)),
        },
    ];
    for panel in &panels {
        draw_panel(&mut svg, panel, servers);
    }
    let mut caption = vec![
        format!("Measured on {}", machine.line()),
        format!(
            "{} round{} of {} s per measurement, {GENERATOR_THREADS} generator thread; \
             lessons/concurrency/bench/models.sh",
            args.rounds,
            if args.rounds == 1 { "" } else { "s" },
            args.seconds
        ),
    ];
    if servers.contains(&Server::Model(Model::Iterative)) {
        caption.insert(
            0,
            "iterative at 64 and 1,000 connections: one connection is served, the others \
             wait and time out"
                .to_string(),
        );
    }
    let first = SVG_H - 14.0 - 15.0 * (caption.len() - 1) as f64;
    for (i, line) in caption.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"  <text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#555">{}</text>"##,
            SVG_W / 2.0,
            first + 15.0 * i as f64,
            xml_escape(line)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// The chart's numbers as text, for its <desc>.
fn describe(servers: &[Server], rps: &Bars, p99: &Bars) -> String {
    let mut text = String::from(
        "Grouped bars, one group per connection count (1, 64, 1000), one bar per server. \
         Requests per second in thousands, then p99 latency in ms.",
    );
    for (g, &n) in CONNECTIONS.iter().enumerate() {
        let _ = write!(text, " {}:", connections_label(n));
        for (s, server) in servers.iter().enumerate() {
            let value = |bars: &Bars, f: fn(f64) -> String| {
                bars[g][s].map_or("failed".to_string(), |v| f(v.median))
            };
            let _ = write!(
                text,
                " {} {}k req/s p99 {} ms;",
                server.name(),
                value(rps, |v| format!("{v:.1}")),
                value(p99, |v| format!("{v:.2}"))
            );
        }
    }
    text
}

fn draw_panel(svg: &mut String, panel: &Panel, servers: &[Server]) {
    let values: Vec<Spread> = panel.bars.iter().flatten().flatten().copied().collect();
    let height = panel.bottom - panel.top;
    let _ = writeln!(
        svg,
        r##"  <text x="{LEFT}" y="{}" font-size="13" font-weight="bold" fill="#222">{}</text>"##,
        panel.top - 16.0,
        xml_escape(panel.title)
    );
    // The y axis: linear from 0, or log over whole decades.
    let (scale, ticks): Axis = if panel.log {
        let lo_value = values
            .iter()
            .map(|v| v.min)
            .filter(|&v| v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let hi_value = values.iter().map(|v| v.max).fold(0.0, f64::max);
        let (lo, hi) = if lo_value.is_finite() && hi_value > 0.0 {
            let lo = lo_value.log10().floor();
            let hi = hi_value.log10().ceil().max(lo + 1.0);
            (lo, hi)
        } else {
            (-2.0, 1.0)
        };
        let scale = move |v: f64| {
            let v = v.max(10f64.powf(lo));
            panel.bottom - (v.log10() - lo) / (hi - lo) * height
        };
        let ticks = (lo as i32..=hi as i32)
            .map(|e| {
                let v = 10f64.powi(e);
                let label = if e < 0 {
                    format!("{v:.*}", (-e) as usize)
                } else {
                    format!("{v:.0}")
                };
                (v, label)
            })
            .collect();
        (Box::new(scale), ticks)
    } else {
        let max = values.iter().map(|v| v.max).fold(0.0, f64::max);
        let (top, step) = nice_axis(max);
        let scale = move |v: f64| panel.bottom - v / top * height;
        let steps = (top / step).round() as usize;
        let ticks = (0..=steps)
            .map(|i| {
                let v = i as f64 * step;
                (v, (panel.label)(v))
            })
            .collect();
        (Box::new(scale), ticks)
    };
    for (v, label) in &ticks {
        let y = scale(*v);
        let _ = writeln!(
            svg,
            r##"  <line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#444">{label}</text>"##,
            LEFT - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        svg,
        r##"  <line x1="{LEFT}" y1="{0}" x2="{RIGHT}" y2="{0}" stroke="#444"/>"##,
        panel.bottom
    );
    let group = (RIGHT - LEFT) / CONNECTIONS.len() as f64;
    let bar = 22.0;
    let gap = 4.0;
    let width = servers.len() as f64 * (bar + gap) - gap;
    for (g, &n) in CONNECTIONS.iter().enumerate() {
        let gx = LEFT + g as f64 * group;
        let _ = writeln!(
            svg,
            r##"  <text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" fill="#222">{}</text>"##,
            gx + group / 2.0,
            panel.bottom + 18.0,
            connections_label(n)
        );
        for (s, &server) in servers.iter().enumerate() {
            let x = gx + (group - width) / 2.0 + s as f64 * (bar + gap);
            let cx = x + bar / 2.0;
            let Some(v) = panel.bars[g][s] else {
                let _ = writeln!(
                    svg,
                    r##"  <text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="9" fill="#999">n/a</text>"##,
                    panel.bottom - 4.0
                );
                continue;
            };
            let y = scale(v.median);
            let _ = writeln!(
                svg,
                r##"  <rect x="{x:.1}" y="{y:.1}" width="{bar}" height="{:.1}" fill="{}"><title>{} at {}: {}</title></rect>"##,
                (panel.bottom - y).max(0.0),
                colour(server),
                server.name(),
                connections_label(n),
                (panel.label)(v.median)
            );
            let (y_min, y_max) = (scale(v.min), scale(v.max));
            if y_min - y_max > 1.0 {
                let _ = writeln!(
                    svg,
                    r##"  <path d="M{cx:.1},{y_min:.1}V{y_max:.1}M{:.1},{y_max:.1}H{:.1}M{:.1},{y_min:.1}H{:.1}" stroke="#222" fill="none"/>"##,
                    cx - 4.0,
                    cx + 4.0,
                    cx - 4.0,
                    cx + 4.0
                );
            }
            let _ = writeln!(
                svg,
                r##"  <text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="9.5" fill="#222">{}</text>"##,
                y.min(y_max) - 4.0,
                (panel.label)(v.median)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_sample(rps: f64, p99_ms: f64, errors: u64) -> Sample {
        let mut sample = Sample {
            rps,
            p50: Duration::from_secs_f64(p99_ms / 4000.0),
            p99: Duration::from_secs_f64(p99_ms / 1000.0),
            ok: (rps * 3.0) as u64,
            peak_rss_kib: 4096,
            threads: 3,
            ..Sample::default()
        };
        if errors > 0 {
            sample.errors.insert("timeout".into(), errors);
        }
        sample
    }

    /// Fake measurements for every server: the report and the chart are well formed and
    /// carry the numbers.
    #[test]
    fn report_and_chart_from_fake_numbers() {
        let servers = Server::all();
        let mut runs = Runs::new(3);
        for round in 0..3 {
            for (s, server) in servers.iter().enumerate() {
                for n in CONNECTIONS {
                    for tool in [Tool::Ours, Tool::Wrk] {
                        let key = Key {
                            server: s,
                            connections: n,
                            tool,
                        };
                        let iterative = *server == Server::Model(Model::Iterative);
                        let errors = if iterative && n > 1 { n as u64 - 1 } else { 0 };
                        let rps = 20_000.0 + 1000.0 * (s + round) as f64;
                        let result = if *server == Server::Model(Model::Poll) && round == 1 {
                            Err(anyhow!("poll: the server exited"))
                        } else {
                            Ok(fake_sample(rps, 0.05 * n as f64 + s as f64, errors))
                        };
                        runs.record(key, round, result);
                    }
                }
            }
        }
        let crowd = Crowd {
            server: "async",
            wanted: 10_000,
            held: 10_000,
            still_open: 10_000,
            before: Status {
                rss_kib: 4096,
                ..Status::default()
            },
            after: Status {
                rss_kib: 4096 + 80_000,
                threads: 3,
                ..Status::default()
            },
            idle: Probes {
                latencies: vec![Duration::from_micros(100); 200],
                ..Probes::default()
            },
            crowded: Probes {
                latencies: vec![Duration::from_micros(300); 200],
                ..Probes::default()
            },
            ..Crowd::default()
        };
        let crowds = vec![
            (Server::Model(Model::Async), Ok(crowd)),
            (
                Server::Model(Model::Threads),
                Err(anyhow!("out of threads")),
            ),
        ];
        let machine = Machine {
            date: "2026-12-01".into(),
            cpu: "Fake CPU <&>".into(),
            cores: 2,
            kernel: "6.0".into(),
            wrk: Some("wrk 4.1.0".into()),
        };
        let args = Args::parse_from(["bench"]);
        let tools = [Tool::Ours, Tool::Wrk];
        let text = markdown(&machine, &args, &servers, &tools, &runs, &crowds);
        // async: 24k..26k against axum's 25k..27k, round by round 24/25, 25/26, 26/27.
        assert!(text.contains("| async | 0.96x (0.96–0.96) |"), "{text}");
        assert!(text.contains("MISS async ≥ 1.0x axum"), "{text}");
        assert!(text.contains("PASS pool ≥ 0.8x axum"), "{text}");
        assert!(text.contains("MISS every model but iterative with 0 errors: poll: 6"));
        assert!(text.contains("PASS async memory per connection < 16 KiB: 8.0 KiB"));
        assert!(text.contains("| iterative | 0 / 0 | 189 / 189 | 2,997 / 2,997 |"));
        assert!(text.contains("threads: out of threads"));
        for line in text.lines().filter(|l| !l.starts_with('|')) {
            assert!(line.chars().count() <= WIDTH, "too long: {line}");
        }

        let svg = chart_svg(&machine, &args, &servers, &runs);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("Fake CPU &lt;&amp;&gt;"));
        for tag in ["text", "rect", "title", "desc"] {
            let opened = svg.matches(&format!("<{tag}")).count();
            let closed = svg.matches(&format!("</{tag}>")).count();
            let empty = svg.matches("/>").count();
            assert!(opened <= closed + empty, "<{tag}> not closed");
        }
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        if let Ok(path) = std::env::var("BENCH_CHART_OUT") {
            fs::write(path, &svg).expect("write the chart");
        }
    }

    #[test]
    fn parses_wrk() {
        let text = "Running 3s test @ http://127.0.0.1:34209/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   615.68us  200.00us   5.00ms   90.00%
    Req/Sec    35.37k     1.00k   40.00k    70.00%
  Latency Distribution
     50%  537.00us
     75%  600.00us
     90%  700.00us
     99%    1.55ms
  106131 requests in 3.00s, 14.78MB read
  Socket errors: connect 0, read 0, write 0, timeout 63
  Non-2xx or 3xx responses: 131
Requests/sec:  35366.98
Transfer/sec:      4.92MB
";
        let sample = parse_wrk(text).expect("parses");
        assert_eq!(sample.p50, Duration::from_micros(537));
        assert_eq!(sample.p99, Duration::from_micros(1550));
        assert_eq!(sample.ok, 106_000);
        assert_eq!(sample.error_count(), 63 + 131);
        assert!((sample.rps - 35366.98 * 106_000.0 / 106_131.0).abs() < 1e-6);
    }

    #[test]
    fn reads_proc_status() {
        let status = read_status(std::process::id()).expect("our own status");
        assert!(status.rss_kib > 0 && status.hwm_kib >= status.rss_kib);
        assert!(status.threads >= 1);
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_788), (2026, 12, 1));
    }
}
