//! The committee's workflow: `feeledger sign`, `feeledger withdraw` and
//! the text of `feeledger proposals`.
//!
//! A proposal id is taken by any unique prefix of at least 8 hex digits
//! (`feeledger_core::proposal_policy::IdPrefix`). Before anything is
//! signed, the proposal is shown in plain words, Chinese first: what it
//! does, who proposed it, who has signed, who still must, and the fund's
//! balance after. Who may withdraw, and how a withdrawal is signed, is the
//! core's (`proposal_policy::withdrawal_step`, `withdrawal`); this file is
//! glue.

use crate::clock::now_ms;
use crate::describe;
use crate::propose::{confirm, report};
use crate::remote::Remote;
use anyhow::{anyhow, bail, Context, Result};
use feeledger_audit::LedgerView;
use feeledger_core::entry::{Body, Content, EntrySignature, FundDef, Kind, Leaf, Role};
use feeledger_core::hash::Hash;
use feeledger_core::keyfile::sign_body;
use feeledger_core::money::format_yuan;
use feeledger_core::proposal_policy::{self as policy, IdMatch, IdPrefix};
use feeledger_core::state::{LedgerState, Signer};
use feeledger_core::withdrawal::sign_withdrawal;
use feeledger_ledgerdir::{DataDir, KeyFile};
use feeledger_store::{Store, WithdrawalOutcome};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Most ids a prefix is matched against before it is called ambiguous:
/// enough to list every match a person could tell apart.
const PREFIX_MATCHES_MAX: usize = 16;

/// A proposal as the signer sees it, wherever it was read.
struct Shown {
    id: Hash,
    body: Body,
    origin: String,
    funds: Vec<FundDef>,
    signatures: Vec<EntrySignature>,
    proposed_by: Vec<String>,
    withdrawals: Vec<String>,
    created_ms: u64,
}

