//! End-to-end tests of `feeledger demo`, through the real binary: the sample
//! community ledger it builds passes a full audit and holds what the demo
//! promises, a second run reuses it, its keys are private and usable, and
//! two demos hold the same entries.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::{field, run};

const UNIT: &str = "3-1502";

/// Runs the binary; panics with everything it printed unless it exits 0.
#[track_caller]
fn feeledger(args: &[&str]) -> String {
    run(args).assert_ok().stdout.clone()
}

/// Runs a command with `--data DIR` and `--json`, and parses its output.
#[track_caller]
fn json(data: &Path, args: &[&str]) -> Value {
    let mut all = vec![args[0], "--data", data.to_str().unwrap()];
    all.extend(&args[1..]);
    all.push("--json");
    let out = feeledger(&all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{all:?}: not JSON ({e}):\n{out}"))
}

/// A new demo in a temporary directory; returns the directory and what `demo` printed.
fn new_demo() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo-data");
    let out = feeledger(&["demo", "--no-serve", "--data", data.to_str().unwrap()]);
    (dir, data, out)
}

/// The value after "log key:" in the demo's output.
fn printed_log_key(out: &str) -> String {
    field(out, "log key:").unwrap_or_else(|| panic!("no log key printed:\n{out}"))
}

/// The number of entries: one more than the newest seq (cheaper than an audit).
fn size(data: &Path) -> u64 {
    let newest = json(data, &["list", "--limit", "1"]);
    newest[0]["seq"].as_u64().expect("the ledger has entries") + 1
}

fn entries(list: &Value) -> &Vec<Value> {
    list.as_array().expect("a listing is a JSON array")
}

