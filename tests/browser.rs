//! The book, served by the HTTP lesson's server, read by a real browser: Debian's headless
//! Chromium, driven through chromedriver with `fantoccini`. Every page of `SUMMARY.md` is read
//! at a laptop's width (1280 px) and a phone's (390 px): it must load with `200`, and every
//! resource it loads (CSS, JavaScript, fonts, images, icons, the search index) too, with no
//! error in the browser's console; no code block may be empty and every diagram must have a
//! size; nothing but a code block may stick out sideways, and no table may be cut off; its
//! next-chapter arrow must lead to the next page of `SUMMARY.md`. Search must find key terms in
//! the chapter that teaches them, and the print page must hold every chapter. A few pages are
//! photographed into `target/browser-screenshots/` for a person to look at. A second test runs
//! `cargo run`'s binary as a reader does.
//!
//! Needs `chromium` and `chromedriver` (Debian: `chromium`, `chromium-driver`): without them the
//! browser test skips loudly, and fails under CI. Everything stays on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use course_testkit::process::require;
use fantoccini::wd::{Capabilities, TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use http11::server::{self, Config};
use http11::shutdown::Shutdown;
use serde_json::json;

/// Each test, whatever happens, ends within this long.
const LIMIT: Duration = Duration::from_secs(180);

/// Chromium's flags, as `COURSE.md` lists them, and a window of a laptop's size.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh folder under `target/tmp`, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch folder under target/tmp");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The HTTP lesson's server on `127.0.0.1:0`, on a thread of this process, serving `dir`.
struct Served {
    addr: SocketAddr,
    shutdown: Shutdown,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Served {
    fn start(dir: &Path) -> Served {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let shutdown = Shutdown::new();
        let config = Config::new(dir);
        let signal = shutdown.clone();
        let thread = std::thread::spawn(move || server::run(listener, signal, config));
        Served {
            addr,
            shutdown,
            thread: Some(thread),
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// chromedriver in a process group of its own, so that dropping it stops Chromium too, even
/// when a test fails half-way.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Chromedriver {
    fn start(chromedriver: &Path, scratch: &Path) -> Chromedriver {
        let port = free_port();
        let log = scratch.join("chromedriver.log");
        let tmp = scratch.join("tmp");
        std::fs::create_dir_all(&tmp).expect("create TMPDIR");
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = Chromedriver { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 15 s; its log: {}",
                driver.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The end of chromedriver's log, for a failure message.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group's id is chromedriver's pid; `kill -TERM -PGID` reaches Chromium as well.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// chromedriver's own endpoint for the browser's console, `POST /session/{id}/se/log`: the
/// entries logged since the last call, given `goog:loggingPrefs`.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// A page of `SUMMARY.md`: the path the server serves it at, and its title (the first line of
/// its file, `# Title`), which the print page must hold.
struct Page {
    path: String,
    title: String,
}

/// The pages of `SUMMARY.md` that have a file, in the book's order, as the server serves them;
/// the first is also the book's front page, `/`.
fn summary_pages() -> Vec<Page> {
    let src = root().join("book/src");
    let summary = std::fs::read_to_string(src.join("SUMMARY.md")).expect("SUMMARY.md");
    let mut pages = Vec::new();
    for line in summary.lines() {
        let Some((_, rest)) = line.split_once("](") else {
            continue;
        };
        let file = rest.split(')').next().unwrap_or("");
        let Some(stem) = file.strip_suffix(".md") else {
            continue;
        };
        let text = std::fs::read_to_string(src.join(file)).unwrap_or_default();
        let title = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# "))
            .unwrap_or(stem)
            .to_string();
        if pages.is_empty() {
            pages.push(Page {
                path: "/".to_string(),
                title: title.clone(),
            });
        }
        pages.push(Page {
            path: format!("/{stem}.html"),
            title,
        });
    }
    pages
}

/// What went wrong, gathered so that one run reports every broken page at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: String) {
        self.0.push(problem);
    }
}

/// The resources the page has loaded so far: (URL, HTTP status) from Resource Timing. A
/// revalidated resource (our server's `304`) reads `200` there, as the cached response's
/// status; `0` would mean the browser could not read it, such as another origin's.
async fn resources(client: &Client) -> Result<Vec<(String, u64)>, fantoccini::error::CmdError> {
    let script = "return performance.getEntriesByType('resource')\
                  .map(e => [e.name, e.responseStatus])";
    let value = client.execute(script, vec![]).await?;
    let entries = value.as_array().cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .map(|e| {
            let name = e[0].as_str().unwrap_or("?").to_string();
            (name, e[1].as_u64().unwrap_or(0))
        })
        .collect())
}

/// The console's errors since the last call.
async fn console_errors(client: &Client) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let value = client.issue_cmd(BrowserLog).await?;
    let entries = value.as_array().cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].as_str().unwrap_or("?").to_string())
        .collect())
}

