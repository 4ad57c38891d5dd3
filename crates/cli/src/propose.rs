//! `feeledger propose` (`feeledger sign` is in `sign.rs`).
//!
//! Every proposal is built and checked here first, then echoed in plain
//! words (Chinese first) with any warnings, and recorded only once a person
//! says yes (or a script passes `--yes`). A mistake caught at the keyboard
//! costs nothing; one caught after it is in the log costs a reversal.

use crate::clock::now_ms;
use crate::clock::{new_nonce, today};
use crate::describe::{self, EXPENSE_CATEGORIES, INCOME_CATEGORIES};
use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use clap::{Args, Subcommand};
use feeledger_core::entry::{
    Attachment, Body, Content, Date, Expenditure, ExpenseCategory, FundDef, Governance, Income,
    IncomeCategory, Kind, Leaf, Month, OwnersApproval, Reversal, Roles, Rules, Transfer,
};
use feeledger_core::hash::{sha256, Hash};
use feeledger_core::keyfile::sign_body;
use feeledger_core::money::parse_amount;
use feeledger_core::state::Approval;
use feeledger_ledgerdir::DataDir;
use feeledger_ledgerdir::KeyFile;
use feeledger_store::{EntryFilter, Order, ProposalOutcome, Store, LIST_LIMIT_MAX};
use std::io::Read as _;
use std::path::PathBuf;

/// Largest attachment hashed: documents are kept outside the ledger, but a
/// bound keeps one command from reading a disk image by mistake.
const ATTACHMENT_BYTES_MAX: u64 = 1 << 30;

/// Most pending proposals read when looking for duplicates: the store
/// holds at most 1,000, and the server lists at most this many.
const PENDING_READ_MAX: usize = LIST_LIMIT_MAX;

// The fund for maintenance (专项维修资金) is spent only on an owners'
// decision; parking and the like go to public revenue (公共收益).
use feeledger_core::conventions::{warnings, OPERATING_FUND};

