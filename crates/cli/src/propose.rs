//! `feeledger propose` and `feeledger sign`.

use crate::datadir::{now_ms, DataDir};
use crate::describe;
use crate::init::{new_nonce, sign_body, today};
use crate::keyfile::KeyFile;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use feeledger_core::entry::{
    Attachment, Body, Content, Date, Expenditure, ExpenseCategory, Governance, Income,
    IncomeCategory, Month, OwnersApproval, Reversal, Roles, Rules, Transfer,
};
use feeledger_core::hash::{sha256, Hash};
use feeledger_core::state::Approval;
use feeledger_store::ProposalOutcome;
use std::io::Read as _;
use std::path::PathBuf;

/// Largest attachment hashed: documents are kept outside the ledger, but a
/// bound keeps one command from reading a disk image by mistake.
const ATTACHMENT_BYTES_MAX: u64 = 1 << 30;

fn parse_amount(text: &str) -> Result<u64, String> {
    feeledger_core::money::parse_yuan(text).map_err(|e| e.to_string())
}

fn parse_enum<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(text.to_string()))
        .map_err(|_| format!("unknown value {text:?}"))
}

#[derive(Debug, Subcommand)]
pub enum ProposeKind {
    /// Money in: a property fee, parking, advertising...
    Income {
        #[arg(long, default_value = "operating")]
        fund: String,
        /// Yuan, e.g. 1280.50.
        #[arg(long, value_parser = parse_amount)]
        amount: u64,
        /// property_fee, parking, advertising, venue_rental, interest, other.
        #[arg(long, value_parser = parse_enum::<IncomeCategory>)]
        category: IncomeCategory,
        /// A unit number such as 3-1502, or a business name.
        #[arg(long)]
        payer: String,
        /// The period paid for, YYYY-MM (default: the month of --date).
        #[arg(long)]
        period: Option<String>,
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// Money out; needs the committee's co-signatures by default.
    Expenditure {
        #[arg(long, default_value = "operating")]
        fund: String,
        #[arg(long, value_parser = parse_amount)]
        amount: u64,
        /// cleaning, security, greening, elevator, repairs, utilities, salaries, management_fee, other.
        #[arg(long, value_parser = parse_enum::<ExpenseCategory>)]
        category: ExpenseCategory,
        #[arg(long)]
        payee: String,
        #[arg(long, default_value = "")]
        memo: String,
        /// An invoice, contract or photo: its name, size and SHA-256 go in the ledger.
        #[arg(long = "attach")]
        attachments: Vec<PathBuf>,
        #[command(flatten)]
        approval: ApprovalArgs,
    },
    /// Between funds, e.g. public revenue into the maintenance fund.
    Transfer {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long, value_parser = parse_amount)]
        amount: u64,
        #[arg(long, default_value = "")]
        memo: String,
        #[command(flatten)]
        approval: ApprovalArgs,
    },
    /// Undo an earlier income, expenditure or transfer.
    Reversal {
        #[arg(long)]
        target: u64,
        #[arg(long)]
        reason: String,
    },
    /// New roles and/or rules (e.g. a newly elected committee).
    Governance {
        /// A TOML or JSON file with the new roles table.
        #[arg(long)]
        roles: Option<PathBuf>,
        /// A TOML or JSON file with the new rules table.
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long, default_value = "")]
        memo: String,
    },
    /// A body already written as canonical JSON (use - for stdin).
    Body { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct ApprovalArgs {
    /// Reference of the owners' decision (e.g. 2026-业主大会-03).
    #[arg(long, requires_all = ["participating_area_bp", "participating_headcount_bp", "approving_area_bp", "approving_headcount_bp"])]
    decision_ref: Option<String>,
    /// Owners taking part, by area, in basis points (6700 = 67%).
    #[arg(long)]
    participating_area_bp: Option<u32>,
    #[arg(long)]
    participating_headcount_bp: Option<u32>,
    #[arg(long)]
    approving_area_bp: Option<u32>,
    #[arg(long)]
    approving_headcount_bp: Option<u32>,
}

impl ApprovalArgs {
    fn build(&self) -> Option<OwnersApproval> {
        Some(OwnersApproval {
            decision_ref: self.decision_ref.clone()?,
            participating_area_bp: self.participating_area_bp?,
            participating_headcount_bp: self.participating_headcount_bp?,
            approving_area_bp: self.approving_area_bp?,
            approving_headcount_bp: self.approving_headcount_bp?,
        })
    }
}

fn read_table<T: serde::de::DeserializeOwned>(path: &PathBuf) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("{} does not parse", path.display()))
    } else {
        toml::from_str(&text).with_context(|| format!("{} does not parse", path.display()))
    }
}

