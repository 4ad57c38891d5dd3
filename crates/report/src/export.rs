//! `feeledger export`: the ledger for accounting tools.
//!
//! * **hledger**: a journal that `hledger check --strict` (and `ordereddates`
//!   and `payees`) accepts. Every account, commodity and payee is declared;
//!   each money-moving entry is one transaction dated with its business date,
//!   and every posting to a fund carries a balance assertion, so hledger
//!   itself re-adds the whole ledger and refuses a journal whose amounts were
//!   altered.
//! * **csv**: one row per entry (genesis and governance too), RFC 4180.
//! * **json**: the decoded leaves with their hashes, and the balances.
//! * **tiles**: a backup: the log as plain C2SP tlog-tiles files and the
//!   signed checkpoint, in a new directory (see `backup.rs`; `feeledger
//!   restore` reads it back).
//!
//! Amounts are integer fen throughout, written as yuan with [`format_fen`];
//! never floats. Output goes to a file (written beside it, then renamed, so a
//! failed export leaves no half-written file) or to standard output.
//!
//! From `--data`, export reads entries as the store holds them; it does not
//! re-check signatures or the hash chain (`feeledger verify` does that).
//! From `--url`, the whole ledger is verified against the log key before
//! anything is written (see `remote_ledger.rs`). Either way it checks that
//! the hledger journal's final fund balances equal the ledger's. A tiles
//! backup is made only from a data directory.

use crate::inspect::format_time_ms;
use crate::remote_ledger::{LedgerView, ReadFrom};
use anyhow::{anyhow, bail, Context, Result};
use feeledger_core::entry::{Body, Content, Date, Kind, Leaf};
use feeledger_core::hash::leaf_hash;
use feeledger_core::money::format_fen;
use feeledger_core::state::TRANSFER_CATEGORY;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Hledger,
    Csv,
    Json,
    /// A backup: C2SP tlog-tiles files in the directory `--out`.
    Tiles,
}

/// The hledger commodity: CNY with two decimals, amounts after the number.
const COMMODITY: &str = "CNY";

/// Reads the ledger from `--data` or `--url` and writes its export. A
/// tiles backup from a URL is refused before anything is fetched.
pub fn run_from(from: ReadFrom, format: ExportFormat, out: Option<&Path>) -> Result<()> {
    if matches!(format, ExportFormat::Tiles) && from.is_url() {
        bail!("{TILES_NEED_DATA}");
    }
    run(&*from.open()?, format, out)
}

/// Why a tiles backup cannot be made from a URL.
const TILES_NEED_DATA: &str = "--format tiles needs --data DIR: a backup is made from the data directory; with only a URL, use --format json, csv or hledger";

/// Writes the export of `store` to `out`, or to standard output.
pub fn run(store: &dyn LedgerView, format: ExportFormat, out: Option<&Path>) -> Result<()> {
    if let ExportFormat::Tiles = format {
        let out = out.context("--format tiles needs --out DIR, a new directory for the backup")?;
        let store = store.store().context(TILES_NEED_DATA)?;
        return crate::backup::export_tiles(store, out);
    }
    let write = |w: &mut dyn Write| -> Result<()> {
        match format {
            ExportFormat::Hledger => hledger(store, w),
            ExportFormat::Csv => csv(store, w),
            ExportFormat::Json => json(store, w),
            ExportFormat::Tiles => unreachable!("handled above"),
        }
    };
    match out {
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            write(&mut w)?;
            w.flush().context("writing to standard output")?;
            Ok(())
        }
        Some(path) => write_file(path, write),
    }
}

/// Writes `path.partial`, then renames it over `path`.
fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| anyhow!("cannot write {}: {}", partial.display(), e.error()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, path)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.with_context(|| format!("export to {} failed", path.display()))
}

fn decode(seq: u64, bytes: &[u8]) -> Result<Leaf> {
    let leaf = Leaf::decode(bytes).map_err(|e| anyhow!("entry {seq} is damaged: {e}"))?;
    if leaf.seq != seq {
        bail!(
            "entry {seq} is damaged: its leaf says it is entry {}",
            leaf.seq
        );
    }
    Ok(leaf)
}

/// One entry by seq, with its bytes.
fn read_leaf(store: &dyn LedgerView, seq: u64) -> Result<(Vec<u8>, Leaf)> {
    let bytes = store
        .leaf_bytes(seq)
        .context("reading the store")?
        .ok_or_else(|| anyhow!("entry {seq} is missing from the store"))?;
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
        let (seq, bytes) = item.context("reading the store")?;
        if seq != next {
            bail!("entry {next} is missing from the store");
        }
        if seq >= size {
            bail!("the store holds entry {seq}, beyond its recorded size {size}");
        }
        f(&bytes, decode(seq, &bytes)?)?;
        next += 1;
    }
    if next != size {
        bail!("the store holds {next} entries; its head says {size}");
    }
    Ok(())
}

/// The target of a reversal, which must move money.
fn reversal_target(store: &dyn LedgerView, seq: u64, target_seq: u64) -> Result<Leaf> {
    if target_seq >= seq {
        bail!("entry {seq} reverses entry {target_seq}, which is not before it");
    }
    let (_, target) = read_leaf(store, target_seq)?;
    if !matches!(
        target.body.content,
        Content::Income(_) | Content::Expenditure(_) | Content::Transfer(_)
    ) {
        bail!(
            "entry {seq} reverses entry {target_seq}, a {}, which moves no money",
            target.body.kind()
        );
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
    i64::try_from(amount_fen).map_err(|_| anyhow!("amount {amount_fen} fen is out of range"))
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
        if let Some(by) = store.reversed_by(seq).context("reading the store")? {
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
        .map_err(|_| anyhow!("a running balance of {fen} fen is out of range"))?;
    let sign = if fen < 0 { "-" } else { "" };
    Ok(format!("{sign}{}", format_fen(abs)))
}

fn hledger(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
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
                        anyhow!("entry {seq} names fund {fund:?}, which genesis does not define")
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
                        bail!("entry {seq} posts to {}, which was not declared", p.account);
                    }
                    writeln!(w, "    {:<44}  {amount:>20}", p.account)?;
                }
            }
        }
    }

    // The journal must end where the ledger is.
    for (fund, fen) in state.balances() {
        if balances.get(fund.as_str()).copied() != Some(i128::from(*fen)) {
            bail!(
                "the journal's balance of fund {fund} differs from the ledger's {} CNY; run `feeledger verify`",
                format_fen(*fen)
            );
        }
    }
    Ok(())
}

// -------------------------------------------------------------------- csv

const CSV_COLUMNS: [&str; 17] = [
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

fn csv(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
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
            if let Some(by) = store.reversed_by(seq).context("reading the store")? {
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
fn json(store: &dyn LedgerView, w: &mut dyn Write) -> Result<()> {
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
        let reversed_by = store.reversed_by(leaf.seq).context("reading the store")?;
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
