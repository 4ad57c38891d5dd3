//! Shared helpers for the CLI tests: a temporary community (keys made with
//! `feeledger keygen`, a genesis description, `feeledger init`), running the
//! real binary, reading its JSON output, and writing canonical bodies.

#![allow(dead_code)] // each test file uses a different subset

pub mod bodies;
pub mod browser;
pub mod cdp;
pub mod chromium;
pub mod demo;
pub mod disk;
pub mod http;
pub mod page;
pub mod platform;
pub mod proxy;
pub mod raw;
pub mod s3;
pub mod verify;

use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_feeledger")
}

/// A `Command` for the binary with a quiet, predictable environment.
pub fn command() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    cmd
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    pub args: Vec<String>,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn from_std(args: Vec<String>, out: std::process::Output) -> Output {
        Output {
            args,
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Panics with the whole run if it did not exit 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Output {
        assert!(self.success(), "command failed: {self:#?}");
        self
    }

    /// Panics unless the run failed with a non-zero exit code.
    #[track_caller]
    pub fn assert_failed(&self) -> &Output {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "command should have failed: {self:#?}"
        );
        self
    }

    /// The CLI's error contract: a non-zero exit, and stderr is exactly one
    /// line starting with `error:`, containing every one of `needles`.
    #[track_caller]
    pub fn assert_one_line_error(&self, needles: &[&str]) -> &Output {
        self.assert_failed();
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "stderr should be exactly one line: {self:#?}"
        );
        assert!(
            lines[0].starts_with("error: "),
            "stderr should start with \"error: \": {self:#?}"
        );
        for needle in needles {
            assert!(
                lines[0].contains(needle),
                "the error should mention {needle:?}: {self:#?}"
            );
        }
        self
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// N from "committed as entry N".
    pub fn committed_seq(&self) -> Option<u64> {
        let rest = self.stdout.split("committed as entry ").nth(1)?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    }

    /// The id from "pending proposal <id>".
    pub fn pending_id(&self) -> Option<String> {
        let rest = self.stdout.split("pending proposal ").nth(1)?;
        let id: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        (id.len() == 64).then_some(id)
    }
}

/// Runs the binary to completion.
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = command()
        .args(&args)
        .output()
        .expect("the feeledger binary runs");
    Output::from_std(
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        out,
    )
}

/// The company's key (物业公司), threshold 1.
pub const COMPANY: &str = "wuye-li";
/// The committee's keys (业主委员会), threshold 2.
pub const COMMITTEE: [&str; 3] = ["weiyuan-wang", "weiyuan-zhao", "weiyuan-chen"];
/// A key that holds no role.
pub const OUTSIDER: &str = "outsider-zhou";
pub const ORIGIN: &str = "example.org/xingguang";

/// A key made by `feeledger keygen`.
#[derive(Debug, Clone)]
pub struct Key {
    pub path: PathBuf,
    pub public_key: String,
    pub verifier_key: String,
    pub cosigner_key: String,
}

/// Reads a `name:   value` line of the binary's output.
pub fn field(text: &str, label: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(|rest| rest.trim().to_string())
}

/// Makes a key with `feeledger keygen` in `dir`.
pub fn keygen(dir: &Path, name: &str) -> Key {
    make_key(dir.join(format!("{name}.key")), name, &[])
}

/// Makes a log key named after a ledger's origin (`keygen --log`) in
/// `dir/log.key`.
pub fn log_keygen(dir: &Path, origin: &str) -> Key {
    make_key(dir.join("log.key"), origin, &["--log"])
}

fn make_key(path: PathBuf, name: &str, extra_args: &[&str]) -> Key {
    let mut args = vec![
        OsStr::new("keygen"),
        OsStr::new("--name"),
        OsStr::new(name),
        OsStr::new("--out"),
        path.as_os_str(),
    ];
    args.extend(extra_args.iter().map(OsStr::new));
    let out = run(args);
    out.assert_ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "keygen writes mode 0600");
    }
    Key {
        path,
        public_key: field(&out.stdout, "public_key:").expect("keygen prints public_key"),
        verifier_key: field(&out.stdout, "verifier key:").expect("keygen prints verifier key"),
        cosigner_key: field(&out.stdout, "cosigner key:").expect("keygen prints cosigner key"),
    }
}

