//! The bounded reads of issue 17 over real HTTP, against the real
//! `feeledger serve` on the demo ledger (3,669 entries over a year, with
//! more months added here): the summary without a month gives the all-time totals and the
//! latest months, with a cursor to the older ones; the pending proposals
//! come a page at a time, with a cursor that a reader (and `propose --url`)
//! follows to see every one.

mod support;

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use support::bodies::{proposal_request, sign_with, Bodies};
use support::demo::{Demo, DEMO_ORIGIN};
use support::http::Server;

const BODIES: Bodies = Bodies {
    ledger: DEMO_ORIGIN,
    month: "2027-01",
    memo: "有界读取测试",
};

type Sums = BTreeMap<(String, String), (i128, i128)>;

fn add_rows(sums: &mut Sums, rows: &Value) {
    for row in rows.as_array().unwrap() {
        let key = (
            row["fund"].as_str().unwrap().to_string(),
            row["category"].as_str().unwrap().to_string(),
        );
        let sum = sums.entry(key).or_default();
        sum.0 += i128::from(row["income_fen"].as_i64().unwrap());
        sum.1 += i128::from(row["spending_fen"].as_i64().unwrap());
    }
}

// Proves `GET /api/v1/summary` without a month answers the latest 24
// months at most, and that following `next` (as `before`) reaches every
// month back to `first_month`, each month once, in order, each equal to
// its own `?month=` answer; and that `all_time` is the sum of them all.
// Giving month and before together, or a bad before, is a 400.
#[test]
fn the_summary_gives_all_time_totals_and_pages_back_through_the_months() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    // The demo spans a year; fees for 18 more months make more than a page.
    let li = demo.signing_key("wuye-li");
    for i in 0..18 {
        let month = format!("{}-{:02}", 2027 + i / 12, i % 12 + 1);
        let bodies = Bodies {
            ledger: DEMO_ORIGIN,
            month: &month,
            memo: "有界读取测试",
        };
        let income = bodies.income(&format!("month-{i}"), 30_000 + i, "3-1502");
        let r = http.post_json(
            "/api/v1/proposals",
            &proposal_request(&income, &sign_with(&income, &[("wuye-li", &li)])),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let first = http.get("/api/v1/summary").ok_json();
    let mut months: Vec<Value> = Vec::new();
    let mut page = first.clone();
    loop {
        let listed = page["months"].as_array().unwrap();
        assert!(listed.len() <= 24, "{} months on one page", listed.len());
        // Pages go back in time; each page is ascending.
        let mut older = listed.clone();
        older.extend(months);
        months = older;
        match page["next"].as_str() {
            Some(before) => {
                page = http
                    .get(&format!("/api/v1/summary?before={before}"))
                    .ok_json()
            }
            None => break,
        }
    }
    let names: Vec<&str> = months
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert!(
        names.len() > 24,
        "the demo spans {} months; the test needs more than a page",
        names.len()
    );
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, names, "months listed twice or out of order");
    assert_eq!(first["first_month"], json!(names[0]));
    let mut sums = Sums::new();
    for month in &months {
        let name = month["month"].as_str().unwrap();
        let alone = http.get(&format!("/api/v1/summary?month={name}")).ok_json();
        assert_eq!(alone["months"][0], *month, "{name}");
        add_rows(&mut sums, &month["totals"]);
    }
    let mut all_time = Sums::new();
    add_rows(&mut all_time, &first["all_time"]);
    assert_eq!(all_time, sums);
    assert!(all_time.values().any(|(income, _)| *income > 0));
    for bad in [
        "/api/v1/summary?month=2026-01&before=2026-02",
        "/api/v1/summary?before=2026-13",
        "/api/v1/summary?before=soon",
    ] {
        let r = http.get(bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], json!("malformed"), "{bad}");
    }
}

// Proves the pending proposals come a page at a time and that following
// `next` with `after` lists each of 130 pending proposals exactly once;
// that `propose --url` (which looks at every pending proposal for a
// likely duplicate) sees one beyond the first page; and that a bad after
// or limit is a 400.
#[test]
fn the_proposals_list_pages_with_a_cursor() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    // 100 pending proposals at most carry any one key: two keys propose.
    let keys = [
        ("wuye-li", demo.signing_key("wuye-li")),
        ("weiyuan-wang", demo.signing_key("weiyuan-wang")),
    ];
    let mut ids = BTreeSet::new();
    for i in 0..130 {
        let body = BODIES.expenditure(&format!("page-{i}"), 10_000 + i);
        let (name, key) = &keys[i as usize % 2];
        let request = proposal_request(&body, &sign_with(&body, &[(name, key)]));
        let r = http.post_json("/api/v1/proposals", &request);
        assert_eq!(r.status, 202, "{}", r.text());
        ids.insert(r.json()["id"].as_str().unwrap().to_string());
    }
    let first = http.get("/api/v1/proposals").ok_json();
    assert_eq!(first["proposals"].as_array().unwrap().len(), 100);
    let mut seen = Vec::new();
    let mut path = "/api/v1/proposals?limit=40".to_string();
    let mut pages = 0;
    loop {
        let page = http.get(&path).ok_json();
        pages += 1;
        for p in page["proposals"].as_array().unwrap() {
            assert_eq!(p["state"], json!("pending"));
            assert!(p["status"]["progress"].is_array(), "{p}");
            seen.push(p["id"].as_str().unwrap().to_string());
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/proposals?limit=40&after={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a proposal was listed twice");
    assert_eq!(unique, ids);
    for bad in [
        "/api/v1/proposals?after=xyz",
        "/api/v1/proposals?limit=0",
        "/api/v1/proposals?limit=501",
        "/api/v1/proposals?state=withdrawn&after=0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let r = http.get(bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], json!("malformed"), "{bad}");
    }

    // The last proposal in id order is on no first page; `propose --url`
    // still names it as a likely duplicate of the same spending.
    let last_id = seen.last().unwrap().clone();
    let last = http.get(&format!("/api/v1/proposals/{last_id}")).ok_json();
    let amount = last["body"]["amount_fen"].as_u64().unwrap();
    let yuan = format!("{}.{:02}", amount / 100, amount % 100);
    let out = support::run([
        "propose",
        "--url",
        &server.url,
        "--key",
        demo.key_path("wuye-li").to_str().unwrap(),
        "--date",
        "2027-01-20",
        "expenditure",
        "--amount",
        &yuan,
        "--category",
        "repairs",
        "--payee",
        "宏达机电维修服务部",
        "--memo",
        "有界读取测试",
    ]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains(&last_id[..8]),
        "propose --url did not see proposal {last_id}: {text}"
    );
}
