//! p99 latency of every `GET` route of `feeledger_server::routes()`, at
//! the bench's size and at 10,000 entries, so that a route whose cost grows
//! with the ledger shows (issue 17: "no request costs O(ledger)"; a route
//! whose p99 grows more than 2× from 10^4 to 10^6 entries is a defect).
//!
//! Each route is asked [`SAMPLES`] times, one request at a time on one
//! keep-alive connection (latency, not throughput), of the real server in
//! this process, on the imported ledger with [`PENDING`] pending proposals
//! added. The parameters are a resident's: the latest month and the
//! operating fund, a unit's payments, an entry near the end, the first page
//! of the pending proposals. At `--entries 10000` the figure has no
//! ceiling; at a larger size the same routes are measured on a fresh
//! 10,000-entry ledger in the same run, served beside the large one and
//! asked in turn with it, and each figure prints the 10k p99 as its
//! ceiling and the ratio.
//!
//! Two routes answer 404 here, by design of the generated ledger: it has no
//! cosigned checkpoint and no attachment; their figures are the cost of
//! finding that out (one or two key reads).

use super::{
    generate, generated_entry, get_request, import_pipelined, percentile, sign_refs, BenchKeys,
    Figure, HttpConn,
};
use anyhow::{bail, Context, Result};
use feeledger_core::entry::{Body, Content, Date, Expenditure, ExpenseCategory};
use feeledger_core::merkle;
use feeledger_core::tiles::{TileKind, TilePath};
use feeledger_store::{ProposalOutcome, ProposalRequest, Store};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

/// Requests per route whose latency counts (after [`WARMUP`]).
const SAMPLES: usize = 400;
/// Requests per route first, not counted: caches and connection warm up.
const WARMUP: usize = 40;
/// Pending proposals added before the reads: some hundreds, as a busy
/// committee might leave (the bound is 1,000; 100 per key).
const PENDING: usize = 300;
/// The size the bench's size is compared with.
const REFERENCE_ENTRIES: u64 = 10_000;

/// One measured route: figure name, request path, expected status.
struct Route {
    figure: &'static str,
    path: String,
    status: u16,
}

/// Measures every `GET` route at the bench's ledger (`store_dir`, `size`
/// entries with the genesis) and, if it is larger, at a fresh
/// [`REFERENCE_ENTRIES`] ledger built in `scratch`, served side by side
/// and asked in turn, and prints one figure per route.
pub fn run(keys: &BenchKeys, store_dir: &Path, size: u64, scratch: &Path) -> Result<()> {
    let reference_dir = scratch.join("routes-10k").join("ledger");
    let mut ledgers = vec![(store_dir, size)];
    if size > REFERENCE_ENTRIES + 1 {
        std::fs::create_dir_all(&reference_dir)?;
        let store = Store::create(&reference_dir, &keys.genesis_leaf(), &keys.log)?;
        import_pipelined(&store, generate(keys, REFERENCE_ENTRIES), &keys.log)?;
        let small = store.size();
        store.close()?;
        ledgers.push((&reference_dir, small));
    }
    let measured = measure(keys, &ledgers)?;
    let at_n = &measured[0];
    let reference = measured.get(1);
    for (i, (name, p99)) in at_n.iter().enumerate() {
        Figure {
            name,
            value: *p99,
            unit: "us",
            ceiling: reference.map(|r| (r[i].1, "us at 10k")),
        }
        .print();
    }
    if reference.is_none() {
        println!(
            "note     route p99s at {size} entries; a run with --entries above {REFERENCE_ENTRIES} prints each against its p99 at {REFERENCE_ENTRIES}"
        );
    }
    Ok(())
}

