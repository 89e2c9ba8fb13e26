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
        &[ex1::EXERCISE, ex4::EXERCISE],
    )
}

mod ex1 {
    use super::*;
    use code::ex1_request_head::{Head, HeadError, parse_head};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "http11",
        number: 1,
        title: "Parse a request head",
        file: "exercises/ex1_request_head.rs",
        checks: checks![
            parses_a_simple_get,
            keeps_fields_in_order_and_trims_their_values,
            accepts_http_1_0_without_host,
            ignores_the_body_after_the_empty_line,
            refuses_a_head_without_the_empty_line,
            refuses_a_bare_lf_or_cr,
            refuses_a_bad_request_line,
            refuses_a_bad_version,
            refuses_whitespace_before_the_colon,
            refuses_obs_fold,
            refuses_a_field_without_a_colon_or_name,
            requires_exactly_one_host,
            reports_the_first_error_in_the_bytes,
            never_panics_on_arbitrary_bytes,
        ],
    };

    fn show(result: &Result<Head, HeadError>) -> String {
        format!("{result:?}")
    }

    fn head(method: &str, target: &str, version: &str, headers: &[(&str, &str)]) -> Head {
        Head {
            method: method.into(),
            target: target.into(),
            version: version.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// Calls `parse_head(bytes)` and expects `expected`.
    fn expect(bytes: &[u8], expected: Result<Head, HeadError>) -> CheckResult {
        let shown = String::from_utf8_lossy(bytes);
        given(format!("parse_head(b{shown:?})"), show(&expected));
        step(format!("waiting for parse_head(b{shown:?}) to return"));
        expect_eq(parse_head(bytes), expected, show)
    }

    fn expect_err(cases: &[&[u8]], error: HeadError) -> CheckResult {
        cases.iter().try_for_each(|bytes| expect(bytes, Err(error)))
    }

    fn parses_a_simple_get() -> CheckResult {
        expect(
            b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n",
            Ok(head(
                "GET",
                "/index.html",
                "HTTP/1.1",
                &[("Host", "example.com")],
            )),
        )
    }

    fn keeps_fields_in_order_and_trims_their_values() -> CheckResult {
        expect(
            b"POST /form?x=1 HTTP/1.1\r\nhost: a\r\nAccept:  */*\t\r\nX-Empty:\r\n\
              User-Agent: curl/8.5.0\r\n\r\n",
            Ok(head(
                "POST",
                "/form?x=1",
                "HTTP/1.1",
                &[
                    ("host", "a"),
                    ("Accept", "*/*"),
                    ("X-Empty", ""),
                    ("User-Agent", "curl/8.5.0"),
                ],
            )),
        )
    }

    fn accepts_http_1_0_without_host() -> CheckResult {
        expect(
            b"BREW /pot HTTP/1.0\r\n\r\n",
            Ok(head("BREW", "/pot", "HTTP/1.0", &[])),
        )
    }

    fn ignores_the_body_after_the_empty_line() -> CheckResult {
        expect(
            b"PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nHost: b\r\n",
            Ok(head(
                "PUT",
                "/f",
                "HTTP/1.1",
                &[("Host", "a"), ("Content-Length", "9")],
            )),
        )
    }

    fn refuses_a_head_without_the_empty_line() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/1.1\r\nHost: a\r\n",
                b"GET / HTTP/1.1\r\nHost: a",
                b"",
            ],
            HeadError::MissingCrlf,
        )
    }

    fn refuses_a_bare_lf_or_cr() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/1.1\nHost: a\n\n",
                b"GET / HTTP/1.1\nHost: a\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n",
            ],
            HeadError::MissingCrlf,
        )
    }

    fn refuses_a_bad_request_line() -> CheckResult {
        expect_err(
            &[
                b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
                b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
                b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
                b"GET /\r\nHost: a\r\n\r\n",
                b"GET\r\nHost: a\r\n\r\n",
                b"\r\n\r\n",
                b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
                b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
            ],
            HeadError::BadRequestLine,
        )
    }

    fn refuses_a_bad_version() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                b"GET / http/1.1\r\nHost: a\r\n\r\n",
                b"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
                b"GET / HTTP\r\nHost: a\r\n\r\n",
            ],
            HeadError::BadVersion,
        )
    }

    fn refuses_whitespace_before_the_colon() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\nAccept\t: */*\r\n\r\n",
            ],
            HeadError::SpaceBeforeColon,
        )
    }

    fn refuses_obs_fold() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n\ttwo\r\n\r\n",
            ],
            HeadError::ObsFold,
        )
    }

    fn refuses_a_field_without_a_colon_or_name() -> CheckResult {
        expect_err(
            &[
                b"GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\n: no name\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\nX(y): z\r\n\r\n",
            ],
            HeadError::BadField,
        )
    }

    fn requires_exactly_one_host() -> CheckResult {
        expect(b"GET / HTTP/1.1\r\n\r\n", Err(HeadError::MissingHost))?;
        expect(
            b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
            Err(HeadError::MissingHost),
        )?;
        expect_err(
            &[
                b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: a\r\nHOST: a\r\n\r\n",
                b"GET / HTTP/1.0\r\nhost: a\r\nHost: b\r\n\r\n",
            ],
            HeadError::DuplicateHost,
        )
    }

    fn reports_the_first_error_in_the_bytes() -> CheckResult {
        expect(
            b"GET  / HTTP/1.1\r\nHost : a\r\n\r\n",
            Err(HeadError::BadRequestLine),
        )?;
        expect(
            b"GET / HTTP/1.1\r\nHost : a\r\nX: y\r\n z\r\n\r\n",
            Err(HeadError::SpaceBeforeColon),
        )?;
        expect(
            b"GET / HTTP/1.1\r\nX: y\r\n z\r\n\r\n",
            Err(HeadError::ObsFold),
        )
    }

    fn never_panics_on_arbitrary_bytes() -> CheckResult {
        // Every cut of a valid head, and that head with each byte replaced by each of a few
        // troublesome ones: about 1,400 calls.
        let valid = b"GET /a?b HTTP/1.1\r\nHost: a\r\nX:  y \r\n\r\n";
        let troublesome = [b'\r', b'\n', b' ', b':', b'\t', 0, 0xff, 0xc3, b'/'];
        let mut inputs: Vec<Vec<u8>> = (0..=valid.len()).map(|n| valid[..n].to_vec()).collect();
        for i in 0..valid.len() {
            for &b in &troublesome {
                let mut changed = valid.to_vec();
                changed[i] = b;
                inputs.push(changed);
            }
        }
        given(
            format!("parse_head on {} cut or changed heads", inputs.len()),
            "an Ok or an Err for each, never a panic",
        );
        for bytes in &inputs {
            step(format!(
                "waiting for parse_head(b{:?}) to return",
                String::from_utf8_lossy(bytes)
            ));
            let _ = parse_head(bytes);
        }
        Ok(())
    }
}

mod ex4 {
    use super::*;
    use code::ex4_safe_path::safe_path;
    use std::fs;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "http11",
        number: 4,
        title: "Keep requests inside the folder",
        file: "exercises/ex4_safe_path.rs",
        checks: checks![
            finds_a_file_inside_the_root,
            decodes_percent_escapes,
            ignores_the_query,
            maps_a_directory_to_its_index_html,
            returns_none_for_a_missing_file,
            refuses_dot_dot,
            refuses_an_encoded_dot_dot,
            refuses_encoded_slashes_that_lead_out,
            refuses_backslashes,
            refuses_absolute_paths_and_drive_letters,
            refuses_nul,
            refuses_invalid_percent_encoding,
            refuses_a_symlink_leading_out,
        ],
    };

    /// A tree under the system's temporary folder, removed when dropped:
    /// `outside/secret.txt` and `outside/index.html`, and `root/` holding `index.html`,
    /// `a b.txt`, `docs/index.html`, `docs/é.txt`, and (on Unix) the symlinks `link.txt` to
    /// `outside/secret.txt` and `out` to `outside/`.
    struct Tree(PathBuf);

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    impl Tree {
        fn root(&self) -> PathBuf {
            self.0.join("root")
        }
    }

    fn tree() -> Result<Tree, exercise::Mismatch> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "http11-ex4-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let tree = Tree(std::env::temp_dir().join(name));
        let root = tree.root();
        let made = (|| -> std::io::Result<()> {
            fs::create_dir_all(root.join("docs"))?;
            fs::create_dir_all(tree.0.join("outside"))?;
            fs::write(tree.0.join("outside/secret.txt"), "secret")?;
            fs::write(tree.0.join("outside/index.html"), "secret")?;
            fs::write(root.join("index.html"), "home")?;
            fs::write(root.join("a b.txt"), "space")?;
            fs::write(root.join("docs/index.html"), "docs")?;
            fs::write(root.join("docs/é.txt"), "accent")?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::symlink;
                symlink(tree.0.join("outside/secret.txt"), root.join("link.txt"))?;
                symlink(tree.0.join("outside"), root.join("out"))?;
            }
            Ok(())
        })();
        match made {
            Ok(()) => Ok(tree),
            Err(e) => got(format!(
                "(a bug in the check) could not make the test folder: {e}"
            )),
        }
    }

    fn show(path: &Option<PathBuf>) -> String {
        match path {
            Some(path) => format!("Some({})", path.display()),
            None => "None".into(),
        }
    }

    /// Calls `safe_path(root, target)` and expects the file `expected` (under the root,
    /// compared by real path) or `None`.
    fn expect(tree: &Tree, target: &str, expected: Option<&str>) -> CheckResult {
        let root = tree.root();
        let expected = expected.map(|file| real(&root.join(file)));
        given(
            format!("safe_path(root, {target:?}), root = {}", root.display()),
            show(&expected),
        );
        step(format!("waiting for safe_path(root, {target:?}) to return"));
        let answer = safe_path(&root, target).map(|path| real(&path));
        expect_eq(answer, expected, show)
    }

    fn real(path: &Path) -> PathBuf {
        path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
    }

    fn expect_all(cases: &[(&str, Option<&str>)]) -> CheckResult {
        let tree = tree()?;
        cases
            .iter()
            .try_for_each(|&(target, expected)| expect(&tree, target, expected))
    }

    fn refuse_all(targets: &[&str]) -> CheckResult {
        let tree = tree()?;
        targets
            .iter()
            .try_for_each(|target| expect(&tree, target, None))
    }

    fn finds_a_file_inside_the_root() -> CheckResult {
        expect_all(&[("/index.html", Some("index.html"))])
    }

    fn decodes_percent_escapes() -> CheckResult {
        expect_all(&[
            ("/a%20b.txt", Some("a b.txt")),
            ("/docs/%C3%A9.txt", Some("docs/é.txt")),
            ("/%64ocs/index.html", Some("docs/index.html")),
        ])
    }

    fn ignores_the_query() -> CheckResult {
        expect_all(&[
            ("/index.html?page=2", Some("index.html")),
            ("/index.html?../../outside/secret.txt", Some("index.html")),
        ])
    }

    fn maps_a_directory_to_its_index_html() -> CheckResult {
        expect_all(&[
            ("/", Some("index.html")),
            ("/docs/", Some("docs/index.html")),
            ("/docs", Some("docs/index.html")),
        ])
    }

    fn returns_none_for_a_missing_file() -> CheckResult {
        refuse_all(&["/missing.html", "/docs/missing/"])
    }

    fn refuses_dot_dot() -> CheckResult {
        refuse_all(&[
            "/../outside/secret.txt",
            "/docs/../../outside/secret.txt",
            "/docs/../index.html",
        ])
    }

    fn refuses_an_encoded_dot_dot() -> CheckResult {
        refuse_all(&[
            "/%2e%2e/outside/secret.txt",
            "/%2E%2e/outside/secret.txt",
            "/.%2e/outside/secret.txt",
            "/docs/%2e%2e/%2e%2e/outside/secret.txt",
        ])
    }

    fn refuses_encoded_slashes_that_lead_out() -> CheckResult {
        refuse_all(&[
            "/..%2Foutside%2Fsecret.txt",
            "/docs%2F..%2F..%2Foutside/secret.txt",
            "/%2F..%2Foutside/secret.txt",
        ])
    }

    fn refuses_backslashes() -> CheckResult {
        refuse_all(&["/..\\outside\\secret.txt", "/%5C..%5Coutside%5Csecret.txt"])
    }

    fn refuses_absolute_paths_and_drive_letters() -> CheckResult {
        let tree = tree()?;
        let secret = tree.0.join("outside/secret.txt");
        let absolute = format!("/{}", secret.display()); // `//tmp/.../secret.txt`
        let encoded = format!(
            "/%2F{}",
            secret.display().to_string().trim_start_matches('/')
        );
        for target in [
            absolute.as_str(),
            encoded.as_str(),
            "/C:/Windows/win.ini",
            "/c:x",
        ] {
            expect(&tree, target, None)?;
        }
        Ok(())
    }

    fn refuses_nul() -> CheckResult {
        refuse_all(&["/index.html%00.txt", "/index.html\0"])
    }

    fn refuses_invalid_percent_encoding() -> CheckResult {
        refuse_all(&["/index.html%", "/index%2", "/%zzindex.html", "/%ff.txt"])
    }

    fn refuses_a_symlink_leading_out() -> CheckResult {
        if cfg!(not(unix)) {
            return Ok(()); // the test folder has symlinks only on Unix
        }
        refuse_all(&["/link.txt", "/out/secret.txt", "/out/"])
    }
}