/// The one id `text` names among `candidates`, or a one-line error naming
/// the rule and the fix.
fn pick(text: &str, prefix: &IdPrefix, candidates: &[Hash]) -> Result<Hash> {
    match policy::resolve_id(prefix, candidates) {
        Ok(id) => Ok(id),
        Err(IdMatch::None) => bail!(
            "no pending or withdrawn proposal has an id starting with {text}; `feeledger proposals` lists the pending ones"
        ),
        Err(IdMatch::Ambiguous(ids)) => bail!(
            "proposal id {text} is ambiguous: it starts {} proposals ({}); give more of its digits",
            ids.len(),
            ids.iter().map(Hash::to_hex).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn parse_prefix(text: &str) -> Result<IdPrefix> {
    IdPrefix::parse(text).map_err(|e| anyhow!("{e}"))
}

/// The id a typed prefix names in a data directory.
pub fn resolve_local(store: &Store, text: &str) -> Result<Hash> {
    let prefix = parse_prefix(text)?;
    if let Some(id) = prefix.full() {
        return Ok(id);
    }
    let ids = store.proposal_ids_with_prefix(&prefix, PREFIX_MATCHES_MAX)?;
    pick(text, &prefix, &ids)
}

/// The id a typed prefix names on a server. The server's matches are
/// checked against the prefix, not trusted.
pub fn resolve_remote(remote: &Remote, text: &str) -> Result<Hash> {
    let prefix = parse_prefix(text)?;
    if let Some(id) = prefix.full() {
        return Ok(id);
    }
    let found = remote.get_json(&format!("/api/v1/proposals?prefix={}", prefix.as_str()))?;
    let ids: Vec<Hash> = found["proposals"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["id"].as_str().and_then(|id| Hash::from_hex(id).ok()))
        .collect();
    pick(text, &prefix, &ids)
}

/// The error for a proposal that is no longer pending in a data directory.
fn not_pending_local(store: &Store, id: &Hash) -> anyhow::Error {
    match (store.withdrawn(id), store.seq_of_body(id)) {
        (Ok(Some(w)), _) => anyhow!(
            "proposal {id} was withdrawn by {} at {}; it can no longer be signed or withdrawn (propose a new body if it is still wanted)",
            w.withdrawn_by.join(", "),
            time_label(w.withdrawn_ms)
        ),
        (_, Ok(Some(seq))) => anyhow!(
            "proposal {id} is already committed, as entry {seq}; `feeledger show {seq}` shows it"
        ),
        _ => anyhow!("no pending proposal {id}; `feeledger proposals` lists them"),
    }
}

fn shown_local(store: &Store, id: &Hash) -> Result<Shown> {
    let Some(record) = store.proposal_record(id)? else {
        return Err(not_pending_local(store, id));
    };
    let state = store.state();
    Ok(Shown {
        id: *id,
        body: record.proposal.decoded_body()?,
        origin: state.origin().to_string(),
        funds: state.genesis().funds.clone(),
        proposed_by: record.proposers(),
        withdrawals: record.withdrawals.iter().map(|s| s.key.clone()).collect(),
        signatures: record.proposal.signatures,
        created_ms: record.proposal.created_ms,
    })
}

/// A proposal from a server, checked: its body must hash to the id asked
/// for. What else the server says (signers, proposer) is shown, not
/// trusted: the signatures made here are over the checked body only.
fn shown_remote(remote: &Remote, id: &Hash) -> Result<Shown> {
    let p = remote.get_json(&format!("/api/v1/proposals/{id}"))?;
    if p["state"] == json!("withdrawn") {
        bail!(
            "proposal {id} was withdrawn by {} at {}; it can no longer be signed or withdrawn (propose a new body if it is still wanted)",
            keys_of(&p["withdrawn_by"]).join(", "),
            time_label(p["withdrawn_ms"].as_u64().unwrap_or(0))
        );
    }
    let text = p["body_jcs"]
        .as_str()
        .context("the server's proposal has no body_jcs")?;
    let body = Body::decode(text.as_bytes())
        .map_err(|e| anyhow!("the server's proposal is malformed: {e}"))?;
    if body.id() != *id {
        bail!("the server returned a different body than proposal {id}; nothing was signed");
    }
    let info = remote.get_json("/api/v1/ledger")?;
    let origin = info["origin"]
        .as_str()
        .context("the server's /api/v1/ledger has no origin")?
        .to_string();
    let funds: Vec<FundDef> = serde_json::from_value(info["funds"].clone())
        .context("the server's /api/v1/ledger has no list of funds")?;
    let signatures: Vec<EntrySignature> = serde_json::from_value(p["signatures"].clone())
        .context("the server's proposal has no signature list")?;
    Ok(Shown {
        id: *id,
        body,
        origin,
        funds,
        signatures,
        proposed_by: keys_of(&p["proposed_by"]),
        withdrawals: p["withdrawals"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["key"].as_str().map(str::to_string))
            .collect(),
        created_ms: p["created_ms"].as_u64().unwrap_or(0),
    })
}

fn keys_of(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

/// `2026-01-08 09:30 UTC`, from ms since 1970.
fn time_label(ms: u64) -> String {
    let secs = ms / 1_000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX);
    let rest = secs % 86_400;
    format!(
        "{} {:02}:{:02} UTC",
        feeledger_core::genesis::date_from_days(days),
        rest / 3_600,
        rest % 3_600 / 60
    )
}

/// The roles a body's rule names, with the reversal's target read where
/// there is one.
fn rule_roles_of(state: &LedgerState, body: &Body, target: Option<&Body>) -> Vec<Role> {
    policy::rule_roles(state.rules(), body.kind(), target.map(Body::kind))
}

/// Per role the rule names: (role, signed, threshold, keys still free to
/// sign), from the keys in force.
fn still_needed(
    state: &LedgerState,
    rule: &[Role],
    signed: &[String],
) -> Vec<(Role, u32, u32, Vec<String>)> {
    rule.iter()
        .filter_map(|role| {
            let def = state.roles().get(role)?;
            let have = def.keys.iter().filter(|k| signed.contains(&k.name)).count();
            let free: Vec<String> = def
                .keys
                .iter()
                .filter(|k| !signed.contains(&k.name))
                .map(|k| k.name.clone())
                .collect();
            Some((
                *role,
                u32::try_from(have).unwrap_or(u32::MAX),
                def.threshold,
                free,
            ))
        })
        .collect()
}

/// `业主委员会 committee: 1 of 2 signed; 1 more from: c2, c3`, or
/// `满足 met`, one role per line.
fn needed_lines(state: &LedgerState, needed: &[(Role, u32, u32, Vec<String>)]) -> Vec<String> {
    needed
        .iter()
        .map(|(role, have, need, free)| {
            let label = describe::role_label(*role);
            if have >= need {
                format!("{label}: {have} of {need}, 已满足 met")
            } else {
                format!(
                    "{label}: {have} of {need}; 还需 {more} 人 {more} more, from: {}",
                    describe::people(free, state),
                    more = need - have
                )
            }
        })
        .collect()
}

/// The fund balances a body moves, before and after, in yuan; or why it
/// would overdraw. A reversal's and governance's are not shown.
fn balance_lines(state: &LedgerState, body: &Body, funds: &[FundDef]) -> Vec<String> {
    let moves: Vec<(&str, i128)> = match &body.content {
        Content::Income(i) => vec![(&i.fund, i128::from(i.amount_fen))],
        Content::Expenditure(e) => vec![(&e.fund, -i128::from(e.amount_fen))],
        Content::Transfer(t) => vec![
            (&t.from_fund, -i128::from(t.amount_fen)),
            (&t.to_fund, i128::from(t.amount_fen)),
        ],
        _ => vec![],
    };
    moves
        .into_iter()
        .map(|(fund, change)| {
            let before = state.balances().get(fund).copied().unwrap_or(0);
            let label = describe::fund_label(fund, funds);
            match u64::try_from(i128::from(before) + change) {
                Ok(after) => format!("{label}: {} → {}", format_yuan(before), format_yuan(after)),
                Err(_) => format!(
                    "{label}: {}; 余额不足，差 {} not enough: short by {}",
                    format_yuan(before),
                    format_yuan(u64::try_from(-(i128::from(before) + change)).unwrap_or(0)),
                    format_yuan(u64::try_from(-(i128::from(before) + change)).unwrap_or(0)),
                ),
            }
        })
        .collect()
}

/// What a signer reads before deciding, on stderr: the proposal in plain
/// words, who proposed it and when, who signed, who still must, and the
/// balance after.
fn show(shown: &Shown, state: &LedgerState, target: Option<&Body>, action: &str) {
    eprintln!("{action} in {}:", shown.origin);
    eprintln!("  提议 proposal:            {}", shown.id);
    eprint!(
        "{}",
        describe::proposal_echo(&shown.body, &shown.funds, target)
    );
    if shown.body.kind() == Kind::Governance {
        eprint!("{}", describe::details(&shown.body));
    }
    let proposer = if shown.proposed_by.is_empty() {
        "未记录 not recorded".to_string()
    } else {
        describe::people(&shown.proposed_by, state)
    };
    eprintln!(
        "  提议人 proposed by:       {proposer} ({})",
        time_label(shown.created_ms)
    );
    let signed: Vec<String> = shown.signatures.iter().map(|s| s.key.clone()).collect();
    eprintln!(
        "  已签 signed by:           {}",
        describe::people(&signed, state)
    );
    let rule = rule_roles_of(state, &shown.body, target);
    for line in needed_lines(state, &still_needed(state, &rule, &signed)) {
        eprintln!("  签署进度 signatures:      {line}");
    }
    for line in balance_lines(state, &shown.body, &shown.funds) {
        eprintln!("  余额 balance after:       {line}");
    }
    if !shown.withdrawals.is_empty() {
        eprintln!(
            "  已签撤回 withdrawal signed by: {}",
            describe::people(&shown.withdrawals, state)
        );
    }
}

/// Refuses keys that already signed: signing again changes nothing, and
/// saying nothing would look as if it had counted.
fn refuse_signed_again(keys: &[KeyFile], signed: &[String], what: &str) -> Result<()> {
    if let Some(key) = keys.iter().find(|k| signed.iter().any(|s| s == k.name())) {
        bail!(
            "you already signed {what} (as {}); it needs signatures from other keys",
            key.name()
        );
    }
    Ok(())
}

/// The reversal's target body, from a view of the ledger.
fn target_of(body: &Body, leaf_bytes: impl Fn(u64) -> Option<Vec<u8>>) -> Option<Body> {
    match &body.content {
        Content::Reversal(r) => leaf_bytes(r.target_seq)
            .and_then(|bytes| Leaf::decode(&bytes).ok())
            .map(|leaf| leaf.body),
        _ => None,
    }
}

/// `feeledger sign --data DIR`.
pub fn sign_local(data: &DataDir, keys: &[KeyFile], id: &str, yes: bool) -> Result<()> {
    // Read the proposal, then let go of the data directory while a person
    // decides: the store's lock must not wait on a terminal.
    let (shown, body_bytes) = {
        let store = data.open()?;
        let id = resolve_local(&store, id)?;
        let shown = shown_local(&store, &id)?;
        let target = target_of(&shown.body, |seq| store.leaf_bytes(seq).ok().flatten());
        let signed: Vec<String> = shown.signatures.iter().map(|s| s.key.clone()).collect();
        refuse_signed_again(keys, &signed, "this proposal")?;
        show(&shown, &store.state(), target.as_ref(), "联署 To co-sign");
        let bytes = shown.body.to_canonical_bytes();
        (shown, bytes)
    };
    debug_assert_eq!(feeledger_core::hash::sha256(&body_bytes), shown.id);
    if !yes && !confirm("联署此提议？Co-sign it?")? {
        bail!("not signed: not confirmed (answer y, or pass --yes in scripts)");
    }
    let store = data.open()?;
    let log_key = data.log_key()?;
    let signatures = sign_body(&shown.body, keys);
    let outcome = store.add_signatures(&shown.id, signatures, now_ms(), &log_key.signer)?;
    report(&outcome, &shown.body, &crate::propose::data_target(data));
    Ok(())
}

/// `feeledger sign --url URL`.
pub fn sign_remote(remote: &Remote, keys: &[KeyFile], id: &str, yes: bool) -> Result<()> {
    let id = resolve_remote(remote, id)?;
    let shown = shown_remote(remote, &id)?;
    let signed: Vec<String> = shown.signatures.iter().map(|s| s.key.clone()).collect();
    refuse_signed_again(keys, &signed, "this proposal")?;
    let state = remote_state(remote)?;
    let target = remote_target(remote, &shown.body);
    show(&shown, &state, target.as_ref(), "联署 To co-sign");
    if !yes && !confirm("联署此提议？Co-sign it?")? {
        bail!("not signed: not confirmed (answer y, or pass --yes in scripts)");
    }
    let answer = remote.add_signatures(&id.to_hex(), &sign_body(&shown.body, keys))?;
    crate::propose::report_remote(&answer, &shown.body, remote);
    Ok(())
}

/// The roles, rules and balances a server states, for display only: a
/// ledger state rebuilt from the server's genesis leaf, with its stated
/// roles and balances. Not trusted for anything signed.
fn remote_state(remote: &Remote) -> Result<LedgerState> {
    let genesis = remote.get_json("/api/v1/entries/0")?;
    let leaf = base64_leaf(&genesis)?;
    let (mut state, _) = LedgerState::from_genesis(&leaf)
        .map_err(|e| anyhow!("the server's genesis does not check: {e}"))?;
    let info = remote.get_json("/api/v1/ledger")?;
    let balances = remote.get_json("/api/v1/balances")?;
    let mut snapshot = state.snapshot().clone();
    if let Ok(roles) = serde_json::from_value(info["roles"].clone()) {
        snapshot.roles = roles;
    }
    if let Ok(rules) = serde_json::from_value(info["rules"].clone()) {
        snapshot.rules = rules;
    }
    if let Ok(b) = serde_json::from_value::<BTreeMap<String, u64>>(balances["balances_fen"].clone())
    {
        snapshot.balances = b;
    }
    if let Ok(s) = LedgerState::from_snapshot(snapshot) {
        state = s;
    }
    Ok(state)
}

/// A reversal's target body from a server, for display and for the rule
/// it follows. A target the server does not give is left out.
fn remote_target(remote: &Remote, body: &Body) -> Option<Body> {
    target_of(body, |seq| {
        let entry = remote.get_json(&format!("/api/v1/entries/{seq}")).ok()?;
        base64_leaf(&entry).ok()
    })
}

fn base64_leaf(entry: &Value) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let text = entry["leaf_base64"]
        .as_str()
        .context("the server's entry has no leaf_base64")?;
    Ok(base64::engine::general_purpose::STANDARD.decode(text)?)
}

/// Refuses, before anything is signed, keys that may not withdraw: the
/// same decision the ledger makes (`proposal_policy::withdrawal_step`).
fn check_may_withdraw(
    shown: &Shown,
    state: &LedgerState,
    target: Option<&Body>,
    keys: &[KeyFile],
) -> Result<()> {
    refuse_signed_again(keys, &shown.withdrawals, "the withdrawal of this proposal")?;
    let signers: Vec<Signer> = keys
        .iter()
        .map(|k| {
            let role = state.role_of(k.name()).ok_or_else(|| {
                anyhow!(
                    "key {} holds no role in this ledger; a withdrawal is signed with a role member's key",
                    k.name()
                )
            })?;
            Ok(Signer {
                key: k.name().to_string(),
                role,
            })
        })
        .collect::<Result<_>>()?;
    let rule = rule_roles_of(state, &shown.body, target);
    policy::withdrawal_step(&signers, &shown.proposed_by, &rule, state.roles())?;
    Ok(())
}

/// Withdrawal signatures by every key, in key order.
fn withdrawal_signatures(keys: &[KeyFile], origin: &str, id: &Hash) -> Vec<EntrySignature> {
    let mut signatures: Vec<EntrySignature> = keys
        .iter()
        .map(|k| sign_withdrawal(k.name(), k.signing_key(), origin, id))
        .collect();
    feeledger_core::entry::normalize_signatures(&mut signatures);
    signatures
}

/// `feeledger withdraw --data DIR`.
pub fn withdraw_local(data: &DataDir, keys: &[KeyFile], id: &str, yes: bool) -> Result<()> {
    let shown = {
        let store = data.open()?;
        let id = resolve_local(&store, id)?;
        let shown = shown_local(&store, &id)?;
        let target = target_of(&shown.body, |seq| store.leaf_bytes(seq).ok().flatten());
        let state = store.state();
        check_may_withdraw(&shown, &state, target.as_ref(), keys)?;
        show(&shown, &state, target.as_ref(), "撤回 To withdraw");
        shown
    };
    if !yes && !confirm("撤回此提议？Withdraw it?")? {
        bail!("not withdrawn: not confirmed (answer y, or pass --yes in scripts)");
    }
    let store = data.open()?;
    let signatures = withdrawal_signatures(keys, &shown.origin, &shown.id);
    match store.withdraw(&shown.id, signatures, now_ms())? {
        WithdrawalOutcome::Withdrawn(w) => print_withdrawn(&shown.id, &w.withdrawn_by),
        WithdrawalOutcome::Pending {
            withdrawals,
            progress,
            ..
        } => {
            let keys: Vec<String> = withdrawals.into_iter().map(|s| s.key).collect();
            let progress: Vec<(String, u32, u32)> = progress
                .into_iter()
                .map(|(role, (have, need))| (role.to_string(), have, need))
                .collect();
            print_withdrawal_pending(
                &shown.id,
                &keys,
                &progress,
                &crate::propose::data_target(data),
            );
        }
    }
    Ok(())
}

/// `feeledger withdraw --url URL`.
pub fn withdraw_remote(remote: &Remote, keys: &[KeyFile], id: &str, yes: bool) -> Result<()> {
    let id = resolve_remote(remote, id)?;
    let shown = shown_remote(remote, &id)?;
    let state = remote_state(remote)?;
    let target = remote_target(remote, &shown.body);
    check_may_withdraw(&shown, &state, target.as_ref(), keys)?;
    show(&shown, &state, target.as_ref(), "撤回 To withdraw");
    if !yes && !confirm("撤回此提议？Withdraw it?")? {
        bail!("not withdrawn: not confirmed (answer y, or pass --yes in scripts)");
    }
    let signatures = withdrawal_signatures(keys, &shown.origin, &id);
    let answer = remote.withdraw(&id.to_hex(), &signatures)?;
    if answer["status"] == json!("withdrawn") {
        print_withdrawn(&id, &keys_of(&answer["withdrawn_by"]));
    } else {
        let progress: Vec<(String, u32, u32)> = answer["progress"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["role"].as_str().unwrap_or("?").to_string(),
                    p["have"]
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                    p["need"]
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(0),
                )
            })
            .collect();
        print_withdrawal_pending(
            &id,
            &keys_of(&answer["withdrawals"]),
            &progress,
            &format!("--url {}", remote.server().base_url()),
        );
    }
    Ok(())
}