#[derive(Debug, Subcommand)]
pub enum ProposeKind {
    /// Money in: a property fee, parking, advertising...
    Income {
        /// Fund id or Chinese name (default: by category: parking, advertising and venue rental go to public_revenue 公共收益, the rest to operating).
        #[arg(long)]
        fund: Option<String>,
        /// Yuan, e.g. 1280.50 or 1,280.50.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// property_fee 物业费, parking 停车费, advertising 广告收入, venue_rental 场地租金, interest 利息, other 其他.
        #[arg(long)]
        category: String,
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
        /// Fund id or Chinese name (default: operating 物业服务费).
        #[arg(long)]
        fund: Option<String>,
        /// Yuan, e.g. 3200 or 3,200.00.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// cleaning 保洁, security 秩序维护, greening 绿化, elevator 电梯, repairs 维修, utilities 公共水电, salaries 人员工资, management_fee 物业酬金, other 其他.
        #[arg(long)]
        category: String,
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
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
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
    /// A body already written as canonical JSON (use - for stdin, with --yes).
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

/// What `propose` needs to know of the ledger before it builds a body.
pub struct LedgerFacts {
    pub origin: String,
    pub funds: Vec<FundDef>,
}

impl LedgerFacts {
    pub(crate) fn of_store(store: &Store) -> LedgerFacts {
        let state = store.state();
        LedgerFacts {
            origin: state.origin().to_string(),
            funds: state.genesis().funds.clone(),
        }
    }

    pub(crate) fn of_remote(remote: &crate::remote::Remote) -> Result<LedgerFacts> {
        let info = remote.get_json("/api/v1/ledger")?;
        let origin = info["origin"]
            .as_str()
            .context("the server's /api/v1/ledger has no origin")?
            .to_string();
        let funds: Vec<FundDef> = serde_json::from_value(info["funds"].clone())
            .context("the server's /api/v1/ledger has no list of funds")?;
        Ok(LedgerFacts { origin, funds })
    }
}

/// Earlier entries and pending proposals that a new body is compared with.
#[derive(Default)]
pub struct Neighbours {
    /// Pending proposals: id and body.
    pub pending: Vec<(Hash, Body)>,
    /// Committed expenditures with the same fund and payee, newest first.
    pub recent: Vec<(u64, Body)>,
    /// The entry a reversal undoes, if it exists.
    pub reversal_target: Option<Body>,
}

impl Neighbours {
    fn of_store(store: &Store, body: &Body) -> Result<Neighbours> {
        let mut found = Neighbours::default();
        match &body.content {
            Content::Expenditure(e) => {
                for p in store.proposals(PENDING_READ_MAX)? {
                    if let Ok(b) = p.decoded_body() {
                        found.pending.push((p.id, b));
                    }
                }
                let filter = EntryFilter {
                    fund: Some(e.fund.clone()),
                    party: Some(e.payee.clone()),
                    kind: Some(Kind::Expenditure),
                    ..EntryFilter::default()
                };
                let page = store.list(&filter, Order::Descending, None, LIST_LIMIT_MAX)?;
                for (seq, bytes) in page.entries {
                    if let Ok(leaf) = Leaf::decode(&bytes) {
                        found.recent.push((seq, leaf.body));
                    }
                }
            }
            Content::Reversal(r) => {
                found.reversal_target = store
                    .leaf_bytes(r.target_seq)?
                    .and_then(|bytes| Leaf::decode(&bytes).ok())
                    .map(|leaf| leaf.body);
            }
            _ => {}
        }
        Ok(found)
    }

    /// As [`Neighbours::of_store`], from a server. What it returns is used
    /// only for warnings, so it is not verified: the worst a lying server
    /// can do here is hide or invent a warning.
    fn of_remote(remote: &crate::remote::Remote, body: &Body) -> Result<Neighbours> {
        let mut found = Neighbours::default();
        let leaf_body = |entry: &serde_json::Value| -> Option<(u64, Body)> {
            let seq = entry["seq"].as_u64()?;
            let bytes = BASE64.decode(entry["leaf_base64"].as_str()?).ok()?;
            Some((seq, Leaf::decode(&bytes).ok()?.body))
        };
        match &body.content {
            Content::Expenditure(e) => {
                // Every pending proposal, a page at a time (the cursor
                // `next`). At most PROPOSALS_PENDING_MAX are pending, so a
                // server that sends more pages than that is not followed.
                use feeledger_store::{PROPOSALS_PAGE_MAX, PROPOSALS_PENDING_MAX};
                let mut after: Option<String> = None;
                for _ in 0..=PROPOSALS_PENDING_MAX.div_ceil(PROPOSALS_PAGE_MAX) {
                    let path = match &after {
                        Some(id) => {
                            format!("/api/v1/proposals?limit={PROPOSALS_PAGE_MAX}&after={id}")
                        }
                        None => format!("/api/v1/proposals?limit={PROPOSALS_PAGE_MAX}"),
                    };
                    let list = remote.get_json(&path)?;
                    for p in list["proposals"].as_array().into_iter().flatten() {
                        let id = p["id"].as_str().and_then(|id| Hash::from_hex(id).ok());
                        let body = p["body_jcs"]
                            .as_str()
                            .and_then(|text| Body::decode(text.as_bytes()).ok());
                        if let (Some(id), Some(body)) = (id, body) {
                            found.pending.push((id, body));
                        }
                    }
                    match list["next"].as_str().and_then(|n| Hash::from_hex(n).ok()) {
                        Some(next) => after = Some(next.to_hex()),
                        None => break,
                    }
                }
                let page = remote.get_json(&format!(
                    "/api/v1/entries?kind=expenditure&order=desc&limit={LIST_LIMIT_MAX}&fund={}&payer={}",
                    query_escape(&e.fund),
                    query_escape(&e.payee)
                ))?;
                found.recent = page["entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(leaf_body)
                    .collect();
            }
            Content::Reversal(r) => {
                // A missing target is the server's to refuse, with its reason.
                found.reversal_target = remote
                    .get_json(&format!("/api/v1/entries/{}", r.target_seq))
                    .ok()
                    .and_then(|entry| leaf_body(&entry))
                    .map(|(_, body)| body);
            }
            _ => {}
        }
        Ok(found)
    }
}

/// Percent-encodes a query parameter value (a payee may hold `&`, spaces
/// or Chinese).
fn query_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn amount_arg(flag: &str, text: &str) -> Result<u64> {
    parse_amount(text).map_err(|e| anyhow!("{flag} {e}"))
}

fn income_category(text: &str) -> Result<IncomeCategory> {
    find_category(
        text,
        ("an income", &INCOME_CATEGORIES, IncomeCategory::as_str),
        (
            "an expenditure",
            &EXPENSE_CATEGORIES,
            ExpenseCategory::as_str,
        ),
    )
}

fn expense_category(text: &str) -> Result<ExpenseCategory> {
    find_category(
        text,
        (
            "an expenditure",
            &EXPENSE_CATEGORIES,
            ExpenseCategory::as_str,
        ),
        ("an income", &INCOME_CATEGORIES, IncomeCategory::as_str),
    )
}

/// One side of [`find_category`]: what the kind is called in messages
/// ("an income"), its categories with their Chinese names, and each
/// category's English code.
type CategoryTable<'a, C> = (&'a str, &'a [(C, &'static str)], fn(C) -> &'static str);

/// Finds `--category text` (English code or Chinese name) among `wanted`'s
/// categories. When it is not there, the error says whether `text` is a
/// category of the `other` kind (a common slip: income given to `expense`)
/// and lists the valid ones.
fn find_category<C: Copy, O: Copy>(
    text: &str,
    wanted: CategoryTable<'_, C>,
    other: CategoryTable<'_, O>,
) -> Result<C> {
    let (wanted_kind, wanted_table, wanted_code) = wanted;
    let (other_kind, other_table, other_code) = other;
    if let Some((category, _)) = wanted_table
        .iter()
        .find(|(c, zh)| wanted_code(*c) == text || *zh == text)
    {
        return Ok(*category);
    }
    let hint = other_table
        .iter()
        .find(|(c, zh)| other_code(*c) == text || *zh == text)
        .map(|(c, zh)| format!(" ({zh} {} is {other_kind} category)", other_code(*c)))
        .unwrap_or_default();
    let valid: Vec<String> = wanted_table
        .iter()
        .map(|(c, zh)| format!("{} ({zh})", wanted_code(*c)))
        .collect();
    bail!(
        "--category {text:?} is not {wanted_kind} category{hint}; use one of: {}",
        valid.join(", ")
    )
}

/// The fund an income of this category goes to unless `--fund` says
/// otherwise; the rule is shared with `import` (feeledger-import).
pub use feeledger_import::income::default_income_fund;

/// A fund named by id, by its full name, or by the first word of its name
/// (the rule of [`feeledger_import::income::resolve_fund`], shared with
/// `import`).
fn resolve_fund(flag: &str, text: &str, funds: &[FundDef]) -> Result<String> {
    feeledger_import::income::resolve_fund(text, funds).map_err(|e| anyhow!("{flag}: {e}"))
}

/// `--date`: a real calendar date, 2000 or later.
fn date_arg(text: &str) -> Result<Date> {
    Date::parse(text).ok_or_else(|| {
        if before_2000(text, "") {
            anyhow!("--date {text:?} is before 2000; business dates are 2000-01-01 or later (YYYY-MM-DD)")
        } else {
            anyhow!("--date {text:?} is not a real date; write YYYY-MM-DD, e.g. 2026-10-01")
        }
    })
}

fn period_arg(text: &str) -> Result<Month> {
    Month::parse(text).ok_or_else(|| {
        if before_2000(text, "-01") {
            anyhow!("--period {text:?} is before 2000; periods are 2000-01 or later (YYYY-MM)")
        } else {
            anyhow!("--period {text:?} is not a month; write YYYY-MM, e.g. 2026-10")
        }
    })
}

/// Whether `text` (+ `suffix`) is a real date except that its year is
/// before 2000, the core's earliest: such a date is refused for the year,
/// and the message should say so rather than "not a real date".
fn before_2000(text: &str, suffix: &str) -> bool {
    let full = format!("{text}{suffix}");
    full.is_ascii()
        && full.len() == 10
        && full[..4].bytes().all(|b| b.is_ascii_digit())
        && full[..4] < *"2000"
        // 2000 is a leap year, so 02-29 of any year passes here and is
        // named for its year: close enough for a message.
        && Date::parse(&format!("2000{}", &full[4..])).is_some()
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

/// The canonical bytes of the body to propose, and the body.
pub fn build_body(
    facts: &LedgerFacts,
    date: Option<&str>,
    kind: &ProposeKind,
) -> Result<(Vec<u8>, Body)> {
    let date = match date {
        Some(d) => date_arg(d)?,
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
            let body = Body::decode(&bytes).map_err(|e| anyhow!("the body is refused: {e}"))?;
            return Ok((bytes, body));
        }
        ProposeKind::Income {
            fund,
            amount,
            category,
            payer,
            period,
            memo,
        } => {
            let amount_fen = amount_arg("--amount", amount)?;
            let category = income_category(category)?;
            let fund = match fund {
                Some(f) => resolve_fund("--fund", f, &facts.funds)?,
                None => default_income_fund(category).to_string(),
            };
            let period = match period {
                Some(p) => period_arg(p)?,
                None => date.month(),
            };
            Content::Income(Income {
                fund,
                amount_fen,
                category,
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
        } => {
            let amount_fen = amount_arg("--amount", amount)?;
            let category = expense_category(category)?;
            let fund = match fund {
                Some(f) => resolve_fund("--fund", f, &facts.funds)?,
                None => OPERATING_FUND.to_string(),
            };
            Content::Expenditure(Expenditure {
                fund,
                amount_fen,
                category,
                payee: payee.clone(),
                memo: memo.clone(),
                attachments: attachments.iter().map(attachment).collect::<Result<_>>()?,
                owners_approval: approval.build(),
            })
        }
        ProposeKind::Transfer {
            from,
            to,
            amount,
            memo,
            approval,
        } => Content::Transfer(Transfer {
            from_fund: resolve_fund("--from", from, &facts.funds)?,
            to_fund: resolve_fund("--to", to, &facts.funds)?,
            amount_fen: amount_arg("--amount", amount)?,
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
        ledger: facts.origin.clone(),
        date,
        nonce: new_nonce(),
        content,
    };
    body.check_fields("$").map_err(|e| anyhow!("{e}"))?;
    Ok((body.to_canonical_bytes(), body))
}

/// The files `--attach` names (an expenditure's), in order.
fn attached_files(kind: &ProposeKind) -> &[PathBuf] {
    match kind {
        ProposeKind::Expenditure { attachments, .. } => attachments,
        _ => &[],
    }
}

/// Refuses, before anything is recorded, a file the store will not keep
/// (over [`feeledger_store::ATTACHMENT_BYTES_MAX`]): a proposal listing a
/// file that can never be uploaded would ask the committee to sign blind.
fn check_uploadable(kind: &ProposeKind) -> Result<()> {
    for file in attached_files(kind) {
        let bytes = std::fs::metadata(file)
            .with_context(|| format!("cannot read attachment {}", file.display()))?
            .len();
        if bytes > feeledger_store::ATTACHMENT_BYTES_MAX {
            bail!(
                "attachment {} is {bytes} bytes; the ledger keeps files of at most {} bytes (10 MiB): scan it smaller, or split it",
                file.display(),
                feeledger_store::ATTACHMENT_BYTES_MAX
            );
        }
    }
    Ok(())
}

/// Sends each attached file, read again, through `put` (to the server or
/// the data directory's store), once the proposal that lists it is
/// recorded. A file changed since it was hashed is named, not sent.
fn upload_attachments(
    kind: &ProposeKind,
    body: &Body,
    mut put: impl FnMut(&PathBuf, &Hash, &[u8]) -> Result<()>,
) -> Result<()> {
    let listed = feeledger_store::listed_attachments(body);
    for (file, attachment) in attached_files(kind).iter().zip(listed) {
        let contents = std::fs::read(file)
            .with_context(|| format!("cannot read attachment {}", file.display()))?;
        if sha256(&contents) != attachment.sha256 {
            bail!(
                "attachment {} changed after it was hashed; it was not uploaded (the proposal lists SHA-256 {})",
                file.display(),
                attachment.sha256
            );
        }
        put(file, &attachment.sha256, &contents)?;
        println!(
            "附件已保存 attachment stored: {} ({} bytes, SHA-256 {})",
            attachment.name, attachment.bytes, attachment.sha256
        );
    }
    Ok(())
}

/// Days since 1970-01-01 of a civil date, to measure how far apart two
/// business dates are.
/// Prints the proposal and its warnings, then asks; an error unless the
/// answer (or `--yes`) is yes.
fn echo_and_confirm(facts: &LedgerFacts, body: &Body, near: &Neighbours, yes: bool) -> Result<()> {
    println!("记入账本 To record in {}:", facts.origin);
    print!(
        "{}",
        describe::proposal_echo(body, &facts.funds, near.reversal_target.as_ref())
    );
    let warnings = warnings(body, today(), &near.pending, &near.recent);
    if !warnings.is_empty() {
        println!("注意 Check before recording:");
        for w in &warnings {
            println!("  ! {w}");
        }
    }
    if !yes && !confirm("记入账本？Record it?")? {
        bail!("not recorded: not confirmed (answer y, or pass --yes in scripts)");
    }
    Ok(())
}

/// `propose body -` reads the body from standard input, which then cannot
/// also carry the answer to the question.
fn check_stdin_use(kind: &ProposeKind, yes: bool) -> Result<()> {
    if let ProposeKind::Body { file } = kind {
        if file.as_os_str() == "-" && !yes {
            bail!("propose body - reads the body from standard input, which then cannot answer the question; pass --yes");
        }
    }
    Ok(())
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

/// Prints a proposal outcome; returns the seq if it committed. `target`
/// is where the ledger is (`--data DIR` or `--url URL`), so that the
/// co-signing command it prints can be copied as it stands.
pub fn report(outcome: &ProposalOutcome, body: &Body, target: &str) -> Option<u64> {
    match outcome {
        ProposalOutcome::Committed {
            id,
            approval,
            committed,
        } => {
            println!(
                "committed as entry {} ({}; proposal {id}; {})",
                committed.seq,
                describe::kind_and_amount(body),
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
            println!("co-signers run: feeledger sign {target} --key KEY {id}");
            None
        }
    }
}

/// `propose --data`: build, echo, confirm, then record.
pub fn propose_local(
    data: &DataDir,
    keys: &[KeyFile],
    date: Option<&str>,
    yes: bool,
    kind: &ProposeKind,
) -> Result<()> {
    check_stdin_use(kind, yes)?;
    // Read what the echo needs, then let go of the data directory while a
    // person decides: the store's lock must not wait on a terminal.
    let (facts, bytes, body, near) = {
        let store = data.open()?;
        let facts = LedgerFacts::of_store(&store);
        let (bytes, body) = build_body(&facts, date, kind)?;
        let near = Neighbours::of_store(&store, &body)?;
        (facts, bytes, body, near)
    };
    check_uploadable(kind)?;
    echo_and_confirm(&facts, &body, &near, yes)?;
    let store = data.open()?;
    let log_key = data.log_key()?;
    let signatures = sign_body(&body, keys);
    let outcome = store.propose(&bytes, signatures, now_ms(), &log_key.signer)?;
    report(&outcome, &body, &data_target(data));
    let id = sha256(&bytes);
    upload_attachments(kind, &body, |file, sha, contents| {
        store
            .put_attachment(&id, sha, contents)
            .map(|_| ())
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("attachment {} was not stored", file.display()))
    })
}

/// Asks on stderr and reads one line of stdin, terminal or not; only y,
/// yes or 是 is yes, and end of input is no.
pub fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::BufRead::read_line(&mut std::io::stdin().lock().take(64), &mut answer)?;
    // A terminal echoes the typed newline; a pipe or end of input does
    // not, and the next message would share the question's line.
    if !answer.ends_with('\n') || !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!();
    }
    Ok(matches!(
        answer.trim().to_lowercase().as_str(),
        "y" | "yes" | "是"
    ))
}

/// Prints a server's answer to a proposal or co-signature.
/// `--data DIR`, quoted for a shell where it needs it.
pub(crate) fn data_target(data: &DataDir) -> String {
    let dir = data.root.display().to_string();
    if dir
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        format!("--data {dir}")
    } else {
        format!("--data '{}'", dir.replace('\'', "'\\''"))
    }
}

pub(crate) fn report_remote(
    answer: &serde_json::Value,
    body: &Body,
    remote: &crate::remote::Remote,
) {
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
                "committed as entry {} ({}; proposal {id}; {})",
                answer["seq"],
                describe::kind_and_amount(body),
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
            println!(
                "co-signers run: feeledger sign --url {} --key KEY {id}",
                remote.server().base_url()
            );
        }
    }
}

/// `propose --url`: build, echo, confirm, then send.
pub fn propose_remote(
    remote: &crate::remote::Remote,
    keys: &[KeyFile],
    date: Option<&str>,
    yes: bool,
    kind: &ProposeKind,
) -> Result<()> {
    check_stdin_use(kind, yes)?;
    let facts = LedgerFacts::of_remote(remote)?;
    let (bytes, body) = build_body(&facts, date, kind)?;
    let near = Neighbours::of_remote(remote, &body)?;
    check_uploadable(kind)?;
    echo_and_confirm(&facts, &body, &near, yes)?;
    let answer = remote.propose(&bytes, &sign_body(&body, keys))?;
    report_remote(&answer, &body, remote);
    let id = sha256(&bytes).to_hex();
    upload_attachments(kind, &body, |file, sha, contents| {
        let path = format!("/api/v1/proposals/{id}/attachments/{sha}");
        let url = remote.server().url(&path);
        let sent = remote
            .server()
            .client()
            .put(&url)
            .header("content-type", "application/octet-stream")
            .body(contents.to_vec())
            .send()
            .with_context(|| format!("cannot reach {url}"))
            .and_then(|r| Ok(remote.server().check(r)?));
        sent.map(|_| ()).with_context(|| {
            format!(
                "attachment {} was not uploaded (the proposal {id} is recorded; send the file again with: curl -T '{}' {url})",
                file.display(),
                file.display()
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Query values are percent-encoded byte by byte.
    #[test]
    fn escapes_query_values() {
        assert_eq!(query_escape("洁美 A&B"), "%E6%B4%81%E7%BE%8E%20A%26B");
        assert_eq!(query_escape("3-1502"), "3-1502");
    }
}
