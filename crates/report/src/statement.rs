//! The notice-board statement (公示): a period's income, spending,
//! maintenance-fund use and fund balances, computed from the log up to a
//! signed checkpoint, with a digest a resident compares with the page.
//!
//! [`Statement::for_period`] reads any [`LedgerView`] (a data directory,
//! or a server's ledger verified against the log key) and returns the
//! figures ([`Figures`]) and what the paper's header and footer show.
//! [`Statement::to_html`] renders one self-contained, printable A4 page.
//!
//! The figures, their canonical JSON and the digest are specified in
//! docs/format.md ("Notice-board statement"); the page's `statement.js`
//! computes the same from the log in the browser. Both follow these rules:
//!
//! - An entry belongs to the month of its business date. A reversal undoes
//!   its target in the target's month, as the core's monthly totals do, so
//!   a statement made later shows the corrected figures.
//! - Postings before the period make the opening balance; postings in it
//!   are the period's flows; postings after it are left out. So for each
//!   fund `opening + income − spending + transfers in − transfers out =
//!   closing`, and the sums over all months are the ledger's balances
//!   (both are checked).
//! - A property fee whose fee month (`period`) is before the statement's
//!   first month is arrears recovered (`property_fee_arrears`).
//!
//! Amounts are integer fen, summed in `i128` with checked arithmetic.

use crate::describe::date_from_days;
use feeledger_audit::{LedgerView, ViewError};
use feeledger_core::conventions::MAINTENANCE_FUND;
use feeledger_core::entry::{
    Body, Content, Date, ExpenseCategory, FormatError, IncomeCategory, Leaf, Month, OwnersApproval,
    Role,
};
use feeledger_core::hash::leaf_hash;
use feeledger_core::hash::Hash;
use feeledger_core::merkle::Frontier;
use feeledger_core::money::format_yuan_grouped;
use feeledger_core::names::{expense_category_zh, income_category_zh};
use feeledger_core::note::{open_checkpoint, NoteError, VerifiedSignature};
use feeledger_core::state::TRANSFER_CATEGORY;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The `format` member of the figures: changes if their definition does.
pub const FIGURES_FORMAT: &str = "feeledger-statement/1";

/// The category of a property fee paid for a month before the period.
pub const ARREARS_CATEGORY: &str = "property_fee_arrears";

/// Hex digits of the digest printed and shown: 64 bits, too many to find a
/// second set of figures with the same code by trying.
pub const DIGEST_HEX_DIGITS: usize = 16;

/// The period a statement covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// `2025-12`
    Month(Month),
    /// `2025-Q4`: quarter 1 to 4.
    Quarter { year: u16, quarter: u8 },
    /// `2025`
    Year(u16),
}

/// A period that is none of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period {text:?} is not one of the accepted forms: a month (2025-12), a quarter (2025-Q4) or a year (2025), years 2000 to 9999")]
pub struct PeriodError {
    pub text: String,
}

