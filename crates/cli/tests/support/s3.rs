//! A real S3 server for the mirror's tests and benchmark: `s3s-fs`
//! (crates.io), started on a free loopback port over a directory, no
//! mock. It runs without authentication, so it takes anonymous requests
//! (and refuses signed ones): the server writes with
//! `AWS_SKIP_SIGNATURE=true`, and readers use plain HTTP GETs.

use super::bodies::{proposal_request, sign_with, Bodies};
use super::demo::{Demo, DEMO_ORIGIN};
use super::http::{Http, Server};
use feeledger_core::note::{open_checkpoint, VerifierKey};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bucket every test writes to; s3s-fs serves each directory under its
/// root as a bucket.
pub const BUCKET: &str = "ledgers";
/// The ledger's prefix in the bucket, as a platform would name it.
pub const PREFIX: &str = "c/xingguang";

/// How to get s3s-fs when it is missing.
pub const S3S_INSTALL: &str =
    "cargo install s3s-fs --version 0.14.1 --locked --features binary (.ci/run does it)";

/// Where s3s-fs is: on `path` (a `PATH` value), or in `cargo_bin` (where
/// `cargo install` puts it). A test that needs it and does not find it
/// fails, saying how to install it; it never skips.
pub fn find_s3s_fs(path: Option<&std::ffi::OsStr>, cargo_bin: Option<PathBuf>) -> PathBuf {
    let on_path = path
        .into_iter()
        .flat_map(std::env::split_paths)
        .chain(cargo_bin)
        .map(|dir| dir.join("s3s-fs"))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| {
        panic!("s3s-fs, the S3 server the mirror tests run, is not installed: {S3S_INSTALL}")
    })
}

pub fn s3s_fs() -> PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    find_s3s_fs(std::env::var_os("PATH").as_deref(), cargo_bin)
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running s3s-fs over `root`, SIGKILLed on drop. It can be stopped and
/// started again on the same port and directory: an outage.
pub struct S3 {
    root: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl S3 {
    pub fn start(root: &Path) -> S3 {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let mut s3 = S3 {
            root: root.to_path_buf(),
            port: free_port(),
            child: None,
        };
        s3.resume();
        s3
    }

    /// Starts it (again) and waits until it answers.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root.with_extension("s3s.log"))
            .unwrap();
        let child = Command::new(s3s_fs())
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("s3s-fs does not start ({e}): {S3S_INSTALL}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = reqwest::blocking::get(format!("{}/", self.endpoint())) {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "s3s-fs did not answer within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: the bucket is gone until [`S3::resume`].
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The ledger's objects over plain HTTP, as a reader sees them.
    pub fn public_url(&self) -> String {
        format!("{}/{BUCKET}/{PREFIX}", self.endpoint())
    }

    pub fn mirror_url() -> String {
        format!("s3://{BUCKET}/{PREFIX}")
    }

    /// The environment the server and `restore --from s3://` read.
    pub fn env(&self, command: &mut Command) {
        command
            .env("AWS_ENDPOINT_URL", self.endpoint())
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_SKIP_SIGNATURE", "true")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE");
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `feeledger serve --data DATA --mirror s3://BUCKET/PREFIX`, writing to `s3`.
pub fn serve_mirrored(data: &Path, s3: &S3) -> Server {
    Server::start_with(data, |command| {
        command.arg("--mirror").arg(S3::mirror_url());
        s3.env(command);
        command.env("RUST_LOG", "info,feeledger_mirror=debug,tower_http=warn");
    })
}

/// The size of the checkpoint object in the bucket, read anonymously, if
/// there is one and the bucket answers.
pub fn bucket_size(s3: &S3, log_key: &VerifierKey) -> Option<u64> {
    let r = reqwest::blocking::get(format!("{}/checkpoint", s3.public_url())).ok()?;
    if !r.status().is_success() {
        return None;
    }
    let bytes = r.bytes().ok()?;
    let (checkpoint, _, _) =
        open_checkpoint(&bytes, log_key, &[]).expect("the bucket's checkpoint verifies");
    Some(checkpoint.size)
}

/// Waits until the bucket's checkpoint is of `size` entries (the mirror
/// caught up); returns how long that took.
#[track_caller]
pub fn wait_for_bucket(s3: &S3, log_key: &VerifierKey, size: u64, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if bucket_size(s3, log_key) == Some(size) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "the bucket's checkpoint did not reach size {size} within {within:?} (it says {:?})",
            bucket_size(s3, log_key)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Posts `n` property-fee incomes signed by the demo company, each
/// acknowledged (201, durable) before the next; nonces start at `from`.
pub fn write_incomes(http: &Http, demo: &Demo, from: usize, n: usize) {
    let li = demo.signing_key("wuye-li");
    let bodies = Bodies {
        ledger: DEMO_ORIGIN,
        month: "2027-01",
        memo: "mirror test",
    };
    for i in from..from + n {
        let income = bodies.income(&format!("mirror-{i}"), 10_000 + i as u64, "3-1502");
        let r = http.post_json(
            "/api/v1/proposals",
            &proposal_request(&income, &sign_with(&income, &[("wuye-li", &li)])),
        );
        assert_eq!(r.status, 201, "income {i}: {}", r.text());
    }
}
