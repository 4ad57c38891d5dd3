//! Benchmark (not a test): how long the residents' page takes, and how
//! many bytes it reads, to verify a whole ledger itself (web/worker.js:
//! every leaf, signature and rule replayed, the root against the signed
//! checkpoint) until it marks the balances verified; and five returning
//! visits, each after 100 new entries (a consistency proof and only the new
//! bundles, from the state kept in IndexedDB), reported by their median.
//!
//! Ledgers: the demo (3,669 entries) and a ledger of `--large N` entries
//! (default 100,000) made with `feeledger import`. Each is measured in
//! headless Chromium unthrottled and with DevTools' 4× CPU throttling (a
//! phone), each visit pair in a fresh profile. The page is served through
//! a loopback proxy that passes every header both ways (so the browser
//! revalidates with `If-None-Match`, gets 304s, and asks for gzip) and
//! counts what it sends back as it sends it: bodies (gzipped where the
//! server gzipped, none for a 304) and, apart, the status lines and
//! headers. The Web Worker's requests go through it too (same origin).
//! Time runs in the page: from navigation start
//! (`performance.now()` = 0) to the moment `#ledger-check` turns
//! `verified`, seen by a `MutationObserver` installed before the page's
//! own scripts.
//!
//! `cargo bench -p feeledger --bench page_verify [-- --large N] [--trace]
//! [--profile]` (N = 0: the demo only) prints `figure` lines;
//! docs/performance.md has them. `--trace` also prints the last returning
//! visit's timeline; `--profile`, where the page's own thread spent it
//! (DevTools' sampling profiler, self time by function).

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::cdp::Phone;
use support::http::Server;
use support::proxy::{counting_proxy, Transferred};
use support::{Community, COMPANY};

/// Entries appended before each returning visit.
const APPENDED: u64 = 100;

/// Returning visits measured in each profile; the figure is their median
/// (one visit on this shared machine varies by a third).
const RETURNING_VISITS: usize = 5;

/// Rows in one CSV file: `import` takes at most 2,000.
const FILE_ROWS: u64 = 2_000;

/// A verification slower than this is a failure of the bench, not a figure.
const VISIT_MAX: Duration = Duration::from_secs(900);

/// Marks the moment the page's own check says verified, before any page
/// script runs.
const OBSERVER: &str = "(() => {
  const mark = () => {
    const el = document.getElementById('ledger-check');
    const state = el && el.dataset.state;
    if (state === 'verified' && window.__verifiedAt === undefined) window.__verifiedAt = performance.now();
    if (state === 'failed' && window.__failed === undefined) window.__failed = el.innerText;
  };
  new MutationObserver(mark).observe(document, { subtree: true, childList: true, attributes: true });
  // The page's tasks over 50 ms, for the trace.
  window.__longTasks = [];
  try {
    new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => [Math.round(e.startTime), Math.round(e.duration)]))).observe({ type: 'longtask', buffered: true });
  } catch {}
})()";