impl Period {
    /// Parses `2025-12`, `2025-Q4` (or `2025-q4`) or `2025`.
    ///
    /// # Errors
    ///
    /// [`PeriodError`] for anything else, naming the accepted forms.
    pub fn parse(text: &str) -> std::result::Result<Period, PeriodError> {
        let bad = || PeriodError {
            text: text.to_string(),
        };
        let year = |s: &str| -> Option<u16> {
            (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
                .filter(|y| (2000..=9999).contains(y))
        };
        if let Some(y) = year(text) {
            return Ok(Period::Year(y));
        }
        if let Some((y, q)) = text.split_once("-Q").or_else(|| text.split_once("-q")) {
            let y = year(y).ok_or_else(bad)?;
            return match q {
                "1" | "2" | "3" | "4" => Ok(Period::Quarter {
                    year: y,
                    quarter: q.parse().map_err(|_| bad())?,
                }),
                _ => Err(bad()),
            };
        }
        if text.len() == 7 {
            if let Some(m) = Month::parse(text) {
                return Ok(Period::Month(m));
            }
        }
        Err(bad())
    }

    /// The first month of the period.
    pub fn first_month(&self) -> Month {
        match *self {
            Period::Month(m) => m,
            Period::Quarter { year, quarter } => Month {
                year,
                month: (quarter - 1) * 3 + 1,
            },
            Period::Year(year) => Month { year, month: 1 },
        }
    }

    /// The last month of the period.
    pub fn last_month(&self) -> Month {
        match *self {
            Period::Month(m) => m,
            Period::Quarter { year, quarter } => Month {
                year,
                month: quarter * 3,
            },
            Period::Year(year) => Month { year, month: 12 },
        }
    }

    /// How the title names the period: `2025年12月`, `2025年第四季度`,
    /// `2025年度`.
    pub fn label_zh(&self) -> String {
        match *self {
            Period::Month(m) => format!("{}年{}月", m.year, m.month),
            Period::Quarter { year, quarter } => {
                let q = ["一", "二", "三", "四"][usize::from(quarter - 1)];
                format!("{year}年第{q}季度")
            }
            Period::Year(year) => format!("{year}年度"),
        }
    }

    /// `December 2025`, `Q4 2025`, `2025`.
    pub fn label_en(&self) -> String {
        match *self {
            Period::Month(m) => format!("{} {}", MONTHS_EN_LONG[usize::from(m.month - 1)], m.year),
            Period::Quarter { year, quarter } => format!("Q{quarter} {year}"),
            Period::Year(year) => year.to_string(),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month(m) => write!(f, "{m}"),
            Period::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            Period::Year(y) => write!(f, "{y}"),
        }
    }
}

const MONTHS_EN_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_EN_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Why a statement could not be made. Nothing is printed without all of
/// its figures.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    /// The ledger could not be read.
    #[error("reading the ledger: {0}")]
    Read(#[source] ViewError),
    /// An entry below the checkpoint's size is not there.
    #[error("entry {seq} is missing from the ledger")]
    Missing { seq: u64 },
    /// An entry's leaf does not decode.
    #[error("entry {seq} is damaged: {error}")]
    Damaged { seq: u64, error: FormatError },
    /// An entry's leaf is stored under another seq than its own.
    #[error("entry {seq} is damaged: its leaf says it is entry {leaf_seq}")]
    WrongSeq { seq: u64, leaf_seq: u64 },
    /// A reversal names an entry that is not an earlier money entry.
    #[error("entry {seq} reverses entry {target_seq}, which is not an earlier income, expenditure or transfer")]
    BadReversal { seq: u64, target_seq: u64 },
    /// The latest checkpoint does not open with the ledger's log key.
    #[error("the latest checkpoint does not verify with the ledger's log key: {0}; run `feeledger verify`")]
    Checkpoint(#[source] NoteError),
    /// The latest checkpoint is of another size than the ledger.
    #[error("the latest checkpoint is of size {checkpoint_size}, the ledger of {size}: the ledger changed while it was read; run the command again")]
    CheckpointSize { checkpoint_size: u64, size: u64 },
    /// The ledger is empty: there is no genesis.
    #[error("the ledger is empty")]
    Empty,
    /// A sum beyond what 128 bits hold (never from a ledger that verifies).
    #[error("a sum of fund {fund} is out of range")]
    Overflow { fund: String },
    /// A posting to a fund the genesis does not define.
    #[error("entry {seq} names fund {fund:?}, which genesis does not define")]
    UnknownFund { seq: u64, fund: String },
    /// The entries add up to another balance than the ledger holds.
    #[error("the entries give fund {fund} {summed_fen} fen, the ledger holds {ledger_fen} fen; run `feeledger verify`")]
    Balance {
        fund: String,
        summed_fen: i128,
        ledger_fen: u64,
    },
    /// The latest cosigned checkpoint does not verify with the log key.
    #[error("the latest cosigned checkpoint does not verify with the ledger's log key: {0}; run `feeledger verify`")]
    CosignedCheckpoint(#[source] NoteError),
    /// The latest cosigned checkpoint is larger than the ledger, or its
    /// root is not the root of the ledger's first entries.
    #[error("the latest cosigned checkpoint (size {size}) is not a checkpoint of this ledger's first {size} entries: the log was rewritten after the committee confirmed it; run `feeledger verify` and tell the owners' committee")]
    CosignedRoot { size: u64 },
    /// The canonical JSON of the figures could not be made.
    #[error("the statement's figures: {0}")]
    Json(#[from] serde_json::Error),
}

type Result<T> = std::result::Result<T, StatementError>;

/// One fund over the period. `closing = opening + income − spending +
/// transfers_in − transfers_out`, checked when it is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundFigures {
    pub fund: String,
    pub opening_fen: i128,
    pub income_fen: i128,
    pub spending_fen: i128,
    pub transfers_in_fen: i128,
    pub transfers_out_fen: i128,
    pub closing_fen: i128,
}

/// Income or spending of one fund and category over the period, net of
/// reversals. `category` is the body's, or [`ARREARS_CATEGORY`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryLine {
    pub fund: String,
    pub category: String,
    pub fen: i128,
}

/// An expenditure from the maintenance fund dated in the period, with the
/// owners' vote it cites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceUse {
    pub seq: u64,
    pub date: Date,
    pub amount_fen: u64,
    pub category: ExpenseCategory,
    pub payee: String,
    pub vote: Option<OwnersApproval>,
    /// Reversed by an entry within the checkpoint.
    pub reversed: bool,
}

/// Every number a statement prints, and what pins them to the log: the
/// input of the digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub ledger: String,
    pub period: Period,
    pub size: u64,
    pub root: Hash,
    /// In fund id order.
    pub funds: Vec<FundFigures>,
    /// Non-zero lines, in (fund, category) order.
    pub income: Vec<CategoryLine>,
    pub spending: Vec<CategoryLine>,
    /// In seq order.
    pub maintenance_uses: Vec<MaintenanceUse>,
}

impl Figures {
    /// The figures as the JSON value whose RFC 8785 form is digested
    /// (docs/format.md, "Notice-board statement"). Fen are decimal strings,
    /// exact in any language.
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::json;
        let lines = |lines: &[CategoryLine]| -> Vec<serde_json::Value> {
            lines
                .iter()
                .map(|l| json!({"fund": l.fund, "category": l.category, "fen": l.fen.to_string()}))
                .collect()
        };
        json!({
            "format": FIGURES_FORMAT,
            "ledger": self.ledger,
            "period": self.period.to_string(),
            "size": self.size,
            "root": self.root.to_hex(),
            "funds": self.funds.iter().map(|f| json!({
                "fund": f.fund,
                "opening_fen": f.opening_fen.to_string(),
                "income_fen": f.income_fen.to_string(),
                "spending_fen": f.spending_fen.to_string(),
                "transfers_in_fen": f.transfers_in_fen.to_string(),
                "transfers_out_fen": f.transfers_out_fen.to_string(),
                "closing_fen": f.closing_fen.to_string(),
            })).collect::<Vec<_>>(),
            "income": lines(&self.income),
            "spending": lines(&self.spending),
            "maintenance_uses": self.maintenance_uses.iter().map(|u| json!({
                "seq": u.seq,
                "date": u.date.to_string(),
                "amount_fen": u.amount_fen.to_string(),
                "category": u.category.as_str(),
                "payee": u.payee,
                "reversed": u.reversed,
                "vote": u.vote.as_ref().map(|v| json!({
                    "decision_ref": v.decision_ref,
                    "participating_area_bp": v.participating_area_bp,
                    "participating_headcount_bp": v.participating_headcount_bp,
                    "approving_area_bp": v.approving_area_bp,
                    "approving_headcount_bp": v.approving_headcount_bp,
                })),
            })).collect::<Vec<_>>(),
        })
    }

    /// The canonical (RFC 8785) JSON of [`Figures::to_value`].
    ///
    /// # Errors
    ///
    /// [`StatementError::Json`] if it cannot be serialized (never expected).
    pub fn canonical_json(&self) -> Result<String> {
        Ok(serde_json_canonicalizer::to_string(&self.to_value())?)
    }

    /// The first [`DIGEST_HEX_DIGITS`] hex digits of SHA-256 over the
    /// canonical JSON, as printed on the paper and shown by the page.
    ///
    /// # Errors
    ///
    /// As [`Figures::canonical_json`].
    pub fn digest(&self) -> Result<String> {
        let digest = Sha256::digest(self.canonical_json()?.as_bytes());
        Ok(hex::encode(digest)[..DIGEST_HEX_DIGITS].to_string())
    }
}