/// Polls `check` every 100 ms until it returns true or `within` passes.
async fn wait_until<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The two window widths every page must fit: a laptop's and a phone's.
const WIDE: u32 = 1280;
const NARROW: u32 = 390;

/// Search terms, and the chapter whose section must come first: the one that teaches it.
const SEARCHES: &[(&str, &str)] = &[
    ("TcpListener", "/sockets.html"),
    ("SO_REUSEADDR", "/ports.html"),
    ("keep-alive", "/http11.html"),
];

/// Pages photographed at both widths, for a person to look at.
const PHOTOGRAPHED: &[&str] = &["/", "/tcp.html", "/http11.html", "/concurrency.html"];

/// What is wrong with the layout of the page in the window, as one line per problem: the page
/// or its content column scrolls sideways, an element other than a code block sticks out of
/// the column, a table is wider than the box that shows it.
const LAYOUT_SCRIPT: &str = r#"
const out = [];
const describe = (el) => {
    const text = (el.innerText || el.getAttribute('alt') || '').trim().replace(/\s+/g, ' ');
    return `<${el.tagName.toLowerCase()}> "${text.slice(0, 60)}"`;
};
const column = document.querySelector('.content') || document.querySelector('main');
const scrollers = [document.documentElement, document.body,
    document.querySelector('.page-wrapper'), column].filter(Boolean);
for (const s of scrollers) {
    if (s.scrollWidth > s.clientWidth + 1) {
        out.push(`${describe(s).slice(0, 20)} scrolls sideways: ${s.scrollWidth} px in ${s.clientWidth} px`);
    }
}
const edge = column.getBoundingClientRect().left + column.clientWidth + 1;
const sticking = [...document.querySelectorAll('main *')].filter((el) =>
    !el.closest('pre') && !el.closest('.table-wrapper')
        && el.getBoundingClientRect().right > edge);
const outermost = sticking.filter((el) => !sticking.includes(el.parentElement));
for (const el of outermost.slice(0, 3)) {
    out.push(`${describe(el)} sticks out of the column by ${Math.round(el.getBoundingClientRect().right - edge)} px`);
}
for (const table of document.querySelectorAll('main table')) {
    const box = table.closest('.table-wrapper') || table.parentElement;
    if (box.scrollWidth > box.clientWidth + 1) {
        const head = (table.rows[0] ? table.rows[0].innerText : '').trim().replace(/\s+/g, ' ');
        out.push(`table "${head.slice(0, 60)}" is cut off: ${box.scrollWidth} px in ${box.clientWidth} px`);
    }
}
return out;
"#;