/// The parts of a ledger a refused command must not change.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub entries: u64,
    pub root: String,
    pub balances: Value,
    pub proposals: Value,
}

/// A community with its keys and a freshly initialized ledger, in a
/// temporary directory removed on drop.
pub struct Community {
    pub dir: TempDir,
    pub data: PathBuf,
    pub keys: BTreeMap<String, Key>,
    /// The log key `init` printed, for the notice board.
    pub log_key: String,
}

impl Community {
    /// Keys for the company, three committee members and an outsider; a
    /// genesis with company threshold 1 and committee threshold 2; `init`.
    pub fn new() -> Community {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut keys = BTreeMap::new();
        for name in [COMPANY, COMMITTEE[0], COMMITTEE[1], COMMITTEE[2], OUTSIDER] {
            keys.insert(name.to_string(), keygen(dir.path(), name));
        }
        let key_line = |name: &str| {
            format!(
                "{{ name = \"{name}\", public_key = \"{}\" }}",
                keys[name].public_key
            )
        };
        let genesis = format!(
            r#"origin = "{ORIGIN}"
name = "星光小区 X Star District"
date = "2026-01-01"
signers = ["{COMPANY}.key", "{c0}.key", "{c1}.key"]

[roles.company]
threshold = 1
keys = [{company}]

[roles.committee]
threshold = 2
keys = [{k0}, {k1}, {k2}]
"#,
            c0 = COMMITTEE[0],
            c1 = COMMITTEE[1],
            company = key_line(COMPANY),
            k0 = key_line(COMMITTEE[0]),
            k1 = key_line(COMMITTEE[1]),
            k2 = key_line(COMMITTEE[2]),
        );
        let genesis_path = dir.path().join("genesis.toml");
        std::fs::write(&genesis_path, genesis).unwrap();
        let data = dir.path().join("data");
        let out = run([
            OsStr::new("init"),
            OsStr::new("--data"),
            data.as_os_str(),
            OsStr::new("--genesis"),
            genesis_path.as_os_str(),
        ]);
        out.assert_ok();
        let log_key = field(&out.stdout, "log key (post it on the notice board):")
            .expect("init prints the log key");
        Community {
            dir,
            data,
            keys,
            log_key,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn key(&self, name: &str) -> &Key {
        &self.keys[name]
    }

    pub fn key_path(&self, name: &str) -> &Path {
        &self.keys[name].path
    }

    /// `feeledger SUB --data DATA ARGS...`
    pub fn cmd(&self, sub: &str, args: &[&str]) -> Output {
        let mut all: Vec<std::ffi::OsString> = vec![sub.into(), "--data".into()];
        all.push(self.data.clone().into_os_string());
        all.extend(args.iter().map(Into::into));
        run(all)
    }

    /// The argument list of `propose --data DATA --key K... --date DATE --yes KIND...`.
    pub fn propose_args(&self, signers: &[&str], date: &str, kind: &[&str]) -> Vec<String> {
        let mut args = vec![
            "propose".to_string(),
            "--data".to_string(),
            self.data.display().to_string(),
        ];
        for s in signers {
            args.push("--key".into());
            args.push(self.key_path(s).display().to_string());
        }
        args.push("--date".into());
        args.push(date.into());
        // Scripts answer the confirmation with --yes; stdin is null here.
        args.push("--yes".into());
        args.extend(kind.iter().map(|s| s.to_string()));
        args
    }

    pub fn propose(&self, signers: &[&str], date: &str, kind: &[&str]) -> Output {
        run(self.propose_args(signers, date, kind))
    }

    /// Co-signs a pending proposal with `--yes`.
    pub fn sign(&self, signer: &str, id: &str) -> Output {
        let key = self.key_path(signer).display().to_string();
        self.cmd("sign", &["--key", &key, "--yes", id])
    }

    /// An income signed by the company; returns its seq.
    #[track_caller]
    pub fn income(&self, date: &str, amount: &str, payer: &str, memo: &str) -> u64 {
        let out = self.propose(
            &[COMPANY],
            date,
            &[
                "income",
                "--amount",
                amount,
                "--category",
                "property_fee",
                "--payer",
                payer,
                "--memo",
                memo,
            ],
        );
        out.assert_ok();
        out.committed_seq()
            .unwrap_or_else(|| panic!("income should commit at once: {out:#?}"))
    }

    /// `verify --json`, which must pass.
    #[track_caller]
    pub fn verify_json(&self) -> Value {
        let out = self.cmd("verify", &["--json"]);
        let report = out.json();
        assert!(
            out.success() && report["ok"] == Value::Bool(true),
            "verify should pass: {out:#?}"
        );
        report
    }

    /// Entries, root, balances and pending proposals.
    #[track_caller]
    pub fn snapshot(&self) -> Snapshot {
        let report = self.verify_json();
        let balances = self.cmd("balances", &["--json"]);
        balances.assert_ok();
        let proposals = self.cmd("proposals", &["--json"]);
        proposals.assert_ok();
        Snapshot {
            entries: report["entries"].as_u64().expect("entries is a number"),
            root: report["root"].as_str().expect("root is a string").into(),
            balances: balances.json(),
            proposals: proposals.json(),
        }
    }

    /// `show N --json`.
    #[track_caller]
    pub fn show_json(&self, seq: u64) -> Value {
        let out = self.cmd("show", &[&seq.to_string(), "--json"]);
        out.assert_ok();
        out.json()
    }

    /// `list --json` with extra filter arguments; the rows.
    #[track_caller]
    pub fn list_json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json", "--limit", "500"];
        all.extend_from_slice(args);
        let out = self.cmd("list", &all);
        out.assert_ok();
        match out.json() {
            Value::Array(rows) => rows,
            other => panic!("list --json gives an array, got {other}"),
        }
    }
}

impl Default for Community {
    fn default() -> Self {
        Community::new()
    }
}

/// RFC 8785 (JCS) serialization of the JSON our bodies use: objects with
/// keys sorted by UTF-16 code units, no white space, integers, and strings
/// escaped only where JSON requires it.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out, false);
    out
}

