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
        &[ex1::EXERCISE, ex2::EXERCISE, ex3::EXERCISE, ex4::EXERCISE],
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

mod ex2 {
    use super::*;
    use code::ex2_head::respond;
    use course_testkit::net::{self, show_bytes};
    use std::io::Read;
    use std::net::TcpListener;

    pub const EXERCISE: Exercise = Exercise {
        lesson: "http11",
        number: 2,
        title: "Answer HEAD like GET, without the body",
        file: "exercises/ex2_head.rs",
        checks: checks![
            get_is_answered_with_the_page,
            get_of_a_missing_page_is_a_404,
            head_sends_no_body,
            head_has_the_same_head_as_get,
            head_tells_the_length_of_the_get_body,
            head_of_a_missing_page_is_a_404_without_a_body,
            other_methods_get_405_with_allow,
            a_client_reads_nothing_after_the_head,
        ],
    };

    fn request(method: &str, path: &str) -> String {
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
    }

    fn call(method: &str, path: &str) -> Vec<u8> {
        let head = request(method, path);
        step(format!("waiting for respond({head:?}) to return"));
        respond(&head)
    }

    #[allow(clippy::ptr_arg)] // `expect_eq` shows its values by reference: `&Vec<u8>`
    fn show(bytes: &Vec<u8>) -> String {
        show_bytes(bytes)
    }

    /// The response GET of `path` must get.
    fn get_response(path: &str) -> String {
        let (content_type, body) = match code::ex2_head::PAGES.iter().find(|(p, _, _)| *p == path) {
            Some((_, t, b)) => (*t, *b),
            None => ("text/plain; charset=utf-8", "not found\n"),
        };
        let status = if body == "not found\n" {
            "404 Not Found"
        } else {
            "200 OK"
        };
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn head_part(response: &str) -> &str {
        let end = response.find("\r\n\r\n").map_or(response.len(), |i| i + 4);
        &response[..end]
    }

    fn expect_response(method: &str, path: &str, expected: String) -> CheckResult {
        given(
            show_bytes(request(method, path).as_bytes()),
            show_bytes(expected.as_bytes()),
        );
        expect_eq(call(method, path), expected.into_bytes(), show)
    }

    fn get_is_answered_with_the_page() -> CheckResult {
        expect_response("GET", "/hello.txt", get_response("/hello.txt"))?;
        expect_response("GET", "/", get_response("/"))
    }

    fn get_of_a_missing_page_is_a_404() -> CheckResult {
        expect_response("GET", "/nope", get_response("/nope"))
    }

    fn head_sends_no_body() -> CheckResult {
        let get = get_response("/hello.txt");
        let expected = head_part(&get);
        given(
            show_bytes(request("HEAD", "/hello.txt").as_bytes()),
            format!(
                "a response that ends with the empty line: {}",
                show_bytes(expected.as_bytes())
            ),
        );
        let response = call("HEAD", "/hello.txt");
        let text = String::from_utf8_lossy(&response).into_owned();
        match text.find("\r\n\r\n") {
            Some(end) if end + 4 == text.len() => Ok(()),
            Some(end) => got(format!(
                "{}: {} bytes after the empty line, a body HEAD must not have",
                show(&response),
                text.len() - end - 4
            )),
            None => got(format!("{}: no empty line ends the head", show(&response))),
        }
    }

    fn head_has_the_same_head_as_get() -> CheckResult {
        for path in ["/hello.txt", "/"] {
            let get = get_response(path);
            expect_response("HEAD", path, head_part(&get).to_string())?;
        }
        Ok(())
    }

    fn head_tells_the_length_of_the_get_body() -> CheckResult {
        given(
            show_bytes(request("HEAD", "/hello.txt").as_bytes()),
            "a head with `Content-Length: 14`, the length of GET's body (RFC 9110 §8.6)",
        );
        let response = String::from_utf8_lossy(&call("HEAD", "/hello.txt")).into_owned();
        let length = response
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap_or("(no Content-Length field)");
        expect_eq(length, "14", |l| format!("Content-Length: {l}"))
    }

    fn head_of_a_missing_page_is_a_404_without_a_body() -> CheckResult {
        let get = get_response("/nope");
        expect_response("HEAD", "/nope", head_part(&get).to_string())
    }

    fn other_methods_get_405_with_allow() -> CheckResult {
        let expected = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n\
                        Content-Length: 0\r\n\r\n";
        for method in ["POST", "DELETE", "PUT"] {
            expect_response(method, "/hello.txt", expected.to_string())?;
        }
        Ok(())
    }

    /// The check's own server around `respond`: one request head per connection, then close.
    fn serve(listener: TcpListener) -> std::io::Result<()> {
        for stream in listener.incoming() {
            let mut stream = stream?;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte)? == 1 {
                head.push(byte[0]);
            }
            let response = respond(&String::from_utf8_lossy(&head));
            std::io::Write::write_all(&mut stream, &response)?;
        }
        Ok(())
    }