fn main() {
    let large = std::env::args()
        .skip_while(|a| a != "--large")
        .nth(1)
        .map_or(100_000, |n| n.parse().expect("--large N"));

    let trace = Trace {
        timeline: std::env::args().any(|a| a == "--trace"),
        profile: std::env::args().any(|a| a == "--profile"),
    };
    let demo = support::demo::Demo::new();
    let demo_company = demo.key_path("wuye-li");
    measure(
        "demo",
        &demo.data,
        &demo_company,
        &demo.path("appended.csv"),
        trace,
    );

    if large == 0 {
        return;
    }
    let c = Community::new();
    let started = Instant::now();
    let mut made = 0;
    while made < large {
        let rows = FILE_ROWS.min(large - made);
        let file = c.path(&format!("rows-{made}.csv"));
        write_rows(&file, made, rows);
        let key = c.key_path(COMPANY).display().to_string();
        c.cmd(
            "import",
            &["--key", &key, "--csv", file.to_str().unwrap(), "--yes"],
        )
        .assert_ok();
        made += rows;
    }
    println!(
        "made a ledger of {made} imported entries in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let company = c.key_path(COMPANY).to_path_buf();
    measure(
        &format!("n{large}"),
        &c.data,
        &company,
        &c.path("appended.csv"),
        trace,
    );
}

/// What to print of the last returning visit, beside the figures.
#[derive(Clone, Copy)]
struct Trace {
    timeline: bool,
    profile: bool,
}

/// Both visits of the ledger in `data`, unthrottled and at 4×: prints the
/// figures. Appends [`APPENDED`] fees (signed with `company`) between the
/// visits of each pair.
fn measure(label: &str, data: &Path, company: &Path, csv: &Path, trace: Trace) {
    let mut appended_from = 10_000_000;
    for throttle in [1, 4] {
        let server = Server::start(data);
        let counted = Arc::new(Transferred::default());
        let proxy = counting_proxy(&server.url, counted.clone());
        let profile = tempfile::tempdir().expect("profile dir");
        let mut phone = Phone::start(label, profile.path(), &[]);
        if throttle > 1 {
            phone.call(
                "Emulation.setCPUThrottlingRate",
                json!({ "rate": throttle }),
            );
        }
        phone.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": OBSERVER }),
        );
        let page = format!("{}/", proxy.url);
        let size = server.http().get("/api/v1/ledger").ok_json()["size"]
            .as_u64()
            .unwrap();

        counted.reset();
        let first_ms = visit(&mut phone, &page);
        let first = Counts::read(&counted);
        let first_kept_ms = kept(&mut phone);

        // Returning visits, each after APPENDED new entries: their median
        // time, and the counts of the last.
        let mut returning_ms = Vec::new();
        let mut again = None;
        for visit_number in 1..=RETURNING_VISITS {
            write_rows(csv, appended_from, APPENDED);
            appended_from += APPENDED;
            support::run([
                "import",
                "--url",
                &server.url,
                "--key",
                company.to_str().unwrap(),
                "--csv",
                csv.to_str().unwrap(),
                "--yes",
            ])
            .assert_ok();
            counted.reset();
            let profiled = trace.profile && visit_number == RETURNING_VISITS;
            if profiled {
                phone.call("Profiler.enable", json!({}));
                phone.call("Profiler.setSamplingInterval", json!({ "interval": 200 }));
                phone.call("Profiler.start", json!({}));
            }
            returning_ms.push(visit(&mut phone, &page));
            if profiled {
                let profile = phone.call("Profiler.stop", json!({}));
                print_profile(
                    &profile["profile"],
                    &format!("{label} at {throttle}x, the last returning visit"),
                );
            }
            again = Some(Counts::read(&counted));
            kept(&mut phone);
        }
        let again = again.expect("at least one returning visit");
        if trace.timeline {
            print_trace(
                &mut phone,
                &format!("{label} at {throttle}x, the last returning visit"),
            );
        }
        let all = returning_ms
            .iter()
            .map(|ms| format!("{ms:.0}"))
            .collect::<Vec<_>>()
            .join(" ");
        returning_ms.sort_by(f64::total_cmp);
        let again_ms = returning_ms[returning_ms.len() / 2];

        let tag = format!("{label}_cpu{throttle}x");
        println!("{tag}: {size} entries, then {APPENDED} more before each of {RETURNING_VISITS} returning visits ({all} ms)");
        println!("figure  page_first_visit_ms_{tag}  {first_ms:.0}");
        first.print(&format!("page_first_visit_{tag}"));
        println!("figure  page_first_visit_kept_ms_{tag}  {first_kept_ms:.0}");
        println!("figure  page_return_visit_ms_{tag}  {again_ms:.0}");
        again.print(&format!("page_return_visit_{tag}"));
        drop(phone);
        drop(proxy);
        server.stop();
    }
}

