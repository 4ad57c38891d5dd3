//! Real headless Chromium (`/usr/bin/chromium`, Debian package `chromium`)
//! for the browser tests: one run with a fresh profile on one URL, killed
//! if it takes too long, returning the dumped DOM and the console.
//!
//! Chromium is required: without it the tests that call this fail, they
//! never skip. WebCrypto Ed25519 needs no flag in Chromium 137 and later.
//!
//! Used by `tests/web.rs` (the residents' page) and `tests/verify_js.rs`
//! (the page's verifier against the core's vectors).

use std::io::Read as _;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Flags for every Chromium run: headless, no sandbox (containers run as
/// root), and nothing that reaches the network or a GPU.
pub const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

/// Virtual time a page gets to load and run its scripts (real time is far
/// less): Chromium dumps the DOM once the page is idle or this has passed.
pub const VIRTUAL_TIME_BUDGET_MS: u32 = 15_000;

/// A Chromium run that takes longer than this is killed and the test fails.
pub const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

#[track_caller]
pub fn assert_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the browser tests need headless Chromium \
         (Debian: `apt-get update && apt-get install -y chromium`)"
    );
}

/// What one Chromium run left: stdout (the DOM with --dump-dom) and the
/// console messages it logged.
pub struct Run {
    pub stdout: String,
    pub console: Vec<String>,
}

/// Runs Chromium with a fresh profile on `url` with `extra` flags (e.g.
/// `--dump-dom`), killing it and its helpers after [`CHROMIUM_TIMEOUT`].
pub fn chromium(extra: &[&str], url: &str) -> Run {
    assert_chromium();
    let profile = tempfile::tempdir().expect("temp profile dir");
    let mut child = Command::new(CHROMIUM)
        .args(CHROMIUM_FLAGS)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout ends its helpers too.
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting for chromium").is_some() {
            break;
        }
        if started.elapsed() > CHROMIUM_TIMEOUT {
            // SAFETY: signalling the process group of the child we started.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
            panic!("chromium took over {CHROMIUM_TIMEOUT:?} on {url}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    // Chromium logs every console message (log, warn, error, uncaught
    // exceptions) as ":CONSOLE" lines at INFO level; the page logs nothing
    // when all is well, so any such line is a problem.
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Run { stdout, console }
}
