//! Headless Chromium run until the page says it is done, in real time.
//!
//! `chromium::chromium` dumps the DOM once a virtual-time budget is spent,
//! and virtual time does not wait for a Web Worker's work: a page whose
//! work runs in a worker would be dumped before it finished. Here the page
//! reports its results to the test's loopback server instead
//! ([`ResultChunks`]), and Chromium is ended once they have all arrived.
//!
//! Used by `tests/replay_js.rs`. Chromium is required: without it the
//! tests fail, they never skip.

use super::chromium::{assert_chromium, CHROMIUM, CHROMIUM_FLAGS};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A run that has not reported within this is ended and the test fails.
/// It bounds a hang; the replays it waits for take a few seconds each.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);

/// The path prefix a page reports under: `/__result/<i>/<n>?<chunk>`,
/// chunk `i` of `n` of its results, as unpadded base64url, each short
/// enough for one request head.
pub const RESULT_PREFIX: &str = "/__result/";

/// The chunks of a page's results as they arrive at the loopback server.
#[derive(Clone, Default)]
pub struct ResultChunks(Arc<Mutex<Vec<Option<String>>>>);

impl ResultChunks {
    /// Takes one request target; true if it was a result chunk.
    pub fn take(&self, target: &str) -> bool {
        let Some(rest) = target.strip_prefix(RESULT_PREFIX) else {
            return false;
        };
        let (numbers, chunk) = rest.split_once('?').unwrap_or((rest, ""));
        let mut parts = numbers.split('/').map(|n| n.parse::<usize>().ok());
        let (Some(Some(i)), Some(Some(n))) = (parts.next(), parts.next()) else {
            return true;
        };
        let mut chunks = self.0.lock().unwrap();
        if chunks.len() != n {
            chunks.resize(n, None);
        }
        if i < n {
            chunks[i] = Some(chunk.to_string());
        }
        true
    }

    /// The whole results once every chunk has arrived.
    pub fn complete(&self) -> Option<Vec<u8>> {
        let chunks = self.0.lock().unwrap();
        if chunks.is_empty() || chunks.iter().any(Option::is_none) {
            return None;
        }
        let text: String = chunks.iter().flatten().map(String::as_str).collect();
        Some(URL_SAFE_NO_PAD.decode(text).expect("base64url results"))
    }
}

/// Runs Chromium with a fresh profile on `url` until `results` are
/// complete, then ends it and returns them with the console lines it
/// logged. Panics after [`BROWSER_TIMEOUT`].
pub fn chromium_until_reported(url: &str, results: &ResultChunks) -> (Vec<u8>, Vec<String>) {
    assert_chromium();
    let profile = tempfile::tempdir().expect("temp profile dir");
    let mut child = Command::new(CHROMIUM)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Its own process group, so that ending it ends its helpers too.
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let mut stderr = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let outcome = loop {
        if let Some(bytes) = results.complete() {
            break Ok(bytes);
        }
        if let Some(status) = child.try_wait().expect("waiting for chromium") {
            break Err(format!(
                "chromium exited ({status}) before the page reported"
            ));
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            break Err(format!(
                "the page did not report within {BROWSER_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    };
    // SAFETY: signalling the process group of the child we started.
    unsafe {
        libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
    }
    let _ = child.wait();
    let console: Vec<String> = err
        .join()
        .unwrap()
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    match outcome {
        Ok(bytes) => (bytes, console),
        Err(why) => panic!("{why} on {url}; console:\n{}", console.join("\n")),
    }
}