/// What the page shows that is broken: an empty code block (folded away or not), an image that
/// did not load or has no size.
const CONTENT_SCRIPT: &str = r#"
const out = [];
const blocks = document.querySelectorAll('main pre');
blocks.forEach((pre, i) => {
    if (pre.textContent.trim().length === 0) {
        let heading = pre.previousElementSibling;
        while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
        out.push(`code block ${i + 1} is empty (after "${heading ? heading.innerText : 'the top'}")`);
    }
});
// mdBook shows each image once, and keeps a second copy hidden for its click-to-zoom view.
for (const img of document.querySelectorAll('main img:not(.img-wrapper img)')) {
    const r = img.getBoundingClientRect();
    if (!img.complete || img.naturalWidth === 0 || r.width === 0 || r.height === 0) {
        out.push(`image ${img.getAttribute('src')} did not render (${img.naturalWidth}x${img.naturalHeight}, shown ${r.width}x${r.height})`);
    }
}
return out;
"#;

/// The strings a script returned.
fn strings(value: serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|v| v.as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A browser command's error, named.
fn failed(what: &str) -> impl Fn(fantoccini::error::CmdError) -> String + use<> {
    let what = what.to_string();
    move |err| format!("{what}: {err}")
}

/// Sets the window so that the page's viewport is `width` px wide.
async fn set_width(client: &Client, width: u32) -> Result<(), String> {
    client
        .set_window_size(width, 900)
        .await
        .map_err(failed("resize the window"))?;
    // The window's frame, if any, takes a few pixels: widen by what is missing.
    let inner = client
        .execute("return window.innerWidth", vec![])
        .await
        .map_err(failed("read the viewport's width"))?
        .as_u64()
        .unwrap_or(0) as u32;
    if inner != width && inner > 0 && inner < width + 100 {
        client
            .set_window_size(width + (width.saturating_sub(inner)), 900)
            .await
            .map_err(failed("resize the window"))?;
    }
    let inner = client
        .execute("return window.innerWidth", vec![])
        .await
        .map_err(failed("read the viewport's width"))?;
    if inner != json!(width) {
        return Err(format!("asked for a {width} px viewport, got {inner} px"));
    }
    Ok(())
}

/// Where screenshots go: a folder under `target/`, which git ignores.
fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("target"))
        .join("browser-screenshots")
}

/// Loads one page and checks it: status, rendered content, resources, console, code blocks,
/// diagrams, layout at the window's width, and (when `next` is given) the next-chapter arrow.
async fn check_page(
    client: &Client,
    base: &str,
    page: &str,
    next: Option<&str>,
    width: u32,
    problems: &mut Problems,
    kinds_seen: &mut std::collections::BTreeSet<String>,
) -> Result<(), String> {
    let url = format!("{base}{page}");
    let at = format!("{page} at {width} px");
    client
        .goto(&url)
        .await
        .map_err(failed(&format!("load {url}")))?;
    let status = client
        .execute(
            "return performance.getEntriesByType('navigation')[0].responseStatus",
            vec![],
        )
        .await
        .map_err(failed("read the page's status"))?;
    if status != json!(200) {
        problems.add(format!("{at}: status {status}, expected 200"));
    }
    let rendered = client
        .execute(
            "const m = document.querySelector('main');\
             return !!m && m.innerText.trim().length > 0 && document.title.length > 0",
            vec![],
        )
        .await
        .map_err(failed("look at the page"))?;
    if rendered != json!(true) {
        problems.add(format!("{at}: no title or an empty <main>"));
    }
    // Icons are fetched after the page loads, images may still be decoding: give them a moment.
    wait_until(Duration::from_secs(5), || async {
        let icon = resources(client)
            .await
            .is_ok_and(|r| r.iter().any(|(name, _)| name.contains("/favicon")));
        let images = client
            .execute("return [...document.images].every(i => i.complete)", vec![])
            .await
            .is_ok_and(|v| v == json!(true));
        icon && images
    })
    .await;
    for (name, status) in resources(client).await.map_err(failed("list resources"))? {
        if !name.starts_with(base) {
            problems.add(format!("{at}: loads {name} from another origin"));
        } else if status != 200 && status != 304 {
            problems.add(format!("{at}: {name} answered {status}"));
        }
        let ext = name.rsplit('.').next().unwrap_or("").to_string();
        let kind = if name.contains("/favicon") {
            "icon"
        } else {
            &ext
        };
        kinds_seen.insert(kind.to_string());
    }
    let content = client
        .execute(CONTENT_SCRIPT, vec![])
        .await
        .map_err(failed("look at code blocks and images"))?;
    for problem in strings(content) {
        problems.add(format!("{at}: {problem}"));
    }
    let layout = client
        .execute(LAYOUT_SCRIPT, vec![])
        .await
        .map_err(failed("measure the layout"))?;
    for problem in strings(layout) {
        problems.add(format!("{at}: {problem}"));
    }
    if let Some(next) = next {
        // mdBook has two arrows: beside the page on a wide window, below it on a narrow one.
        let shown = client
            .execute(
                "return [...document.querySelectorAll(\"a[rel~='next']\")]\
                 .filter(a => a.offsetParent !== null)\
                 .map(a => new URL(a.href).pathname)",
                vec![],
            )
            .await
            .map_err(failed("read the next-chapter arrows"))?;
        let shown = strings(shown);
        if shown.is_empty() || shown.iter().any(|p| p != next) {
            problems.add(format!(
                "{at}: the next-chapter arrow leads to {shown:?}, expected {next}"
            ));
        }
    }
    if PHOTOGRAPHED.contains(&page) {
        let png = client
            .screenshot()
            .await
            .map_err(failed("take a screenshot"))?;
        let name = match page.trim_matches('/').strip_suffix(".html") {
            Some(stem) => format!("{stem}-{width}.png"),
            None => format!("index-{width}.png"),
        };
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        std::fs::write(dir.join(&name), png).map_err(|e| format!("write {name}: {e}"))?;
    }
    for error in console_errors(client)
        .await
        .map_err(failed("read the console"))?
    {
        problems.add(format!("{at}: console error: {error}"));
    }
    Ok(())
}

