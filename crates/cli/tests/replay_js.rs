//! The page's own replay of a ledger (`crates/server/web/replay.js`,
//! `tlog.js`, `worker.js`: a second implementation of the core's apply)
//! against the core and the real server, in real headless Chromium:
//!
//! - the worker, run on the demo ledger served by the real server, reaches
//!   the balances of `feeledger balances --json` and the month totals of
//!   `GET /api/v1/summary`, and the checkpoint's root;
//! - resumed from its saved state after the log grew, it fetches only the
//!   bundles holding new leaves (counted at a proxy) and a consistency
//!   proof, and reaches what a fresh replay reaches;
//! - through a proxy that changes one byte of one entry bundle, it fails
//!   naming that entry's seq;
//! - hand-made ledgers (the core's fixtures, leaves chained by hand) are
//!   accepted or refused exactly as the core's `Replayer` decides, naming
//!   the same seq and rule, with the same balances, totals and root;
//! - consistency proofs: every RFC 6962 vector gives the core's verdict,
//!   and a real server's proof verifies while tampered ones do not.
//!
//! The modules are taken as the real server serves them. A loopback server
//! puts a harness page on the same origin, forwards everything else to the
//! real server (changing one bundle under `/tampered/`), counts the bundle
//! requests, and appends entries to the real server when the harness asks
//! (`/__append`). The harness runs every case in order and reports the
//! results to the loopback server (support/browser.rs: virtual time would
//! not wait for the worker). Chromium runs once for all the tests of this
//! file.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use feeledger_core::entry::{
    default_rules, Body, Content, EntrySignature, Expenditure, ExpenseCategory, Governance, KeyDef,
    Leaf, Reversal, Role, RoleDef, Rules, Transfer,
};
use feeledger_core::fixtures::{self, key_def, property_fee, sign_with, two_role_genesis};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::root_from_leaf_hashes;
use feeledger_core::state::Replayer;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use support::bodies::{proposal_request, Bodies};
use support::browser::{chromium_until_reported, ResultChunks};
use support::demo::{Demo, DEMO_ENTRIES, DEMO_ORIGIN};
use support::http::{Http, Server};
use support::proxy::{loopback, path_of, Answer, Loopback};

/// Entries appended to the demo between the first visit and the second:
/// enough to fill the demo's last, partial bundle (3,669 = 14·256 + 85)
/// and start a new one.
const APPENDED: u64 = 200;

/// The entry whose bundle the tampering proxy changes: in the middle of
/// bundle 5, an income (the demo's entries there are fees).
const TAMPERED_SEQ: u64 = 5 * 256 + 100;

/// The bodies appended to the demo, dated after its last entry.
const BODIES: Bodies = Bodies {
    ledger: DEMO_ORIGIN,
    month: "2027-01",
    memo: "replay.js 测试",
};

// ---------------------------------------------------------------------------
// Hand-made ledgers: leaves chained by hand, judged by the core
// ---------------------------------------------------------------------------

const ORIGIN: &str = "example.org/replay-js";

/// Leaves built one by one: seq, prev and time as the log would set them,
/// unless a case changes them.
struct Chain {
    leaves: Vec<Vec<u8>>,
    prev: Hash,
    time_ms: u64,
}

impl Chain {
    fn new() -> Chain {
        let mut chain = Chain {
            leaves: Vec::new(),
            prev: Hash::ZERO,
            time_ms: 1_767_225_600_000,
        };
        chain.push(two_role_genesis(ORIGIN, "回放测试小区"));
        chain
    }

    fn push(&mut self, (body, signatures): (Body, Vec<EntrySignature>)) -> &mut Chain {
        let seq = self.leaves.len() as u64;
        let prev = self.prev;
        let time_ms = self.time_ms + 1_000;
        self.push_leaf(Leaf {
            seq,
            prev,
            time_ms,
            body,
            signatures,
        })
    }

    fn push_leaf(&mut self, leaf: Leaf) -> &mut Chain {
        let bytes = leaf.to_canonical_bytes();
        self.prev = leaf_hash(&bytes);
        self.time_ms = leaf.time_ms;
        self.leaves.push(bytes);
        self
    }

    /// The next leaf, with `change` applied to it before it is encoded.
    fn push_changed(
        &mut self,
        entry: (Body, Vec<EntrySignature>),
        change: impl FnOnce(&mut Leaf),
    ) -> &mut Chain {
        let mut leaf = Leaf {
            seq: self.leaves.len() as u64,
            prev: self.prev,
            time_ms: self.time_ms + 1_000,
            body: entry.0,
            signatures: entry.1,
        };
        change(&mut leaf);
        self.push_leaf(leaf)
    }

    fn push_raw(&mut self, bytes: Vec<u8>) -> &mut Chain {
        self.prev = leaf_hash(&bytes);
        self.leaves.push(bytes);
        self
    }
}

fn co() -> (&'static str, u8) {
    fixtures::COMPANY
}
fn cm() -> (&'static str, u8) {
    fixtures::COMMITTEE
}

fn fee(nonce: &str) -> (Body, Vec<EntrySignature>) {
    property_fee(ORIGIN, nonce)
}

fn body_of(fee: (Body, Vec<EntrySignature>), content: Content) -> Body {
    Body { content, ..fee.0 }
}

fn spend(
    nonce: &str,
    fund: &str,
    amount_fen: u64,
    signers: &[(&str, u8)],
) -> (Body, Vec<EntrySignature>) {
    let body = body_of(
        fee(nonce),
        Content::Expenditure(Expenditure {
            fund: fund.into(),
            amount_fen,
            category: ExpenseCategory::Repairs,
            payee: "宏达机电维修服务部".into(),
            memo: "电梯维修".into(),
            attachments: vec![],
            owners_approval: None,
        }),
    );
    let sigs = sign_with(&body, signers);
    (body, sigs)
}

fn transfer(nonce: &str, amount_fen: u64) -> (Body, Vec<EntrySignature>) {
    let body = body_of(
        fee(nonce),
        Content::Transfer(Transfer {
            from_fund: "operating".into(),
            to_fund: "maintenance".into(),
            amount_fen,
            memo: String::new(),
            owners_approval: None,
        }),
    );
    let sigs = sign_with(&body, &[cm(), co()]);
    (body, sigs)
}

fn reversal(nonce: &str, target_seq: u64, signers: &[(&str, u8)]) -> (Body, Vec<EntrySignature>) {
    let body = body_of(
        fee(nonce),
        Content::Reversal(Reversal {
            target_seq,
            reason: "录入错误".into(),
        }),
    );
    let sigs = sign_with(&body, signers);
    (body, sigs)
}

/// A governance entry that gives the company a new key ("co-2", seed 5)
/// in place of "co".
fn new_company_key(nonce: &str) -> (Body, Vec<EntrySignature>) {
    company_key_governance(nonce, key_def("co-2", 5))
}