/// The ms since the Unix epoch: the server judges a proposal's age by it.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Adds [`PENDING`] expenditures, each signed by one key (so each waits
/// for co-signatures), 100 per key as the per-key bound allows. Returns
/// their ids.
fn add_pending(store: &Store, keys: &BenchKeys) -> Result<Vec<String>> {
    let signers = [&keys.company, &keys.committee[0], &keys.committee[1]];
    let requests = (0..PENDING)
        .map(|k| {
            let body = Body {
                ledger: super::ORIGIN.into(),
                date: Date {
                    year: 2020,
                    month: 1,
                    day: 1,
                },
                nonce: format!("pending{k}"),
                content: Content::Expenditure(Expenditure {
                    fund: "operating".into(),
                    amount_fen: 1_000 + k as u64,
                    category: ExpenseCategory::Cleaning,
                    payee: "洁美保洁服务有限公司".into(),
                    memo: format!("待签 {k}"),
                    attachments: vec![],
                    owners_approval: None,
                }),
            };
            let signer = signers[k * signers.len() / PENDING];
            let signatures = sign_refs(&body, &[signer]);
            let body_bytes = body.to_canonical_bytes();
            ProposalRequest::Propose {
                body_bytes,
                signatures,
                check: None,
            }
        })
        .collect();
    let mut ids = Vec::with_capacity(PENDING);
    for outcome in store.proposals_batch(requests, now_ms(), &keys.log)? {
        match outcome.context("a pending proposal was refused")? {
            ProposalOutcome::Pending { id, .. } => ids.push(id.to_hex()),
            ProposalOutcome::Committed { .. } => bail!("a one-signature expenditure committed"),
        }
    }
    Ok(ids)
}

/// The routes, with a resident's parameters for a ledger of `size`.
fn routes(keys: &BenchKeys, size: u64, proposal_id: &str) -> Vec<Route> {
    let near_end = size - 2;
    let last = generated_entry(keys, size - 1);
    let month = last.body.date.month().to_string();
    // The payer of the last income: a unit with payments all along.
    let unit = (1..size)
        .rev()
        .find_map(|i| match generated_entry(keys, i).body.content {
            Content::Income(income) => Some(income.payer),
            _ => None,
        })
        .expect("the ledger has incomes");
    let tile = TilePath {
        kind: TileKind::Hashes { level: 0 },
        index: size / merkle::TILE_WIDTH_MAX - 1,
        partial_width: None,
    }
    .to_path();
    let route = |figure, path: String, status| Route {
        figure,
        path,
        status,
    };
    vec![
        route("route_p99_page", "/".into(), 200),
        route("route_p99_asset", "/assets/app.js".into(), 200),
        route(
            "route_p99_receipt_page",
            format!("/receipt/{near_end}"),
            200,
        ),
        route("route_p99_checkpoint", "/checkpoint".into(), 200),
        route("route_p99_tile", format!("/tile/{tile}"), 200),
        route("route_p99_openapi", "/api/openapi.json".into(), 200),
        route(
            "route_p99_entries",
            "/api/v1/entries?order=desc".into(),
            200,
        ),
        route(
            "route_p99_entries_month_fund",
            format!("/api/v1/entries?month={month}&fund=operating&order=desc"),
            200,
        ),
        route(
            "route_p99_entry",
            format!("/api/v1/entries/{near_end}"),
            200,
        ),
        route(
            "route_p99_inclusion_proof",
            format!("/api/v1/entries/{near_end}/proof"),
            200,
        ),
        route(
            "route_p99_entry_receipt",
            format!("/api/v1/entries/{near_end}/receipt"),
            200,
        ),
        route(
            "route_p99_consistency",
            format!("/api/v1/consistency?from={}", size / 2),
            200,
        ),
        route(
            "route_p99_cosigned_checkpoint",
            "/api/v1/checkpoints/cosigned".into(),
            404,
        ),
        route(
            "route_p99_checkpoint_by_size",
            format!("/api/v1/checkpoints/{size}"),
            200,
        ),
        route("route_p99_ledger", "/api/v1/ledger".into(), 200),
        route("route_p99_status", "/api/v1/status".into(), 200),
        route("route_p99_balances", "/api/v1/balances".into(), 200),
        route("route_p99_summary", "/api/v1/summary".into(), 200),
        route(
            "route_p99_summary_month",
            format!("/api/v1/summary?month={month}"),
            200,
        ),
        route(
            "route_p99_payer_entries",
            format!("/api/v1/payers/{unit}/entries?order=desc"),
            200,
        ),
        route("route_p99_proposals", "/api/v1/proposals".into(), 200),
        route(
            "route_p99_proposal",
            format!("/api/v1/proposals/{proposal_id}"),
            200,
        ),
        route(
            "route_p99_attachment",
            format!("/api/v1/attachments/{}", "ab".repeat(32)),
            404,
        ),
    ]
}