/// Searches for `term` and returns the path of the first result's link, once the results
/// say they are for `term`.
async fn first_search_result(client: &Client, base: &str, term: &str) -> Result<String, String> {
    client
        .goto(&format!("{base}/"))
        .await
        .map_err(failed("load /"))?;
    client
        .find(Locator::Id("mdbook-search-toggle"))
        .await
        .map_err(failed("find the search button"))?
        .click()
        .await
        .map_err(failed("click the search button"))?;
    let bar = client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Id("mdbook-searchbar"))
        .await
        .map_err(failed("wait for the search bar"))?;
    bar.send_keys(term).await.map_err(failed("type a search"))?;
    let script = "const h = document.getElementById('mdbook-searchresults-header');\
                  const a = document.querySelector('#mdbook-searchresults li a');\
                  return h && a && h.innerText.includes(arguments[0])\
                      ? new URL(a.href).pathname : null";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let first = client
            .execute(script, vec![json!(term)])
            .await
            .map_err(failed("read the search results"))?;
        if let Some(path) = first.as_str() {
            return Ok(path.to_string());
        }
        if Instant::now() >= deadline {
            return Err(format!("searching for `{term}` found nothing within 10 s"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the whole book: every page at both widths, the next-chapter arrow clicked once,
/// search, and the print page.
async fn read_the_book(client: &Client, base: &str, problems: &mut Problems) -> Result<(), String> {
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(10)),
            Some(Duration::from_secs(15)),
            Some(Duration::ZERO),
        ))
        .await
        .map_err(failed("set the browser's timeouts"))?;

    let pages = summary_pages();
    let mut kinds_seen = std::collections::BTreeSet::new();
    for width in [WIDE, NARROW] {
        set_width(client, width).await?;
        for (i, page) in pages.iter().enumerate() {
            // `/` and the first chapter are the same page; both lead to the second.
            let next = pages
                .get(i + 1 + usize::from(i == 0))
                .map(|p| p.path.as_str());
            check_page(
                client,
                base,
                &page.path,
                next,
                width,
                problems,
                &mut kinds_seen,
            )
            .await?;
        }
    }
    for kind in ["css", "js", "woff2", "svg", "icon"] {
        if !kinds_seen.contains(kind) {
            problems.add(format!("no page loaded a {kind} resource: {kinds_seen:?}"));
        }
    }
    set_width(client, WIDE).await?;

    // The next-chapter arrow, clicked: it leads to the second page.
    client
        .goto(&format!("{base}/"))
        .await
        .map_err(failed("load /"))?;
    let arrows = client
        .find_all(Locator::Css("a[rel~='next']"))
        .await
        .map_err(failed("find the next-chapter arrows on /"))?;
    let mut shown = None;
    for arrow in arrows {
        if arrow.is_displayed().await.unwrap_or(false) {
            shown = Some(arrow);
            break;
        }
    }
    let next = shown.ok_or("/ shows no next-chapter arrow")?;
    next.click()
        .await
        .map_err(failed("click the next-chapter arrow"))?;
    let expected = pages.get(2).map(|p| p.path.clone()).unwrap_or_default();
    let arrived = wait_until(Duration::from_secs(10), || async {
        client
            .current_url()
            .await
            .is_ok_and(|u| u.path() == expected)
    })
    .await;
    if !arrived {
        let now = client.current_url().await.map(|u| u.to_string());
        problems.add(format!(
            "the next-chapter arrow on / led to {now:?}, not {expected}"
        ));
    }

    // Search: the index loads on first use, and a term's first result is its chapter.
    for (term, chapter) in SEARCHES {
        match first_search_result(client, base, term).await {
            Ok(path) if path == *chapter => {}
            Ok(path) => problems.add(format!(
                "search: the first result for `{term}` is {path}, expected {chapter}"
            )),
            Err(err) => problems.add(format!("search: {err}")),
        }
    }
    let loaded = resources(client).await.map_err(failed("list resources"))?;
    match loaded
        .iter()
        .find(|(name, _)| name.contains("/searchindex"))
    {
        Some((_, 200 | 304)) => {}
        Some((name, status)) => problems.add(format!("search: {name} answered {status}")),
        None => problems.add(format!("search loaded no search index: {loaded:?}")),
    }

    // The print page holds every chapter, each under its title.
    client
        .goto(&format!("{base}/print.html"))
        .await
        .map_err(failed("load /print.html"))?;
    let titles = client
        .execute(
            "return [...document.querySelectorAll('main h1')].map(h => h.innerText.trim())",
            vec![],
        )
        .await
        .map_err(failed("read the print page's titles"))?;
    let titles = strings(titles);
    for page in pages.iter().skip(1) {
        if !titles.contains(&page.title) {
            problems.add(format!(
                "print.html has no chapter titled {:?} ({}); its titles: {titles:?}",
                page.title, page.path
            ));
        }
    }
    for error in console_errors(client)
        .await
        .map_err(failed("read the console"))?
    {
        problems.add(format!(
            "after the arrow, search and print page: console error: {error}"
        ));
    }
    Ok(())
}

