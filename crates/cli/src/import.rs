//! `feeledger import`: a month of fee payments from a spreadsheet.
//!
//! The file is read and every row checked by `feeledger-import`, each body
//! signed, and the whole batch checked against the ledger
//! (`feeledger_import::batch::check_batch`, locally or by the server's
//! dry run) before anything is shown. Then the preview (counts and totals in
//! yuan), the question, and one group commit of the new rows, all or none
//! (`Store::proposals_batch_atomic`, directly or through the server's
//! batch route). Rows already recorded (the same file imported again) are
//! left out and counted.

use crate::clock::{now_ms, today};
use crate::propose::{confirm, LedgerFacts};
use crate::remote::Remote;
use anyhow::{anyhow, bail, Context, Result};
use feeledger_core::entry::{Body, EntrySignature};
use feeledger_core::keyfile::sign_body;
use feeledger_core::money::format_yuan;
use feeledger_import::batch::{check_batch, BatchError, BatchItem, Verdict};
use feeledger_import::income::income_category_zh;
use feeledger_import::{read_csv, ImportError, LedgerInfo, Sheet, Totals, FILE_BYTES_MAX};
use feeledger_ledgerdir::{DataDir, KeyFile};
use feeledger_store::{AtomicBatchError, ProposalRequest, Store};
use serde_json::{json, Value};
use std::io::Read as _;
use std::path::Path;

/// Most warnings printed in the preview; the rest are counted.
const WARNINGS_SHOWN_MAX: usize = 20;

/// One row, signed.
struct Signed {
    line: u64,
    body: Body,
    body_bytes: Vec<u8>,
    signatures: Vec<EntrySignature>,
}

/// Reads the file, at most [`FILE_BYTES_MAX`] bytes.
fn read_file(path: &Path) -> Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(FILE_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > FILE_BYTES_MAX {
        let bytes = std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len());
        return Err(ImportError::TooLarge { bytes }.into());
    }
    Ok(bytes)
}

/// Reads and checks every row, then signs each body.
fn read_and_sign(
    facts: &LedgerFacts,
    path: &Path,
    keys: &[KeyFile],
) -> Result<(Sheet, Vec<Signed>)> {
    let bytes = read_file(path)?;
    let ledger = LedgerInfo {
        origin: &facts.origin,
        funds: &facts.funds,
    };
    let sheet = read_csv(&bytes, &ledger, today())
        .with_context(|| format!("{} is not imported", path.display()))?;
    let signed = sheet
        .rows
        .iter()
        .map(|row| {
            let mut signatures = sign_body(&row.body, keys);
            feeledger_core::entry::normalize_signatures(&mut signatures);
            Signed {
                line: row.line,
                body: row.body.clone(),
                body_bytes: row.body.to_canonical_bytes(),
                signatures,
            }
        })
        .collect();
    Ok((sheet, signed))
}