/// A governance entry that gives the company `key` in place of "co",
/// signed under the rules in force.
fn company_key_governance(nonce: &str, key: KeyDef) -> (Body, Vec<EntrySignature>) {
    let mut roles = feeledger_core::entry::Roles::new();
    roles.insert(
        Role::Company,
        RoleDef {
            threshold: 1,
            keys: vec![key],
        },
    );
    roles.insert(
        Role::Committee,
        RoleDef {
            threshold: 1,
            keys: vec![key_def(cm().0, cm().1)],
        },
    );
    let body = body_of(
        fee(nonce),
        Content::Governance(Governance {
            roles: Some(roles),
            rules: None,
            memo: "换届".into(),
        }),
    );
    let sigs = sign_with(&body, &[cm(), co()]);
    (body, sigs)
}

/// The new company key "co-2" (seed 5) under a display name, whatever it is:
/// the core decides whether the name is allowed.
fn named_company_key(nonce: &str, display_name: &str) -> (Body, Vec<EntrySignature>) {
    let mut key = key_def("co-2", 5);
    key.display_name = Some(display_name.into());
    company_key_governance(nonce, key)
}

/// A role key of these 32 bytes, whatever they are: the core decides
/// whether they are a usable Ed25519 public key.
fn raw_key(bytes: [u8; 32]) -> KeyDef {
    KeyDef {
        display_name: None,
        name: "co-raw".into(),
        public_key: BASE64.encode(bytes),
    }
}

/// A governance entry that changes only the rules, to `rules`.
fn rules_governance(nonce: &str, rules: Rules) -> (Body, Vec<EntrySignature>) {
    let body = body_of(
        fee(nonce),
        Content::Governance(Governance {
            roles: None,
            rules: Some(rules),
            memo: String::new(),
        }),
    );
    let sigs = sign_with(&body, &[cm(), co()]);
    (body, sigs)
}

/// An income signed by a key of no role ("zz-stranger", seed 7).
fn fee_by_stranger(nonce: &str) -> (Body, Vec<EntrySignature>) {
    let (body, _) = fee(nonce);
    let sigs = sign_with(&body, &[("zz-stranger", 7)]);
    (body, sigs)
}

/// The hand-made ledgers: (name, leaves). The core decides each verdict.
fn ledgers() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut add = |name: &'static str, chain: &mut Chain| out.push((name, chain.leaves.clone()));

    // Accepted: incomes, a spend, a transfer, reversals of each money kind,
    // a governance change and the new key's income.
    add(
        "good",
        Chain::new()
            .push(fee("f1"))
            .push(fee("f2"))
            .push(fee("f3"))
            .push(spend("s1", "operating", 12_345, &[cm(), co()]))
            .push(transfer("t1", 20_000))
            .push(reversal("r1", 2, &[co()]))
            .push(spend("s2", "maintenance", 5_000, &[cm(), co()]))
            .push(reversal("r2", 7, &[cm(), co()]))
            .push(reversal("r3", 4, &[cm(), co()]))
            .push(reversal("r4", 5, &[cm(), co()]))
            .push(new_company_key("g1"))
            .push({
                let (body, _) = fee("f4");
                let sigs = sign_with(&body, &[("co-2", 5)]);
                (body, sigs)
            }),
    );
    add(
        "unknown_key",
        Chain::new().push(fee("f1")).push(fee_by_stranger("f2")),
    );
    add(
        "overdraft",
        Chain::new()
            .push(fee("f1"))
            .push(spend("s1", "operating", 30_001, &[cm(), co()])),
    );
    add(
        "overdraft_by_reversal",
        Chain::new()
            .push(fee("f1"))
            .push(spend("s1", "operating", 20_000, &[cm(), co()]))
            .push(reversal("r1", 1, &[co()])),
    );
    add(
        "broken_chain",
        Chain::new()
            .push(fee("f1"))
            .push_changed(fee("f2"), |leaf| leaf.prev = Hash([7; 32])),
    );
    add(
        "wrong_seq",
        Chain::new()
            .push(fee("f1"))
            .push_changed(fee("f2"), |leaf| leaf.seq = 3),
    );
    add(
        "time_went_backwards",
        Chain::new()
            .push(fee("f1"))
            .push_changed(fee("f2"), |leaf| leaf.time_ms = 5),
    );
    add(
        "bad_signature",
        Chain::new().push(fee("f1")).push({
            let (body, _) = fee("f2");
            let (_, other) = fee("f3");
            (body, other)
        }),
    );
    add(
        "rule_not_met",
        Chain::new()
            .push(fee("f1"))
            .push(spend("s1", "operating", 100, &[co()])),
    );
    add("replay", Chain::new().push(fee("f1")).push(fee("f1")));
    add(
        "already_reversed",
        Chain::new()
            .push(fee("f1"))
            .push(reversal("r1", 1, &[co()]))
            .push(reversal("r2", 1, &[co()])),
    );
    add(
        "not_reversible",
        Chain::new()
            .push(fee("f1"))
            .push(reversal("r1", 0, &[co()])),
    );
    add(
        "target_missing",
        Chain::new()
            .push(fee("f1"))
            .push(reversal("r1", 2, &[co()])),
    );
    add(
        "second_genesis",
        Chain::new()
            .push(fee("f1"))
            .push(two_role_genesis(ORIGIN, "又一个")),
    );
    add(
        "wrong_ledger",
        Chain::new()
            .push(fee("f1"))
            .push(property_fee("example.org/other", "f2")),
    );
    add(
        "unknown_fund",
        Chain::new()
            .push(fee("f1"))
            .push(spend("s1", "parking_fund", 100, &[cm(), co()])),
    );
    add(
        "old_key_after_governance",
        Chain::new()
            .push(fee("f1"))
            .push(new_company_key("g1"))
            .push(fee("f2")),
    );
    add(
        "malformed_not_canonical",
        Chain::new().push(fee("f1")).push_raw({
            let mut leaf = Chain::new().push(fee("f2")).leaves[1].clone();
            leaf.push(b'\n');
            leaf
        }),
    );
    add(
        "malformed_phone_payee",
        Chain::new().push(fee("f1")).push_raw(
            String::from_utf8(Chain::new().push(fee("f2")).leaves[1].clone())
                .unwrap()
                .replace("\"3-1502\"", "\"13800138000\"")
                .into_bytes(),
        ),
    );
    add(
        "rules_name_a_missing_role",
        Chain::new()
            .push(fee("f1"))
            .push(rules_governance("g1", default_rules(true))),
    );
    // Role keys: the identity (small order), y = p (not canonical), and a
    // few small y values, some on the curve and some not: replay.js's
    // point decoding must agree with ed25519-dalek's on each.
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let mut y_is_p = [0xff_u8; 32];
    y_is_p[0] = 0xed;
    y_is_p[31] = 0x7f;
    let mut keys = vec![("key_small_order", weak), ("key_not_canonical", y_is_p)];
    for y in 2..8u8 {
        let mut bytes = [0u8; 32];
        bytes[0] = y;
        keys.push((
            ["key_y2", "key_y3", "key_y4", "key_y5", "key_y6", "key_y7"][usize::from(y - 2)],
            bytes,
        ));
    }
    for (name, bytes) in keys {
        add(
            name,
            Chain::new()
                .push(fee("f1"))
                .push(company_key_governance("g1", raw_key(bytes)))
                .push(fee("f2")),
        );
    }
    // Display names (docs/format.md §7.1): a good one is signed and the
    // named key then signs; the text rule refuses the others, as in the core.
    add(
        "display_name_good",
        Chain::new()
            .push(fee("f1"))
            .push(named_company_key("g1", "李明（物业经理）"))
            .push({
                let (body, _) = fee("f2");
                let sigs = sign_with(&body, &[("co-2", 5)]);
                (body, sigs)
            }),
    );
    for (name, display_name) in [
        ("display_name_too_long", "王".repeat(17)),
        ("display_name_leading_space", " 王建国".to_string()),
        (
            "display_name_trailing_ideographic_space",
            "王建国\u{3000}".to_string(),
        ),
        ("display_name_empty", String::new()),
    ] {
        add(
            name,
            Chain::new()
                .push(fee("f1"))
                .push(named_company_key("g1", &display_name)),
        );
    }
    // A control character cannot even be signed through `Body` (its
    // canonical bytes refuse one), so it is put into the leaf's text.
    add(
        "display_name_control_char",
        Chain::new().push(fee("f1")).push_raw({
            let leaf = Chain::new()
                .push(fee("f1"))
                .push(named_company_key("g1", "王建国"))
                .leaves[2]
                .clone();
            String::from_utf8(leaf)
                .unwrap()
                .replace("\"王建国\"", "\"王\\n建国\"")
                .into_bytes()
        }),
    );
    add("not_genesis", &mut {
        let mut chain = Chain::new();
        chain.leaves.clear();
        chain.prev = Hash::ZERO;
        chain.push(fee("f1"));
        chain
    });
    out
}