/// A cosignature the checkpoint carries, verified with a role's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigner {
    /// The key's name (`weiyuan-wang`).
    pub name: String,
    /// Whom the key stands for (`王建国`), as the roles in force at the
    /// statement's checkpoint sign it; `None` when they name no one.
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub timestamp_s: u64,
}

impl Cosigner {
    /// The name to print for people: the display name, or the key name.
    pub fn shown_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

/// A notice-board statement: the figures, and what the header and footer
/// show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub figures: Figures,
    /// The community's name, from the genesis.
    pub name: String,
    /// Fund id → the ledger's own name for it.
    pub fund_names: BTreeMap<String, String>,
    /// The log key fingerprint, as the page shows it.
    pub fingerprint: String,
    /// When the last entry of the checkpoint was recorded (UTC ms).
    pub recorded_ms: u64,
    pub cosigners: Vec<Cosigner>,
    /// When the checkpoint printed carries no cosignature: the latest one
    /// that does (the committee's last confirmation), whose root the
    /// statement's own leaves reproduce, so the paper names how far the
    /// committee confirmed and that its numbers extend past it.
    pub last_confirmation: Option<Confirmation>,
}

/// A cosigned checkpoint older than the one printed, checked against the
/// leaves: its size and who cosigned it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub size: u64,
    pub cosigners: Vec<Cosigner>,
}

/// What one money entry does, as postings: (month, fund, category, income,
/// spending). A transfer is a spending of the from-fund and an income of
/// the to-fund, category [`TRANSFER_CATEGORY`].
type Posting = (Month, String, String, i128, i128);

fn postings(body: &Body, first: Month, sign: i128) -> Vec<Posting> {
    let month = body.date.month();
    match &body.content {
        Content::Income(i) => {
            let category = if i.category == IncomeCategory::PropertyFee && i.period < first {
                ARREARS_CATEGORY.to_string()
            } else {
                i.category.as_str().to_string()
            };
            vec![(
                month,
                i.fund.clone(),
                category,
                sign * i128::from(i.amount_fen),
                0,
            )]
        }
        Content::Expenditure(e) => vec![(
            month,
            e.fund.clone(),
            e.category.as_str().to_string(),
            0,
            sign * i128::from(e.amount_fen),
        )],
        Content::Transfer(t) => {
            let a = sign * i128::from(t.amount_fen);
            vec![
                (month, t.from_fund.clone(), TRANSFER_CATEGORY.into(), 0, a),
                (month, t.to_fund.clone(), TRANSFER_CATEGORY.into(), a, 0),
            ]
        }
        _ => vec![],
    }
}

fn decode(seq: u64, bytes: &[u8]) -> Result<Leaf> {
    let leaf = Leaf::decode(bytes).map_err(|error| StatementError::Damaged { seq, error })?;
    if leaf.seq != seq {
        return Err(StatementError::WrongSeq {
            seq,
            leaf_seq: leaf.seq,
        });
    }
    Ok(leaf)
}

fn add(sum: &mut i128, fen: i128, fund: &str) -> Result<()> {
    *sum = sum.checked_add(fen).ok_or(StatementError::Overflow {
        fund: fund.to_string(),
    })?;
    Ok(())
}

#[derive(Default)]
struct FundSums {
    opening: i128,
    income: i128,
    spending: i128,
    transfers_in: i128,
    transfers_out: i128,
    /// Over every month: must be the ledger's balance.
    all: i128,
}