/// Prints the page thread's self time by function (and script) from a
/// DevTools CPU profile, largest first, until the verified mark (the
/// profile stops once the visit is verified and ready).
fn print_profile(profile: &Value, what: &str) {
    let nodes = profile["nodes"].as_array().cloned().unwrap_or_default();
    let mut name_of = std::collections::HashMap::new();
    for node in &nodes {
        let frame = &node["callFrame"];
        let url = frame["url"].as_str().unwrap_or("");
        let script = url.rsplit('/').next().unwrap_or("");
        let function = frame["functionName"].as_str().unwrap_or("");
        let function = if function.is_empty() {
            "(anonymous)"
        } else {
            function
        };
        let name = if script.is_empty() {
            function.to_string()
        } else {
            format!(
                "{function} ({script}:{})",
                frame["lineNumber"].as_i64().unwrap_or(0) + 1
            )
        };
        name_of.insert(node["id"].as_i64().unwrap_or(-1), name);
    }
    let samples = profile["samples"].as_array().cloned().unwrap_or_default();
    let deltas = profile["timeDeltas"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut self_us: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
    // A sample's time is the delta to the next sample.
    for (i, sample) in samples.iter().enumerate() {
        let us = deltas.get(i + 1).and_then(Value::as_f64).unwrap_or(0.0);
        let name = name_of
            .get(&sample.as_i64().unwrap_or(-1))
            .cloned()
            .unwrap_or_default();
        *self_us.entry(name).or_default() += us;
    }
    let mut rows: Vec<(String, f64)> = self_us.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let busy: f64 = rows
        .iter()
        .filter(|(n, _)| n != "(idle)" && n != "(program)")
        .map(|r| r.1)
        .sum();
    println!(
        "profile: {what}, the page's thread ({:.0} ms in scripts, GC and rendering)",
        busy / 1e3
    );
    for (name, us) in rows.iter().take(25) {
        println!("  {:>7.1} ms  {name}", us / 1e3);
    }
}

/// Prints where the page's last visit spent its time: navigation, the
/// page's `feeledger:` marks (the check's steps, the worker's placed on the
/// page's clock), its tasks over 50 ms, and every request the page made (the worker's own
/// requests are not in the page's timeline; its steps are).
fn print_trace(phone: &mut Phone, what: &str) {
    let trace = phone.eval(
        "JSON.stringify({
          nav: (() => { const n = performance.getEntriesByType('navigation')[0]; return n ? [Math.round(n.responseStart), Math.round(n.domInteractive), Math.round(n.domContentLoadedEventEnd)] : null; })(),
          marks: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('feeledger:')).map((m) => [m.name, Math.round(m.startTime)]),
          resources: performance.getEntriesByType('resource').map((r) => [r.name.replace(location.origin, ''), Math.round(r.startTime), Math.round(r.responseEnd), r.transferSize]),
          verified: window.__verifiedAt,
          longTasks: window.__longTasks || [],
        })",
    );
    let trace: Value = serde_json::from_str(trace.as_str().unwrap_or("{}")).unwrap_or_default();
    println!("trace: {what}");
    println!(
        "  navigation: response start, DOM interactive, DOMContentLoaded end (ms): {}",
        trace["nav"]
    );
    let mut rows: Vec<(f64, String)> = Vec::new();
    for m in trace["marks"].as_array().into_iter().flatten() {
        rows.push((
            m[1].as_f64().unwrap_or(0.0),
            format!("mark {}", m[0].as_str().unwrap_or("")),
        ));
    }
    for r in trace["resources"].as_array().into_iter().flatten() {
        let (start, end) = (r[1].as_f64().unwrap_or(0.0), r[2].as_f64().unwrap_or(0.0));
        rows.push((
            start,
            format!(
                "request {} until {end:.0} ({} bytes over the wire)",
                r[0].as_str().unwrap_or(""),
                r[3]
            ),
        ));
    }
    for t in trace["longTasks"].as_array().into_iter().flatten() {
        let (start, took) = (t[0].as_f64().unwrap_or(0.0), t[1].as_f64().unwrap_or(0.0));
        rows.push((
            start,
            format!(
                "the page's thread busy until {:.0} (a task of {took:.0} ms)",
                start + took
            ),
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (at, what) in rows {
        println!("  {at:>6.0} ms  {what}");
    }
    println!("  verified at {} ms", trace["verified"]);
}

/// Opens `page` (or reloads it) and waits until the page's check says
/// verified; the milliseconds from navigation start.
fn visit(phone: &mut Phone, page: &str) -> f64 {
    phone.call("Page.navigate", json!({ "url": "about:blank" }));
    phone.call("Page.navigate", json!({ "url": page }));
    let started = Instant::now();
    loop {
        let seen: Value = phone.eval(
            "location.href !== 'about:blank' ? { at: window.__verifiedAt ?? null, failed: window.__failed ?? null, ready: document.documentElement?.dataset.app === 'ready' } : null",
        );
        if let Some(failed) = seen.get("failed").and_then(Value::as_str) {
            panic!("the page's check failed: {failed}");
        }
        if let (Some(at), Some(true)) = (
            seen.get("at").and_then(Value::as_f64),
            seen.get("ready").and_then(Value::as_bool),
        ) {
            return at;
        }
        assert!(
            started.elapsed() < VISIT_MAX,
            "no verified mark within {VISIT_MAX:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the visit's worker has kept what it verified in IndexedDB
/// (the page marks `feeledger:stored`), so that the next visit is a
/// returning one; the milliseconds from navigation start. A resident who
/// leaves before it replays the same entries again next time.
fn kept(phone: &mut Phone) -> f64 {
    let started = Instant::now();
    loop {
        let at: Value =
            phone.eval("performance.getEntriesByName('feeledger:stored')[0]?.startTime ?? null");
        if let Some(at) = at.as_f64() {
            return at;
        }
        assert!(
            started.elapsed() < VISIT_MAX,
            "nothing kept within {VISIT_MAX:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What one visit received, read from the proxy's counts once the page
/// is verified and ready (`data-app="ready"`: every part shown): the
/// whole visit, not only the check.
struct Counts {
    body_bytes: u64,
    head_bytes: u64,
    responses: u64,
    not_modified: u64,
}

impl Counts {
    fn read(t: &Transferred) -> Counts {
        // The page is ready (visit waited for it); let a request it sent
        // last finish.
        std::thread::sleep(Duration::from_millis(300));
        Counts {
            body_bytes: t.body_bytes.load(Ordering::SeqCst),
            head_bytes: t.head_bytes.load(Ordering::SeqCst),
            responses: t.responses.load(Ordering::SeqCst),
            not_modified: t.not_modified.load(Ordering::SeqCst),
        }
    }

    fn print(&self, tag: &str) {
        println!("figure  {tag}_bytes  {}", self.body_bytes);
        println!("figure  {tag}_header_bytes  {}", self.head_bytes);
        println!("figure  {tag}_responses  {}", self.responses);
        println!("figure  {tag}_not_modified  {}", self.not_modified);
    }
}

/// Writes `count` fee payments, rows `first..first + count`, as an import
/// CSV: each row names its number in the memo, so no two rows are the
/// same payment (the same bytes would be refused as a replay).
fn write_rows(file: &Path, first: u64, count: u64) {
    let mut text = String::from("房号,金额,类别,缴费日期,所属月份,备注\r\n");
    for i in first..first + count {
        let month = 1 + i % 11;
        let unit = i / 11;
        let (building, floor, room) = (1 + unit % 99, 1 + (unit / 99) % 30, 1 + (unit / 2_970) % 9);
        let fen = 9_000 + (i * 7_919) % 300_000;
        text.push_str(&format!(
            "{building}-{floor:02}{room:02},{}.{:02},物业费,2026-{month:02}-15,2026-{month:02},物业费 第{i}行\r\n",
            fen / 100,
            fen % 100
        ));
    }
    std::fs::write(file, text).expect("write the CSV");
}
