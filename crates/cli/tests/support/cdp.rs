//! A small Chrome DevTools Protocol driver: real headless Chromium with a
//! profile directory of its own per "phone", so a test can click through the
//! page, keep IndexedDB across reloads, and watch what the page sends.
//!
//! `--dump-dom` runs (chromium.rs) cannot click or keep a profile; this
//! starts Chromium with `--remote-debugging-port=0`, reads the DevTools URL
//! it prints on stderr, and talks JSON over a WebSocket (`tungstenite`,
//! plain ws:// on loopback). Waiting is by polling a JS expression until it
//! holds, under a deadline that only fails the test: no sleep is an
//! assertion.
//!
//! Used by `tests/signing_page.rs`.

use super::chromium::{assert_chromium, CHROMIUM, CHROMIUM_FLAGS};
use serde_json::{json, Value};
use std::io::{BufRead as _, BufReader};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// How long a wait for the page may take before the test fails.
pub const WAIT_MAX: Duration = Duration::from_secs(60);

/// How long one DevTools call may take before the test fails.
const CALL_MAX: Duration = Duration::from_secs(60);

/// Between two checks of a condition while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// One headless Chromium with its own profile directory: a phone. Killed
/// (with its helpers) on drop; the profile directory stays with the caller.
pub struct Phone {
    pub name: String,
    pub profile: PathBuf,
    child: Child,
    socket: WebSocket<TcpStream>,
    next_id: u64,
    /// Every event Chromium sent so far (`method` and `params`).
    pub events: Vec<Value>,
}

