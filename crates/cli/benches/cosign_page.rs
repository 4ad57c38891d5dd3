//! Benchmark (not a test): in the residents' page, from a committee
//! member's tap on 联署 (co-sign) to the page showing 已入账 (committed),
//! against the real server on loopback and real headless Chromium.
//!
//! Each round: the company and one committee member propose an
//! expenditure with the CLI (so one more committee signature commits it),
//! the phone reloads its page, and the clock runs in the page itself from
//! the click on the co-sign button to the moment the committed mark
//! appears (a `MutationObserver`), so the DevTools driver's polling is not
//! counted. What is timed: signing in WebCrypto, the POST, the server's
//! checks, the durable commit, and the page's redraw.
//!
//! `cargo bench -p feeledger --bench cosign_page [-- ROUNDS]` prints the
//! median and p99 in milliseconds; docs/performance.md has the figures.

#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::json;
use support::cdp::Phone;
use support::http::Server;
use support::{Community, COMMITTEE, COMPANY};

/// Rounds measured after the warm-up ones, unless given on the command
/// line.
const ROUNDS_DEFAULT: usize = 100;
const WARM_UP_ROUNDS: usize = 3;

fn main() {
    let rounds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(ROUNDS_DEFAULT);
    let c = Community::new();
    // Enough in the operating fund for every round's ¥1.00.
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let server = Server::start(&c.data);
    let page = format!("{}/", server.url);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut phone = Phone::start("bench", &dir.path().join("phone"), &[]);
    phone.open(&page);
    phone.wait_for(
        "document.getElementById('key-file')",
        "the key import field",
    );
    phone.choose_file("#key-file", c.key_path(COMMITTEE[2]));
    phone.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the imported key",
    );

    let mut taps_ms = Vec::with_capacity(rounds);
    for round in 0..WARM_UP_ROUNDS + rounds {
        let memo = format!("第 {round} 次测量");
        let out = run_propose(&c, &server.url, &memo);
        let id = out
            .pending_id()
            .unwrap_or_else(|| panic!("the expenditure waits for one more member: {out:#?}"));
        phone.reload();
        let card = format!("[data-sign-card=\"{id}\"]");
        phone.wait_for(
            &format!("document.querySelector('{card} [data-sign]:not([disabled])')"),
            "the proposal's co-sign button",
        );
        let armed = phone.eval(&format!(
            "(() => {{
               window.__tap = null; window.__seen = null;
               const button = document.querySelector('{card} [data-sign]');
               button.addEventListener('click', () => {{ window.__tap = performance.now(); }}, {{ capture: true, once: true }});
               const seen = () => document.querySelector('[data-committed=\"{id}\"]');
               new MutationObserver((_, observer) => {{
                 if (window.__seen === null && seen()) {{ window.__seen = performance.now(); observer.disconnect(); }}
               }}).observe(document.body, {{ subtree: true, childList: true, attributes: true }});
               return true;
             }})()",
        ));
        assert_eq!(armed, json!(true));
        phone.click(&format!("{card} [data-sign]"));
        let elapsed = phone.wait_for(
            "window.__seen !== null && window.__tap !== null ? window.__seen - window.__tap : null",
            "the committed mark",
        );
        let elapsed_ms = elapsed.as_f64().expect("a duration");
        if round >= WARM_UP_ROUNDS {
            taps_ms.push(elapsed_ms);
        }
    }
    taps_ms.sort_by(f64::total_cmp);
    let at = |q: f64| taps_ms[((taps_ms.len() as f64 - 1.0) * q).round() as usize];
    println!("rounds {}", taps_ms.len());
    println!("figure  cosign_tap_to_committed_p50_ms  {:.1}", at(0.5));
    println!("figure  cosign_tap_to_committed_p99_ms  {:.1}", at(0.99));
    println!("figure  cosign_tap_to_committed_max_ms  {:.1}", at(1.0));
}

/// An expenditure of ¥1.00 signed by the company and the first committee
/// member, over the server's API: it waits for one more member.
fn run_propose(c: &Community, url: &str, memo: &str) -> support::Output {
    let args: Vec<String> = [
        "propose",
        "--url",
        url,
        "--key",
        &c.key_path(COMPANY).display().to_string(),
        "--key",
        &c.key_path(COMMITTEE[0]).display().to_string(),
        "--date",
        "2026-02-10",
        "--yes",
        "expenditure",
        "--amount",
        "1.00",
        "--category",
        "repairs",
        "--payee",
        "星光电梯维修有限公司",
        "--memo",
        memo,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = support::run(args);
    out.assert_ok();
    out
}