/// One `GET` on a fresh connection: the status code and the head's text.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head)
}

#[test]
fn chromium_reads_the_whole_book_through_the_lessons_server() {
    let Some(chromedriver) = require("chromedriver", "apt-get install chromium-driver") else {
        return;
    };
    let Some(chromium) = require("chromium", "apt-get install chromium") else {
        return;
    };
    let started = Instant::now();
    let scratch = Scratch::new("browser");
    let built = course::build_book(
        &root().join(course::BOOK_DIR),
        Some(&scratch.0.join("book")),
    )
    .expect("the book builds");
    course::add_favicon_ico(&built.html_dir).expect("write favicon.ico");
    let served = Served::start(&built.html_dir);
    let base = format!("http://{}", served.addr);

    let (status, head) = get(served.addr, "/favicon.ico");
    assert_eq!(status, 200, "GET /favicon.ico: {head}");
    assert!(head.contains("image/x-icon"), "GET /favicon.ico: {head}");

    let driver = Chromedriver::start(&chromedriver, &scratch.0);
    let profile = scratch.0.join("profile");
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = Capabilities::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": args}),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let left = LIMIT.saturating_sub(started.elapsed());
    let mut problems = Problems::default();
    let outcome = runtime.block_on(async {
        tokio::time::timeout(left, async {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let client = ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&driver.url())
                .await
                .map_err(|err| format!("start a Chromium session: {err}"))?;
            let read = read_the_book(&client, &base, &mut problems).await;
            let _ = client.close().await; // ends the session and its Chromium
            read
        })
        .await
    });
    let failure = match outcome {
        Err(_) => Some(format!("the browser test ran out of its {LIMIT:?}")),
        Ok(Err(err)) => Some(err),
        Ok(Ok(())) => None,
    };
    if let Some(failure) = failure {
        panic!(
            "{failure}\nproblems so far:\n{}\nchromedriver's log ends with:\n{}",
            problems.0.join("\n"),
            driver.log_tail()
        );
    }
    assert!(
        problems.0.is_empty(),
        "the book in Chromium, served by the HTTP lesson's server:\n{}",
        problems.0.join("\n")
    );
}

