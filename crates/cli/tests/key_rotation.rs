//! Rotating a member's key by governance (a lost or stolen phone,
//! docs/threat-model.md), with the real binary on a real data directory:
//! the old key stops counting from the next entry, the new one counts, and
//! the whole chain still verifies.

mod support;

use support::{keygen, Community, COMMITTEE, COMPANY};

/// The lost key: 王委员's phone.
const LOST: &str = COMMITTEE[0];
/// The key that replaces it, made on the member's new phone.
const NEW: &str = "weiyuan-wang2";

/// `[company]` as it is, and the committee with `LOST` replaced by `NEW`
/// (threshold 2 of 3 still), as a roles file for `propose governance`.
fn rotated_roles(c: &Community, new_public_key: &str) -> String {
    let line = |name: &str, key: &str| format!("{{ name = \"{name}\", public_key = \"{key}\" }}");
    let mut committee: Vec<(String, String)> = COMMITTEE[1..]
        .iter()
        .map(|n| (n.to_string(), c.key(n).public_key.clone()))
        .collect();
    committee.push((NEW.to_string(), new_public_key.to_string()));
    committee.sort();
    format!(
        "[company]\nthreshold = 1\nkeys = [{}]\n\n[committee]\nthreshold = 2\nkeys = [{}]\n",
        line(COMPANY, &c.key(COMPANY).public_key),
        committee
            .iter()
            .map(|(n, k)| line(n, k))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Proves rotation by governance: a governance entry proposed by the
/// company and one committee member and co-signed by another (the lost key
/// signs nothing) replaces the lost key with a new one. After it, a
/// proposal signed by the old key and a co-signature by the old key are
/// each refused with a one-line error naming the unknown key, and change
/// nothing; the new key's co-signature counts and, with a second member's,
/// commits an expenditure; a proposal the old key co-signed before the
/// rotation is dropped as stale; and `feeledger verify` passes over the
/// whole chain.
#[test]
fn a_lost_key_is_replaced_by_governance_and_stops_counting() {
    let c = Community::new();
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let new_key = keygen(c.dir.path(), NEW);
    let roles_path = c.path("roles-rotated.toml");
    std::fs::write(&roles_path, rotated_roles(&c, &new_key.public_key)).unwrap();

    // Before the rotation the old key still counts: it co-signs a pending
    // expenditure, which waits for one more member.
    let before = c.propose(
        &[COMPANY],
        "2026-02-05",
        &[
            "expenditure",
            "--amount",
            "100",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
        ],
    );
    before.assert_ok();
    let waiting = before
        .pending_id()
        .expect("the expenditure waits for the committee");
    c.sign(LOST, &waiting).assert_ok();

    // The rotation: company + 赵 propose, 陈 co-signs, 王's lost key signs nothing.
    let proposed = c.propose(
        &[COMPANY, COMMITTEE[1]],
        "2026-02-10",
        &[
            "governance",
            "--roles",
            roles_path.to_str().unwrap(),
            "--memo",
            "王委员手机丢失，更换钥匙",
        ],
    );
    proposed.assert_ok();
    let id = proposed
        .pending_id()
        .expect("governance waits for a second member");
    let committed = c.sign(COMMITTEE[2], &id);
    committed.assert_ok();
    let rotation_seq = committed
        .committed_seq()
        .unwrap_or_else(|| panic!("the rotation commits: {committed:#?}"));
    let committee = c.show_json(rotation_seq)["leaf"]["body"]["roles"]["committee"]["keys"].clone();
    let names: Vec<&str> = committee
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [COMMITTEE[2], NEW, COMMITTEE[1]], "{committee}");

    // The old key can no longer propose ...
    let snapshot = c.snapshot();
    let mut args = c.propose_args(
        &[COMPANY],
        "2026-02-11",
        &[
            "expenditure",
            "--amount",
            "50",
            "--category",
            "repairs",
            "--payee",
            "星光维修部",
        ],
    );
    // (propose_args knows the community's keys; the lost key signs alone.)
    args.splice(
        3..5,
        ["--key".to_string(), c.key_path(LOST).display().to_string()],
    );
    let refused = support::run(&args);
    refused.assert_one_line_error(&[LOST, "belongs to no role"]);
    assert_eq!(c.snapshot(), snapshot, "a refused proposal changes nothing");

    // ... nor co-sign a new proposal.
    let fresh = c.propose(
        &[COMPANY],
        "2026-02-12",
        &[
            "expenditure",
            "--amount",
            "1280.50",
            "--category",
            "repairs",
            "--payee",
            "星光电梯维修有限公司",
        ],
    );
    fresh.assert_ok();
    let fresh_id = fresh
        .pending_id()
        .expect("the expenditure waits for the committee");
    let snapshot = c.snapshot();
    // `sign` shows the proposal first (on stderr), then the one error line.
    let refused = c.sign(LOST, &fresh_id);
    refused.assert_failed();
    let last = refused.stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: ") && last.contains(LOST) && last.contains("belongs to no role"),
        "{refused:#?}"
    );
    assert_eq!(
        c.snapshot(),
        snapshot,
        "a refused co-signature changes nothing"
    );

    // The new key counts: with 赵's, the expenditure commits.
    let new_path = new_key.path.display().to_string();
    let by_new = c.cmd("sign", &["--key", &new_path, "--yes", &fresh_id]);
    by_new.assert_ok();
    assert!(
        by_new.committed_seq().is_none(),
        "one member is not two: {by_new:#?}"
    );
    let done = c.sign(COMMITTEE[1], &fresh_id);
    done.assert_ok();
    let seq = done
        .committed_seq()
        .unwrap_or_else(|| panic!("two members commit it: {done:#?}"));
    let signers: Vec<String> = c.show_json(seq)["leaf"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(signers, [NEW, COMMITTEE[1], COMPANY], "sorted by key name");

    // The expenditure the old key co-signed before the rotation can never
    // commit as signed: the store dropped it as stale when the next
    // proposal came in, and says so to whoever tries to sign it.
    let pending = c.cmd("proposals", &["--json"]).json().to_string();
    assert!(!pending.contains(&waiting), "{pending}");
    c.sign(COMMITTEE[1], &waiting)
        .assert_one_line_error(&["no pending proposal", &waiting]);

    let report = c.verify_json();
    assert_eq!(report["entries"].as_u64(), Some(seq + 1), "{report}");
}