impl Statement {
    /// The statement of `period` from the ledger's latest checkpoint.
    ///
    /// # Errors
    ///
    /// [`StatementError::Read`] if the ledger cannot be read; an entry
    /// missing, damaged or out of place; a reversal of no earlier money
    /// entry; [`StatementError::Checkpoint`] or
    /// [`StatementError::CheckpointSize`] if the latest checkpoint is not
    /// the log key's, or of another size; [`StatementError::Balance`] if
    /// the entries do not add up to the ledger's balances.
    pub fn for_period(view: &dyn LedgerView, period: Period) -> Result<Statement> {
        let state = view.state();
        let size = view.size();
        if size == 0 {
            return Err(StatementError::Empty);
        }
        let note = view.latest_checkpoint().map_err(StatementError::Read)?;
        let (checkpoint, _, verified) =
            open_checkpoint(&note, state.log_key(), &state.cosigner_keys())
                .map_err(StatementError::Checkpoint)?;
        if checkpoint.size != size || state.size() != size {
            return Err(StatementError::CheckpointSize {
                checkpoint_size: checkpoint.size,
                size,
            });
        }
        let genesis = state.genesis();
        let (first, last) = (period.first_month(), period.last_month());
        // The committee's last confirmation, checked below against the
        // root of the leaves up to its size, when the latest checkpoint
        // carries none.
        let confirmed = if verified.iter().any(|v| v.timestamp_s.is_some()) {
            None
        } else {
            view.latest_cosigned_checkpoint()
                .map_err(StatementError::Read)?
                .map(|note| {
                    open_checkpoint(&note, state.log_key(), &state.cosigner_keys())
                        .map_err(StatementError::CosignedCheckpoint)
                })
                .transpose()?
                .filter(|(_, _, lines)| lines.iter().any(|v| v.timestamp_s.is_some()))
        };
        if let Some((cp, _, _)) = &confirmed {
            if cp.size > size || cp.size == 0 {
                return Err(StatementError::CosignedRoot { size: cp.size });
            }
        }
        let mut frontier = Frontier::new();
        let mut confirmed_root = None;

        let mut sums: BTreeMap<String, FundSums> = genesis
            .funds
            .iter()
            .map(|f| (f.id.clone(), FundSums::default()))
            .collect();
        let mut income: BTreeMap<(String, String), i128> = BTreeMap::new();
        let mut spending: BTreeMap<(String, String), i128> = BTreeMap::new();
        let mut uses: Vec<MaintenanceUse> = Vec::new();
        let mut reversed: BTreeSet<u64> = BTreeSet::new();

        let mut next = 0u64;
        for item in view.leaves() {
            let (seq, bytes) = item.map_err(StatementError::Read)?;
            if seq != next {
                return Err(StatementError::Missing { seq: next });
            }
            if seq >= size {
                break;
            }
            next += 1;
            if confirmed.is_some() {
                frontier.append(leaf_hash(&bytes));
                if confirmed.as_ref().is_some_and(|(cp, _, _)| cp.size == next) {
                    confirmed_root = Some(frontier.root());
                }
            }
            let leaf = decode(seq, &bytes)?;
            let list = match &leaf.body.content {
                Content::Reversal(r) => {
                    let target = (r.target_seq < seq)
                        .then(|| view.leaf_bytes(r.target_seq))
                        .transpose()
                        .map_err(StatementError::Read)?
                        .flatten()
                        .map(|b| decode(r.target_seq, &b))
                        .transpose()?;
                    let list = target
                        .map(|t| postings(&t.body, first, -1))
                        .unwrap_or_default();
                    if list.is_empty() {
                        return Err(StatementError::BadReversal {
                            seq,
                            target_seq: r.target_seq,
                        });
                    }
                    reversed.insert(r.target_seq);
                    list
                }
                Content::Expenditure(e) => {
                    let month = leaf.body.date.month();
                    if e.fund == MAINTENANCE_FUND && month >= first && month <= last {
                        uses.push(MaintenanceUse {
                            seq,
                            date: leaf.body.date,
                            amount_fen: e.amount_fen,
                            category: e.category,
                            payee: e.payee.clone(),
                            vote: e.owners_approval.clone(),
                            reversed: false,
                        });
                    }
                    postings(&leaf.body, first, 1)
                }
                _ => postings(&leaf.body, first, 1),
            };
            for (month, fund, category, inc, spent) in list {
                let s = sums
                    .get_mut(&fund)
                    .ok_or_else(|| StatementError::UnknownFund {
                        seq,
                        fund: fund.clone(),
                    })?;
                add(&mut s.all, inc - spent, &fund)?;
                if month < first {
                    add(&mut s.opening, inc - spent, &fund)?;
                } else if month <= last {
                    if category == TRANSFER_CATEGORY {
                        add(&mut s.transfers_in, inc, &fund)?;
                        add(&mut s.transfers_out, spent, &fund)?;
                    } else {
                        add(&mut s.income, inc, &fund)?;
                        add(&mut s.spending, spent, &fund)?;
                        let key = (fund.clone(), category);
                        if inc != 0 {
                            add(income.entry(key.clone()).or_default(), inc, &fund)?;
                        }
                        if spent != 0 {
                            add(spending.entry(key).or_default(), spent, &fund)?;
                        }
                    }
                }
            }
        }
        if next < size {
            return Err(StatementError::Missing { seq: next });
        }
        for u in &mut uses {
            u.reversed = reversed.contains(&u.seq);
        }

        let mut funds = Vec::with_capacity(sums.len());
        for (fund, s) in &sums {
            let ledger_fen = state.balances().get(fund).copied().unwrap_or(0);
            if s.all != i128::from(ledger_fen) {
                return Err(StatementError::Balance {
                    fund: fund.clone(),
                    summed_fen: s.all,
                    ledger_fen,
                });
            }
            let overflow = || StatementError::Overflow { fund: fund.clone() };
            let closing = s
                .opening
                .checked_add(s.income)
                .and_then(|v| v.checked_sub(s.spending))
                .and_then(|v| v.checked_add(s.transfers_in))
                .and_then(|v| v.checked_sub(s.transfers_out))
                .ok_or_else(overflow)?;
            funds.push(FundFigures {
                fund: fund.clone(),
                opening_fen: s.opening,
                income_fen: s.income,
                spending_fen: s.spending,
                transfers_in_fen: s.transfers_in,
                transfers_out_fen: s.transfers_out,
                closing_fen: closing,
            });
        }
        let lines = |map: BTreeMap<(String, String), i128>| -> Vec<CategoryLine> {
            map.into_iter()
                .filter(|(_, fen)| *fen != 0)
                .map(|((fund, category), fen)| CategoryLine {
                    fund,
                    category,
                    fen,
                })
                .collect()
        };
        let cosigners_of = |lines: &[VerifiedSignature]| -> Vec<Cosigner> {
            lines
                .iter()
                .filter_map(|v| {
                    let display_name = state
                        .roles()
                        .values()
                        .flat_map(|def| &def.keys)
                        .find(|k| k.name == v.name)
                        .and_then(|k| k.display_name.clone());
                    Some(Cosigner {
                        name: v.name.clone(),
                        display_name,
                        role: state.role_of(&v.name),
                        timestamp_s: v.timestamp_s?,
                    })
                })
                .collect()
        };
        let cosigners = cosigners_of(&verified);
        let last_confirmation = match confirmed {
            None => None,
            Some((cp, _, lines)) => {
                if confirmed_root != Some(cp.root) {
                    return Err(StatementError::CosignedRoot { size: cp.size });
                }
                Some(Confirmation {
                    size: cp.size,
                    cosigners: cosigners_of(&lines),
                })
            }
        };
        Ok(Statement {
            figures: Figures {
                ledger: state.origin().to_string(),
                period,
                size,
                root: checkpoint.root,
                funds,
                income: lines(income),
                spending: lines(spending),
                maintenance_uses: uses,
            },
            name: genesis.name.clone(),
            fund_names: genesis
                .funds
                .iter()
                .map(|f| (f.id.clone(), f.name.clone()))
                .collect(),
            fingerprint: state.log_key().fingerprint(),
            recorded_ms: state.last_time_ms(),
            cosigners,
            last_confirmation,
        })
    }

    /// The URL the QR code opens: the page at `link_base`, asked to check
    /// this statement's period at this checkpoint's size, with the
    /// paper's check code to compare with its own.
    ///
    /// # Errors
    ///
    /// As [`Figures::digest`].
    pub fn link(&self, link_base: &str) -> Result<String> {
        Ok(format!(
            "{}/?statement={}&size={}&code={}",
            link_base.trim_end_matches('/'),
            self.figures.period,
            self.figures.size,
            self.figures.digest()?
        ))
    }
}

