//! `feeledger-bench`: the benchmark harness, a dev-only binary of the
//! workspace (not part of the shipped `feeledger`). It measures every
//! performance figure against a ceiling measured in the same run
//! (`bench.rs`; docs/performance.md has the method and the results).
//!
//! The audit and server figures are of real `feeledger verify` and
//! `feeledger serve` processes, so it runs the `feeledger` binary built
//! beside it in the same target directory. Every failure prints one line,
//! `error: ...`, and exits non-zero.

mod bench;
mod merkle;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::path::{Path, PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "feeledger-bench",
    version,
    about = "Measure every feeledger performance figure against a ceiling measured in the same run (see docs/performance.md)."
)]
struct Cli {
    /// Entries to generate: 10000, 100000 or 1000000.
    #[arg(long, default_value_t = 10_000)]
    entries: u64,
    /// Keep the generated ledger here (default: a temporary directory, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// The `feeledger` binary to run as the audit and server children
    /// (default: the one beside this program, in the same target directory).
    #[arg(long)]
    feeledger: Option<PathBuf>,
    /// Time only the Merkle work, in memory, for the comparison with Go's
    /// `sumdb/tlog` (crates/bench/go/tlogbench.go): appending the entries
    /// and building proofs at that size. Needs no `feeledger` binary.
    #[arg(long)]
    merkle_only: bool,
}

/// The `feeledger` binary beside this program: `cargo build` puts both in
/// the same target directory (`target/debug` or `target/release`).
fn feeledger_beside(exe: &Path) -> PathBuf {
    exe.with_file_name(format!("feeledger{}", std::env::consts::EXE_SUFFIX))
}

/// The `feeledger` binary to run, checked before anything is generated, so
/// that a missing one fails at once and says how to build it.
fn find_feeledger(given: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            bail!(
                "--feeledger {}: no such file; give the path of a built feeledger binary",
                path.display()
            );
        }
        return Ok(path);
    }
    let exe = std::env::current_exe().context("finding this program")?;
    let path = feeledger_beside(&exe);
    if !path.is_file() {
        // Build it in the profile this program was built in.
        let profile = match exe.parent().and_then(Path::file_name) {
            Some(dir) if dir == "release" => " --release",
            _ => "",
        };
        bail!(
            "no feeledger binary at {}: the audit and server figures run it; build it first with 'cargo build{profile} -p feeledger' (or give one with --feeledger PATH)",
            path.display()
        );
    }
    Ok(path)
}

fn run(cli: Cli) -> Result<()> {
    if cli.merkle_only {
        return merkle::run(cli.entries);
    }
    let feeledger = find_feeledger(cli.feeledger)?;
    bench::run(bench::BenchArgs {
        entries: cli.entries,
        dir: cli.dir,
        feeledger,
    })
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": ").replace('\n', " "));
        std::process::exit(1);
    }
}