/// What the core says of a ledger: refused at (seq, code), or accepted
/// with its balances, totals (as the harness's summary lists them) and
/// root.
fn core_verdict(leaves: &[Vec<u8>]) -> Value {
    let mut replayer = match Replayer::start(&leaves[0]) {
        Ok(r) => r,
        Err(e) => return json!({ "ok": false, "seq": 0, "rule": e.code() }),
    };
    for (seq, leaf) in leaves.iter().enumerate().skip(1) {
        if let Err(e) = replayer.apply(leaf) {
            return json!({ "ok": false, "seq": seq, "rule": e.code() });
        }
    }
    let balances: Map<String, Value> = replayer
        .state
        .balances()
        .iter()
        .map(|(f, b)| (f.clone(), json!(b.to_string())))
        .collect();
    let mut months: Vec<Value> = Vec::new();
    for ((month, fund, category), (income, spending)) in &replayer.totals.by_month {
        let month = month.to_string();
        if months.last().is_none_or(|m| m["month"] != json!(month)) {
            months.push(json!({ "month": month, "totals": [] }));
        }
        months.last_mut().unwrap()["totals"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "fund": fund, "category": category,
                "income_fen": income.to_string(), "spending_fen": spending.to_string(),
            }));
    }
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    json!({
        "ok": true,
        "size": leaves.len(),
        "balances_fen": balances,
        "months": months,
        "root": root_from_leaf_hashes(&hashes).to_hex(),
    })
}