/// The language of a rendered statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// A count with thousands separators, as the page writes it: `3,669`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// `¥1,280.50`, `−¥5.00` for a negative sum.
fn money(fen: i128) -> String {
    let abs = u64::try_from(fen.unsigned_abs())
        .map_or_else(|_| fen.unsigned_abs().to_string(), format_yuan_grouped);
    if fen < 0 {
        format!("−¥{abs}")
    } else {
        format!("¥{abs}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `2026年12月6日` or `6 Dec 2026`.
fn date_text(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}年{}月{}日", date.year, date.month, date.day),
        Lang::En => format!(
            "{} {} {}",
            date.day,
            MONTHS_EN_SHORT[usize::from(date.month - 1)],
            date.year
        ),
    }
}

/// The footer's words when the printed checkpoint carries no cosignature:
/// how far the committee (or a witness) last confirmed, who and when, and
/// how many of the printed entries came after it, e.g.
/// 业委会最近一次联署确认到第 3,364 笔（王建国、赵秀英，2025年11月30日），
/// 本公示的数字还包括此后记的 305 笔. The names are the display names the
/// roles sign (docs/format.md §7.1), or the key names where they have none.
fn last_confirmation_text(c: &Confirmation, size: u64, lang: Lang) -> String {
    let committee = |x: &&Cosigner| x.role == Some(Role::Committee);
    let names: Vec<String> = c
        .cosigners
        .iter()
        .filter(committee)
        .chain(c.cosigners.iter().filter(|x| !committee(x)))
        .map(|x| escape(x.shown_name()))
        .collect();
    let by_committee = c.cosigners.iter().any(|x| committee(&x));
    let latest_s = c.cosigners.iter().map(|x| x.timestamp_s).max().unwrap_or(0);
    let when = date_of_ms(latest_s.saturating_mul(1000), lang);
    let after = size.saturating_sub(c.size);
    match lang {
        Lang::Zh => format!(
            "{}最近一次联署确认到第 {} 笔（{}，{when}），本公示的数字还包括此后记的 {} 笔",
            if by_committee { "业委会" } else { "" },
            count(c.size),
            names.join("、"),
            count(after)
        ),
        Lang::En => format!(
            "{} up to entry {} ({}, {when}); the figures printed also include the {} entries recorded after it",
            if by_committee {
                "The committee last cosigned"
            } else {
                "Last cosigned"
            },
            count(c.size),
            names.join(", "),
            count(after)
        ),
    }
}

/// Beijing's offset from UTC (no daylight saving since 1991).
const BEIJING_OFFSET_MS: u64 = 8 * 3_600_000;

/// The Beijing date of a timestamp: the notice board's and the page's
/// (web/format.js `dayText`), so a cosignature made after 16:00 UTC is
/// dated the same on the paper and the screen.
fn date_of_ms(ms: u64, lang: Lang) -> String {
    // Whole days since 1970 fit an i64 for every u64 of milliseconds.
    let days = ms.saturating_add(BEIJING_OFFSET_MS) / 86_400_000;
    date_text(date_from_days(days as i64), lang)
}

fn last_day(m: Month) -> Date {
    (28..=31)
        .rev()
        .find_map(|day| Date::parse(&format!("{m}-{day:02}")))
        .expect("every month has a 28th")
}

/// 0.01% steps as a percentage: 6734 → `67.34%`.
fn percent(bp: u32) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

fn group4(hex: &str) -> String {
    hex.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn category_name(category: &str, lang: Lang) -> String {
    let income = [
        IncomeCategory::PropertyFee,
        IncomeCategory::Parking,
        IncomeCategory::Advertising,
        IncomeCategory::VenueRental,
        IncomeCategory::Interest,
        IncomeCategory::Other,
    ];
    let expense = [
        ExpenseCategory::Cleaning,
        ExpenseCategory::Security,
        ExpenseCategory::Greening,
        ExpenseCategory::Elevator,
        ExpenseCategory::Repairs,
        ExpenseCategory::Utilities,
        ExpenseCategory::Salaries,
        ExpenseCategory::ManagementFee,
        ExpenseCategory::Other,
    ];
    match (category, lang) {
        (ARREARS_CATEGORY, Lang::Zh) => "追缴往期欠费".into(),
        (ARREARS_CATEGORY, Lang::En) => "Arrears recovered (fees for earlier months)".into(),
        ("property_fee", Lang::Zh) => "物业费（本期及预收）".into(),
        ("property_fee", Lang::En) => "Property fees (this period and in advance)".into(),
        ("advertising", Lang::Zh) => "广告收入（电梯、墙面等）".into(),
        ("advertising", Lang::En) => "Advertising (lifts, walls)".into(),
        _ => {
            if let Some(c) = income.iter().find(|c| c.as_str() == category) {
                match lang {
                    Lang::Zh => income_category_zh(*c).into(),
                    Lang::En => capitalize(&c.as_str().replace('_', " ")),
                }
            } else if let Some(c) = expense.iter().find(|c| c.as_str() == category) {
                match lang {
                    Lang::Zh => expense_category_zh(*c).into(),
                    Lang::En => capitalize(&c.as_str().replace('_', " ")),
                }
            } else {
                escape(category)
            }
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

fn fund_name(statement: &Statement, fund: &str, lang: Lang) -> String {
    let en = match fund {
        "operating" => Some("Property fees"),
        "public_revenue" => Some("Common-area income"),
        "maintenance" => Some("Maintenance fund"),
        _ => None,
    };
    let zh = match fund {
        "operating" => Some("物业服务费"),
        "public_revenue" => Some("公共收益"),
        "maintenance" => Some("专项维修资金"),
        _ => None,
    };
    match (lang, en, zh) {
        (Lang::En, Some(en), _) => en.into(),
        (Lang::Zh, _, Some(zh)) => zh.into(),
        _ => escape(statement.fund_names.get(fund).map_or(fund, |n| n.as_str())),
    }
}

/// The words of the page, Chinese first.
struct Words {
    title_suffix: &'static str,
    community: &'static str,
    households: &'static str,
    fee_rate: &'static str,
    not_recorded: &'static str,
    fee_unit: &'static str,
    period: &'static str,
    to: &'static str,
    basis: &'static str,
    income: &'static str,
    spending: &'static str,
    fund: &'static str,
    item: &'static str,
    amount: &'static str,
    total: &'static str,
    none: &'static str,
    maintenance: &'static str,
    date: &'static str,
    purpose: &'static str,
    payee: &'static str,
    vote: &'static str,
    no_vote: &'static str,
    reversed: &'static str,
    balances: &'static str,
    opening: &'static str,
    period_income: &'static str,
    period_spending: &'static str,
    transfers_in: &'static str,
    transfers_out: &'static str,
    closing: &'static str,
    identity: &'static str,
    check: &'static str,
    digest: &'static str,
    fingerprint: &'static str,
    checkpoint: &'static str,
    root: &'static str,
    cosigned: &'static str,
    no_cosign: &'static str,
    scan: &'static str,
}

const ZH: Words = Words {
    title_suffix: "公共收支公示",
    community: "小区",
    households: "户数",
    fee_rate: "物业费标准",
    not_recorded: "账本未记载，请填写：",
    fee_unit: "元/㎡·月",
    period: "公示期间",
    to: "至",
    basis: "数据依据",
    income: "一、收入",
    spending: "二、支出",
    fund: "资金",
    item: "项目",
    amount: "金额",
    total: "合计",
    none: "本期无",
    maintenance: "三、专项维修资金使用",
    date: "日期",
    purpose: "用途",
    payee: "收款方",
    vote: "业主表决",
    no_vote: "未注明业主表决",
    reversed: "已冲销",
    balances: "四、各项资金余额",
    opening: "期初余额",
    period_income: "本期收入",
    period_spending: "本期支出",
    transfers_in: "划入",
    transfers_out: "划出",
    closing: "期末余额",
    identity: "期初余额 + 收入 − 支出 + 划入 − 划出 = 期末余额",
    check: "如何核对",
    digest: "核对码",
    fingerprint: "日志密钥指纹",
    checkpoint: "检查点",
    root: "根哈希",
    cosigned: "联署确认",
    no_cosign: "此检查点无联署签名",
    scan: "用手机扫描二维码，网页会从账本重新计算本表每一个数字，并显示核对码；核对码与上面相同，即与账本一致。日志密钥指纹应与公示栏上张贴的一致。",
};

const EN: Words = Words {
    title_suffix: "statement of income and spending",
    community: "Community",
    households: "Households",
    fee_rate: "Property fee rate",
    not_recorded: "not recorded in the ledger; fill in: ",
    fee_unit: "yuan/m² per month",
    period: "Period",
    to: "to",
    basis: "Based on",
    income: "1. Income",
    spending: "2. Spending",
    fund: "Fund",
    item: "Item",
    amount: "Amount",
    total: "Total",
    none: "None in this period",
    maintenance: "3. Use of the maintenance fund",
    date: "Date",
    purpose: "Purpose",
    payee: "Paid to",
    vote: "Owners' vote",
    no_vote: "No owners' vote cited",
    reversed: "reversed",
    balances: "4. Fund balances",
    opening: "Opening",
    period_income: "Income",
    period_spending: "Spending",
    transfers_in: "Transfers in",
    transfers_out: "Transfers out",
    closing: "Closing",
    identity: "opening + income − spending + transfers in − transfers out = closing",
    check: "How to check",
    digest: "Check code",
    fingerprint: "Log key fingerprint",
    checkpoint: "Checkpoint",
    root: "Root hash",
    cosigned: "Cosigned by",
    no_cosign: "This checkpoint carries no cosignature",
    scan: "Scan the QR code with a phone: the page recomputes every number here from the ledger and shows the check code; if it is the same as above, the statement agrees with the ledger. The log key fingerprint must match the one posted on the notice board.",
};

/// The statement's style: A4 portrait, one page for a month of an
/// ordinary community; tables stay black on white when printed.
const STYLE: &str = r#"
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 186mm; font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; font-size: 9pt; color: #000; background: #fff; line-height: 1.25; }
h1 { font-size: 15pt; text-align: center; margin: 0 0 2mm; }
h2 { font-size: 10.5pt; margin: 2.5mm 0 1mm; }
table { width: 100%; border-collapse: collapse; }
th, td { border: 0.3mm solid #000; padding: 0.4mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; font-weight: bold; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
table.head td { border: none; padding: 0.2mm 1.5mm 0.2mm 0; }
table.head td.k { width: 22mm; color: #333; }
table.lines td:first-child { width: 46mm; }
table.lines td:last-child { width: 40mm; }
#maintenance td:first-child { width: 22mm; }
#maintenance td:nth-child(2) { width: 14mm; }
#maintenance td:nth-child(3) { width: 34mm; }
.blank { display: inline-block; min-width: 30mm; border-bottom: 0.3mm solid #000; }
.small { font-size: 8pt; }
p.small { margin: 1mm 0; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
.foot { display: flex; gap: 4mm; margin-top: 2mm; border-top: 0.5mm solid #000; padding-top: 2mm; break-inside: avoid; }
.foot .qr { flex: 0 0 28mm; }
.foot .qr svg { width: 28mm; height: 28mm; display: block; }
.foot dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0.3mm 3mm; }
.foot dt { font-weight: bold; }
.foot dd { margin: 0; }
.digest { font-family: "DejaVu Sans Mono", monospace; font-size: 13pt; font-weight: bold; letter-spacing: 0.5pt; }
"#;

impl Statement {
    /// One self-contained HTML page (inline CSS, the QR code as inline
    /// SVG, no external resource), printable on A4. `link_base` is the
    /// ledger page's address the QR code opens ([`Statement::link`]).
    ///
    /// # Errors
    ///
    /// [`StatementError::Json`] if the digest cannot be made (never
    /// expected).
    pub fn to_html(&self, lang: Lang, link_base: &str) -> Result<String> {
        let w = match lang {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        };
        let f = &self.figures;
        let link = self.link(link_base)?;
        let digest = f.digest()?;
        let period_label = match lang {
            Lang::Zh => f.period.label_zh(),
            Lang::En => f.period.label_en(),
        };
        let title = match lang {
            Lang::Zh => format!("{} {} {}", escape(&self.name), period_label, w.title_suffix),
            Lang::En => format!(
                "{} — {}, {}",
                escape(&self.name),
                capitalize(w.title_suffix),
                period_label
            ),
        };
        let first = f.period.first_month();
        let first_day = Date {
            year: first.year,
            month: first.month,
            day: 1,
        };
        let mut h = String::new();
        let html_lang = match lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        };
        h.push_str(&format!(
            "<!doctype html>\n<html lang=\"{html_lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body data-digest=\"{digest}\" data-size=\"{}\" data-period=\"{}\">\n<h1>{title}</h1>\n",
            f.size, f.period
        ));

        // Header.
        let blank = format!("{}<span class=\"blank\"></span>", w.not_recorded);
        let basis = match lang {
            Lang::Zh => format!(
                "账本前 {} 笔记录（最后一笔记于 {}）",
                count(f.size),
                date_of_ms(self.recorded_ms, lang)
            ),
            Lang::En => format!(
                "the ledger's first {} entries (the last recorded on {})",
                count(f.size),
                date_of_ms(self.recorded_ms, lang)
            ),
        };
        h.push_str("<table class=\"head\">\n");
        for (k, v) in [
            (w.community, escape(&self.name)),
            (w.households, blank.clone()),
            (w.fee_rate, format!("{blank} {}", w.fee_unit)),
            (
                w.period,
                format!(
                    "{} {} {}",
                    date_text(first_day, lang),
                    w.to,
                    date_text(last_day(f.period.last_month()), lang)
                ),
            ),
            (w.basis, basis),
        ] {
            h.push_str(&format!("<tr><td class=\"k\">{k}</td><td>{v}</td></tr>\n"));
        }
        h.push_str("</table>\n");

        // Income and spending.
        for (heading, lines, extra) in [
            (w.income, &f.income, true),
            (w.spending, &f.spending, false),
        ] {
            h.push_str(&format!(
                "<h2>{heading}</h2>\n<table class=\"lines\" id=\"{}\">\n<tr><th>{}</th><th>{}</th><th class=\"num\">{}</th></tr>\n",
                if extra { "income" } else { "spending" },
                w.fund,
                w.item,
                w.amount
            ));
            let mut rows: Vec<(String, String, i128)> = lines
                .iter()
                .map(|l| (l.fund.clone(), l.category.clone(), l.fen))
                .collect();
            // Common-area income lists every source, even at zero: the
            // rules ask for each source to be shown.
            if extra {
                for c in [
                    "parking",
                    "advertising",
                    "venue_rental",
                    "interest",
                    "other",
                ] {
                    let fund = feeledger_core::conventions::PUBLIC_REVENUE_FUND;
                    if self.fund_names.contains_key(fund)
                        && !rows.iter().any(|(f, cat, _)| f == fund && cat == c)
                    {
                        rows.push((fund.to_string(), c.to_string(), 0));
                    }
                }
                rows.sort_by(|a, b| (&a.0, order(&a.1)).cmp(&(&b.0, order(&b.1))));
            }
            let mut total: i128 = 0;
            if rows.is_empty() {
                h.push_str(&format!("<tr><td colspan=\"3\">{}</td></tr>\n", w.none));
            }
            for (fund, category, fen) in &rows {
                total = total
                    .checked_add(*fen)
                    .ok_or(StatementError::Overflow { fund: fund.clone() })?;
                h.push_str(&format!(
                    "<tr data-fund=\"{}\" data-category=\"{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>\n",
                    escape(fund),
                    escape(category),
                    fund_name(self, fund, lang),
                    category_name(category, lang),
                    money(*fen)
                ));
            }
            h.push_str(&format!(
                "<tr class=\"total\"><td colspan=\"2\">{}</td><td class=\"num\">{}</td></tr>\n</table>\n",
                w.total,
                money(total)
            ));
        }

        // Maintenance fund use.
        h.push_str(&format!(
            "<h2>{}</h2>\n<table id=\"maintenance\">\n<tr><th>{}</th><th>{}</th><th>{}</th><th class=\"num\">{}</th><th>{}</th></tr>\n",
            w.maintenance, w.date, w.purpose, w.payee, w.amount, w.vote
        ));
        if f.maintenance_uses.is_empty() {
            h.push_str(&format!("<tr><td colspan=\"5\">{}</td></tr>\n", w.none));
        }
        for u in &f.maintenance_uses {
            let vote = match &u.vote {
                None => w.no_vote.to_string(),
                Some(v) => match lang {
                    Lang::Zh => format!(
                        "{}：参与表决 面积 {}、人数 {}；同意 面积 {}、人数 {}",
                        escape(&v.decision_ref),
                        percent(v.participating_area_bp),
                        percent(v.participating_headcount_bp),
                        percent(v.approving_area_bp),
                        percent(v.approving_headcount_bp)
                    ),
                    Lang::En => format!(
                        "{}: took part {} of area, {} of owners; approved {} of area, {} of owners",
                        escape(&v.decision_ref),
                        percent(v.participating_area_bp),
                        percent(v.participating_headcount_bp),
                        percent(v.approving_area_bp),
                        percent(v.approving_headcount_bp)
                    ),
                },
            };
            let reversed = if u.reversed {
                format!("（{}）", w.reversed)
            } else {
                String::new()
            };
            h.push_str(&format!(
                "<tr data-seq=\"{}\"><td>{}</td><td>{}{reversed}</td><td>{}</td><td class=\"num\">{}</td><td class=\"small\">{vote}</td></tr>\n",
                u.seq,
                date_text(u.date, lang),
                category_name(u.category.as_str(), lang),
                escape(&u.payee),
                money(i128::from(u.amount_fen))
            ));
        }
        h.push_str("</table>\n");

        // Balances.
        h.push_str(&format!(
            "<h2>{}</h2>\n<table id=\"balances\">\n<tr><th>{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th><th class=\"num\">{}</th></tr>\n",
            w.balances, w.fund, w.opening, w.period_income, w.period_spending, w.transfers_in, w.transfers_out, w.closing
        ));
        for b in &f.funds {
            h.push_str(&format!(
                "<tr data-fund=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num closing\">{}</td></tr>\n",
                escape(&b.fund),
                fund_name(self, &b.fund, lang),
                money(b.opening_fen),
                money(b.income_fen),
                money(b.spending_fen),
                money(b.transfers_in_fen),
                money(b.transfers_out_fen),
                money(b.closing_fen)
            ));
        }
        h.push_str(&format!(
            "</table>\n<p class=\"small\">{}</p>\n",
            w.identity
        ));

        // Footer.
        let cosigned = if let (true, Some(c)) = (self.cosigners.is_empty(), &self.last_confirmation)
        {
            last_confirmation_text(c, f.size, lang)
        } else if self.cosigners.is_empty() {
            w.no_cosign.to_string()
        } else {
            self.cosigners
                .iter()
                .map(|c| {
                    let role = c.role.map(|r| match (r, lang) {
                        (Role::Committee, Lang::Zh) => "业委会",
                        (Role::Company, Lang::Zh) => "物业公司",
                        (Role::Supervisor, Lang::Zh) => "社区",
                        (Role::Committee, Lang::En) => "committee",
                        (Role::Company, Lang::En) => "company",
                        (Role::Supervisor, Lang::En) => "supervisor",
                    });
                    let when = date_of_ms(c.timestamp_s.saturating_mul(1000), lang);
                    match (role, lang) {
                        (Some(r), Lang::Zh) => format!("{r} {}（{when}）", escape(c.shown_name())),
                        (Some(r), Lang::En) => format!("{} ({r}, {when})", escape(c.shown_name())),
                        (None, Lang::Zh) => format!("{}（{when}）", escape(c.shown_name())),
                        (None, Lang::En) => format!("{} ({when})", escape(c.shown_name())),
                    }
                })
                .collect::<Vec<_>>()
                .join(match lang {
                    Lang::Zh => "、",
                    Lang::En => ", ",
                })
        };
        let checkpoint = match lang {
            Lang::Zh => format!(
                "第 {} 笔（{}）",
                count(f.size),
                date_of_ms(self.recorded_ms, lang)
            ),
            Lang::En => format!(
                "{} entries ({})",
                count(f.size),
                date_of_ms(self.recorded_ms, lang)
            ),
        };
        h.push_str(&format!(
            "<div class=\"foot\">\n<div class=\"qr\">{}</div>\n<div>\n<dl>\n<dt>{}</dt><dd class=\"digest\" id=\"digest\">{}</dd>\n<dt>{}</dt><dd class=\"mono\" id=\"fingerprint\">{}</dd>\n<dt>{}</dt><dd id=\"checkpoint\">{checkpoint}</dd>\n<dt>{}</dt><dd class=\"mono\" id=\"root\">{}</dd>\n<dt>{}</dt><dd id=\"cosigners\">{cosigned}</dd>\n</dl>\n<p class=\"small\"><b>{}</b>{}{} <span class=\"mono\" id=\"link\">{}</span></p>\n</div>\n</div>\n</body>\n</html>\n",
            qr_svg(&link),
            w.digest,
            group4(&digest),
            w.fingerprint,
            escape(&self.fingerprint),
            w.checkpoint,
            w.root,
            f.root.to_hex(),
            w.cosigned,
            w.check,
            match lang {
                Lang::Zh => "：",
                Lang::En => ": ",
            },
            w.scan,
            escape(&link)
        ));
        Ok(h)
    }
}

/// The order lines are read in: property fees first, then arrears, then
/// the rest as the names tables list them.
fn order(category: &str) -> usize {
    [
        "property_fee",
        ARREARS_CATEGORY,
        "parking",
        "advertising",
        "venue_rental",
        "interest",
        "other",
    ]
    .iter()
    .position(|c| *c == category)
    .unwrap_or(usize::MAX)
}

/// The QR code of `link` as inline SVG (no XML declaration).
fn qr_svg(link: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(link, qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(200, 200)
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(start) => svg[start..].to_string(),
                None => svg,
            }
        }
        // A link too long for a QR code (over 2 KB) is shown as text only.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    // Proves dates are Beijing's: 2026-12-06T17:00Z is 7 December there,
    // and 15:59Z still the 6th.
    #[test]
    fn timestamps_are_dated_in_beijing_time() {
        let evening_utc_ms = 1_796_576_400_000; // 2026-12-06T17:00:00Z
        assert_eq!(
            super::date_of_ms(evening_utc_ms, super::Lang::Zh),
            "2026年12月7日"
        );
        assert_eq!(
            super::date_of_ms(evening_utc_ms - 3_660_000, super::Lang::En),
            "6 Dec 2026"
        );
    }

    use super::*;

    /// Proves the three accepted period forms parse to the right months,
    /// and that anything else is refused with the forms named.
    #[test]
    fn periods_parse_and_bad_ones_name_the_forms() {
        let m = Period::parse("2025-12").unwrap();
        assert_eq!(
            (m.first_month().to_string(), m.last_month().to_string()),
            ("2025-12".into(), "2025-12".into())
        );
        let q = Period::parse("2025-Q4").unwrap();
        assert_eq!(
            (q.first_month().to_string(), q.last_month().to_string()),
            ("2025-10".into(), "2025-12".into())
        );
        assert_eq!(q.to_string(), "2025-Q4");
        assert_eq!(q.label_zh(), "2025年第四季度");
        let y = Period::parse("2025").unwrap();
        assert_eq!(
            (y.first_month().to_string(), y.last_month().to_string()),
            ("2025-01".into(), "2025-12".into())
        );
        for bad in [
            "2025-13",
            "2025-Q5",
            "25-12",
            "2025-1",
            "december",
            "",
            "1999",
            "2025-Q0",
            "2025-12-01",
        ] {
            let e = Period::parse(bad).unwrap_err();
            assert!(e.to_string().contains("2025-Q4"), "{bad}: {e}");
        }
    }

    /// Proves amounts print as grouped yuan with the sign before the ¥.
    #[test]
    fn money_is_grouped_yuan() {
        assert_eq!(money(128_050), "¥1,280.50");
        assert_eq!(money(-500), "−¥5.00");
        assert_eq!(money(0), "¥0.00");
    }

    /// Proves counts print with thousands separators, as on the page.
    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(3_669), "3,669");
        assert_eq!(count(1_000_000), "1,000,000");
    }
}
