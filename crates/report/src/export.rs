//! The ledger for accounting tools, written to any [`std::io::Write`].
//!
//! * **hledger** ([`write_hledger`]): a journal that `hledger check
//!   --strict` (and `ordereddates` and `payees`) accepts. Every account,
//!   commodity and payee is declared; each money-moving entry is one
//!   transaction dated with its business date, and every posting to a fund
//!   carries a balance assertion, so hledger itself re-adds the whole
//!   ledger and refuses a journal whose amounts were altered.
//! * **csv** ([`write_csv`]): one row per entry (genesis and governance
//!   too), RFC 4180.
//! * **json** ([`write_json`]): the decoded leaves with their hashes, and
//!   the balances.
//!
//! Amounts are integer fen throughout, written as yuan with [`format_fen`];
//! never floats. Each writer streams: it holds no entries, only (for
//! hledger) a 16-byte sort key per entry.
//!
//! From a data directory, the entries are read as the store holds them;
//! their signatures and hash chain are not checked again (the audit does
//! that). A [`feeledger_audit::RemoteLedger`] was verified whole against
//! the log key before it can be read. Either way the hledger journal's
//! final fund balances must equal the ledger's, or nothing more is
//! written and the export fails.

use crate::describe::format_time_ms;
use feeledger_audit::{LedgerView, ViewError};
use feeledger_core::entry::{Body, Content, Date, FormatError, Kind, Leaf};
use feeledger_core::hash::leaf_hash;
use feeledger_core::money::format_fen;
use feeledger_core::state::TRANSFER_CATEGORY;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// Why an export failed. What was written before the failure is not a
/// whole export: write to a file that replaces the old one only on success.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The ledger could not be read.
    #[error("reading the store")]
    Read(#[source] ViewError),
    /// An entry below the ledger's size is not there.
    #[error("entry {seq} is missing from the store")]
    Missing { seq: u64 },
    /// An entry's leaf does not decode.
    #[error("entry {seq} is damaged: {error}")]
    Damaged { seq: u64, error: FormatError },
    /// An entry's leaf is stored under another seq than its own.
    #[error("entry {seq} is damaged: its leaf says it is entry {leaf_seq}")]
    WrongSeq { seq: u64, leaf_seq: u64 },
    /// The store holds an entry at or beyond its recorded size.
    #[error("the store holds entry {seq}, beyond its recorded size {size}")]
    BeyondSize { seq: u64, size: u64 },
    /// The store holds fewer entries than its recorded size.
    #[error("the store holds {held} entries; its head says {size}")]
    TooFew { held: u64, size: u64 },
    /// A reversal names itself or a later entry.
    #[error("entry {seq} reverses entry {target_seq}, which is not before it")]
    ReversalNotBefore { seq: u64, target_seq: u64 },
    /// A reversal names an entry that moves no money.
    #[error("entry {seq} reverses entry {target_seq}, a {target_kind}, which moves no money")]
    ReversalOfNoMoney {
        seq: u64,
        target_seq: u64,
        target_kind: Kind,
    },
    /// An amount beyond what an `i64` of fen holds (the core allows at
    /// most 10^13 fen, so never from a ledger that verifies).
    #[error("amount {amount_fen} fen is out of range")]
    AmountRange { amount_fen: u64 },
    /// A journal running balance beyond a `u64` of fen.
    #[error("a running balance of {balance_fen} fen is out of range")]
    BalanceRange { balance_fen: i128 },
    /// A posting to a fund the genesis does not define.
    #[error("entry {seq} names fund {fund:?}, which genesis does not define")]
    UnknownFund { seq: u64, fund: String },
    /// A posting to an account the journal did not declare.
    #[error("entry {seq} posts to {account}, which was not declared")]
    UndeclaredAccount { seq: u64, account: String },
    /// The journal's final balance of a fund is not the ledger's.
    #[error(
        "the journal's balance of fund {fund} differs from the ledger's {} CNY; run `feeledger verify`",
        format_fen(*ledger_fen)
    )]
    JournalBalance { fund: String, ledger_fen: u64 },
    /// Writing the output failed.
    #[error(transparent)]
    Write(#[from] std::io::Error),
    /// A JSON value could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

type Result<T> = std::result::Result<T, ExportError>;

/// The hledger commodity: CNY with two decimals, amounts after the number.
const COMMODITY: &str = "CNY";

fn decode(seq: u64, bytes: &[u8]) -> Result<Leaf> {
    let leaf = Leaf::decode(bytes).map_err(|error| ExportError::Damaged { seq, error })?;
    if leaf.seq != seq {
        return Err(ExportError::WrongSeq {
            seq,
            leaf_seq: leaf.seq,
        });
    }
    Ok(leaf)
}

/// One entry by seq, with its bytes.
fn read_leaf(store: &dyn LedgerView, seq: u64) -> Result<(Vec<u8>, Leaf)> {
    let bytes = store
        .leaf_bytes(seq)
        .map_err(ExportError::Read)?
        .ok_or(ExportError::Missing { seq })?;
    let leaf = decode(seq, &bytes)?;
    Ok((bytes, leaf))
}

/// Streams every entry in seq order, checking that none is missing.
fn for_each_leaf(
    store: &dyn LedgerView,
    mut f: impl FnMut(&[u8], Leaf) -> Result<()>,
) -> Result<()> {
    let size = store.size();
    let mut next = 0u64;
    for item in store.leaves() {
        let (seq, bytes) = item.map_err(ExportError::Read)?;
        if seq != next {
            return Err(ExportError::Missing { seq: next });
        }
        if seq >= size {
            return Err(ExportError::BeyondSize { seq, size });
        }
        f(&bytes, decode(seq, &bytes)?)?;
        next += 1;
    }
    if next != size {
        return Err(ExportError::TooFew { held: next, size });
    }
    Ok(())
}

/// The target of a reversal, which must move money.
fn reversal_target(store: &dyn LedgerView, seq: u64, target_seq: u64) -> Result<Leaf> {
    if target_seq >= seq {
        return Err(ExportError::ReversalNotBefore { seq, target_seq });
    }
    let (_, target) = read_leaf(store, target_seq)?;
    if !matches!(
        target.body.content,
        Content::Income(_) | Content::Expenditure(_) | Content::Transfer(_)
    ) {
        return Err(ExportError::ReversalOfNoMoney {
            seq,
            target_seq,
            target_kind: target.body.kind(),
        });
    }
    Ok(target)
}

// ---------------------------------------------------------------- hledger

/// One posting of a journal transaction.
struct Posting {
    account: String,
    fen: i64,
    /// The fund, if the account is a fund's asset account: it gets a
    /// balance assertion.
    fund: Option<String>,
}

fn fund_account(fund: &str) -> String {
    format!("assets:funds:{fund}")
}

fn asset(fund: &str, fen: i64) -> Posting {
    Posting {
        account: fund_account(fund),
        fen,
        fund: Some(fund.to_string()),
    }
}

fn other(account: String, fen: i64) -> Posting {
    Posting {
        account,
        fen,
        fund: None,
    }
}

/// Amounts are at most 10^13 fen, so they fit an i64.
fn signed(amount_fen: u64) -> Result<i64> {
    i64::try_from(amount_fen).map_err(|_| ExportError::AmountRange { amount_fen })
}

/// The postings of an income, expenditure or transfer; none for the rest.
fn postings_of(body: &Body) -> Result<Vec<Posting>> {
    Ok(match &body.content {
        Content::Income(i) => {
            let a = signed(i.amount_fen)?;
            vec![
                asset(&i.fund, a),
                other(format!("income:{}:{}", i.fund, i.category.as_str()), -a),
            ]
        }
        Content::Expenditure(e) => {
            let a = signed(e.amount_fen)?;
            vec![
                other(format!("expenses:{}:{}", e.fund, e.category.as_str()), a),
                asset(&e.fund, -a),
            ]
        }
        Content::Transfer(t) => {
            let a = signed(t.amount_fen)?;
            vec![asset(&t.to_fund, a), asset(&t.from_fund, -a)]
        }
        _ => vec![],
    })
}

/// Text in a description: `;` would start a comment and `|` would split the
/// payee from the note, so they become their full-width forms. (The exact
/// text is in the CSV and JSON exports.)
fn clean(text: &str) -> String {
    text.replace(';', "；").replace('|', "｜")
}

fn with_memo(text: String, memo: &str) -> String {
    if memo.is_empty() {
        text
    } else {
        format!("{text} — {}", clean(memo))
    }
}

/// The payee of a money-moving body: the payer or payee, or "transfer".
fn payee_of(body: &Body) -> Option<String> {
    match &body.content {
        Content::Income(i) => Some(clean(&i.payer)),
        Content::Expenditure(e) => Some(clean(&e.payee)),
        Content::Transfer(_) => Some("transfer".into()),
        _ => None,
    }
}

/// One journal transaction.
struct Transaction {
    date: Date,
    seq: u64,
    payee: String,
    note: String,
    tags: String,
    postings: Vec<Posting>,
}

/// The transaction of a genesis, income, expenditure, transfer or reversal;
/// `None` for governance, which moves no money.
fn transaction(store: &dyn LedgerView, leaf: &Leaf, bytes: &[u8]) -> Result<Option<Transaction>> {
    let body = &leaf.body;
    let seq = leaf.seq;
    let mut tags = format!(
        "seq:{seq}, kind:{}, leaf:{}",
        body.kind(),
        leaf_hash(bytes).to_hex()
    );
    let (payee, note, postings) = match &body.content {
        Content::Governance(_) => return Ok(None),
        Content::Genesis(g) => {
            // Zero postings to every fund: each fund's account exists from
            // the start, and its opening balance is asserted.
            let postings = g.funds.iter().map(|f| asset(&f.id, 0)).collect();
            ("genesis".to_string(), clean(&g.name), postings)
        }
        Content::Income(i) => (
            clean(&i.payer),
            with_memo(format!("{} {}", i.category.as_str(), i.period), &i.memo),
            postings_of(body)?,
        ),
        Content::Expenditure(e) => (
            clean(&e.payee),
            with_memo(e.category.as_str().to_string(), &e.memo),
            postings_of(body)?,
        ),
        Content::Transfer(t) => (
            "transfer".to_string(),
            with_memo(format!("{} to {}", t.from_fund, t.to_fund), &t.memo),
            postings_of(body)?,
        ),
        Content::Reversal(r) => {
            let target = reversal_target(store, seq, r.target_seq)?;
            let postings = postings_of(&target.body)?
                .into_iter()
                .map(|p| Posting { fen: -p.fen, ..p })
                .collect();
            tags.push_str(&format!(", reverses:{}", r.target_seq));
            (
                payee_of(&target.body).unwrap_or_default(),
                format!("reversal of entry {}: {}", r.target_seq, clean(&r.reason)),
                postings,
            )
        }
    };
    if matches!(
        body.kind(),
        Kind::Income | Kind::Expenditure | Kind::Transfer
    ) {
        if let Some(by) = store.reversed_by(seq).map_err(ExportError::Read)? {
            tags.push_str(&format!(", reversed_by:{by}"));
        }
    }
    Ok(Some(Transaction {
        date: body.date,
        seq,
        payee,
        note,
        tags,
        postings,
    }))
}

/// Yuan text of signed fen, exactly: -12345 → "-123.45".
fn yuan(fen: i128) -> Result<String> {
    let abs = u64::try_from(fen.unsigned_abs())
        .map_err(|_| ExportError::BalanceRange { balance_fen: fen })?;
    let sign = if fen < 0 { "-" } else { "" };
    Ok(format!("{sign}{}", format_fen(abs)))
}

/// Writes the hledger journal of `store` to `w`.
///
/// # Errors
///
/// [`ExportError::Read`] if the ledger cannot be read; an entry missing,
/// damaged or out of place ([`ExportError::Missing`], ...); a reversal of
/// a later entry or of one that moves no money; a posting to a fund the
/// genesis lacks; [`ExportError::JournalBalance`] if the journal's final
/// balances are not the ledger's; [`ExportError::Write`] if `w` fails.
pub fn write_hledger(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
    let state = store.state();
    let genesis = state.genesis();

    // Pass 1, streaming: the accounts and payees to declare, and the order
    // of the transactions. hledger checks balance assertions in date order,
    // and bodies may be back-dated, so transactions are written sorted by
    // (date, seq). Only that sort key is kept per entry (16 bytes; 16 MB
    // for a million entries): pass 2 reads each entry again by seq.
    let mut order: Vec<(Date, u64)> = Vec::new();
    let mut accounts: BTreeSet<String> = BTreeSet::new();
    let mut payees: BTreeSet<String> = BTreeSet::new();
    payees.insert("genesis".into());
    for_each_leaf(store, |_, leaf| {
        let body = &leaf.body;
        match &body.content {
            Content::Governance(_) => return Ok(()),
            // A reversal uses its target's accounts and payee, which the
            // target (an earlier entry) has already added.
            Content::Genesis(_) | Content::Reversal(_) => {}
            _ => {
                for p in postings_of(body)? {
                    if p.fund.is_none() {
                        accounts.insert(p.account);
                    }
                }
                payees.extend(payee_of(body));
            }
        }
        order.push((body.date, leaf.seq));
        Ok(())
    })?;
    order.sort_unstable();

    writeln!(w, "; feeledger export: hledger journal")?;
    writeln!(w, "; ledger:  {}", state.origin())?;
    writeln!(w, "; name:    {}", genesis.name)?;
    writeln!(
        w,
        "; entries: {} (head leaf hash {})",
        state.size(),
        state.head()
    )?;
    writeln!(w, ";")?;
    writeln!(
        w,
        "; One transaction per money-moving entry, dated with its business date and"
    )?;
    writeln!(
        w,
        "; sorted by (date, seq); the code (N) is the entry's seq. Each posting to a"
    )?;
    writeln!(
        w,
        "; fund asserts the fund's running balance in that order, which can differ"
    )?;
    writeln!(
        w,
        "; from the ledger's (seq order) for back-dated entries; the final balances"
    )?;
    writeln!(
        w,
        "; are the same. Governance entries move no money and are left out."
    )?;
    writeln!(
        w,
        "; Check with a UTF-8 locale: LANG=C.UTF-8 hledger -f FILE check --strict"
    )?;
    writeln!(w)?;
    writeln!(w, "commodity 1,000.00 {COMMODITY}")?;
    writeln!(w)?;
    for fund in &genesis.funds {
        writeln!(w, "; fund {}: {}", fund.id, fund.name)?;
    }
    // Funds (assets), then income, then expenses.
    let funds: BTreeSet<String> = genesis.funds.iter().map(|f| fund_account(&f.id)).collect();
    let (income, expenses): (Vec<&String>, Vec<&String>) =
        accounts.iter().partition(|a| a.starts_with("income:"));
    let typed = funds
        .iter()
        .map(|a| (a, "A"))
        .chain(income.into_iter().map(|a| (a, "R")))
        .chain(expenses.into_iter().map(|a| (a, "X")));
    for (account, kind) in typed {
        writeln!(w, "account {account:<44}  ; type:{kind}")?;
    }
    writeln!(w)?;
    for payee in &payees {
        writeln!(w, "payee {payee}")?;
    }

    // Pass 2: the transactions, in (date, seq) order, with running balances.
    let mut balances: BTreeMap<&str, i128> = genesis
        .funds
        .iter()
        .map(|f| (f.id.as_str(), 0i128))
        .collect();
    for (_, seq) in order {
        let (bytes, leaf) = read_leaf(store, seq)?;
        let Some(t) = transaction(store, &leaf, &bytes)? else {
            continue;
        };
        writeln!(w)?;
        writeln!(w, "{} ({}) {} | {}", t.date, t.seq, t.payee, t.note)?;
        writeln!(w, "    ; {}", t.tags)?;
        for p in &t.postings {
            let amount = format!("{} {COMMODITY}", yuan(p.fen.into())?);
            match &p.fund {
                Some(fund) => {
                    let balance = balances.get_mut(fund.as_str()).ok_or_else(|| {
                        ExportError::UnknownFund {
                            seq,
                            fund: fund.clone(),
                        }
                    })?;
                    *balance += i128::from(p.fen);
                    writeln!(
                        w,
                        "    {:<44}  {amount:>20} = {} {COMMODITY}",
                        p.account,
                        yuan(*balance)?
                    )?;
                }
                None => {
                    if !accounts.contains(&p.account) {
                        return Err(ExportError::UndeclaredAccount {
                            seq,
                            account: p.account.clone(),
                        });
                    }
                    writeln!(w, "    {:<44}  {amount:>20}", p.account)?;
                }
            }
        }
    }

    // The journal must end where the ledger is.
    for (fund, fen) in state.balances() {
        if balances.get(fund.as_str()).copied() != Some(i128::from(*fen)) {
            return Err(ExportError::JournalBalance {
                fund: fund.clone(),
                ledger_fen: *fen,
            });
        }
    }
    Ok(())
}

// -------------------------------------------------------------------- csv

/// The CSV export's columns, in order.
pub const CSV_COLUMNS: [&str; 17] = [
    "seq",
    "time",
    "date",
    "kind",
    "fund",
    "from_fund",
    "to_fund",
    "category",
    "amount_fen",
    "amount_yuan",
    "party",
    "period",
    "memo",
    "reverses",
    "reversed_by",
    "signers",
    "leaf_hash",
];

/// Writes one CSV record, every field quoted (RFC 4180: a quote is doubled).
fn csv_record<S: AsRef<str>>(w: &mut dyn Write, fields: &[S]) -> Result<()> {
    let mut line = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push('"');
        line.push_str(&field.as_ref().replace('"', "\"\""));
        line.push('"');
    }
    line.push_str("\r\n");
    w.write_all(line.as_bytes())?;
    Ok(())
}

