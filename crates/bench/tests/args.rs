//! The harness's refusals: each fails at once, with one `error:` line that
//! says what to do, before anything is generated or written. (The figures
//! themselves are checked by `.ci/run`'s smoke run, which is too long for a
//! test.)

use std::path::Path;
use std::process::{Command, Output};

const BENCH: &str = env!("CARGO_BIN_EXE_feeledger-bench");

fn run(exe: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .output()
        .expect("running feeledger-bench")
}

/// The single `error:` line of a failed run.
fn error_line(output: &Output) -> String {
    assert!(!output.status.success(), "it should have failed");
    assert!(output.stdout.is_empty(), "it printed figures: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

/// Without a `feeledger` binary beside it, the bench names the build
/// command, in the profile it was built in, instead of failing later on a
/// child it cannot start.
#[test]
fn a_missing_feeledger_binary_names_the_build_command() {
    // A copy of the bench alone in a directory: nothing beside it.
    let alone = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let copy = alone.path().join("feeledger-bench");
    if std::fs::hard_link(BENCH, &copy).is_err() {
        std::fs::copy(BENCH, &copy).unwrap();
    }
    let scratch = alone.path().join("scratch");
    let line = error_line(&run(
        &copy,
        &["--entries", "1000", "--dir", scratch.to_str().unwrap()],
    ));
    assert!(line.contains("no feeledger binary at"), "{line}");
    assert!(line.contains("'cargo build -p feeledger'"), "{line}");
    assert!(!scratch.exists(), "it wrote its scratch directory");
}

/// A `--feeledger` path that is not there is refused by name.
#[test]
fn a_wrong_feeledger_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-feeledger");
    let line = error_line(&run(
        Path::new(BENCH),
        &["--feeledger", missing.to_str().unwrap()],
    ));
    assert!(
        line.contains(&format!("--feeledger {}: no such file", missing.display())),
        "{line}"
    );
}

/// Fewer than 1,000 entries is refused before a directory is made: the
/// figures need full tiles to read.
#[test]
fn too_few_entries_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join("scratch");
    // Any existing file passes as the binary: the run stops before using it.
    let line = error_line(&run(
        Path::new(BENCH),
        &[
            "--entries",
            "999",
            "--dir",
            scratch.to_str().unwrap(),
            "--feeledger",
            BENCH,
        ],
    ));
    assert!(line.contains("--entries must be at least 1000"), "{line}");
    assert!(!scratch.exists(), "it wrote its scratch directory");
}
