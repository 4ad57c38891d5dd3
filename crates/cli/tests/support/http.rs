//! The real server and an HTTP client for the end-to-end tests: start
//! `feeledger serve` on a free loopback port, send requests, check the
//! API's JSON error contract.

use serde_json::{json, Value};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};
use std::time::Duration;

/// A running `feeledger serve`, SIGKILLed on drop.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts the server on a free loopback port and waits for its
    /// `serving <origin> on http://ADDR/` line. Its stderr is appended to
    /// `DATA.serve.log`, so the log of every restart is kept.
    ///
    /// It also waits for the server's background audit to end (passed or
    /// failed, `GET /api/v1/status`), since writes wait for it: a test that
    /// wants to see the audit running uses [`Server::spawn_with`].
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, |_| {})
    }

    /// As [`Server::start`], letting the caller adjust the command first
    /// (e.g. a lower file-descriptor limit); it waits for the audit too.
    pub fn start_with(data: &Path, adjust: impl FnOnce(&mut std::process::Command)) -> Server {
        let server = Server::spawn_with(data, adjust);
        server.wait_for_audit();
        server
    }

    /// Waits until the background audit is no longer running (at most
    /// 300 s).
    pub fn wait_for_audit(&self) {
        let http = self.http();
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            let status = http.get("/api/v1/status").ok_json();
            if status["audit"]["state"] != json!("running") {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server's audit did not end within 300 s: {status}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server as [`Server::start_with`] does, but returns as
    /// soon as it serves, while its background audit may still run.
    pub fn spawn_with(data: &Path, adjust: impl FnOnce(&mut std::process::Command)) -> Server {
        let log_path = data.with_extension("serve.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("server log");
        let mut command = super::command();
        command
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(log);
        adjust(&mut command);
        let mut child = command.spawn().expect("feeledger serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read the serving line");
        let rest = line
            .trim_end()
            .strip_prefix("serving ")
            .and_then(|r| r.split_once(" on http://"))
            .and_then(|(_origin, r)| r.strip_suffix('/'))
            .map(str::to_string);
        let Some(addr) = rest else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            panic!("unexpected first line from serve: {line:?}\nstderr:\n{log}");
        };
        Server {
            child,
            url: format!("http://{addr}"),
            addr,
            _stdout: stdout,
        }
    }

    pub fn http(&self) -> Http {
        Http::new(&self.url)
    }

    /// SIGTERM, so the server finishes its writes and flushes, then waits
    /// for it to exit (at most 10 s) and returns how it exited.
    pub fn stop(mut self) -> std::process::ExitStatus {
        // SAFETY: sending a signal to our own child process.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM the server");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server did not exit within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (what `Child::kill` sends on unix) and reap.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        let status = self.child.wait().expect("reap the server");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt as _;
            assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
        }
        #[cfg(not(unix))]
        let _ = status;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub cache_control: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text()))
    }

    #[track_caller]
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.text());
        self.json()
    }

    /// The API's error contract: this status, a JSON content type, and
    /// `{"error": {"code": code, "message": "<not empty>"}}`, with an
    /// optional `"details"` object. Returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "wanted {status} {code}: {}",
            self.text()
        );
        assert!(
            self.content_type.starts_with("application/json"),
            "an error is JSON, got {:?}: {}",
            self.content_type,
            self.text()
        );
        let v = self.json();
        assert_eq!(
            v.as_object().map(|o| o.len()),
            Some(1),
            "only \"error\": {v}"
        );
        assert_eq!(v["error"]["code"], json!(code), "{v}");
        let message = v["error"]["message"].as_str().expect("a message string");
        assert!(!message.is_empty(), "{v}");
        // `details` is optional: the figures of the refusal, for a page
        // to word in its own language (docs/api.md, "Errors").
        let error = v["error"].as_object().unwrap();
        let details = error.get("details");
        assert!(
            details.is_none_or(Value::is_object),
            "details, if any, are an object: {v}"
        );
        assert_eq!(error.len(), 2 + usize::from(details.is_some()), "{v}");
        message.to_string()
    }
}

#[derive(Clone)]
pub struct Http {
    pub base: String,
    pub client: reqwest::blocking::Client,
}

impl Http {
    pub fn new(base: &str) -> Http {
        Http::with_timeout(base, Duration::from_secs(60))
    }

    pub fn with_timeout(base: &str, timeout: Duration) -> Http {
        Http {
            base: base.to_string(),
            client: reqwest::blocking::Client::builder()
                .timeout(timeout)
                .build()
                .expect("HTTP client"),
        }
    }

    pub fn finish(response: reqwest::blocking::Response) -> reqwest::Result<Resp> {
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let cache_control = header(reqwest::header::CACHE_CONTROL);
        let status = response.status().as_u16();
        let body = response.bytes()?.to_vec();
        Ok(Resp {
            status,
            content_type,
            cache_control,
            body,
        })
    }

    pub fn try_get(&self, path: &str) -> reqwest::Result<Resp> {
        Http::finish(self.client.get(format!("{}{path}", self.base)).send()?)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.try_get(path)
            .unwrap_or_else(|e| panic!("GET {}{path}: {e}", self.base))
    }

    pub fn try_post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> reqwest::Result<Resp> {
        Http::finish(
            self.client
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.into())
                .send()?,
        )
    }

    pub fn post(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Resp {
        self.try_post(path, content_type, body)
            .unwrap_or_else(|e| panic!("POST {}{path}: {e}", self.base))
    }

    pub fn post_json(&self, path: &str, value: &Value) -> Resp {
        self.post(path, "application/json", value.to_string())
    }

    pub fn checkpoint(&self) -> Vec<u8> {
        let r = self.get("/checkpoint");
        assert_eq!(r.status, 200, "{}", r.text());
        r.body
    }
}

/// What a refused request must not change.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub checkpoint: Vec<u8>,
    pub balances: Value,
    pub proposals: Value,
    pub ledger: Value,
}

impl Http {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            checkpoint: self.checkpoint(),
            balances: self.get("/api/v1/balances").ok_json(),
            proposals: self.get("/api/v1/proposals").ok_json(),
            ledger: self.get("/api/v1/ledger").ok_json(),
        }
    }
}

/// A table of refusal cases checked one by one. A case that fails is
/// recorded under its name and the later cases still run; [`Cases::finish`]
/// then fails the test naming every case that failed, so one broken rule
/// cannot hide the others.
#[derive(Default)]
pub struct Cases {
    failures: std::cell::RefCell<Vec<String>>,
    count: std::cell::Cell<usize>,
}

impl Cases {
    pub fn new() -> Cases {
        Cases::default()
    }

    /// Runs one named case: `check` panics if the case fails.
    pub fn case<T>(&self, what: &str, check: impl FnOnce() -> T) -> Option<T> {
        self.count.set(self.count.get() + 1);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
            Ok(value) => Some(value),
            Err(payload) => {
                let why = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "(no message)".into());
                self.failures.borrow_mut().push(format!("{what}: {why}"));
                None
            }
        }
    }

    /// One named case: `r` is the JSON error `status` `code` (see
    /// [`Resp::assert_error`]). Returns its message.
    pub fn check(&self, r: Resp, status: u16, code: &str, what: &str) -> Option<String> {
        let message = self.case(what, || r.assert_error(status, code))?;
        println!("{what}: {status} {code}: {message}");
        Some(message)
    }

    /// Fails the test if any case failed, naming each; else the number of
    /// cases that ran.
    #[track_caller]
    pub fn finish(self) -> usize {
        let failures = self.failures.into_inner();
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            self.count.get(),
            failures.join("\n")
        );
        self.count.get()
    }
}
