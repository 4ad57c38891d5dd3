//! Entries and proposals in human terms.

use feeledger_core::entry::{Body, Content, Leaf, Role};
use feeledger_core::money::format_fen;
use feeledger_core::state::LedgerState;
use std::fmt::Write as _;

/// One line: what the entry does with money.
pub fn summary(body: &Body) -> String {
    match &body.content {
        Content::Genesis(g) => format!("genesis of {:?} ({} funds)", g.name, g.funds.len()),
        Content::Income(i) => format!(
            "income   +{} CNY into {} from {} ({}, period {}){}",
            format_fen(i.amount_fen),
            i.fund,
            i.payer,
            i.category.as_str(),
            i.period,
            memo(&i.memo)
        ),
        Content::Expenditure(e) => format!(
            "spending -{} CNY from {} to {} ({}){}",
            format_fen(e.amount_fen),
            e.fund,
            e.payee,
            e.category.as_str(),
            memo(&e.memo)
        ),
        Content::Transfer(t) => format!(
            "transfer {} CNY from {} to {}{}",
            format_fen(t.amount_fen),
            t.from_fund,
            t.to_fund,
            memo(&t.memo)
        ),
        Content::Reversal(r) => format!("reversal of entry {}: {}", r.target_seq, r.reason),
        Content::Governance(g) => {
            let mut what = Vec::new();
            if g.roles.is_some() {
                what.push("new roles");
            }
            if g.rules.is_some() {
                what.push("new rules");
            }
            format!("governance: {}{}", what.join(" and "), memo(&g.memo))
        }
    }
}

fn memo(memo: &str) -> String {
    if memo.is_empty() {
        String::new()
    } else {
        format!(" — {memo}")
    }
}

/// Several lines: the body in full, for a signer deciding whether to sign.
pub fn details(body: &Body) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ledger:   {}", body.ledger);
    let _ = writeln!(out, "date:     {}", body.date);
    let _ = writeln!(out, "what:     {}", summary(body));
    match &body.content {
        Content::Expenditure(e) => {
            for a in &e.attachments {
                let _ = writeln!(
                    out,
                    "attached: {} ({} bytes, sha256 {})",
                    a.name, a.bytes, a.sha256
                );
            }
            if let Some(o) = &e.owners_approval {
                let _ = writeln!(
                    out,
                    "owners:   decision {}; took part {}% by area, {}% by headcount; approved {}% by area, {}% by headcount",
                    o.decision_ref,
                    percent(o.participating_area_bp),
                    percent(o.participating_headcount_bp),
                    percent(o.approving_area_bp),
                    percent(o.approving_headcount_bp)
                );
            }
        }
        Content::Governance(g) => {
            if let Some(roles) = &g.roles {
                for (role, def) in roles {
                    let names: Vec<&str> = def.keys.iter().map(|k| k.name.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "role:     {role}: {} of [{}]",
                        def.threshold,
                        names.join(", ")
                    );
                }
            }
            if let Some(rules) = &g.rules {
                for (kind, roles) in rules {
                    let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "rule:     {} needs {}",
                        kind.as_str(),
                        roles.join(" + ")
                    );
                }
            }
        }
        _ => {}
    }
    let _ = writeln!(out, "nonce:    {}", body.nonce);
    out
}

fn percent(basis_points: u32) -> String {
    format!("{}.{:02}", basis_points / 100, basis_points % 100)
}

/// Who signed, by role.
pub fn signers(leaf: &Leaf, state: &LedgerState) -> String {
    leaf.signatures
        .iter()
        .map(|s| match state.role_of(&s.key) {
            Some(role) => format!("{} ({role})", s.key),
            None => format!("{} (former key)", s.key),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Company => "company (物业公司)",
        Role::Committee => "committee (业主委员会)",
        Role::Supervisor => "supervisor (社区党组织)",
    }
}