// ---------------------------------------------------------------------------
// Consistency vectors
// ---------------------------------------------------------------------------

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/vectors/rfc6962/consistency")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// Every consistency vector: (name, input for the harness, want_err). A
/// proof hash that is not 32 bytes is passed as it is (tlog.js refuses
/// it); a root that is not is replaced as the core's test replaces it.
fn consistency_vectors() -> Vec<(String, Value, bool)> {
    let mut files = Vec::new();
    json_files(&vectors_dir(), &mut files);
    files
        .iter()
        .map(|path| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let name = path
                .strip_prefix(vectors_dir())
                .unwrap()
                .display()
                .to_string();
            let proof = match &v["proof"] {
                Value::Null => json!([]),
                list => list.clone(),
            };
            let input = json!({
                "op": "consistency",
                "size1": v["size1"], "size2": v["size2"],
                "root1": v["root1"], "root2": v["root2"],
                "proof": proof,
            });
            (name, input, v["wantErr"].as_bool().expect("wantErr"))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The harness page
// ---------------------------------------------------------------------------

const HARNESS_PATH: &str = "/__replay-js-harness.html";
const CASES_PATH: &str = "/__replay-js-cases.json";
const APPEND_PATH: &str = "/__append";
/// Requests under this prefix are forwarded without it, with one byte of
/// the bundle holding [`TAMPERED_SEQ`] changed.
const TAMPERED_PREFIX: &str = "/tampered";
/// Requests under this prefix are forwarded without it, except the
/// checkpoint, which is the one from before the append (a rollback).
const OLD_PREFIX: &str = "/old";

const HARNESS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>replay.js harness</title></head>
<body>
<script type="module">
import * as r from '/assets/replay.js';
import * as t from '/assets/tlog.js';
import * as v from '/assets/verify.js';
import * as k from '/assets/kept.js';

// BigInt as decimal text, so the results are JSON.
const plain = (x) => JSON.parse(JSON.stringify(x, (_, y) => (typeof y === 'bigint' ? y.toString() : y)));
const saved = {};

// The worker answers 'kept', 'progress', 'done', then 'stored' once its
// record is written; the next case may read that record.
function inWorker(message) {
  return new Promise((resolve) => {
    const w = new Worker('/assets/worker.js', { type: 'module' });
    const progress = [];
    let done = null;
    w.onmessage = (e) => {
      if (e.data.type === 'progress') {
        progress.push(e.data.size);
      } else if (e.data.type === 'done') {
        done = e.data;
      } else if (e.data.type === 'stored') {
        w.terminate();
        resolve({ ...done, progress });
      }
    };
    w.onerror = (e) => {
      w.terminate();
      resolve({ type: 'done', ok: false, failure: { step: 'worker-error', rule: String(e.message) } });
    };
    w.postMessage(message);
  });
}

// A replay's verdict, as text: the summary it reached, or the seq and rule
// it refused.
async function verdict(replaying) {
  try {
    return JSON.stringify(plain(r.summarize(await replaying())));
  } catch (e) {
    if (e instanceof r.ReplayError) return `${e.seq} ${e.rule}`;
    throw e;
  }
}

// The first `k` leaves replayed, their per-entry maps then kept apart (as
// kept.js keeps them) and asked through `earlier` while the rest replay.
async function replayApart(leaves, k) {
  const before = await r.replay(null, leaves.slice(0, k));
  const apart = { ...before, bodyIds: {}, money: {}, others: {} };
  const own = (map, id) => (Object.hasOwn(map, id) ? map[id] : undefined);
  const earlier = {
    seqOfBody: async (id) => own(before.bodyIds, id),
    entry: async (seq) => own(before.money, seq) ?? own(before.others, seq),
  };
  return r.replay(apart, leaves.slice(k), { earlier });
}

// Rewrites `record` (its state's maps whole) as a record of the layout
// before the entries were kept apart: the maps in its state, no sorted body
// ids, no runs of entries beside it.
async function asOldLayout(record) {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('feeledger-ledger-state');
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  await new Promise((resolve, reject) => {
    const tx = db.transaction(['ledgers', 'entries'], 'readwrite');
    tx.objectStore('entries').delete(IDBKeyRange.bound([record.key], [record.key, []]));
    const old = { ...record };
    delete old.bodies;
    tx.objectStore('ledgers').put(old);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

async function run(c) {
  switch (c.op) {
    case 'replay': {
      const leaves = c.leaves.map(v.fromBase64);
      // Every entry before the last leaf, and before the middle one, kept
      // apart: the same verdict as with every entry in the state.
      const wholeVerdict = await verdict(() => r.replay(null, leaves));
      let sameApart = true;
      for (const k of new Set([leaves.length - 1, Math.floor(leaves.length / 2)])) {
        if (k >= 1 && (await verdict(() => replayApart(leaves, k))) !== wholeVerdict) sameApart = false;
      }
      try {
        // The genesis, then every other leaf as one batch: a batch's
        // signature checks start before any of its leaves is applied, under
        // the keys in force, so a change of roles inside it must have the
        // later leaves judged again.
        const state = await r.replay(await r.replay(null, leaves.slice(0, 1)), leaves.slice(1));
        // The whole log as one batch, and leaf by leaf, reach the same state.
        const whole = await r.replay(null, leaves);
        let again = null;
        for (const leaf of leaves) again = await r.replay(again, [leaf]);
        const same = (x) => JSON.stringify(plain(r.summarize(x))) === JSON.stringify(plain(r.summarize(state)));
        const sameResumed = same(whole) && same(again);
        return { ok: true, ...plain(r.summarize(state)), root: await r.stateRoot(state), sameResumed, sameApart };
      } catch (e) {
        if (e instanceof r.ReplayError) return { ok: false, seq: e.seq, rule: e.rule, detail: plain(e.detail), message: e.message, sameApart };
        throw e;
      }
    }
    case 'consistency': {
      const decode = (b) => { try { return v.fromBase64(b); } catch { return new Uint8Array(0); } };
      // As the core's test: a root that is not 32 bytes stands for a
      // 32-byte root no proof leads to.
      const root = async (b) => {
        const bytes = decode(b);
        return bytes.length === 32 ? bytes : v.sha256(v.concat(v.utf8('not a 32-byte root: '), bytes));
      };
      const ok = await t.verifyConsistency(c.size1, c.size2, c.proof.map(decode), await root(c.root1), await root(c.root2));
      return { ok };
    }
    case 'server-consistency': {
      const p = await (await fetch(`/api/v1/consistency?from=${c.from}&to=${c.to}`)).json();
      const proof = p.proof.map(v.fromBase64);
      const [from, to] = [v.fromHex(p.from_root), v.fromHex(p.to_root)];
      const flipped = proof.map((h, i) => (i === 0 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h));
      return {
        ok: await t.verifyConsistency(c.from, c.to, proof, from, to),
        tamperedProof: proof.length > 0 && await t.verifyConsistency(c.from, c.to, flipped, from, to),
        shortProof: await t.verifyConsistency(c.from, c.to, proof.slice(1), from, to),
        swappedRoots: await t.verifyConsistency(c.from, c.to, proof, to, from),
        otherSize: await t.verifyConsistency(c.from + 1, c.to, proof, from, to),
      };
    }
    case 'frontier-extend': {
      // Leaf hashes made up from their index; each (size, count) pair
      // extends the frontier of `size` leaves by `count` at once and leaf
      // by leaf, and the two must be the same.
      const hashOf = (i) => v.sha256(v.utf8(`leaf ${i}`));
      const pairs = [];
      for (let size = 0; size <= 33; size++) for (let count = 0; count <= 33; count++) pairs.push([size, count]);
      pairs.push([255, 1], [256, 256], [1000, 300], [3669, 100], [4095, 2]);
      const hashes = [];
      const frontiers = [[]];
      const largest = Math.max(...pairs.map(([a, b]) => a + b));
      for (let i = 0; i < largest; i++) {
        hashes.push(await hashOf(i));
        frontiers.push(await t.frontierAppend(frontiers[i], i, hashes[i]));
      }
      const mismatches = [];
      for (const [size, count] of pairs) {
        const extended = await t.frontierExtend(frontiers[size], size, hashes.slice(size, size + count));
        if (JSON.stringify(extended) !== JSON.stringify(frontiers[size + count])) mismatches.push([size, count]);
      }
      let refused = false;
      try {
        await t.frontierExtend(frontiers[3], 4, hashes.slice(4, 5));
      } catch {
        refused = true;
      }
      return { ok: true, compared: pairs.length, mismatches, refused };
    }
    case 'bundles':
      return { ok: true, bundles: t.bundlesCovering(c.from, c.to).map((b) => [b.path, b.first, b.width, b.skip]) };
    case 'worker': {
      // Each case runs on a record of its own, which starts as a copy of
      // the one it resumes from: the worker reads and writes it itself.
      const key = `harness\n${c.id}`;
      if (c.resume) {
        const record = await k.readRecord(saved[c.resume], { whole: true });
        if (c.corrupt) {
          // The saved tree is not the log's: its first subtree hash differs.
          record.state.frontier[0] = (record.state.frontier[0][0] === '0' ? '1' : '0') + record.state.frontier[0].slice(1);
        }
        await k.writeRecord({ ...record, key });
        if (c.oldLayout) await asOldLayout({ ...record, key });
      }
      const out = await inWorker({ base: c.base, logKey: c.logKey, record: { key, origin: 'harness', base: location.origin + c.base } });
      if (out.ok && c.save) saved[c.save] = key;
      return out.ok
        ? { ok: true, ...plain(out.result), progress: out.progress }
        : { ok: false, failure: plain(out.failure), progress: out.progress };
    }
    case 'kept': {
      // The record a worker case saved: its state without the per-entry
      // maps, which are kept apart (sorted body ids, runs of entries), and
      // looked up exactly, and only below the record's size.
      const key = saved[c.saved];
      const plainRecord = await k.readRecord(key);
      const whole = (await k.readRecord(key, { whole: true })).state;
      const kept = plainRecord.state;
      const apart = [kept.bodyIds, kept.money, kept.others].every((m) => Object.keys(m).length === 0);
      const lookup = k.earlierEntries(plainRecord);
      const bodyIds = Object.entries(whole.bodyIds);
      const found = await Promise.all(bodyIds.map(([id]) => lookup.seqOfBody(id)));
      const seqs = [...Array(whole.size).keys()];
      const entries = await Promise.all(seqs.map((seq) => lookup.entry(seq)));
      const expected = seqs.map((seq) => (Object.hasOwn(whole.money, seq) ? whole.money[seq] : whole.others[seq]));
      const below = k.earlierEntries({ ...plainRecord, state: { ...plainRecord.state, size: c.below } });
      const [idAt] = bodyIds.find(([, seq]) => seq === c.below);
      return {
        ok: true,
        apart,
        size: whole.size,
        bodyIds: bodyIds.length,
        moneyAndOthers: Object.keys(whole.money).length + Object.keys(whole.others).length,
        bodyIdsAgree: found.every((seq, i) => seq === bodyIds[i][1]),
        entriesAgree: JSON.stringify(plain(entries)) === JSON.stringify(plain(expected)),
        belowAnswers: [await below.seqOfBody(idAt), await below.entry(c.below), (await below.entry(c.below - 1)) !== undefined],
      };
    }
    case 'append': {
      const res = await fetch(c.path);
      return { ok: res.ok, text: await res.text() };
    }
    default:
      return { ok: false, why: `the harness knows no op ${c.op}` };
  }
}

const out = {};
try {
  const cases = await (await fetch('/__replay-js-cases.json')).json();
  for (const c of cases) {
    try {
      out[c.id] = await run(c);
    } catch (e) {
      out[c.id] = { ok: false, why: `${e.name}: ${e.message}` };
    }
  }
} catch (e) {
  out['harness'] = { ok: false, why: String(e && e.stack ? e.stack : e) };
}
// Report to the test's server in chunks of unpadded base64url.
const text = v.toBase64(v.utf8(JSON.stringify(out))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const CHUNK_CHARS = 16000;
const n = Math.max(1, Math.ceil(text.length / CHUNK_CHARS));
for (let i = 0; i < n; i++) {
  await fetch(`/__result/${i}/${n}?${text.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS)}`);
}
</script></body></html>
"#;

/// The index of `seq`'s first byte in bundle bytes, and the leaf's length.
fn leaf_in_bundle(bundle: &[u8], index_in_bundle: usize) -> (usize, usize) {
    let mut at = 0;
    for i in 0.. {
        let length = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
        if i == index_in_bundle {
            return (at + 2, length);
        }
        at += 2 + length;
    }
    unreachable!()
}

/// Changes one byte of `seq`'s leaf in its bundle: a digit of its amount.
fn tamper(bundle: &mut [u8], seq: u64) {
    let (at, length) = leaf_in_bundle(bundle, (seq % 256) as usize);
    let leaf = &mut bundle[at..at + length];
    let needle = b"\"amount_fen\":";
    let pos = leaf
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the tampered entry has an amount")
        + needle.len();
    leaf[pos] = if leaf[pos] == b'9' {
        b'8'
    } else {
        leaf[pos] + 1
    };
}

/// What the proxy saw and did: each request target in order, with marks
/// where the harness asked for entries to be appended.
#[derive(Default)]
struct Seen {
    requests: Vec<String>,
    /// The server's balances and summary just before the append.
    before_append: Option<(Value, Value)>,
    /// The signed checkpoint just before the append, served again under
    /// [`OLD_PREFIX`] as a rolled-back server would.
    old_checkpoint: Option<Vec<u8>>,
}

/// Appends [`APPENDED`] entries to the real server, signed by the demo's
/// fee clerk, each committed at once (the income rule, and so the rule of
/// an income's reversal, needs one company key): incomes, and last the
/// reversal of one of the demo's own incomes, so that a visit resuming from
/// the demo looks up an entry it kept apart.
fn append_incomes(http: &Http, clerk: &SigningKey) -> String {
    for i in 0..APPENDED - 1 {
        let body = BODIES.income(&format!("replay-js-{i}"), 10_000 + i, "3-1502");
        let sigs = support::bodies::sign_with(&body, &[("wuye-li", clerk)]);
        let r = http.post_json("/api/v1/proposals", &proposal_request(&body, &sigs));
        if r.status != 201 {
            return format!("append {i}: {} {}", r.status, r.text());
        }
    }
    // The first of the demo's incomes the server lets be reversed (one
    // reversed already is refused, and changes nothing).
    let incomes = http.get("/api/v1/entries?kind=income&limit=50").json();
    for entry in incomes["entries"].as_array().into_iter().flatten() {
        let body = Body {
            content: Content::Reversal(Reversal {
                target_seq: entry["seq"].as_u64().expect("an entry's seq"),
                reason: "replay.js 测试：冲销一笔早先的收入".into(),
            }),
            ..BODIES.income("replay-js-reversal", 1, "3-1502")
        };
        let sigs = support::bodies::sign_with(&body, &[("wuye-li", clerk)]);
        if http
            .post_json("/api/v1/proposals", &proposal_request(&body, &sigs))
            .status
            == 201
        {
            return "appended".to_string();
        }
    }
    "no demo income could be reversed".to_string()
}

fn harness_server(
    upstream: &str,
    cases_json: String,
    seen: Arc<Mutex<Seen>>,
    reported: ResultChunks,
    clerk: SigningKey,
) -> Loopback {
    let upstream = upstream.to_string();
    loopback(move |target| {
        if reported.take(target) {
            return Ok(Answer::ok("text/plain", "ok"));
        }
        seen.lock().unwrap().requests.push(target.to_string());
        let http = Http::new(&upstream);
        Ok(match path_of(target) {
            HARNESS_PATH => Answer::ok("text/html; charset=utf-8", HARNESS),
            CASES_PATH => Answer::ok("application/json", cases_json.as_bytes()),
            APPEND_PATH => {
                let before = (
                    http.get("/api/v1/balances").json(),
                    http.get("/api/v1/summary").json(),
                );
                let mut seen = seen.lock().unwrap();
                seen.before_append = Some(before);
                seen.old_checkpoint = Some(http.checkpoint());
                drop(seen);
                Answer::ok("text/plain", append_incomes(&http, &clerk))
            }
            path if path == format!("{OLD_PREFIX}/checkpoint") => {
                let old = seen.lock().unwrap().old_checkpoint.clone();
                match old {
                    Some(note) => Answer::ok("text/plain; charset=utf-8", note),
                    None => Answer::ok("text/plain", "no old checkpoint yet"),
                }
            }
            _ => {
                let target = target.strip_prefix(OLD_PREFIX).unwrap_or(target);
                let (forward, tampered) = match target.strip_prefix(TAMPERED_PREFIX) {
                    Some(rest) => (rest, true),
                    None => (target, false),
                };
                let r = http.get(forward);
                let mut body = r.body;
                let bundle = format!("/tile/entries/{:03}", TAMPERED_SEQ / 256);
                if tampered && path_of(forward) == bundle && r.status == 200 {
                    tamper(&mut body, TAMPERED_SEQ);
                }
                Answer {
                    status: r.status,
                    content_type: r.content_type,
                    body,
                    cache_control: None,
                }
            }
        })
    })
}

// ---------------------------------------------------------------------------
// One Chromium run for every test in this file
// ---------------------------------------------------------------------------

struct Outcome {
    results: Map<String, Value>,
    /// Request targets, in order, as the proxy saw them.
    requests: Vec<String>,
    /// `feeledger balances --json --data` of the demo, before serving it.
    cli_balances: Value,
    /// The server's balances and summary before and after the append.
    before_append: (Value, Value),
    after_append: (Value, Value),
    /// The core's verdict on each hand-made ledger.
    ledgers: Vec<(&'static str, Value)>,
    /// Each consistency vector and whether it wants an error.
    vectors: Vec<(String, bool)>,
}

fn outcome() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let demo = Demo::new();
        let cli = support::run(["balances", "--json", "--data", demo.data.to_str().unwrap()]);
        cli.assert_ok();
        let cli_balances = cli.json();
        let server = Server::start(&demo.data);
        let log_key = demo.log_key.clone();

        let mut cases: Vec<Value> = Vec::new();
        let ledgers = ledgers();
        for (name, leaves) in &ledgers {
            let leaves: Vec<String> = leaves.iter().map(|l| BASE64.encode(l)).collect();
            cases.push(json!({ "id": format!("ledger/{name}"), "op": "replay", "leaves": leaves }));
        }
        let vectors = consistency_vectors();
        for (name, input, _) in &vectors {
            let mut input = input.clone();
            input["id"] = json!(format!("vector/{name}"));
            cases.push(input);
        }
        for (from, to) in [(1, DEMO_ENTRIES), (1_000, 1_024), (3_000, DEMO_ENTRIES), (DEMO_ENTRIES - 1, DEMO_ENTRIES)] {
            cases.push(json!({ "id": format!("server-consistency/{from}-{to}"), "op": "server-consistency", "from": from, "to": to }));
        }
        cases.push(json!({ "id": "frontier-extend", "op": "frontier-extend" }));
        for (from, to) in [(0, 3_669), (3_669, 3_869), (256, 512), (1_000, 1_000), (0, 256_001)] {
            cases.push(json!({ "id": format!("bundles/{from}-{to}"), "op": "bundles", "from": from, "to": to }));
        }
        let worker = |id: &str, base: &str, resume: Option<&str>, save: Option<&str>| {
            json!({ "id": id, "op": "worker", "base": base, "logKey": log_key, "resume": resume, "save": save })
        };
        cases.push(worker("worker/tampered", TAMPERED_PREFIX, None, None));
        cases.push(json!({ "id": "mark/first", "op": "append", "path": "/__mark-first" }));
        cases.push(worker("worker/first", "", None, Some("first")));
        cases.push(json!({ "id": "append", "op": "append", "path": APPEND_PATH }));
        cases.push(worker("worker/resumed", "", Some("first"), Some("resumed")));
        cases.push(json!({ "id": "kept/resumed", "op": "kept", "saved": "resumed", "below": DEMO_ENTRIES }));
        cases.push(json!({ "id": "mark/fresh", "op": "append", "path": "/__mark-fresh" }));
        cases.push(worker("worker/fresh", "", None, None));
        cases.push(json!({ "id": "mark/wrong-key", "op": "append", "path": "/__mark-wrong-key" }));
        cases.push(worker("worker/wrong-key", "", None, None));
        let last = cases.len() - 1;
        let other = demo.path("other-log-key");
        std::fs::create_dir_all(&other).unwrap();
        cases[last]["logKey"] = json!(support::log_keygen(&other, DEMO_ORIGIN).verifier_key);
        let mut forked = worker("worker/forked-state", "", Some("first"), None);
        forked["corrupt"] = json!(true);
        cases.push(forked);
        cases.push(worker("worker/rolled-back", OLD_PREFIX, Some("resumed"), None));
        let mut old_layout = worker("worker/old-layout", "", Some("first"), Some("old-layout"));
        old_layout["oldLayout"] = json!(true);
        cases.push(old_layout);
        cases.push(json!({ "id": "kept/old-layout", "op": "kept", "saved": "old-layout", "below": DEMO_ENTRIES }));

        let seen = Arc::new(Mutex::new(Seen::default()));
        let reported = ResultChunks::default();
        let harness = harness_server(
            &server.url,
            Value::Array(cases).to_string(),
            seen.clone(),
            reported.clone(),
            demo.signing_key("wuye-li"),
        );
        let (results, console) =
            chromium_until_reported(&format!("{}{HARNESS_PATH}", harness.url), &reported);
        drop(harness);
        let http = server.http();
        let after_append = (http.get("/api/v1/balances").json(), http.get("/api/v1/summary").json());
        drop(server);

        let results: Map<String, Value> = serde_json::from_slice(&results).expect("JSON results");
        assert!(
            results.get("harness").is_none(),
            "the harness failed: {}\nconsole:\n{}",
            results["harness"],
            console.join("\n")
        );
        let seen = std::mem::take(&mut *seen.lock().unwrap());
        Outcome {
            results,
            requests: seen.requests,
            cli_balances,
            before_append: seen.before_append.expect("the harness asked for the append"),
            after_append,
            ledgers: ledgers.iter().map(|(name, leaves)| (*name, core_verdict(leaves))).collect(),
            vectors: vectors.into_iter().map(|(name, _, want_err)| (name, want_err)).collect(),
        }
    })
}

fn result(id: &str) -> &'static Value {
    outcome()
        .results
        .get(id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}

/// The bundle paths the worker fetched between two marks (request targets
/// the harness made, in order).
fn bundles_between(start: &str, end: &str) -> Vec<String> {
    let requests = &outcome().requests;
    let from = requests
        .iter()
        .position(|r| r == start)
        .expect("start mark");
    let to = requests.iter().position(|r| r == end).expect("end mark");
    assert!(from < to, "{start} before {end}: {requests:#?}");
    requests[from..to]
        .iter()
        .filter(|r| r.starts_with("/tile/entries/"))
        .cloned()
        .collect()
}

/// A month summary of the API with amounts as decimal text, as the worker
/// gives them.
fn api_months(summary: &Value) -> Value {
    let months = summary["months"].as_array().expect("months");
    Value::Array(
        months
            .iter()
            .map(|m| {
                let totals: Vec<Value> = m["totals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        json!({
                            "fund": t["fund"], "category": t["category"],
                            "income_fen": t["income_fen"].as_i64().unwrap().to_string(),
                            "spending_fen": t["spending_fen"].as_i64().unwrap().to_string(),
                        })
                    })
                    .collect();
                json!({ "month": m["month"], "totals": totals })
            })
            .collect(),
    )
}

fn balances_as_text(balances: &Value) -> Value {
    Value::Object(
        balances
            .as_object()
            .expect("balances")
            .iter()
            .map(|(f, b)| (f.clone(), json!(b.as_u64().expect("fen").to_string())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// The worker's replay of the demo ledger from the real server, in a Web
/// Worker, reaches exactly the balances `feeledger balances --json` prints,
/// the month totals `GET /api/v1/summary` serves, and the root of the
/// signed checkpoint, at the checkpoint's size; it reported progress.
#[test]
fn worker_replay_of_the_demo_matches_the_cli_and_the_checkpoint() {
    let first = result("worker/first");
    assert_eq!(first["ok"], json!(true), "{first}");
    assert_eq!(first["size"], json!(DEMO_ENTRIES));
    assert_eq!(
        first["balances_fen"],
        balances_as_text(&outcome().cli_balances)
    );
    let (balances, summary) = &outcome().before_append;
    assert_eq!(balances["size"], json!(DEMO_ENTRIES));
    assert_eq!(
        first["balances_fen"],
        balances_as_text(&balances["balances_fen"])
    );
    assert_eq!(first["months"], api_months(summary));
    assert!(
        first["months"].as_array().unwrap().len() >= 12,
        "a year of months"
    );
    // The root the worker computed is the checkpoint's, which it verified
    // with the log key.
    assert_eq!(first["root"], first["checkpoint"]["root"]);
    assert_eq!(first["checkpoint"]["size"], json!(DEMO_ENTRIES));
    let note = first["checkpoint"]["note"].as_str().unwrap();
    let root_b64 = note.lines().nth(2).unwrap();
    assert_eq!(
        hex::encode(BASE64.decode(root_b64).unwrap()),
        first["root"].as_str().unwrap()
    );
    // For the reader of the test log, not a check: how long the visits took.
    for id in ["worker/first", "worker/resumed", "worker/fresh"] {
        let fetched = &result(id)["fetched"];
        println!(
            "{id}: {} ms, {} bytes in {} requests",
            fetched["elapsedMs"],
            fetched["bytes"],
            fetched["requests"].as_array().map_or(0, Vec::len)
        );
    }
    let progress = first["progress"].as_array().unwrap();
    assert_eq!(progress.len(), 15, "one progress message a bundle");
    assert_eq!(progress.last(), Some(&json!(DEMO_ENTRIES)));
}

/// What a verified run keeps: the replay state without its per-entry maps,
/// and beside it one record an entry, of the first visit and the resumed
/// one's new entries alike, which the lookup a returning visit replays with
/// answers exactly, and only for entries below the size it is asked for.
#[test]
fn kept_entries_are_apart_and_looked_up_exactly() {
    let kept = result("kept/resumed");
    let grown = DEMO_ENTRIES + APPENDED;
    assert_eq!(kept["ok"], json!(true), "{kept}");
    assert_eq!(kept["apart"], json!(true), "{kept}");
    assert_eq!(kept["size"], json!(grown), "{kept}");
    assert_eq!(kept["bodyIds"], json!(grown), "{kept}");
    assert_eq!(kept["moneyAndOthers"], json!(grown), "{kept}");
    assert_eq!(kept["bodyIdsAgree"], json!(true), "{kept}");
    assert_eq!(kept["entriesAgree"], json!(true), "{kept}");
    assert_eq!(kept["belowAnswers"], json!([null, null, true]), "{kept}");
}

/// A record kept before the entries were kept apart (every body id and
/// entry in its state) is resumed from as it is, and written back apart.
#[test]
fn a_record_of_the_old_layout_is_resumed_and_moved_apart() {
    let resumed = result("worker/old-layout");
    assert_eq!(resumed["ok"], json!(true), "{resumed}");
    assert_eq!(resumed["fetched"]["from"], json!(DEMO_ENTRIES), "{resumed}");
    assert_eq!(resumed["root"], result("worker/resumed")["root"]);
    let kept = result("kept/old-layout");
    let grown = DEMO_ENTRIES + APPENDED;
    assert_eq!(kept["apart"], json!(true), "{kept}");
    assert_eq!(kept["bodyIds"], json!(grown), "{kept}");
    assert_eq!(kept["moneyAndOthers"], json!(grown), "{kept}");
    assert_eq!(kept["bodyIdsAgree"], json!(true), "{kept}");
    assert_eq!(kept["entriesAgree"], json!(true), "{kept}");
}

/// A second visit resumes from the saved state: after 200 more entries it
/// fetches only the two bundles holding new leaves (the demo's last
/// bundle, now full, and a new partial one), plus a consistency proof from
/// the saved size, and reaches exactly what a fresh replay of the grown log
/// reaches, which is what the server says.
#[test]
fn resumed_replay_fetches_only_new_bundles_and_matches_a_fresh_one() {
    let resumed = result("worker/resumed");
    let fresh = result("worker/fresh");
    assert_eq!(resumed["ok"], json!(true), "{resumed}");
    assert_eq!(fresh["ok"], json!(true), "{fresh}");
    let grown = DEMO_ENTRIES + APPENDED;
    assert_eq!(result("append")["text"], json!("appended"));
    for key in ["size", "root", "balances_fen", "months", "head"] {
        assert_eq!(resumed[key], fresh[key], "{key}");
    }
    assert_eq!(resumed["size"], json!(grown));
    let (balances, summary) = &outcome().after_append;
    assert_eq!(
        resumed["balances_fen"],
        balances_as_text(&balances["balances_fen"])
    );
    assert_eq!(resumed["months"], api_months(summary));
    assert_eq!(resumed["root"], resumed["checkpoint"]["root"]);

    // What each visit fetched, counted at the proxy.
    let first_bundles = bundles_between("/__mark-first", APPEND_PATH);
    assert_eq!(first_bundles.len(), 15, "{first_bundles:?}");
    assert_eq!(first_bundles.last().unwrap(), "/tile/entries/014.p/85");
    let resumed_bundles = bundles_between(APPEND_PATH, "/__mark-fresh");
    assert_eq!(
        resumed_bundles,
        ["/tile/entries/014", "/tile/entries/015.p/29"],
        "only the bundles holding entries 3669..3869"
    );
    let requests = &outcome().requests;
    let from = requests.iter().position(|r| r == APPEND_PATH).unwrap();
    let to = requests.iter().position(|r| r == "/__mark-fresh").unwrap();
    assert!(
        requests[from..to]
            .iter()
            .any(|r| r == &format!("/api/v1/consistency?from={DEMO_ENTRIES}&to={grown}")),
        "the resumed visit asked for a consistency proof: {:?}",
        &requests[from..to]
    );
    assert_eq!(resumed["fetched"]["from"], json!(DEMO_ENTRIES));
    let fresh_bundles = bundles_between("/__mark-fresh", "/__mark-wrong-key");
    assert_eq!(
        fresh_bundles.len(),
        16,
        "the fresh replay fetched every bundle"
    );
    assert_eq!(fresh_bundles[14..], resumed_bundles);
}

/// A proxy that changes one byte (a digit of the amount) of one entry in
/// one bundle makes the worker fail on that entry: the seq is named, with
/// the rule the core would name (its signature no longer verifies).
#[test]
fn a_changed_byte_in_a_bundle_names_the_entry() {
    let tampered = result("worker/tampered");
    assert_eq!(tampered["ok"], json!(false), "{tampered}");
    let failure = &tampered["failure"];
    assert_eq!(failure["seq"], json!(TAMPERED_SEQ), "{failure}");
    assert_eq!(failure["rule"], json!("bad_signature"), "{failure}");
    assert_eq!(failure["step"], json!("replay"));
}

/// A saved state the signed log does not extend is refused before any
/// bundle is read: a saved tree that is not the log's prefix fails the
/// consistency proof (a fork), and a checkpoint smaller than the saved
/// size (the server rolled back) is named as such.
#[test]
fn a_saved_state_the_log_does_not_extend_is_refused() {
    let forked = result("worker/forked-state");
    assert_eq!(forked["ok"], json!(false), "{forked}");
    assert_eq!(forked["failure"]["step"], json!("consistency"), "{forked}");
    assert_eq!(forked["failure"]["rule"], json!("fork"), "{forked}");
    assert_eq!(forked["progress"], json!([]), "no bundle was replayed");
    let rolled_back = result("worker/rolled-back");
    assert_eq!(rolled_back["ok"], json!(false), "{rolled_back}");
    assert_eq!(
        rolled_back["failure"]["rule"],
        json!("rollback"),
        "{rolled_back}"
    );
    let detail = &rolled_back["failure"]["detail"];
    assert_eq!(
        detail["savedSize"],
        json!(DEMO_ENTRIES + APPENDED),
        "{detail}"
    );
    assert_eq!(detail["size"], json!(DEMO_ENTRIES), "{detail}");
    // The served note comes with the failure, as evidence beside the kept one.
    let note = detail["note"].as_str().expect("the served note");
    assert!(
        note.starts_with(&format!("{DEMO_ORIGIN}\n{DEMO_ENTRIES}\n")),
        "{note}"
    );
    assert_eq!(detail["proof"], json!([]), "{detail}");
    let forked_detail = &forked["failure"]["detail"];
    assert!(
        forked_detail["note"].as_str().is_some() && forked_detail["proof"].is_array(),
        "{forked_detail}"
    );
}

/// A log key other than the ledger's (another key for the same origin) is
/// refused at the checkpoint: nothing signed by it is believed.
#[test]
fn another_log_key_is_refused() {
    let wrong = result("worker/wrong-key");
    assert_eq!(wrong["ok"], json!(false), "{wrong}");
    assert_eq!(wrong["failure"]["step"], json!("checkpoint"), "{wrong}");
}

/// Every hand-made ledger gets the core's verdict from replay.js: refused
/// at the same seq with the same rule (unknown key, overdraft, broken
/// chain, bad signature, unmet rule, replay, reversal faults, second
/// genesis, wrong ledger, unknown fund, an old key after governance,
/// malformed leaves, rules naming a missing role, weak, non-canonical and
/// off-curve role keys), or accepted with the same balances, month totals
/// and root; and leaf-by-leaf resumption reaches the same state, as does a
/// replay whose earlier entries are kept apart and looked up (as a
/// returning visit replays).
#[test]
fn hand_made_ledgers_get_the_cores_verdict() {
    let mut wrong = Vec::new();
    for (name, core) in &outcome().ledgers {
        let js = result(&format!("ledger/{name}"));
        let same = if core["ok"] == json!(true) {
            ["size", "balances_fen", "months", "root"]
                .iter()
                .all(|k| js[*k] == core[*k])
                && js["sameResumed"] == json!(true)
        } else {
            js["ok"] == json!(false) && js["seq"] == core["seq"] && js["rule"] == core["rule"]
        } && js["sameApart"] == json!(true);
        if !same {
            wrong.push(format!("{name}: core {core}\n  replay.js {js}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "replay.js disagrees with the core:\n{}",
        wrong.join("\n")
    );
    // The refusals the task names are among them, each as the core names it.
    let verdict = |name: &str| {
        &outcome()
            .ledgers
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
    };
    assert_eq!(verdict("unknown_key")["rule"], json!("unknown_key"));
    assert_eq!(verdict("overdraft")["rule"], json!("overdraft"));
    assert_eq!(verdict("broken_chain")["rule"], json!("broken_chain"));
    assert_eq!(verdict("good")["ok"], json!(true));
    // Role keys: weak and non-canonical ones are malformed; of the small y
    // values some are points (the key is accepted, so the old key is then
    // unknown) and some are not (malformed), so both paths of replay.js's
    // point decoding were compared.
    for name in ["key_small_order", "key_not_canonical"] {
        assert_eq!(verdict(name)["rule"], json!("malformed"), "{name}");
        assert_eq!(verdict(name)["seq"], json!(2), "{name}");
    }
    let y_rules: Vec<&Value> = ["key_y2", "key_y3", "key_y4", "key_y5", "key_y6", "key_y7"]
        .iter()
        .map(|name| &verdict(name)["rule"])
        .collect();
    assert!(y_rules.contains(&&json!("malformed")), "{y_rules:?}");
    assert!(y_rules.contains(&&json!("unknown_key")), "{y_rules:?}");
    assert_eq!(
        verdict("rules_name_a_missing_role")["rule"],
        json!("malformed")
    );
    assert_eq!(verdict("display_name_good")["ok"], json!(true));
    for name in [
        "display_name_too_long",
        "display_name_leading_space",
        "display_name_trailing_ideographic_space",
        "display_name_empty",
        "display_name_control_char",
    ] {
        assert_eq!(verdict(name)["rule"], json!("malformed"), "{name}");
        assert_eq!(verdict(name)["seq"], json!(2), "{name}");
    }
}

/// tlog.js verifies consistency proofs as the core does: every RFC 6962
/// consistency vector (98 files, 6 happy paths) gets the vector's verdict;
/// the real server's proofs verify, and a flipped bit, a missing hash,
/// swapped roots or another size are refused.
#[test]
fn consistency_proofs_agree_with_the_vectors_and_the_server() {
    let mut wrong = Vec::new();
    let mut accepted = 0;
    for (name, want_err) in &outcome().vectors {
        let js = result(&format!("vector/{name}"));
        accepted += usize::from(js["ok"] == json!(true));
        if js["ok"] != json!(!want_err) {
            wrong.push(format!("{name}: wantErr {want_err}, tlog.js {js}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!((outcome().vectors.len(), accepted), (98, 6));
    for (from, to) in [
        (1, DEMO_ENTRIES),
        (1_000, 1_024),
        (3_000, DEMO_ENTRIES),
        (DEMO_ENTRIES - 1, DEMO_ENTRIES),
    ] {
        let js = result(&format!("server-consistency/{from}-{to}"));
        assert_eq!(
            js,
            &json!({ "ok": true, "tamperedProof": false, "shortProof": false, "swappedRoots": false, "otherSize": false }),
            "{from}-{to}"
        );
    }
}

/// Extending a frontier by many leaf hashes at once (each level's pairs
/// hashed together, as a replay does) gives the frontier that appending
/// them one by one gives, for every size and count up to 33 and a few
/// larger ones across tile edges; a frontier of the wrong size is refused.
#[test]
fn a_frontier_extended_at_once_is_the_one_appended_leaf_by_leaf() {
    let r = result("frontier-extend");
    assert_eq!(r["compared"], json!(34 * 34 + 5), "{r}");
    assert_eq!(r["mismatches"], json!([]), "{r}");
    assert_eq!(r["refused"], json!(true), "{r}");
}

/// The bundle paths that cover a range of leaves are the tlog-tiles ones:
/// full bundles, a partial `.p/W` at the right edge, three-digit groups
/// with `x` prefixes, and the leaves to skip in the first.
#[test]
fn bundle_paths_cover_exactly_the_range() {
    let bundles = |id: &str| result(&format!("bundles/{id}"))["bundles"].clone();
    let all = bundles("0-3669");
    assert_eq!(all.as_array().unwrap().len(), 15);
    assert_eq!(all[0], json!(["tile/entries/000", 0, 256, 0]));
    assert_eq!(all[14], json!(["tile/entries/014.p/85", 3584, 85, 0]));
    assert_eq!(
        bundles("3669-3869"),
        json!([
            ["tile/entries/014", 3584, 256, 85],
            ["tile/entries/015.p/29", 3840, 29, 0]
        ])
    );
    assert_eq!(
        bundles("256-512"),
        json!([["tile/entries/001", 256, 256, 0]])
    );
    assert_eq!(bundles("1000-1000"), json!([]));
    let big = bundles("0-256001");
    assert_eq!(big[999], json!(["tile/entries/999", 255744, 256, 0]));
    assert_eq!(
        big[1000],
        json!(["tile/entries/x001/000.p/1", 256000, 1, 0])
    );
}
