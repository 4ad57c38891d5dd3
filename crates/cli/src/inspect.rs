//! Read-only commands: show, list, balances, proposals, verify, receipts.

use crate::audit::{print_report, Bar};
use anyhow::{bail, Context, Result};
use clap::Args;
use feeledger_audit::{Audit, CheckpointReport, Failure, LedgerView};
use feeledger_core::entry::{Kind, Leaf, Month};
use feeledger_core::money::format_fen;
use feeledger_core::note::{open_checkpoint, Checkpoint, Note, Receipt, VerifierKey};
use feeledger_report::describe;
// The backup names its directory with it, through this path.
use feeledger_ledgerdir::{DataDir, DataDirError};
pub use feeledger_report::describe::format_time_ms;
use feeledger_store::EntryFilter;
use std::path::Path;

#[derive(Debug, Args)]
pub struct FilterArgs {
    #[arg(long)]
    fund: Option<String>,
    #[arg(long)]
    category: Option<String>,
    /// Payer (or payee) unit or business.
    #[arg(long)]
    payer: Option<String>,
    /// YYYY-MM
    #[arg(long)]
    month: Option<String>,
    /// genesis, income, expenditure, transfer, reversal, governance
    #[arg(long)]
    kind: Option<String>,
}

impl FilterArgs {
    pub fn build(&self) -> Result<EntryFilter> {
        Ok(EntryFilter {
            fund: self.fund.clone(),
            category: self.category.clone(),
            party: self.payer.clone(),
            month: self
                .month
                .as_deref()
                .map(|m| Month::parse(m).with_context(|| format!("--month {m:?} is not YYYY-MM")))
                .transpose()?,
            kind: self
                .kind
                .as_deref()
                .map(|k| Kind::parse(k).with_context(|| format!("--kind {k:?} is not a kind")))
                .transpose()?,
        })
    }
}

fn leaf_at(store: &dyn LedgerView, seq: u64) -> Result<(Vec<u8>, Leaf)> {
    let Some(bytes) = store.leaf_bytes(seq)? else {
        bail!("there is no entry {seq} (the ledger has {})", store.size());
    };
    let leaf = Leaf::decode(&bytes).map_err(|e| anyhow::anyhow!("entry {seq} is damaged: {e}"))?;
    Ok((bytes, leaf))
}