    fn a_client_reads_nothing_after_the_head() -> CheckResult {
        let sent = request("HEAD", "/hello.txt");
        let get = get_response("/hello.txt");
        given(
            format!("over TCP, as curl -I does: {}", show_bytes(sent.as_bytes())),
            format!("{}, then the close", show_bytes(head_part(&get).as_bytes())),
        );
        let addr = exercise::start_server(serve);
        let mut stream = net::connect(addr).or_else(got)?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        let all = net::read_until_close(&mut stream, 64 * 1024).or_else(got)?;
        expect_eq(all, head_part(&get).as_bytes().to_vec(), show)
    }
}

mod ex3 {
    use super::*;
    use code::ex3_keep_alive::serve;
    use course_testkit::net::{self, show_bytes};
    use std::io::Read;
    use std::net::{Shutdown, TcpStream};

    pub const EXERCISE: Exercise = Exercise {
        lesson: "http11",
        number: 3,
        title: "Keep the connection alive",
        file: "exercises/ex3_keep_alive.rs",
        checks: checks![
            answers_one_request,
            answers_requests_in_turn_on_one_connection,
            answers_pipelined_requests_in_order,
            answers_a_request_sent_a_byte_at_a_time,
            closes_after_connection_close,
            stops_after_connection_close_even_mid_batch,
            closes_when_the_client_closes,
            serves_the_next_connection,
        ],
    };

    fn get(path: &str, close: bool) -> String {
        let connection = if close { "Connection: close\r\n" } else { "" };
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{connection}\r\n")
    }

