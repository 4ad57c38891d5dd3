//! Benchmark (not a test): the mirror to S3-compatible object storage
//! (`serve --mirror`), against a real S3 server (`s3s-fs`, started here on
//! loopback over a temporary directory) and the real server, on the demo
//! ledger (3,669 entries).
//!
//! - **Mirror lag**: from a write's acknowledgement (201, durable) to the
//!   bucket's `checkpoint` object, read by a plain HTTP GET, showing the
//!   new size. One write at a time; the reader polls with no pause.
//! - **Tile reads**: the same full hash tiles and entry bundles read one
//!   after another by one client, from the S3 server and from the
//!   feeledger server, in alternating rounds of the same run: requests a
//!   second and the p50/p99 of each request, and their ratio.
//!
//! `cargo bench -p feeledger --bench mirror [-- ROUNDS]` prints one
//! `figure  NAME VALUE` line per figure; docs/performance.md has them.

#[path = "../tests/support/mod.rs"]
mod support;

use feeledger_core::note::VerifierKey;
use std::time::{Duration, Instant};
use support::demo::{Demo, DEMO_ENTRIES};
use support::s3::{bucket_size, serve_mirrored, wait_for_bucket, write_incomes, S3};

/// Writes timed, unless given on the command line.
const ROUNDS_DEFAULT: usize = 200;
const WARM_UP_ROUNDS: usize = 5;
/// Rounds of reading every full tile and bundle from each source.
const READ_ROUNDS: usize = 20;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let rounds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(ROUNDS_DEFAULT);
    let demo = Demo::new();
    let s3 = S3::start(&demo.path("s3"));
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let server = serve_mirrored(&demo.data, &s3);
    let http = server.http();
    let caught_up = wait_for_bucket(&s3, &log_key, DEMO_ENTRIES, Duration::from_secs(120));
    println!(
        "figure  mirror_catch_up_demo_ms {:.0} (3,669 entries, 31 tiles, from an empty bucket)",
        caught_up.as_secs_f64() * 1e3
    );

    // Mirror lag, one write at a time.
    let mut lags_ms = Vec::with_capacity(rounds);
    let mut size = DEMO_ENTRIES;
    for round in 0..WARM_UP_ROUNDS + rounds {
        write_incomes(&http, &demo, round, 1);
        let acknowledged = Instant::now();
        size += 1;
        while bucket_size(&s3, &log_key) != Some(size) {
            assert!(
                acknowledged.elapsed() < Duration::from_secs(30),
                "the bucket did not show size {size}"
            );
        }
        if round >= WARM_UP_ROUNDS {
            lags_ms.push(acknowledged.elapsed().as_secs_f64() * 1e3);
        }
    }
    lags_ms.sort_by(f64::total_cmp);
    println!(
        "figure  mirror_lag_p50_ms {:.1} (write acknowledged to checkpoint object visible; {rounds} writes)",
        percentile(&lags_ms, 0.5)
    );
    println!(
        "figure  mirror_lag_p99_ms {:.1}",
        percentile(&lags_ms, 0.99)
    );

    // Tile reads: every full tile and bundle of the log, from each source.
    let full = size / 256;
    let mut paths = Vec::new();
    for index in 0..full {
        paths.push(format!("/tile/0/{index:03}"));
        paths.push(format!("/tile/entries/{index:03}"));
    }
    let client = reqwest::blocking::Client::new();
    let bucket_base = s3.public_url();
    let server_base = server.url.clone();
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut elapsed = [Duration::ZERO; 2];
    let mut bytes = [0usize; 2];
    for round in 0..READ_ROUNDS {
        // Alternate which source goes first, so neither gets a warmer cache.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for source in order {
            let base = if source == 0 {
                &bucket_base
            } else {
                &server_base
            };
            let started = Instant::now();
            for path in &paths {
                let t = Instant::now();
                let r = client.get(format!("{base}{path}")).send().unwrap();
                assert!(r.status().is_success(), "{base}{path}: {}", r.status());
                bytes[source] += r.bytes().unwrap().len();
                times[source].push(t.elapsed().as_secs_f64() * 1e3);
            }
            elapsed[source] += started.elapsed();
        }
    }
    assert_eq!(bytes[0], bytes[1], "both sources served the same bytes");
    for (source, name) in [(0, "s3"), (1, "feeledger")] {
        times[source].sort_by(f64::total_cmp);
        let rate = times[source].len() as f64 / elapsed[source].as_secs_f64();
        println!(
            "figure  tile_reads_{name}_per_s {rate:.0} ({} GETs of full tiles and bundles, one client)",
            times[source].len()
        );
        println!(
            "figure  tile_read_{name}_p50_ms {:.2}",
            percentile(&times[source], 0.5)
        );
        println!(
            "figure  tile_read_{name}_p99_ms {:.2}",
            percentile(&times[source], 0.99)
        );
    }
    println!(
        "figure  tile_reads_s3_vs_feeledger {:.2} (requests a second, S3 server / feeledger server, same run)",
        elapsed[1].as_secs_f64() / elapsed[0].as_secs_f64()
    );
}