/// Proves that the demo ledger passes a full audit against the log key it
/// prints, has a year of activity (≥ 3000 entries, business dates in order),
/// leaves all three funds positive, and holds what the demo promises: exactly
/// one reversal (of a duplicated property fee), a unit's twelve monthly fees
/// (one paid late, for the month owed), an owner-approved elevator repair from
/// the maintenance fund whose contract hash matches the file beside it, a
/// transfer into that fund, and a committee change after which the retired
/// member's key signs nothing.
#[test]
fn demo_ledger_verifies_and_holds_a_year_of_activity() {
    let (_dir, data, out) = new_demo();
    assert!(out.contains("created"), "{out}");
    let log_key = printed_log_key(&out);
    assert!(
        log_key.starts_with("demo.feeledger.local/xingguang+"),
        "{log_key}"
    );

    // A full audit, trusting the printed log key.
    let report = json(&data, &["verify", "--log-key", &log_key]);
    assert_eq!(report["ok"], Value::Bool(true), "{report:#}");
    let count = report["entries"].as_u64().unwrap();
    assert!(count >= 3000, "only {count} entries");

    // All three funds positive, and the stored balances are the audited ones.
    let balances = json(&data, &["balances"]);
    for fund in ["operating", "public_revenue", "maintenance"] {
        let fen = balances[fund].as_u64().unwrap_or(0);
        assert!(fen > 0, "{fund} is {fen} fen: {balances:#}");
    }
    assert_eq!(balances, report["balances_fen"]);

    // Business dates never go backwards (newest first).
    let newest = json(&data, &["list", "--limit", "500"]);
    let dates: Vec<&str> = entries(&newest)
        .iter()
        .map(|e| e["leaf"]["body"]["date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");
    assert!(dates[0].starts_with("2025-12"), "{dates:?}");

    // Exactly one reversal, of a property fee whose twin was kept.
    let reversals = json(&data, &["list", "--kind", "reversal"]);
    assert_eq!(entries(&reversals).len(), 1, "{reversals:#}");
    let reversal = &entries(&reversals)[0]["leaf"]["body"];
    assert_eq!(reversal["reason"], "重复录入 duplicate entry");
    let target = reversal["target_seq"].as_u64().unwrap();
    let shown = json(&data, &["show", &target.to_string()]);
    let target_body = &shown["leaf"]["body"];
    assert_eq!(target_body["category"], "property_fee", "{shown:#}");
    assert_eq!(shown["reversed_by"], entries(&reversals)[0]["seq"]);
    let twin = json(&data, &["show", &(target - 1).to_string()]);
    for field in ["payer", "amount_fen", "period", "date"] {
        assert_eq!(twin["leaf"]["body"][field], target_body[field], "{field}");
    }
    assert_eq!(twin["reversed_by"], Value::Null);

    // The unit's payments: one per month owed, March's paid late in April.
    let paid = json(&data, &["list", "--payer", UNIT]);
    let mut periods = BTreeSet::new();
    for e in entries(&paid) {
        let body = &e["leaf"]["body"];
        assert_eq!(body["kind"], "income", "{e:#}");
        assert_eq!(body["category"], "property_fee", "{e:#}");
        assert_eq!(body["payer"], UNIT, "{e:#}");
        let period = body["period"].as_str().unwrap().to_string();
        if period == "2025-03" {
            assert!(
                body["date"].as_str().unwrap().starts_with("2025-04"),
                "{e:#}"
            );
        } else {
            assert!(body["date"].as_str().unwrap().starts_with(&period), "{e:#}");
        }
        assert!(periods.insert(period), "a month paid twice: {paid:#}");
    }
    assert_eq!(periods.len(), 12, "{periods:?}");

    // The elevator repair: maintenance fund, owners' approval, attachment.
    let spent = json(
        &data,
        &["list", "--fund", "maintenance", "--kind", "expenditure"],
    );
    let repair = entries(&spent)
        .iter()
        .map(|e| &e["leaf"]["body"])
        .find(|b| b.get("owners_approval").is_some())
        .unwrap_or_else(|| panic!("no owner-approved maintenance spending: {spent:#}"));
    assert_eq!(repair["category"], "elevator");
    let approval = &repair["owners_approval"];
    assert_eq!(approval["decision_ref"], "2025-业主大会-02");
    for field in ["participating_area_bp", "participating_headcount_bp"] {
        assert!(approval[field].as_u64().unwrap() >= 6_700, "{approval:#}");
    }
    for field in ["approving_area_bp", "approving_headcount_bp"] {
        assert!(approval[field].as_u64().unwrap() >= 7_500, "{approval:#}");
    }
    let attachment = &repair["attachments"][0];
    assert_eq!(attachment["name"], "电梯维修合同.pdf");
    let contract = std::fs::read(data.join("attachments").join("电梯维修合同.pdf")).unwrap();
    assert!(contract.starts_with(b"%PDF-"));
    assert_eq!(attachment["bytes"].as_u64(), Some(contract.len() as u64));
    assert_eq!(
        attachment["sha256"].as_str().unwrap(),
        feeledger_core::hash::sha256(&contract).to_hex(),
        "the ledger binds the contract file written beside it"
    );

    // Public revenue moved into the maintenance fund by owners' decision.
    let transfers = json(&data, &["list", "--kind", "transfer"]);
    let transfer = &entries(&transfers)[0]["leaf"]["body"];
    assert_eq!(transfer["from_fund"], "public_revenue");
    assert_eq!(transfer["to_fund"], "maintenance");
    assert!(transfer.get("owners_approval").is_some(), "{transfer:#}");

    // One committee change; afterwards the retired member signs nothing.
    let changes = json(&data, &["list", "--kind", "governance"]);
    assert_eq!(entries(&changes).len(), 1, "{changes:#}");
    let changed_at = entries(&changes)[0]["seq"].as_u64().unwrap();
    let spending = json(&data, &["list", "--kind", "expenditure", "--limit", "500"]);
    let signers = |e: &Value| -> Vec<String> {
        e["leaf"]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect()
    };
    let (mut before, mut after) = (0, 0);
    for e in entries(&spending) {
        let keys = signers(e);
        assert_eq!(keys.len(), 3, "company + 2 committee members: {keys:?}");
        if e["seq"].as_u64().unwrap() > changed_at {
            after += 1;
            assert!(!keys.contains(&"weiyuan-sun".to_string()), "{e:#}");
        } else if keys.contains(&"weiyuan-sun".to_string()) {
            before += 1;
        }
    }
    assert!(after > 0 && before > 0, "before {before}, after {after}");
}

/// Proves that running the demo again on the same directory reuses the
/// ledger (no error, nothing added), that every key file it wrote is mode
/// 0600, and that those keys work: a fee proposed with the clerk's key
/// commits, and a later demo run still reuses the (now longer) ledger.
#[test]
fn demo_reuses_its_directory_and_its_keys_work() {
    let (_dir, data, first) = new_demo();
    let count = size(&data);
    assert!(first.contains(&format!("entries:  {count}\n")), "{first}");

    let again = feeledger(&["demo", "--no-serve", "--data", data.to_str().unwrap()]);
    assert!(again.contains("reusing"), "{again}");
    assert!(again.contains(&format!("entries:  {count}\n")), "{again}");
    assert_eq!(printed_log_key(&again), printed_log_key(&first));
    assert_eq!(size(&data), count);

    let mut key_files: Vec<PathBuf> = std::fs::read_dir(data.join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(key_files.len(), 9, "{key_files:?}");
    key_files.push(data.join("log.key"));
    #[cfg(unix)]
    for path in &key_files {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }

    let clerk = data.join("keys").join("wuye-zhou.key");
    let out = feeledger(&[
        "propose",
        "--yes",
        "--data",
        data.to_str().unwrap(),
        "--key",
        clerk.to_str().unwrap(),
        "--date",
        "2025-12-30",
        "income",
        "--amount",
        "275.25",
        "--category",
        "property_fee",
        "--payer",
        UNIT,
        "--period",
        "2027-01",
    ]);
    assert!(
        out.contains(&format!("committed as entry {count}")),
        "{out}"
    );

    let third = feeledger(&["demo", "--no-serve", "--data", data.to_str().unwrap()]);
    assert!(third.contains("reusing"), "{third}");
    let report = json(&data, &["verify"]);
    assert_eq!(report["ok"], Value::Bool(true), "{report:#}");
    assert_eq!(report["entries"].as_u64(), Some(count + 1));
}

/// Proves that the demo is deterministic: two demos made separately hold the
/// same log key and, entry for entry, the same bodies and signatures (only
/// the recorded times, and so the hash links, differ).
#[test]
fn demo_is_deterministic() {
    let (_a, data_a, out_a) = new_demo();
    let (_b, data_b, out_b) = new_demo();
    assert_eq!(printed_log_key(&out_a), printed_log_key(&out_b));
    let count = size(&data_a);
    assert_eq!(count, size(&data_b));
    assert_eq!(json(&data_a, &["balances"]), json(&data_b, &["balances"]));
    let content = |data: &Path, seq: u64| {
        let shown = json(data, &["show", &seq.to_string()]);
        (
            shown["leaf"]["body"].clone(),
            shown["leaf"]["signatures"].clone(),
        )
    };
    for seq in [0, 1, count / 3, count / 2, count - 1] {
        assert_eq!(content(&data_a, seq), content(&data_b, seq), "entry {seq}");
    }
    let newest = |data: &Path| -> Vec<(Value, Value)> {
        entries(&json(data, &["list", "--limit", "500"]))
            .iter()
            .map(|e| (e["leaf"]["body"].clone(), e["leaf"]["signatures"].clone()))
            .collect()
    };
    assert_eq!(newest(&data_a), newest(&data_b));
}

/// Proves `sign` and `proposals` name the people behind the keys, as the
/// roles in force name them (the demo's keys carry signed display names):
/// who proposed, who signed, and who may still sign.
#[test]
fn signers_are_shown_by_their_names() {
    let (_dir, data, _) = new_demo();
    let data = data.to_str().unwrap();
    let key = |name: &str| format!("{data}/keys/{name}.key");
    let out = run([
        "propose",
        "--data",
        data,
        "--key",
        &key("wuye-li"),
        "--date",
        "2026-12-01",
        "--yes",
        "expenditure",
        "--amount",
        "120",
        "--category",
        "cleaning",
        "--payee",
        "洁美保洁公司",
        "--memo",
        "十二月保洁",
    ]);
    out.assert_ok();
    let id = out.pending_id().expect("spending waits for the committee");
    let listed = feeledger(&["proposals", "--data", data]);
    for shown in [
        "已签 signed by: 李明（物业经理）（wuye-li）",
        "王建国（weiyuan-wang）",
        "赵秀英（weiyuan-zhao）",
    ] {
        assert!(
            listed.contains(shown),
            "proposals shows {shown:?}:\n{listed}"
        );
    }
    let signed = run([
        "sign",
        "--data",
        data,
        "--key",
        &key("weiyuan-wang"),
        "--yes",
        &id,
    ]);
    signed.assert_ok();
    for shown in [
        "提议人 proposed by:       李明（物业经理）（wuye-li）",
        "已签 signed by:           李明（物业经理）（wuye-li）",
    ] {
        assert!(
            signed.stderr.contains(shown),
            "sign shows {shown:?}: {signed:#?}"
        );
    }
}