/// Like [`canonical_json`], but the top-level object's members in reverse
/// order: valid JSON with the same meaning, not canonical.
pub fn reordered_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out, true);
    out
}

fn write_json(value: &Value, out: &mut String, reverse_top: bool) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            if reverse_top {
                members.reverse();
            }
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                write_json(v, out, false);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(v, out, false);
            }
            out.push(']');
        }
        Value::Number(n) => {
            assert!(n.is_u64() || n.is_i64(), "bodies hold integers only: {n}");
            out.push_str(&n.to_string());
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

/// A small seeded generator (xorshift64*), so that "random" kill times are
/// reproducible from the seed printed by the test.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..bound` (bound > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// hledger with a UTF-8 locale (hledger refuses non-ASCII text under
/// LANG=C). hledger is required: without it the test fails, it is never
/// skipped.
pub fn hledger(args: &[&str]) -> std::process::Output {
    match std::process::Command::new("hledger")
        .args(args)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("hledger is not installed, and this test needs it: apt-get install -y hledger")
        }
        Err(e) => panic!("cannot run hledger: {e}"),
    }
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `refused`, which must fail with a one-line error holding every
/// needle (`error: ...`, a non-zero exit), and checks that the ledger
/// (entries, root, balances, pending proposals) did not change.
#[track_caller]
pub fn assert_refused(c: &Community, needles: &[&str], refused: impl FnOnce() -> Output) -> Output {
    let before = c.snapshot();
    let out = refused();
    out.assert_one_line_error(needles);
    assert_eq!(c.snapshot(), before, "the ledger changed: {out:#?}");
    out
}

/// `export --data DATA --format tiles --out OUT`.
pub fn export_tiles(data: &Path, out: &Path) -> Output {
    run([
        OsStr::new("export"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--format"),
        OsStr::new("tiles"),
        OsStr::new("--out"),
        out.as_os_str(),
    ])
}

/// `restore --from BACKUP --data DATA --log-key LOG_KEY`.
pub fn restore(from: &Path, data: &Path, log_key: &Path) -> Output {
    run([
        OsStr::new("restore"),
        OsStr::new("--from"),
        from.as_os_str(),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--log-key"),
        log_key.as_os_str(),
    ])
}