/// A refused batch, in the file's terms: the row's line, and for a key
/// that cannot record incomes by itself, what to use instead.
fn batch_refusal(e: &BatchError, signed: &[Signed]) -> anyhow::Error {
    let line = signed.get(e.index()).map_or(0, |s| s.line);
    let reason = match e {
        BatchError::Refused { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    let hint = match e {
        BatchError::Refused { source, .. }
            if matches!(
                source.code(),
                "rule_not_met" | "unauthorized_signer" | "unknown_key" | "bad_signature"
            ) =>
        {
            "; import with the key(s) that record an income at once (the company's, 物业公司)"
        }
        _ => "",
    };
    anyhow!("未记入任何一行 nothing recorded: 第 {line} 行 line {line}: {reason}{hint}")
}

/// The batch checked against a store as it is now.
fn check_local(store: &Store, signed: &[Signed]) -> Result<Vec<Verdict>> {
    let lookups = signed
        .iter()
        .map(|s| store.lookups(&s.body))
        .collect::<Result<Vec<_>, _>>()?;
    let checks: Vec<_> = signed
        .iter()
        .map(|s| {
            let mut signatures = s.signatures.clone();
            store.check_ahead(&s.body_bytes, &mut signatures)
        })
        .collect();
    let items: Vec<BatchItem<'_>> = signed
        .iter()
        .zip(&lookups)
        .zip(&checks)
        .map(|((s, lookups), check)| BatchItem {
            body: &s.body,
            body_bytes: &s.body_bytes,
            signatures: &s.signatures,
            lookups,
            check: check.as_ref(),
        })
        .collect();
    check_batch(&store.state(), &items).map_err(|e| batch_refusal(&e, signed))
}

/// `物业服务费 Operating (operating)`.
fn fund_label(facts: &LedgerFacts, id: &str) -> String {
    match facts.funds.iter().find(|f| f.id == id) {
        Some(f) => format!("{} ({id})", f.name),
        None => id.to_string(),
    }
}

/// Terminal columns of the preview's labels, so that the figures line up.
const LABEL_COLUMNS: usize = 44;

/// `text` padded with spaces to [`LABEL_COLUMNS`] terminal columns, a
/// Chinese character taking two.
fn pad(text: &str) -> String {
    let columns: usize = text
        .chars()
        .map(|c| if c >= '\u{2E80}' { 2 } else { 1 })
        .sum();
    format!(
        "{text}{}",
        " ".repeat(LABEL_COLUMNS.saturating_sub(columns))
    )
}

/// Prints what would be recorded; `Ok(false)` if nothing is new.
fn preview(
    facts: &LedgerFacts,
    path: &Path,
    sheet: &Sheet,
    signed: &[Signed],
    verdicts: &[Verdict],
) -> Result<bool> {
    let recorded: Vec<u64> = verdicts
        .iter()
        .filter_map(|v| match v {
            Verdict::Recorded { seq } => Some(*seq),
            Verdict::New => None,
        })
        .collect();
    let new = signed
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| **v == Verdict::New)
        .map(|(s, _)| &s.body);
    let totals = Totals::of(new)?;
    if totals.rows == 0 {
        println!(
            "没有新记录 nothing new: {} rows already recorded (entries {} to {}); nothing was recorded",
            recorded.len(),
            recorded.iter().min().copied().unwrap_or(0),
            recorded.iter().max().copied().unwrap_or(0),
        );
        return Ok(false);
    }
    println!(
        "导入 To import into {}: {} ({})",
        facts.origin,
        path.display(),
        sheet.encoding.label()
    );
    println!("  行数 rows in the file:      {}", signed.len());
    if !recorded.is_empty() {
        println!(
            "  已记入 already recorded:    {} (skipped: the same rows were imported before)",
            recorded.len()
        );
    }
    println!("  新记录 to record:           {}", totals.rows);
    println!(
        "  合计 total:                 {}",
        format_yuan(totals.total_fen)
    );
    println!("  按资金 by fund:");
    for (fund, (rows, fen)) in &totals.by_fund {
        println!(
            "    {} {:>5} 行 rows  {:>16}",
            pad(&fund_label(facts, fund)),
            rows,
            format_yuan(*fen)
        );
    }
    println!("  按类别 by category:");
    for (category, (rows, fen)) in &totals.by_category {
        println!(
            "    {} {:>5} 行 rows  {:>16}",
            pad(&format!(
                "{} {}",
                income_category_zh(*category),
                category.as_str()
            )),
            rows,
            format_yuan(*fen)
        );
    }
    if !sheet.warnings.is_empty() {
        println!("注意 Check before recording:");
        for w in sheet.warnings.iter().take(WARNINGS_SHOWN_MAX) {
            println!("  ! {w}");
        }
        if sheet.warnings.len() > WARNINGS_SHOWN_MAX {
            let more = sheet.warnings.len() - WARNINGS_SHOWN_MAX;
            println!("  ! 另有 {more} 条 and {more} more");
        }
    }
    Ok(true)
}

fn ask(yes: bool) -> Result<()> {
    if !yes && !confirm("记入账本？Record it?")? {
        bail!("not recorded: not confirmed (answer y, or pass --yes in scripts)");
    }
    Ok(())
}

/// `import --data`: read, check, preview, confirm, then one group commit.
pub fn import_local(data: &DataDir, keys: &[KeyFile], path: &Path, yes: bool) -> Result<()> {
    // Read what the preview needs, then let go of the data directory while
    // a person decides: the store's lock must not wait on a terminal.
    let (facts, sheet, signed, verdicts) = {
        let store = data.open()?;
        let facts = LedgerFacts::of_store(&store);
        let (sheet, signed) = read_and_sign(&facts, path, keys)?;
        let verdicts = check_local(&store, &signed)?;
        (facts, sheet, signed, verdicts)
    };
    if !preview(&facts, path, &sheet, &signed, &verdicts)? {
        return Ok(());
    }
    ask(yes)?;
    let store = data.open()?;
    let log_key = data.log_key()?;
    let new: Vec<&Signed> = signed
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| **v == Verdict::New)
        .map(|(s, _)| s)
        .collect();
    let requests = new
        .iter()
        .map(|s| ProposalRequest::Propose {
            body_bytes: s.body_bytes.clone(),
            signatures: s.signatures.clone(),
            check: None,
        })
        .collect();
    // The store judges every row again, under its writer's lock, and
    // records all of them or none: the ledger may have changed while a
    // person decided (another process between our two opens).
    let committed = store
        .proposals_batch_atomic(requests, now_ms(), &log_key.signer)
        .map_err(|e| match e {
            AtomicBatchError::Refused { index, reason } => {
                let line = new.get(index).map_or(0, |s| s.line);
                anyhow!("未记入任何一行 nothing recorded: 第 {line} 行 line {line}: {reason} (the ledger changed after the preview: run the import again to see what is new)")
            }
            AtomicBatchError::Store(e) => anyhow::Error::new(e).context("未记入任何一行 nothing recorded"),
        })?;
    let seqs: Vec<u64> = committed.iter().map(|c| c.seq).collect();
    report(&seqs, committed.last().map_or(0, |c| c.size));
    Ok(())
}