/// The money columns of a body: fund, from_fund, to_fund, category,
/// amount_fen, amount_yuan, party, period.
fn money_columns(body: &Body) -> [String; 8] {
    let amount = |fen: u64| [fen.to_string(), format_fen(fen)];
    match &body.content {
        Content::Income(i) => {
            let [fen, yuan] = amount(i.amount_fen);
            [
                i.fund.clone(),
                String::new(),
                String::new(),
                i.category.as_str().into(),
                fen,
                yuan,
                i.payer.clone(),
                i.period.to_string(),
            ]
        }
        Content::Expenditure(e) => {
            let [fen, yuan] = amount(e.amount_fen);
            [
                e.fund.clone(),
                String::new(),
                String::new(),
                e.category.as_str().into(),
                fen,
                yuan,
                e.payee.clone(),
                String::new(),
            ]
        }
        Content::Transfer(t) => {
            let [fen, yuan] = amount(t.amount_fen);
            [
                String::new(),
                t.from_fund.clone(),
                t.to_fund.clone(),
                TRANSFER_CATEGORY.into(),
                fen,
                yuan,
                String::new(),
                String::new(),
            ]
        }
        _ => Default::default(),
    }
}

/// Writes one CSV row per entry of `store` to `w`, after a header row
/// ([`CSV_COLUMNS`]).
///
/// # Errors
///
/// [`ExportError::Read`] if the ledger cannot be read; an entry missing,
/// damaged or out of place; a reversal of a later entry or of one that
/// moves no money; [`ExportError::Write`] if `w` fails.
pub fn write_csv(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
    csv_record(w, &CSV_COLUMNS)?;
    for_each_leaf(store, |bytes, leaf| {
        let seq = leaf.seq;
        let body = &leaf.body;
        let mut reverses = String::new();
        let mut reversed_by = String::new();
        // A reversal row repeats its target's money columns (fund, category,
        // amount, party...): `kind` and `reverses` say that it undoes them.
        let (money, memo) = match &body.content {
            Content::Genesis(g) => (Default::default(), g.name.clone()),
            Content::Income(i) => (money_columns(body), i.memo.clone()),
            Content::Expenditure(e) => (money_columns(body), e.memo.clone()),
            Content::Transfer(t) => (money_columns(body), t.memo.clone()),
            Content::Reversal(r) => {
                reverses = r.target_seq.to_string();
                let target = reversal_target(store, seq, r.target_seq)?;
                (money_columns(&target.body), r.reason.clone())
            }
            Content::Governance(g) => (Default::default(), g.memo.clone()),
        };
        if matches!(
            body.kind(),
            Kind::Income | Kind::Expenditure | Kind::Transfer
        ) {
            if let Some(by) = store.reversed_by(seq).map_err(ExportError::Read)? {
                reversed_by = by.to_string();
            }
        }
        let signers: Vec<&str> = leaf.signatures.iter().map(|s| s.key.as_str()).collect();
        let [fund, from_fund, to_fund, category, amount_fen, amount_yuan, party, period] = money;
        csv_record(
            w,
            &[
                seq.to_string(),
                format_time_ms(leaf.time_ms),
                body.date.to_string(),
                body.kind().to_string(),
                fund,
                from_fund,
                to_fund,
                category,
                amount_fen,
                amount_yuan,
                party,
                period,
                memo,
                reverses,
                reversed_by,
                signers.join(";"),
                leaf_hash(bytes).to_hex(),
            ],
        )
    })
}