fn print_withdrawn(id: &Hash, by: &[String]) {
    println!("已撤回 withdrawn proposal {id} (by {})", by.join(", "));
}

fn print_withdrawal_pending(
    id: &Hash,
    keys: &[String],
    progress: &[(String, u32, u32)],
    target: &str,
) {
    println!("撤回待定 withdrawal pending for proposal {id}");
    println!("withdrawal signed by: {}", keys.join(", "));
    println!(
        "withdrawal signatures so far: {}",
        progress
            .iter()
            .map(|(role, have, need)| format!("{role}: {have} of {need}"))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!("other members of the role run: feeledger withdraw {target} --key KEY {id}");
}

/// `feeledger proposals` as text: each pending proposal, who signed it, and
/// who still must, by role. (`--json` prints the proposals as stored.)
pub fn list_proposals(view: &dyn LedgerView) -> Result<()> {
    let pending = view.proposals()?;
    if pending.is_empty() {
        println!("没有待签提议 no pending proposals");
    }
    let state = view.state();
    for p in pending {
        let body = p.decoded_body()?;
        let target = target_of(&body, |seq| view.leaf_bytes(seq).ok().flatten());
        let signed: Vec<String> = p.signatures.iter().map(|s| s.key.clone()).collect();
        println!("{}  {}", p.id, describe::summary(&body));
        println!("  已签 signed by: {}", describe::people(&signed, &state));
        let rule = rule_roles_of(&state, &body, target.as_ref());
        for line in needed_lines(&state, &still_needed(&state, &rule, &signed)) {
            println!("  待签 waiting for: {line}");
        }
    }
    Ok(())
}