impl Drop for Phone {
    fn drop(&mut self) {
        // SAFETY: signalling the process group of the child we started.
        unsafe {
            libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Phone {
    /// Starts Chromium on `about:blank` with the profile in `profile` (made
    /// if missing) and `extra` flags, attaches to its page, and enables the
    /// page, runtime and network events.
    pub fn start(name: &str, profile: &Path, extra: &[&str]) -> Phone {
        assert_chromium();
        std::fs::create_dir_all(profile).expect("profile dir");
        let mut child = Command::new(CHROMIUM)
            .args(CHROMIUM_FLAGS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--remote-debugging-port=0")
            .arg("--remote-debugging-address=127.0.0.1")
            .args(extra)
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own process group, so drop ends its helpers too.
            .process_group(0)
            .spawn()
            .expect("chromium starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Read to the end, so Chromium never blocks on a full pipe.
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !sent {
                    if let Some(url) = line.split("DevTools listening on ").nth(1) {
                        let _ = tx.send(url.trim().to_string());
                        sent = true;
                    }
                }
            }
        });
        let browser_url = match rx.recv_timeout(WAIT_MAX) {
            Ok(url) => url,
            Err(_) => {
                // SAFETY: as in drop.
                unsafe {
                    libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
                }
                let _ = child.wait();
                panic!("{name}: chromium printed no DevTools URL within {WAIT_MAX:?}");
            }
        };
        // ws://127.0.0.1:PORT/devtools/browser/ID: the page targets are
        // listed at http://127.0.0.1:PORT/json/list.
        let host = browser_url
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .expect("DevTools URL names host:port")
            .to_string();
        let page_url = page_target(&host);
        let stream = TcpStream::connect(&host).expect("connect to DevTools");
        stream.set_read_timeout(Some(CALL_MAX)).unwrap();
        let (socket, _) =
            tungstenite::client(page_url.as_str(), stream).expect("DevTools WebSocket handshake");
        let mut phone = Phone {
            name: name.to_string(),
            profile: profile.to_path_buf(),
            child,
            socket,
            next_id: 1,
            events: Vec::new(),
        };
        for domain in ["Page.enable", "Runtime.enable", "Network.enable"] {
            phone.call(domain, json!({}));
        }
        phone
    }

    /// Sends one DevTools command and returns its `result`; events that
    /// arrive meanwhile are kept in `events`. Panics on a protocol error.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{}: {method} failed: {error}", self.name))
    }

    /// As [`Phone::call`], but a protocol error is returned, not a panic.
    pub fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"id": id, "method": method, "params": params});
        self.socket
            .send(Message::text(request.to_string()))
            .unwrap_or_else(|e| panic!("{}: send {method}: {e}", self.name));
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < CALL_MAX,
                "{}: {method} took over {CALL_MAX:?}",
                self.name
            );
            let message = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("{}: read the answer to {method}: {e}", self.name));
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).expect("DevTools sends JSON");
            if value["id"] == json!(id) {
                if let Some(error) = value.get("error") {
                    return Err(error.clone());
                }
                return Ok(value["result"].clone());
            }
            if value.get("method").is_some() {
                self.events.push(value);
            }
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns
    /// its value as JSON. Panics, with the exception, if it throws.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|error| panic!("{}: Runtime.evaluate failed: {error}", self.name))
    }

    /// As [`Phone::eval`], but a protocol error (the page navigated away
    /// while the expression ran, say) is returned, not a panic.
    fn try_eval(&mut self, expression: &str) -> Result<Value, Value> {
        let result = self.try_call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            panic!("{}: {expression} threw: {details}", self.name);
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it gives a truthy value, which is returned;
    /// fails the test after [`WAIT_MAX`] with `what` and the page's errors.
    #[track_caller]
    pub fn wait_for(&mut self, expression: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            // A navigation (a form's submit, a reload) may replace the page
            // while the expression runs; that is a falsy poll, not a failure:
            // the next poll runs in the new page.
            let value = match self.try_eval(expression) {
                Ok(value) => value,
                Err(error) if is_navigation(&error) => Value::Null,
                Err(error) => panic!("{}: Runtime.evaluate failed: {error}", self.name),
            };
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!(0)
                && value != json!("");
            if truthy {
                return value;
            }
            if started.elapsed() > WAIT_MAX {
                let errors = self.eval("document.getElementById('js-errors')?.textContent || ''");
                let text = self.eval("document.getElementById('sign-section')?.innerText || ''");
                panic!(
                    "{}: waited {WAIT_MAX:?} for {what} ({expression})\npage errors: {errors}\nsigning section:\n{text}",
                    self.name
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Loads `url` and waits until the page says it is ready
    /// (`<html data-app="ready">`).
    pub fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!(
                "location.href === {} && document.documentElement?.dataset.app === 'ready'",
                json!(url)
            ),
            "the page to be ready",
        );
    }

    /// Leaves the page and opens `url` again, as a resident coming back
    /// does: files the page keeps come from the cache (a reload would
    /// revalidate them, and [`Phone::reload`] fetches them all again).
    pub fn revisit(&mut self, url: &str) {
        self.eval("document.documentElement.removeAttribute('data-app'); true");
        self.call("Page.navigate", json!({"url": "about:blank"}));
        self.open(url);
    }

    /// Reloads the page and waits until it is ready again.
    pub fn reload(&mut self) {
        self.eval("document.documentElement.removeAttribute('data-app'); true");
        self.call("Page.reload", json!({"ignoreCache": true}));
        self.wait_for(
            "document.documentElement?.dataset.app === 'ready'",
            "the reloaded page to be ready",
        );
    }

    /// Clicks the first element matching `selector` (it must exist).
    pub fn click(&mut self, selector: &str) {
        let clicked = self.eval(&format!(
            "(() => {{ const el = document.querySelector({s}); if (!el) return false; el.click(); return true; }})()",
            s = json!(selector)
        ));
        assert_eq!(
            clicked,
            json!(true),
            "{}: nothing matches {selector}",
            self.name
        );
    }

    /// Sets the value of the input `selector` and sends an `input` event.
    pub fn type_into(&mut self, selector: &str, text: &str) {
        let done = self.eval(&format!(
            "(() => {{ const el = document.querySelector({s}); if (!el) return false; el.value = {v}; el.dispatchEvent(new Event('input', {{bubbles: true}})); return true; }})()",
            s = json!(selector),
            v = json!(text)
        ));
        assert_eq!(done, json!(true), "{}: no input {selector}", self.name);
    }

    /// Chooses `file` in the file input `selector`, as a person picking it
    /// would (Chromium fires its `change` event).
    pub fn choose_file(&mut self, selector: &str, file: &Path) {
        let root = self.call("DOM.getDocument", json!({"depth": 0}));
        let node = self.call(
            "DOM.querySelector",
            json!({"nodeId": root["root"]["nodeId"], "selector": selector}),
        );
        let node_id = node["nodeId"].as_u64().unwrap_or(0);
        assert_ne!(node_id, 0, "{}: no file input {selector}", self.name);
        self.call(
            "DOM.setFileInputFiles",
            json!({"nodeId": node_id, "files": [file.display().to_string()]}),
        );
    }

    /// The URLs of every request with `method` the page has sent so far.
    pub fn requests(&mut self, method: &str) -> Vec<String> {
        // A round trip first, so events sent before now have been read.
        self.eval("true");
        self.events
            .iter()
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .filter(|e| e["params"]["request"]["method"] == method)
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }
}

/// The WebSocket URL of the first page target of the browser at `host`.
fn page_target(host: &str) -> String {
    let started = Instant::now();
    loop {
        let list: Value = reqwest::blocking::get(format!("http://{host}/json/list"))
            .and_then(|r| r.json())
            .expect("DevTools lists its targets");
        let page = list.as_array().and_then(|targets| {
            targets
                .iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str())
                .map(str::to_string)
        });
        if let Some(url) = page {
            return url;
        }
        assert!(started.elapsed() < WAIT_MAX, "no page target at {host}");
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Whether a DevTools error says the page went away under an evaluation
/// (Chromium's words for a navigation that replaced the execution context).
fn is_navigation(error: &Value) -> bool {
    let message = error["message"].as_str().unwrap_or("");
    [
        "navigated or closed",
        "context was destroyed",
        "Cannot find context",
    ]
    .iter()
    .any(|words| message.contains(words))
}