/// The root binary, run as `cargo run` runs it, in a scratch build folder.
fn course(args: &[&str], build_dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_course"))
        .args(args)
        .arg("--build-dir")
        .arg(build_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the course binary")
}

/// Waits for a child to exit within `within`; kills it otherwise.
fn wait_for_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}

#[test]
fn cargo_run_serves_the_book_falls_back_from_a_busy_port_and_stops_on_sigterm() {
    let scratch = Scratch::new("cargo-run");
    // Make the default port busy: hold it, or someone else already does.
    let _held = TcpListener::bind((Ipv4Addr::LOCALHOST, 3000));
    let mut child = course(&[], &scratch.0.join("book"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    let deadline = Instant::now() + LIMIT / 2;
    let url = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = lines.recv_timeout(left) else {
            let _ = child.kill();
            panic!(
                "no `serving the book` line within {:?}; stdout: {printed:?}; stderr: {}",
                LIMIT / 2,
                stderr_of(&mut child)
            );
        };
        printed.push(line.clone());
        if line.starts_with("serving the book") {
            break line.rsplit(' ').next().unwrap_or("").to_string();
        }
    };
    assert_eq!(
        printed.first().map(String::as_str),
        Some("port 3000 is busy, so the book gets a free port instead"),
        "what it printed: {printed:?}"
    );
    let addr: SocketAddr = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("the last word is not http://ADDR/: {url:?}"));
    assert_ne!(addr.port(), 3000);
    let (status, head) = get(addr, "/");
    assert_eq!(status, 200, "GET / from `cargo run`'s server: {head}");

    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill (procps)");
    assert!(sent.success());
    let status = wait_for_exit(&mut child, Duration::from_secs(10));
    let stderr = stderr_of(&mut child);
    assert!(
        status.is_some_and(|s| s.success()),
        "after SIGTERM: {status:?}, stderr: {stderr}"
    );
    assert_eq!(stderr.trim(), "stopped", "what it printed on stderr");

    // An explicit port that is busy is an error with a hint, before any build.
    let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = busy.local_addr().expect("address").port().to_string();
    let mut child = course(&["--port", &port], &scratch.0.join("book2"));
    let status = wait_for_exit(&mut child, Duration::from_secs(10));
    let stderr = stderr_of(&mut child);
    assert_eq!(status.and_then(|s| s.code()), Some(1), "stderr: {stderr}");
    let first = stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("error: could not listen on 127.0.0.1:{port}: ")),
        "stderr: {stderr}"
    );
    assert!(stderr.contains("\nhint: "), "stderr: {stderr}");
    assert!(!scratch.0.join("book2").exists(), "it built before failing");
}