fn attachment(path: &PathBuf) -> Result<Attachment> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read attachment {}", path.display()))?;
    if meta.len() > ATTACHMENT_BYTES_MAX {
        bail!(
            "attachment {} is over {} bytes",
            path.display(),
            ATTACHMENT_BYTES_MAX
        );
    }
    let bytes = std::fs::read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Attachment {
        name,
        sha256: sha256(&bytes),
        bytes: bytes.len() as u64,
    })
}

/// The canonical bytes of the body to propose.
pub fn body_bytes(origin: &str, date: Option<&str>, kind: &ProposeKind) -> Result<Vec<u8>> {
    let date = match date {
        Some(d) => {
            Date::parse(d).with_context(|| format!("--date {d:?} is not a real date YYYY-MM-DD"))?
        }
        None => today(),
    };
    let content = match kind {
        ProposeKind::Body { file } => {
            let mut bytes = Vec::new();
            if file.as_os_str() == "-" {
                std::io::stdin().take(1 << 17).read_to_end(&mut bytes)?;
            } else {
                bytes = std::fs::read(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
            }
            return Ok(bytes);
        }
        ProposeKind::Income {
            fund,
            amount,
            category,
            payer,
            period,
            memo,
        } => {
            let period = match period {
                Some(p) => {
                    Month::parse(p).with_context(|| format!("--period {p:?} is not YYYY-MM"))?
                }
                None => date.month(),
            };
            Content::Income(Income {
                fund: fund.clone(),
                amount_fen: *amount,
                category: *category,
                payer: payer.clone(),
                period,
                memo: memo.clone(),
            })
        }
        ProposeKind::Expenditure {
            fund,
            amount,
            category,
            payee,
            memo,
            attachments,
            approval,
        } => Content::Expenditure(Expenditure {
            fund: fund.clone(),
            amount_fen: *amount,
            category: *category,
            payee: payee.clone(),
            memo: memo.clone(),
            attachments: attachments.iter().map(attachment).collect::<Result<_>>()?,
            owners_approval: approval.build(),
        }),
        ProposeKind::Transfer {
            from,
            to,
            amount,
            memo,
            approval,
        } => Content::Transfer(Transfer {
            from_fund: from.clone(),
            to_fund: to.clone(),
            amount_fen: *amount,
            memo: memo.clone(),
            owners_approval: approval.build(),
        }),
        ProposeKind::Reversal { target, reason } => Content::Reversal(Reversal {
            target_seq: *target,
            reason: reason.clone(),
        }),
        ProposeKind::Governance { roles, rules, memo } => Content::Governance(Governance {
            roles: roles.as_ref().map(read_table::<Roles>).transpose()?,
            rules: rules.as_ref().map(read_table::<Rules>).transpose()?,
            memo: memo.clone(),
        }),
    };
    let body = Body {
        ledger: origin.to_string(),
        date,
        nonce: new_nonce(),
        content,
    };
    body.check_fields("$").map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(body.to_canonical_bytes())
}

/// What is still missing, in words.
pub fn progress(approval: &Approval) -> String {
    approval
        .progress
        .iter()
        .map(|(role, (have, need))| format!("{}: {have} of {need}", describe::role_label(*role)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Prints a proposal outcome; returns the seq if it committed.
pub fn report(outcome: &ProposalOutcome) -> Option<u64> {
    match outcome {
        ProposalOutcome::Committed {
            id,
            approval,
            committed,
        } => {
            println!(
                "committed as entry {} (proposal {id}; {})",
                committed.seq,
                progress(approval)
            );
            println!(
                "leaf hash {}; tree size {}",
                committed.leaf_hash, committed.size
            );
            Some(committed.seq)
        }
        ProposalOutcome::Pending { id, approval } => {
            println!("pending proposal {id}");
            println!("signatures so far: {}", progress(approval));
            println!("co-signers run: feeledger sign --key KEY {id}");
            None
        }
    }
}

pub fn propose_local(
    data: &DataDir,
    keys: &[KeyFile],
    date: Option<&str>,
    kind: &ProposeKind,
) -> Result<ProposalOutcome> {
    let store = data.open()?;
    let log_key = data.log_key()?;
    let bytes = body_bytes(store.state().origin(), date, kind)?;
    let body = Body::decode(&bytes).map_err(|e| anyhow::anyhow!("the body is refused: {e}"))?;
    let signatures = sign_body(&body, keys);
    let outcome = store.propose(&bytes, signatures, now_ms(), &log_key.signer)?;
    Ok(outcome)
}

pub fn sign_local(
    data: &DataDir,
    keys: &[KeyFile],
    id: &str,
    yes: bool,
) -> Result<ProposalOutcome> {
    let id = Hash::from_hex(id)
        .with_context(|| format!("{id:?} is not a proposal id (64 hex digits)"))?;
    // Read the proposal, then let go of the data directory while a person
    // decides: the store's lock must not wait on a terminal.
    let (body, already) = {
        let store = data.open()?;
        let Some(proposal) = store.proposal(&id)? else {
            bail!("no pending proposal {id}");
        };
        let signed: Vec<String> = proposal.signatures.iter().map(|s| s.key.clone()).collect();
        (proposal.decoded_body()?, signed)
    };
    eprintln!("{}", describe::details(&body));
    eprintln!("signed so far by: {}", already.join(", "));
    if !yes && !confirm("co-sign this proposal?")? {
        bail!("not signed");
    }
    let store = data.open()?;
    let log_key = data.log_key()?;
    let signatures = sign_body(&body, keys);
    Ok(store.add_signatures(&id, signatures, now_ms(), &log_key.signer)?)
}

/// Asks on the terminal; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock().take(64), &mut answer)?;
    if !answer.ends_with('\n') {
        eprintln!();
    }
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// Prints a server's answer to a proposal or co-signature.
fn report_remote(answer: &serde_json::Value) {
    let id = answer["id"].as_str().unwrap_or("?");
    let progress: Vec<String> = answer["progress"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| {
                    format!(
                        "{}: {} of {}",
                        p["role"].as_str().unwrap_or("?"),
                        p["have"],
                        p["need"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    match answer["status"].as_str() {
        Some("committed") => {
            println!(
                "committed as entry {} (proposal {id}; {})",
                answer["seq"],
                progress.join("; ")
            );
            println!(
                "leaf hash {}; tree size {}",
                answer["leaf_hash"].as_str().unwrap_or("?"),
                answer["size"]
            );
        }
        _ => {
            println!("pending proposal {id}");
            println!("signatures so far: {}", progress.join("; "));
        }
    }
}

pub fn propose_remote(
    remote: &crate::remote::Remote,
    keys: &[KeyFile],
    date: Option<&str>,
    kind: &ProposeKind,
) -> Result<()> {
    let bytes = body_bytes(&remote.origin()?, date, kind)?;
    let body = Body::decode(&bytes).map_err(|e| anyhow::anyhow!("the body is refused: {e}"))?;
    let answer = remote.propose(&bytes, &sign_body(&body, keys))?;
    report_remote(&answer);
    Ok(())
}

pub fn sign_remote(
    remote: &crate::remote::Remote,
    keys: &[KeyFile],
    id: &str,
    yes: bool,
) -> Result<()> {
    let id_hash = Hash::from_hex(id)
        .with_context(|| format!("{id:?} is not a proposal id (64 hex digits)"))?;
    let text = remote.proposal_body(id)?;
    // The body is checked here, not trusted: its id must be the one asked for.
    let body = Body::decode(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("the server's proposal is malformed: {e}"))?;
    if body.id() != id_hash {
        bail!("the server returned a different body than proposal {id}");
    }
    eprintln!("{}", describe::details(&body));
    if !yes && !confirm("co-sign this proposal?")? {
        bail!("not signed");
    }
    let answer = remote.add_signatures(id, &sign_body(&body, keys))?;
    report_remote(&answer);
    Ok(())
}