fn report(seqs: &[u64], size: u64) {
    println!(
        "已记入 recorded {} rows as entries {} to {} in one commit; tree size {size}",
        seqs.len(),
        seqs.iter().min().copied().unwrap_or(0),
        seqs.iter().max().copied().unwrap_or(0),
    );
}

/// `POST /api/v1/proposals/batch`; a refusal is named by the file's line.
fn post_batch(remote: &Remote, signed: &[&Signed], dry_run: bool) -> Result<Value> {
    let proposals: Vec<Value> = signed
        .iter()
        .map(|s| {
            let body = std::str::from_utf8(&s.body_bytes).expect("canonical bodies are UTF-8");
            json!({"body": body, "signatures": s.signatures})
        })
        .collect();
    let request = serde_json::to_vec(&json!({"proposals": proposals, "dry_run": dry_run}))?;
    let limit = feeledger_server::BATCH_BODY_BYTES_MAX;
    if request.len() > limit {
        bail!(
            "the file's {} rows make a request of {} bytes, over the server's limit of {limit}: split the file into smaller ones",
            signed.len(),
            request.len()
        );
    }
    let server = remote.server();
    let url = server.url("/api/v1/proposals/batch");
    let response = server
        .client()
        .post(&url)
        .header("content-type", "application/json")
        .body(request)
        .send()
        .with_context(|| format!("cannot reach {url}"))?;
    match server.check(response) {
        Ok(response) => Ok(response.json()?),
        Err(e) => {
            let text = e.to_string();
            let line = text
                .split_once("proposals[")
                .and_then(|(_, rest)| rest.split_once(']'))
                .and_then(|(index, _)| index.parse::<usize>().ok())
                .and_then(|i| signed.get(i))
                .map(|s| s.line);
            match line {
                Some(line) => {
                    bail!("未记入任何一行 nothing recorded: 第 {line} 行 line {line}: {text}")
                }
                None => bail!("未记入任何一行 nothing recorded: {text}"),
            }
        }
    }
}

/// `import --url`: as [`import_local`], the batch checked by the server's
/// dry run, then sent again to be recorded.
pub fn import_remote(remote: &Remote, keys: &[KeyFile], path: &Path, yes: bool) -> Result<()> {
    let facts = LedgerFacts::of_remote(remote)?;
    let (sheet, signed) = read_and_sign(&facts, path, keys)?;
    let all: Vec<&Signed> = signed.iter().collect();
    let plan = post_batch(remote, &all, true)?;
    let results = plan["results"]
        .as_array()
        .filter(|r| r.len() == signed.len())
        .context("the server's dry run does not answer every row")?;
    let verdicts = results
        .iter()
        .map(|r| match (r["status"].as_str(), r["seq"].as_u64()) {
            (Some("new"), _) => Ok(Verdict::New),
            (Some("recorded"), Some(seq)) => Ok(Verdict::Recorded { seq }),
            _ => Err(anyhow!("the server's dry run gives an unknown status: {r}")),
        })
        .collect::<Result<Vec<_>>>()?;
    if !preview(&facts, path, &sheet, &signed, &verdicts)? {
        return Ok(());
    }
    ask(yes)?;
    let new: Vec<&Signed> = signed
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| **v == Verdict::New)
        .map(|(s, _)| s)
        .collect();
    let answer = post_batch(remote, &new, false)?;
    let seqs: Vec<u64> = answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["seq"].as_u64())
        .collect();
    if seqs.len() != new.len() {
        bail!(
            "the server answered {} of {} rows: check with `feeledger list`",
            seqs.len(),
            new.len()
        );
    }
    report(&seqs, answer["size"].as_u64().unwrap_or(0));
    Ok(())
}
