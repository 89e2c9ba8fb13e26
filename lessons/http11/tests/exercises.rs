//! Checks for the HTTP exercises.
//!
//! - `cargo exercise http11` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.

use course_testkit::checks;
use course_testkit::exercise::{self, CheckResult, Exercise, Subject, expect_eq, given, got, step};

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
        &[ex1::EXERCISE, ex2::EXERCISE],
    )
}

mod ex1 {
    use super::*;
    use code::ex1_port_spec::{SpecError, parse_ports};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "ports",
        number: 1,
        title: "Parse a port range",
        file: "exercises/ex1_port_spec.rs",
        checks: checks![
            parses_one_port,
            parses_ports_and_ranges,
            sorts_and_removes_duplicates,
            accepts_the_lowest_and_highest_ports,
            parses_every_port,
            rejects_port_zero,
            rejects_a_port_above_65535,
            rejects_a_reversed_range,
            rejects_an_empty_specification_or_item,
            rejects_a_trailing_comma,
            rejects_what_is_not_a_port,
            never_panics_on_arbitrary_text,
        ],
    };

    fn show(result: &Result<Vec<u16>, SpecError>) -> String {
        match result {
            Ok(ports) if ports.len() > 12 => format!(
                "Ok([{} ports: {:?} ... {:?}])",
                ports.len(),
                &ports[..3],
                &ports[ports.len() - 3..]
            ),
            other => format!("{other:?}"),
        }
    }

    /// Calls `parse_ports(spec)` and expects `expected`, which the report shows as `shown`.
    fn expect(spec: &str, expected: Result<Vec<u16>, SpecError>) -> CheckResult {
        given(format!("parse_ports({spec:?})"), show(&expected));
        step(format!("waiting for parse_ports({spec:?}) to return"));
        expect_eq(parse_ports(spec), expected, show)
    }

    fn expect_all(cases: Vec<(&str, Result<Vec<u16>, SpecError>)>) -> CheckResult {
        cases
            .into_iter()
            .try_for_each(|(spec, expected)| expect(spec, expected))
    }

    fn parses_one_port() -> CheckResult {
        expect("80", Ok(vec![80]))
    }

    fn parses_ports_and_ranges() -> CheckResult {
        expect("20-25,80,443", Ok(vec![20, 21, 22, 23, 24, 25, 80, 443]))
    }

    fn sorts_and_removes_duplicates() -> CheckResult {
        expect_all(vec![
            ("443,80", Ok(vec![80, 443])),
            ("443,80,79-81,80,81", Ok(vec![79, 80, 81, 443])),
            ("7-7", Ok(vec![7])),
        ])
    }

    fn accepts_the_lowest_and_highest_ports() -> CheckResult {
        expect_all(vec![
            ("1,65535", Ok(vec![1, 65535])),
            ("65534-65535", Ok(vec![65534, 65535])),
        ])
    }

    fn parses_every_port() -> CheckResult {
        expect("1-65535", Ok((1..=65535).collect()))
    }

    fn rejects_port_zero() -> CheckResult {
        expect_all(vec![
            ("0", Err(SpecError::Zero { item: 1 })),
            ("80,0", Err(SpecError::Zero { item: 2 })),
            ("80,0-10", Err(SpecError::Zero { item: 2 })),
        ])
    }

    fn rejects_a_port_above_65535() -> CheckResult {
        expect_all(vec![
            ("65536", Err(SpecError::TooLarge { item: 1 })),
            ("80,1-70000", Err(SpecError::TooLarge { item: 2 })),
            ("99999999999", Err(SpecError::TooLarge { item: 1 })),
        ])
    }

    fn rejects_a_reversed_range() -> CheckResult {
        let reversed = |item, start, end| Err(SpecError::Reversed { item, start, end });
        expect_all(vec![
            ("25-20", reversed(1, 25, 20)),
            ("80,443-442", reversed(2, 443, 442)),
        ])
    }

    fn rejects_an_empty_specification_or_item() -> CheckResult {
        expect_all(vec![
            ("", Err(SpecError::Empty)),
            ("80,,443", Err(SpecError::EmptyItem { item: 2 })),
            (",80", Err(SpecError::EmptyItem { item: 1 })),
        ])
    }

    fn rejects_a_trailing_comma() -> CheckResult {
        expect_all(vec![
            ("80,", Err(SpecError::TrailingComma)),
            ("20-25,80,443,", Err(SpecError::TrailingComma)),
        ])
    }

    fn rejects_what_is_not_a_port() -> CheckResult {
        let not = |item, text: &str| {
            Err(SpecError::NotAPort {
                item,
                text: text.to_string(),
            })
        };
        expect_all(vec![
            ("http", not(1, "http")),
            ("80,8o", not(2, "8o")),
            ("20-", not(1, "20-")),
            ("-20", not(1, "-20")),
            ("1-2-3", not(1, "1-2-3")),
            ("80, 443", not(2, " 443")),
            ("+80", not(1, "+80")),
            ("-", not(1, "-")),
        ])
    }

    fn never_panics_on_arbitrary_text() -> CheckResult {
        // Every text of up to 4 characters over these, in order: 9,331 calls.
        let alphabet = ['0', '1', '6', '9', '-', ',', 'x', ' ', '\u{e9}'];
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        given(
            format!(
                "parse_ports on every text of up to 4 characters from {alphabet:?} ({} texts)",
                texts.len()
            ),
            "an Ok or an Err for each, never a panic",
        );
        for text in &texts {
            step(format!("waiting for parse_ports({text:?}) to return"));
            let _ = parse_ports(text);
        }
        Ok(())
    }
}