pub fn show(store: &dyn LedgerView, seq: u64, json: bool) -> Result<()> {
    let (bytes, leaf) = leaf_at(store, seq)?;
    let state = store.state();
    let reversed_by = store.reversed_by(seq)?;
    if json {
        let value = serde_json::json!({
            "seq": seq,
            "leaf": leaf.to_value(),
            "leaf_hash": feeledger_core::hash::leaf_hash(&bytes).to_hex(),
            "reversed_by": reversed_by,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("entry:    {seq}");
    println!("recorded: {}", format_time_ms(leaf.time_ms));
    print!("{}", describe::details(&leaf.body));
    println!("signed:   {}", describe::signers(&leaf, &state));
    println!("leaf:     {}", feeledger_core::hash::leaf_hash(&bytes));
    if let Some(by) = reversed_by {
        println!("REVERSED by entry {by}");
    }
    Ok(())
}

pub fn list(store: &dyn LedgerView, filter: &EntryFilter, limit: usize, json: bool) -> Result<()> {
    let entries = store.list_newest_first(filter, limit)?;
    let mut rows = Vec::new();
    for (seq, bytes) in &entries {
        let leaf =
            Leaf::decode(bytes).map_err(|e| anyhow::anyhow!("entry {seq} is damaged: {e}"))?;
        if json {
            rows.push(serde_json::json!({"seq": seq, "leaf": leaf.to_value()}));
        } else {
            println!(
                "{seq:>7}  {}  {}",
                leaf.body.date,
                describe::summary(&leaf.body)
            );
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}

pub fn balances(store: &dyn LedgerView, json: bool) -> Result<()> {
    let state = store.state();
    if json {
        println!("{}", serde_json::to_string_pretty(state.balances())?);
        return Ok(());
    }
    for fund in &state.genesis().funds {
        let fen = state.balances().get(&fund.id).copied().unwrap_or(0);
        println!("{:<16} {:>16} CNY  {}", fund.id, format_fen(fen), fund.name);
    }
    Ok(())
}

pub fn proposals(store: &dyn LedgerView, json: bool) -> Result<()> {
    let pending = store.proposals()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&pending)?);
        return Ok(());
    }
    if pending.is_empty() {
        println!("no pending proposals");
    }
    for p in pending {
        let body = p.decoded_body()?;
        let signed: Vec<&str> = p.signatures.iter().map(|s| s.key.as_str()).collect();
        println!(
            "{}  {}  signed by {}",
            p.id,
            describe::summary(&body),
            signed.join(", ")
        );
    }
    Ok(())
}

/// Runs the audit of a data directory and prints the report. Returns
/// whether it passed.
pub fn verify_local(
    data: &Path,
    trusted_log_key: Option<&str>,
    saved: Option<&Path>,
    save_to: Option<&Path>,
    json: bool,
) -> Result<bool> {
    let trusted = trusted_log_key
        .map(|k| VerifierKey::parse(k).map_err(|e| anyhow::anyhow!("--log-key: {e}")))
        .transpose()?;
    let saved_checkpoint = match saved {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let saved_size = match &saved_checkpoint {
        Some(bytes) => Some(
            feeledger_core::note::Checkpoint::parse(
                &Note::parse(bytes)
                    .map_err(|e| anyhow::anyhow!("saved checkpoint: {e}"))?
                    .text,
            )
            .map_err(|e| anyhow::anyhow!("saved checkpoint: {e}"))?
            .size,
        ),
        None => None,
    };
    let mut audit = Audit::new(trusted, saved_size.into_iter().collect());
    let store = match DataDir::new(data)
        .open_for_scan()
        .map_err(anyhow::Error::from)
    {
        Ok(store) => store,
        // A damaged store is an audit finding; a store in use or missing is
        // a reason the audit could not run.
        Err(e) if is_damage(&e) => {
            let failure = Failure::general(format!("{e:#}"));
            print_report(&audit.report(None, None, Some(failure)), json);
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let mut bar = Bar::styled();
    let result =
        feeledger_audit::audit_store(&store, &mut audit, saved_checkpoint.as_deref(), &mut |p| {
            bar.update(p)
        });
    bar.finish();
    let ok = result.is_ok();
    let (checkpoint, failure) = match result {
        Ok(c) => (Some(c), None),
        Err(f) => (None, Some(f)),
    };
    if let (true, Some(path), Some(_)) = (ok, save_to, &checkpoint) {
        let bytes = store.latest_checkpoint()?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let consistent = if ok { saved_size } else { None };
    print_report(&audit.report(checkpoint, consistent, failure), json);
    Ok(ok)
}

/// The tlog-proof receipt of entry `seq` against the latest checkpoint.
pub fn receipt(store: &dyn LedgerView, seq: u64) -> Result<String> {
    let (bytes, _) = leaf_at(store, seq)?;
    let checkpoint = Note::parse(&store.latest_checkpoint()?)?;
    let size = feeledger_core::note::Checkpoint::parse(&checkpoint.text)?.size;
    let proof = store.inclusion_proof(seq, size)?;
    Ok(Receipt {
        leaf: bytes,
        index: seq,
        proof,
        checkpoint,
    }
    .to_text())
}

pub fn verify_receipt(file: &Path, log_key: &str, cosigners: &[String]) -> Result<()> {
    let log_key = VerifierKey::parse(log_key).map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
    let cosigners = cosigners
        .iter()
        .map(|c| VerifierKey::parse(c).map_err(|e| anyhow::anyhow!("--cosigner {c}: {e}")))
        .collect::<Result<Vec<_>>>()?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let receipt = Receipt::parse(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not a receipt: {e}", file.display()))?;
    let verified = receipt
        .verify(&log_key, &cosigners)
        .map_err(|e| anyhow::anyhow!("the receipt does NOT verify: {e}"))?;
    let leaf = Leaf::decode(&receipt.leaf)
        .map_err(|e| anyhow::anyhow!("the receipt's leaf is not a feeledger entry: {e}"))?;
    if leaf.seq != receipt.index {
        bail!(
            "the receipt's leaf says seq {}, its index is {}",
            leaf.seq,
            receipt.index
        );
    }
    println!(
        "OK: entry {} is in {} at tree size {}",
        receipt.index, verified.checkpoint.origin, verified.checkpoint.size
    );
    println!("entry: {}", describe::summary(&leaf.body));
    let names: Vec<String> = verified
        .cosignatures
        .iter()
        .map(|c| c.name.clone())
        .collect();
    if !names.is_empty() {
        println!("cosigned by: {}", names.join(", "));
    }
    Ok(())
}

/// Audits a ledger over HTTP, trusting only `log_key`: fetches the latest
/// checkpoint, then every entry up to its size, and replays them.
pub fn verify_remote(
    remote: &crate::remote::Remote,
    log_key: &str,
    saved: Option<&Path>,
    save_to: Option<&Path>,
    json: bool,
) -> Result<bool> {
    let trusted = VerifierKey::parse(log_key).map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
    let saved_checkpoint = read_saved(saved, &trusted)?;
    let checkpoint_bytes = remote.get_bytes("/checkpoint")?;
    // A static C2SP mirror (a bucket `serve --mirror` writes, or a tiles
    // backup served as files) has the checkpoint and tiles but no API:
    // its tiles are the whole log, and they are audited as a backup's are.
    if remote
        .server()
        .get_optional_bytes("/api/v1/ledger")?
        .is_none()
    {
        eprintln!(
            "note: {} serves no /api/v1 (a static mirror): verifying its checkpoint and C2SP tiles (every entry, hash tile, signature and rule)",
            remote.server().base_url()
        );
        return run_audit(
            feeledger_audit::audit_tiles,
            feeledger_audit::tiles::TileSource::Http(remote.server()),
            &trusted,
            &checkpoint_bytes,
            saved_checkpoint.as_ref(),
            save_to,
            json,
        );
    }
    run_audit(
        feeledger_audit::audit_server,
        remote.server(),
        &trusted,
        &checkpoint_bytes,
        saved_checkpoint.as_ref(),
        save_to,
        json,
    )
}

/// `--saved FILE`: a checkpoint saved earlier, which must verify with the
/// trusted log key.
fn read_saved(saved: Option<&Path>, trusted: &VerifierKey) -> Result<Option<Checkpoint>> {
    let saved_bytes = saved
        .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()?;
    saved_bytes
        .as_deref()
        .map(|b| open_checkpoint(b, trusted, &[]).map(|(c, _, _)| c))
        .transpose()
        .map_err(|e| anyhow::anyhow!("the saved checkpoint does not verify with the log key: {e}"))
}

/// Runs one audit (`audit_source`: the server's or the tiles backup's, from
/// `source`), saves the audited checkpoint (`--save-to`) if it passed, and
/// prints the report (`--json` or text). Returns whether it passed.
fn run_audit<S>(
    audit_source: impl FnOnce(
        S,
        &[u8],
        &VerifierKey,
        Option<&Checkpoint>,
        &mut Audit,
        &mut dyn FnMut(feeledger_audit::Progress),
    ) -> Result<CheckpointReport, Failure>,
    source: S,
    trusted: &VerifierKey,
    checkpoint_bytes: &[u8],
    saved: Option<&Checkpoint>,
    save_to: Option<&Path>,
    json: bool,
) -> Result<bool> {
    let mut audit = Audit::new(
        Some(trusted.clone()),
        saved.iter().map(|c| c.size).collect(),
    );
    let mut bar = Bar::plain();
    let result = audit_source(
        source,
        checkpoint_bytes,
        trusted,
        saved,
        &mut audit,
        &mut |p| bar.update(p),
    );
    bar.finish();
    let ok = result.is_ok();
    let (checkpoint, failure) = match result {
        Ok(c) => (Some(c), None),
        Err(f) => (None, Some(f)),
    };
    if let (true, Some(path)) = (ok, save_to) {
        std::fs::write(path, checkpoint_bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let consistent = if ok { saved.map(|c| c.size) } else { None };
    print_report(&audit.report(checkpoint, consistent, failure), json);
    Ok(ok)
}

fn is_damage(e: &anyhow::Error) -> bool {
    e.downcast_ref::<DataDirError>()
        .is_some_and(DataDirError::is_damage)
}

/// Audits a backup made with `export --format tiles`, in a directory or
/// served by a static mirror (`http://...`), trusting only `log_key`: the
/// checkpoint, every entry bundle and hash tile, the replay of every entry,
/// and every cosignature line (witness keys from the backup's `witnesses`
/// file). Returns whether it passed.
pub fn verify_tiles(
    location: &str,
    log_key: &str,
    saved: Option<&Path>,
    save_to: Option<&Path>,
    json: bool,
) -> Result<bool> {
    use feeledger_audit::tiles::{TileSource, CHECKPOINT_FILE};
    let trusted = VerifierKey::parse(log_key).map_err(|e| anyhow::anyhow!("--log-key: {e}"))?;
    let remote;
    let source = if location.starts_with("http://") || location.starts_with("https://") {
        remote = crate::remote::Remote::new(location)?;
        TileSource::Http(remote.server())
    } else {
        let dir = Path::new(location);
        if !dir.is_dir() {
            bail!(
                "--tiles {location}: no such directory (give a backup directory made with `export --format tiles`, or a URL starting with http:// or https://)"
            );
        }
        TileSource::Dir(dir)
    };
    let saved_checkpoint = read_saved(saved, &trusted)?;
    let checkpoint_bytes = source.read(CHECKPOINT_FILE)?.with_context(|| {
        format!("{location} is not a feeledger tiles backup: it has no {CHECKPOINT_FILE} file")
    })?;
    run_audit(
        feeledger_audit::audit_tiles,
        source,
        &trusted,
        &checkpoint_bytes,
        saved_checkpoint.as_ref(),
        save_to,
        json,
    )
}