// ------------------------------------------------------------------- json

/// Streams `{"ledger", "name", "size", "head", "entries": [...],
/// "balances_fen"}`, one entry per line, without holding the entries.
///
/// # Errors
///
/// [`ExportError::Read`] if the ledger cannot be read; an entry missing,
/// damaged or out of place; [`ExportError::Write`] if `w` fails.
pub fn write_json(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
    let state = store.state();
    let head = |key: &str, value: serde_json::Value| -> Result<String> {
        Ok(format!("{}:{}", serde_json::to_string(key)?, value))
    };
    writeln!(
        w,
        "{{{},\n{},\n{},\n{},\n\"entries\":[",
        head("ledger", state.origin().into())?,
        head("name", state.genesis().name.clone().into())?,
        head("size", state.size().into())?,
        head("head", state.head().to_hex().into())?,
    )?;
    let mut first = true;
    for_each_leaf(store, |bytes, leaf| {
        if !first {
            w.write_all(b",\n")?;
        }
        first = false;
        let reversed_by = store.reversed_by(leaf.seq).map_err(ExportError::Read)?;
        // Written by hand so that seq comes first (serde_json sorts keys).
        write!(
            w,
            "{{\"seq\":{},\"leaf_hash\":\"{}\",\"reversed_by\":{},\"leaf\":",
            leaf.seq,
            leaf_hash(bytes).to_hex(),
            serde_json::to_string(&reversed_by)?
        )?;
        serde_json::to_writer(&mut *w, &leaf.to_value())?;
        w.write_all(b"}")?;
        Ok(())
    })?;
    writeln!(
        w,
        "\n],\n\"balances_fen\":{}}}",
        serde_json::to_string(state.balances())?
    )?;
    Ok(())
}