mod ex2 {
    use super::*;
    use code::ex2_bounded_scan::scan;
    use course_testkit::net::{Silent, closed_addr, silent_addr};
    use std::net::{IpAddr, Ipv4Addr, TcpListener};
    use std::time::{Duration, Instant};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "ports",
        number: 2,
        title: "Scan with a bounded number of connections",
        file: "exercises/ex2_bounded_scan.rs",
        checks: checks![
            finds_an_open_port,
            skips_a_closed_port,
            finds_the_open_ports_among_closed_ones,
            returns_the_open_ports_from_lowest_to_highest,
            a_listener_that_never_accepts_is_open,
            a_listener_that_closes_at_once_is_open,
            gives_up_on_a_silent_port_after_the_timeout,
            never_more_than_concurrency_at_once,
            several_at_once_not_one_by_one,
        ],
    };

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn listener() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").expect("the check binds 127.0.0.1:0")
    }

    fn port_of(listener: &TcpListener) -> u16 {
        listener.local_addr().expect("a bound listener").port()
    }

    fn silent() -> Result<Silent, course_testkit::exercise::Mismatch> {
        silent_addr().or_else(|e| got(format!("(the check could not start) {e}")))
    }

    fn call(ports: &[u16], concurrency: usize, timeout: Duration) -> Vec<u16> {
        step(format!(
            "waiting for scan(127.0.0.1, {ports:?}, {concurrency}, {timeout:?}) to return"
        ));
        scan(LOCALHOST, ports, concurrency, timeout)
    }

    fn sent(ports: &[u16], concurrency: usize, timeout: Duration, what: &str) -> String {
        format!("scan(127.0.0.1, {ports:?}, {concurrency}, {timeout:?}): {what}")
    }

    fn finds_an_open_port() -> CheckResult {
        let open = listener();
        let ports = [port_of(&open)];
        let timeout = Duration::from_secs(2);
        given(
            sent(&ports, 1, timeout, "the check listens on that port"),
            format!("{ports:?}"),
        );
        expect_eq(call(&ports, 1, timeout), ports.to_vec(), |p| {
            format!("{p:?}")
        })
    }

    fn skips_a_closed_port() -> CheckResult {
        let ports = [closed_addr().port()];
        let timeout = Duration::from_secs(2);
        given(
            sent(&ports, 1, timeout, "nothing listens there (refused)"),
            "[]",
        );
        expect_eq(call(&ports, 1, timeout), vec![], |p| format!("{p:?}"))
    }

    fn finds_the_open_ports_among_closed_ones() -> CheckResult {
        let open: Vec<TcpListener> = (0..3).map(|_| listener()).collect();
        let mut expected: Vec<u16> = open.iter().map(port_of).collect();
        let mut ports = expected.clone();
        ports.extend((0..5).map(|_| closed_addr().port()));
        ports.sort_unstable();
        expected.sort_unstable();
        let timeout = Duration::from_secs(2);
        let what = format!("the check listens on {expected:?}, the others are closed");
        given(sent(&ports, 4, timeout, &what), format!("{expected:?}"));
        expect_eq(call(&ports, 4, timeout), expected, |p| format!("{p:?}"))
    }

    fn returns_the_open_ports_from_lowest_to_highest() -> CheckResult {
        let open: Vec<TcpListener> = (0..6).map(|_| listener()).collect();
        let mut ports: Vec<u16> = open.iter().map(port_of).collect();
        ports.sort_unstable_by(|a, b| b.cmp(a)); // asked from highest to lowest
        let mut expected = ports.clone();
        expected.sort_unstable();
        let timeout = Duration::from_secs(2);
        let what = "all open, asked from highest to lowest";
        given(sent(&ports, 2, timeout, what), format!("{expected:?}"));
        expect_eq(call(&ports, 2, timeout), expected, |p| format!("{p:?}"))
    }

    fn a_listener_that_never_accepts_is_open() -> CheckResult {
        let idle = listener(); // nobody ever calls accept on it
        let ports = [port_of(&idle)];
        let timeout = Duration::from_secs(2);
        let what = "a listener that never calls accept: the kernel completes the handshake";
        given(sent(&ports, 1, timeout, what), format!("{ports:?}"));
        expect_eq(call(&ports, 1, timeout), ports.to_vec(), |p| {
            format!("{p:?}")
        })
    }

    fn a_listener_that_closes_at_once_is_open() -> CheckResult {
        let closing = listener();
        let ports = [port_of(&closing)];
        std::thread::spawn(move || {
            for stream in closing.incoming() {
                drop(stream);
            }
        });
        let timeout = Duration::from_secs(2);
        let what = "a listener that accepts and closes each connection at once";
        given(sent(&ports, 1, timeout, what), format!("{ports:?}"));
        expect_eq(call(&ports, 1, timeout), ports.to_vec(), |p| {
            format!("{p:?}")
        })
    }

    fn gives_up_on_a_silent_port_after_the_timeout() -> CheckResult {
        let silent = silent()?;
        let ports = [silent.addr.port()];
        let timeout = Duration::from_millis(300);
        let what = "a listener whose queue is full: the SYN goes unanswered";
        given(
            sent(&ports, 1, timeout, what),
            "[] after about 300ms (at most 3 s): the port is filtered, not open",
        );
        let start = Instant::now();
        let open = call(&ports, 1, timeout);
        let took = start.elapsed();
        if !open.is_empty() {
            return got(format!("{open:?}"));
        }
        if took > Duration::from_secs(3) {
            return got(format!("[] after {took:?}: the timeout was not applied"));
        }
        Ok(())
    }

    /// Six silent ports, two at a time, 400ms each: three rounds.
    const SILENT_PORTS: u32 = 6;
    const AT_ONCE: usize = 2;
    const EACH: Duration = Duration::from_millis(400);

    /// Scans `SILENT_PORTS` silent ports, `AT_ONCE` at a time, and returns how long it took.
    fn scan_silent_ports(expected: &str) -> Result<Duration, course_testkit::exercise::Mismatch> {
        let silent: Vec<Silent> = (0..SILENT_PORTS)
            .map(|_| silent())
            .collect::<Result<_, _>>()?;
        let ports: Vec<u16> = silent.iter().map(|s| s.addr.port()).collect();
        given(sent(&ports, AT_ONCE, EACH, "every port silent"), expected);
        let start = Instant::now();
        let open = call(&ports, AT_ONCE, EACH);
        let took = start.elapsed();
        if open.is_empty() {
            Ok(took)
        } else {
            got(format!("{open:?}"))
        }
    }

    fn never_more_than_concurrency_at_once() -> CheckResult {
        // 6 ports, 2 at a time, 400ms each: at least 3 rounds, 1.2 s.
        let at_least = EACH * SILENT_PORTS.div_ceil(AT_ONCE as u32);
        let took = scan_silent_ports(&format!(
            "[], after at least {at_least:?}: 3 rounds of 2 attempts"
        ))?;
        if took < at_least {
            let more = "more than 2 attempts at once";
            return got(format!(
                "[] after {took:?}: {more}, perhaps one thread per port"
            ));
        }
        Ok(())
    }

    fn several_at_once_not_one_by_one() -> CheckResult {
        // One at a time would take 6 times 400ms, 2.4 s, at least.
        let one_by_one = EACH * SILENT_PORTS;
        let took = scan_silent_ports(&format!(
            "[], in well under {one_by_one:?} (about 1.2 s): 2 attempts at a time"
        ))?;
        if took >= one_by_one {
            return got(format!("[] after {took:?}: as slow as one port at a time"));
        }
        Ok(())
    }
}
