//! A running district platform (`feeledger serve --platform`) and the
//! demo district it serves, for the platform's tests.

use super::http::Http;
use super::run;
use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};

/// A running `feeledger serve --platform`, SIGKILLed on drop.
pub struct PlatformServer {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    _stdout: BufReader<ChildStdout>,
}

impl PlatformServer {
    pub fn start(platform: &Path) -> PlatformServer {
        PlatformServer::start_with(platform, &[])
    }

    /// As [`PlatformServer::start`], with more arguments to `serve`.
    pub fn start_with(platform: &Path, args: &[&str]) -> PlatformServer {
        PlatformServer::start_configured(platform, |command| {
            command.args(args);
        })
    }

    /// As [`PlatformServer::start`], with `configure` adding to the command
    /// (arguments, environment) before it is spawned.
    pub fn start_configured(
        platform: &Path,
        configure: impl FnOnce(&mut std::process::Command),
    ) -> PlatformServer {
        let log_path = platform.with_extension("serve.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .unwrap();
        let mut command = super::command();
        command
            .arg("serve")
            .arg("--platform")
            .arg(platform)
            .args(["--listen", "127.0.0.1:0"]);
        configure(&mut command);
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("feeledger serve --platform starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let Some(addr) = line
            .trim_end()
            .split_once(" on http://")
            .and_then(|(_, r)| r.strip_suffix('/'))
        else {
            let _ = child.kill();
            panic!(
                "no serving line ({line:?}); log: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        };
        PlatformServer {
            url: format!("http://{addr}"),
            child,
            _stdout: stdout,
        }
    }

    pub fn http(&self) -> Http {
        Http::new(&self.url)
    }

    /// Peak resident memory (VmHWM) and current (VmRSS), in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("{name} in /proc status"))
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

impl Drop for PlatformServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `feeledger demo --district N --entries E --no-serve --data DIR`.
pub fn district(dir: &Path, communities: u32, entries: u32) {
    run([
        OsStr::new("demo"),
        OsStr::new("--district"),
        OsStr::new(&communities.to_string()),
        OsStr::new("--entries"),
        OsStr::new(&entries.to_string()),
        OsStr::new("--no-serve"),
        OsStr::new("--data"),
        dir.as_os_str(),
    ])
    .assert_ok();
}