/// Adds the pending proposals to each ledger of `ledgers` (store
/// directory, size), serves them all at once in this process and returns
/// each ledger's p99 of each route in µs, in the order of `ledgers`. The
/// ledgers are asked in turn, one request each, so that whatever else the
/// machine does at a moment falls on all of them alike: measured one after
/// the other, minutes apart, the ratio of two p99s of tens of microseconds
/// was the scheduler's more than the ledgers'.
fn measure(keys: &BenchKeys, ledgers: &[(&Path, u64)]) -> Result<Vec<Vec<(&'static str, f64)>>> {
    let mut servers = Vec::with_capacity(ledgers.len());
    let mut routes_of = Vec::with_capacity(ledgers.len());
    for &(store_dir, size) in ledgers {
        let store = Store::open(store_dir).context("opening the ledger for the route figures")?;
        let ids = add_pending(&store, keys)?;
        routes_of.push(routes(keys, size, &ids[ids.len() / 2]));
        let ledger = feeledger_server::Ledger::new(store, BenchKeys::new()?.log)
            .context("starting the writer thread")?;
        servers.push(super::InProcessServer::start(ledger)?);
    }
    let addresses: Vec<SocketAddr> = servers.iter().map(|s| s.address).collect();
    let measured = std::thread::spawn(move || time_routes(&addresses, &routes_of))
        .join()
        .map_err(|_| anyhow::anyhow!("the route client panicked"));
    for server in servers {
        server.stop()?;
    }
    // The writer threads let go of the stores once the servers are gone.
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    for &(store_dir, _) in ledgers {
        while let Err(feeledger_store::StoreError::Locked { .. }) = Store::open(store_dir).map(drop)
        {
            if Instant::now() > deadline {
                bail!("the route server did not let go of {}", store_dir.display());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    measured?
}

/// Asks each route [`WARMUP`] + [`SAMPLES`] times of each server, one
/// request at a time, the servers in turn (`routes_of[k]`: server k's
/// routes, the same figures in the same order).
fn time_routes(
    addresses: &[SocketAddr],
    routes_of: &[Vec<Route>],
) -> Result<Vec<Vec<(&'static str, f64)>>> {
    assert_eq!(addresses.len(), routes_of.len());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the route client's runtime")?;
    runtime.block_on(async {
        let mut conns = Vec::with_capacity(addresses.len());
        for address in addresses {
            conns.push(HttpConn::connect(*address).await?);
        }
        let mut out: Vec<Vec<(&'static str, f64)>> = routes_of.iter().map(|_| Vec::new()).collect();
        for r in 0..routes_of[0].len() {
            let requests: Vec<Vec<u8>> = routes_of
                .iter()
                .map(|routes| {
                    assert_eq!(routes[r].figure, routes_of[0][r].figure);
                    get_request(&routes[r].path)
                })
                .collect();
            let mut times: Vec<Vec<f64>> = routes_of
                .iter()
                .map(|_| Vec::with_capacity(SAMPLES))
                .collect();
            for i in 0..WARMUP + SAMPLES {
                for (k, conn) in conns.iter_mut().enumerate() {
                    let route = &routes_of[k][r];
                    let start = Instant::now();
                    let status = conn.request(&requests[k]).await?;
                    let us = start.elapsed().as_secs_f64() * 1e6;
                    if status != route.status {
                        bail!("GET {} answered {status}, not {}", route.path, route.status);
                    }
                    if i >= WARMUP {
                        times[k].push(us);
                    }
                }
            }
            for (k, mut t) in times.into_iter().enumerate() {
                t.sort_by(f64::total_cmp);
                out[k].push((routes_of[k][r].figure, percentile(&t, 0.99)));
            }
        }
        Ok(out)
    })
}
