//! Black-box tests of the `ports` binary's demonstrations: help with examples, usage errors,
//! and the privileged-port demonstration both with and without the privilege.

use assert_cmd::Command;
use predicates::prelude::*;

fn ports() -> Command {
    Command::cargo_bin("ports").expect("the ports binary is built")
}

#[test]
fn the_demonstrations_have_help_with_an_example() {
    ports()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Example: cargo run -p ports --"));
    for sub in ["port", "bind"] {
        ports()
            .args([sub, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!(
                "Example: cargo run -p ports -- {sub}"
            )));
    }
    for bad in [&["port", "nonsense"][..], &["bind"], &["port"]] {
        ports()
            .args(bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

/// The demonstration tells the truth both ways: with the capability it binds the port just
/// below the threshold; without it, it is refused.
#[test]
fn the_privileged_demonstration_is_right_with_and_without_the_capability() {
    let Some(start) = ports::binding::unprivileged_port_start() else {
        eprintln!("SKIPPED: no /proc/sys/net/ipv4/ip_unprivileged_port_start (not Linux)");
        return;
    };
    if start == 0 {
        eprintln!("SKIPPED: this system lets anyone bind any port");
        return;
    }
    let below = start.clamp(1, 1024) - 1; // the port the demonstration tries
    let unprivileged = || {
        if !course_testkit::is_root() {
            return Some(ports());
        }
        // root holds CAP_NET_BIND_SERVICE: run the binary without it (no copy of the file,
        // which would race with other test threads forking: ETXTBSY).
        let setpriv = course_testkit::process::require("setpriv", "apt-get install util-linux")?;
        let mut cmd = Command::new(setpriv);
        cmd.args([
            "--bounding-set=-net_bind_service",
            "--inh-caps=-net_bind_service",
        ])
        .arg(assert_cmd::cargo::cargo_bin("ports"));
        Some(cmd)
    };
    if let Some(mut cmd) = unprivileged() {
        cmd.args(["bind", "privileged"])
            .assert()
            .success()
            .stdout(predicate::str::contains("CAP_NET_BIND_SERVICE: no"))
            .stdout(predicate::str::contains(format!(
                "bind 127.0.0.1:{below}: Permission denied"
            )));
    }
    if course_testkit::is_root() {
        ports()
            .args(["bind", "privileged"])
            .assert()
            .success()
            .stdout(predicate::str::contains("CAP_NET_BIND_SERVICE: yes"))
            .stdout(
                predicate::str::contains(format!("bind 127.0.0.1:{below}: bound"))
                    .or(predicate::str::contains("Address already in use")),
            );
    }
}

/// Every help text fits a terminal's 80 columns, as the course's conventions ask.
#[test]
fn every_help_fits_80_columns() {
    let too_wide =
        course_testkit::cli::help_lines_too_wide(std::path::Path::new(env!("CARGO_BIN_EXE_ports")));
    assert!(
        too_wide.is_empty(),
        "help lines wider than 80 columns:\n{}",
        too_wide.join("\n")
    );
}
