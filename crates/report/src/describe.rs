//! Entries and proposals in human terms: one-line summaries and full
//! details (English, as `list` and `show` print them), the Chinese-first
//! labels of kinds, categories, roles, amounts and funds, and the echo of
//! a proposal a bookkeeper checks before it is recorded. Everything here
//! returns text; printing it is the caller's.

use feeledger_core::entry::{
    Body, Content, ExpenseCategory, FundDef, IncomeCategory, KeyDef, Kind, Leaf, Role,
};
use feeledger_core::money::{format_fen, format_yuan};
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
                    let names: Vec<String> = def
                        .keys
                        .iter()
                        .map(feeledger_core::entry::KeyDef::person_and_key)
                        .collect();
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

/// Who signed, by role: `王建国（weiyuan-wang） (committee)`.
pub fn signers(leaf: &Leaf, state: &LedgerState) -> String {
    leaf.signatures
        .iter()
        .map(|s| match state.role_of(&s.key) {
            Some(role) => format!("{} ({role})", person(&s.key, state)),
            None => format!("{} (former key)", s.key),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The people behind `keys`, as the roles in force name them:
/// `王建国（weiyuan-wang）, 赵秀英（weiyuan-zhao）`; a key no role holds
/// now by its name alone.
pub fn people(keys: &[String], state: &LedgerState) -> String {
    keys.iter()
        .map(|key| person(key, state))
        .collect::<Vec<_>>()
        .join(", ")
}

fn person(key: &str, state: &LedgerState) -> String {
    state
        .roles()
        .values()
        .flat_map(|role| &role.keys)
        .find(|def| def.name == key)
        .map_or_else(|| key.to_string(), KeyDef::person_and_key)
}

/// `committee (业主委员会)`: the role's name, with the body it stands for.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Company => "company (物业公司)",
        Role::Committee => "committee (业主委员会)",
        Role::Supervisor => "supervisor (社区党组织)",
    }
}

/// UTC date and time of a millisecond timestamp, to the second:
/// `2026-02-03T08:05:09Z`.
pub fn format_time_ms(time_ms: u64) -> String {
    let secs = time_ms / 1000;
    // Whole days since 1970 fit an i64 for every u64 of milliseconds.
    let date = date_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub use feeledger_core::genesis::date_from_days;

pub use feeledger_core::names::{
    expense_category_zh, income_category_zh, EXPENSE_CATEGORIES, INCOME_CATEGORIES,
};

/// `停车费 parking`
pub fn income_category_label(category: IncomeCategory) -> String {
    format!("{} {}", income_category_zh(category), category.as_str())
}

/// `保洁 cleaning`
pub fn expense_category_label(category: ExpenseCategory) -> String {
    format!("{} {}", expense_category_zh(category), category.as_str())
}

/// `收入 income`
pub fn kind_label(kind: Kind) -> String {
    let zh = match kind {
        Kind::Genesis => "建账",
        Kind::Income => "收入",
        Kind::Expenditure => "支出",
        Kind::Transfer => "资金划转",
        Kind::Reversal => "冲销",
        Kind::Governance => "规则变更",
    };
    format!("{zh} {}", kind.as_str())
}

/// `¥1,280.50 (1280.50 元)`: the grouped form people read, and the plain
/// form they type.
pub fn amount_label(amount_fen: u64) -> String {
    format!(
        "{} ({} 元)",
        format_yuan(amount_fen),
        format_fen(amount_fen)
    )
}

/// `公共收益 Common-area income (public_revenue)`, from the ledger's own
/// fund names; the bare id for a fund the ledger does not define.
pub fn fund_label(id: &str, funds: &[FundDef]) -> String {
    match funds.iter().find(|f| f.id == id) {
        Some(f) => format!("{} ({id})", f.name),
        None => format!("{id} (not a fund of this ledger)"),
    }
}

/// The kind and amount of a body in a few words, for the line that says
/// it was recorded: `收入 income ¥1,280.50`.
pub fn kind_and_amount(body: &Body) -> String {
    let amount = match &body.content {
        Content::Income(i) => Some(i.amount_fen),
        Content::Expenditure(e) => Some(e.amount_fen),
        Content::Transfer(t) => Some(t.amount_fen),
        _ => None,
    };
    match amount {
        Some(fen) => format!("{} {}", kind_label(body.kind()), format_yuan(fen)),
        None => kind_label(body.kind()),
    }
}

/// Terminal columns of the echo's labels, so that the values line up.
const ECHO_LABEL_COLUMNS: usize = 26;

/// Terminal columns a text takes: CJK characters take two.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| if c >= '\u{2E80}' { 2 } else { 1 })
        .sum()
}

/// A proposal in plain words, Chinese first, before it is recorded: what a
/// bookkeeper checks against the invoice or bank slip in hand.
pub fn proposal_echo(body: &Body, funds: &[FundDef], reversal_target: Option<&Body>) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| {
        let pad = ECHO_LABEL_COLUMNS.saturating_sub(columns(label));
        let _ = writeln!(out, "  {label}{:pad$}{value}", "");
    };
    line("类型 kind:", &kind_label(body.kind()));
    match &body.content {
        Content::Income(i) => {
            line("金额 amount:", &amount_label(i.amount_fen));
            line("资金 fund:", &fund_label(&i.fund, funds));
            line("类别 category:", &income_category_label(i.category));
            line("付款方 payer:", &i.payer);
            line("所属期 period:", &i.period.to_string());
        }
        Content::Expenditure(e) => {
            line("金额 amount:", &amount_label(e.amount_fen));
            line("资金 fund:", &fund_label(&e.fund, funds));
            line("类别 category:", &expense_category_label(e.category));
            line("收款方 payee:", &e.payee);
            for a in &e.attachments {
                line(
                    "附件 attached:",
                    &format!("{} ({} bytes, sha256 {})", a.name, a.bytes, a.sha256),
                );
            }
            match &e.owners_approval {
                Some(o) => line("业主表决 owners' vote:", &o.decision_ref),
                None => line("业主表决 owners' vote:", "无 none cited"),
            }
        }
        Content::Transfer(t) => {
            line("金额 amount:", &amount_label(t.amount_fen));
            line("转出 from fund:", &fund_label(&t.from_fund, funds));
            line("转入 to fund:", &fund_label(&t.to_fund, funds));
            if let Some(o) = &t.owners_approval {
                line("业主表决 owners' vote:", &o.decision_ref);
            }
        }
        Content::Reversal(r) => {
            line("冲销对象 target:", &format!("entry {}", r.target_seq));
            if let Some(target) = reversal_target {
                line("原记录 which was:", &summary(target));
            }
            line("原因 reason:", &r.reason);
        }
        Content::Governance(_) | Content::Genesis(_) => {
            line("内容 what:", &summary(body));
        }
    }
    line("业务日期 date:", &body.date.to_string());
    let memo = match &body.content {
        Content::Income(i) => i.memo.as_str(),
        Content::Expenditure(e) => e.memo.as_str(),
        Content::Transfer(t) => t.memo.as_str(),
        Content::Governance(g) => g.memo.as_str(),
        _ => "",
    };
    if !memo.is_empty() {
        line("备注 memo:", memo);
    }
    out
}
