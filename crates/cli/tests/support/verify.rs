//! A resident's audit over HTTP: `feeledger verify --url URL --log-key KEY
//! --json`, and the checks that its report is a full pass.

use super::{command, Output};
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::Path;
use std::time::Instant;

/// `feeledger verify --url URL --log-key KEY --json`, trusting only the
/// certificate authorities in `ca_file` (`SSL_CERT_FILE`) if given.
pub fn verify_command(url: &str, log_key: &str, ca_file: Option<&Path>) -> Output {
    let args = ["verify", "--url", url, "--log-key", log_key, "--json"];
    let mut command = command();
    if let Some(ca_file) = ca_file {
        command.env("SSL_CERT_FILE", ca_file);
    }
    let out = command
        .args(args)
        .output()
        .expect("the feeledger binary runs");
    Output::from_std(args.iter().map(|a| a.to_string()).collect(), out)
}

/// `feeledger verify --url URL --log-key KEY --json`, and its report.
pub fn verify_url(url: &str, log_key: &str) -> (Output, Value) {
    let out = verify_command(url, log_key, None);
    let report = out.json();
    (out, report)
}

/// `feeledger verify --url` passes with `entries` entries; its report.
#[track_caller]
pub fn assert_verifies(url: &str, log_key: &str, entries: u64) -> Value {
    let started = Instant::now();
    let report = assert_verified(verify_command(url, log_key, None), entries);
    println!(
        "verify --url: {entries} entries in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    report
}

/// `out` is a passing audit of `entries` entries: `ok`, the entry count and
/// the checkpoint's size agree, the checkpoint's root is the replayed root,
/// and no failure is named. Its report.
#[track_caller]
pub fn assert_verified(out: Output, entries: u64) -> Value {
    let report = out.json();
    assert!(
        out.success() && report["ok"] == json!(true),
        "verify --url should pass: {out:#?}"
    );
    assert_eq!(report["entries"], json!(entries), "{report}");
    assert_eq!(report["checkpoint"]["size"], json!(entries), "{report}");
    assert_eq!(report["checkpoint"]["root"], report["root"], "{report}");
    assert_eq!(report["failure"], Value::Null, "{report}");
    report
}

/// `feeledger verify ARGS --json`: (passed, report, output).
pub fn verify_run<S: AsRef<OsStr>>(args: &[S]) -> (bool, Value, Output) {
    let mut all = vec![OsStr::new("verify").to_owned()];
    all.extend(args.iter().map(|a| a.as_ref().to_owned()));
    all.push("--json".into());
    let out = super::run(all);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("verify prints JSON ({e}): {out:#?}"));
    (out.success() && report["ok"] == true, report, out)
}

/// Runs `verify ARGS`, which must fail (non-zero exit, no root) with a
/// failure message holding every needle and none of `not`; returns the
/// message.
#[track_caller]
pub fn verify_fails_with<S: AsRef<OsStr>>(args: &[S], needles: &[&str], not: &[&str]) -> String {
    let (ok, report, out) = verify_run(args);
    assert!(!ok, "verify should fail: {out:#?}");
    assert_ne!(out.code, Some(0), "verify exits non-zero: {out:#?}");
    let message = report["failure"]["message"]
        .as_str()
        .expect("a failure message")
        .to_string();
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    eprintln!("verify {}: {message}", shown.join(" "));
    for needle in needles {
        assert!(
            message.contains(needle),
            "the failure should mention {needle:?}: {message}"
        );
    }
    for needle in not {
        assert!(
            !message.contains(needle),
            "the failure should not mention {needle:?}: {message}"
        );
    }
    assert!(
        report["root"].is_null(),
        "no root after a failure: {report}"
    );
    message
}