    fn reply(path: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{path}",
            path.len()
        )
    }

    fn start() -> Result<TcpStream, exercise::Mismatch> {
        let addr = exercise::start_server(serve);
        net::connect(addr).or_else(got)
    }

    /// Reads exactly the bytes of `expected` (responses arrive in pieces) and compares.
    fn expect_bytes(stream: &mut TcpStream, expected: &str) -> CheckResult {
        step(format!("waiting for {}", show_bytes(expected.as_bytes())));
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while seen.len() < expected.len() {
            let want = (expected.len() - seen.len()).min(buf.len());
            match stream.read(&mut buf[..want]) {
                Ok(0) => {
                    return got(format!("{}, then the connection closed", show_bytes(&seen)));
                }
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(e) if net::is_timeout(&e) => {
                    let what = if seen.is_empty() { "nothing" } else { "only" };
                    return got(format!(
                        "{what} {} within {:?}",
                        show_bytes(&seen),
                        net::STEP_TIMEOUT
                    ));
                }
                Err(e) => return got(format!("{} and then {e}", show_bytes(&seen))),
            }
        }
        expect_eq(seen, expected.as_bytes().to_vec(), |b| show_bytes(b))
    }

    /// Expects the server to close: nothing more, then the end of the stream.
    fn expect_close(stream: &mut TcpStream) -> CheckResult {
        let rest = net::read_until_close(stream, 64 * 1024).or_else(got)?;
        if rest.is_empty() {
            Ok(())
        } else {
            got(format!("{} more before the close", show_bytes(&rest)))
        }
    }

    fn answers_one_request() -> CheckResult {
        let sent = get("/a", true);
        given(
            show_bytes(sent.as_bytes()),
            format!("{}, then the close", show_bytes(reply("/a").as_bytes())),
        );
        let mut stream = start()?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        expect_bytes(&mut stream, &reply("/a"))?;
        expect_close(&mut stream)
    }

    fn answers_requests_in_turn_on_one_connection() -> CheckResult {
        given(
            "three GETs on one connection, each sent after the previous response came",
            "the three responses, each on time, on the same connection",
        );
        let mut stream = start()?;
        for path in ["/first", "/second", "/third"] {
            net::send(&mut stream, get(path, false).as_bytes()).or_else(got)?;
            expect_bytes(&mut stream, &reply(path))?;
        }
        Ok(())
    }

    fn answers_pipelined_requests_in_order() -> CheckResult {
        let sent = format!(
            "{}{}{}",
            get("/1", false),
            get("/22", false),
            get("/333", true)
        );
        let expected = format!("{}{}{}", reply("/1"), reply("/22"), reply("/333"));
        given(
            format!("in one write: {}", show_bytes(sent.as_bytes())),
            format!("{}, then the close", show_bytes(expected.as_bytes())),
        );
        let mut stream = start()?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        expect_bytes(&mut stream, &expected)?;
        expect_close(&mut stream)
    }

    fn answers_a_request_sent_a_byte_at_a_time() -> CheckResult {
        let sent = get("/slow", false);
        given(
            format!("one byte per write: {}", show_bytes(sent.as_bytes())),
            show_bytes(reply("/slow").as_bytes()),
        );
        let mut stream = start()?;
        let _ = stream.set_nodelay(true);
        for byte in sent.as_bytes() {
            std::io::Write::write_all(&mut stream, &[*byte])
                .or_else(|e| got(format!("the connection failed while sending: {e}")))?;
        }
        expect_bytes(&mut stream, &reply("/slow"))
    }

    fn closes_after_connection_close() -> CheckResult {
        let sent = get("/bye", false).replace("\r\n\r\n", "\r\nconnection: Close\r\n\r\n");
        given(
            show_bytes(sent.as_bytes()),
            format!(
                "{}, then the close (the field's name and value in any case)",
                show_bytes(reply("/bye").as_bytes())
            ),
        );
        let mut stream = start()?;
        net::send(&mut stream, get("/hi", false).as_bytes()).or_else(got)?;
        expect_bytes(&mut stream, &reply("/hi"))?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        expect_bytes(&mut stream, &reply("/bye"))?;
        expect_close(&mut stream)
    }

    fn stops_after_connection_close_even_mid_batch() -> CheckResult {
        let sent = format!("{}{}", get("/last", true), get("/never", false));
        given(
            format!("in one write: {}", show_bytes(sent.as_bytes())),
            format!(
                "{}, then the close: nothing for /never",
                show_bytes(reply("/last").as_bytes())
            ),
        );
        let mut stream = start()?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        expect_bytes(&mut stream, &reply("/last"))?;
        expect_close(&mut stream)
    }

    fn closes_when_the_client_closes() -> CheckResult {
        let sent = get("/x", false);
        given(
            format!(
                "{}, then the end of the stream (half-close)",
                show_bytes(sent.as_bytes())
            ),
            format!("{}, then the close", show_bytes(reply("/x").as_bytes())),
        );
        let mut stream = start()?;
        net::send(&mut stream, sent.as_bytes()).or_else(got)?;
        let _ = stream.shutdown(Shutdown::Write);
        expect_bytes(&mut stream, &reply("/x"))?;
        expect_close(&mut stream)
    }

    fn serves_the_next_connection() -> CheckResult {
        given(
            "a connection reset by the client, then a second connection with a GET",
            "the second connection served as the first would be",
        );
        let addr = exercise::start_server(serve);
        {
            let mut first = net::connect(addr).or_else(got)?;
            net::send(&mut first, b"GET /half").or_else(got)?;
            let _ = socket2::SockRef::from(&first).set_linger(Some(std::time::Duration::ZERO));
        } // closed with a reset
        let mut second = net::connect(addr).or_else(got)?;
        net::send(&mut second, get("/next", true).as_bytes()).or_else(got)?;
        expect_bytes(&mut second, &reply("/next"))?;
        expect_close(&mut second)
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
