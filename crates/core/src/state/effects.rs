//! How an entry moves money: its [`Effect`] on the balances and its
//! [`Posting`]s to the monthly totals, built once per body
//! ([`money_effect`]) and applied with checked arithmetic.

use super::*;

/// How an entry moves money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Effect {
    /// Genesis and governance move no money.
    None,
    Credit {
        fund: String,
        amount_fen: u64,
    },
    Debit {
        fund: String,
        amount_fen: u64,
    },
    Move {
        from_fund: String,
        to_fund: String,
        amount_fen: u64,
    },
}

impl Effect {
    /// The effect that undoes this one.
    pub fn inverse(&self) -> Effect {
        match self {
            Effect::None => Effect::None,
            Effect::Credit { fund, amount_fen } => Effect::Debit {
                fund: fund.clone(),
                amount_fen: *amount_fen,
            },
            Effect::Debit { fund, amount_fen } => Effect::Credit {
                fund: fund.clone(),
                amount_fen: *amount_fen,
            },
            Effect::Move {
                from_fund,
                to_fund,
                amount_fen,
            } => Effect::Move {
                from_fund: to_fund.clone(),
                to_fund: from_fund.clone(),
                amount_fen: *amount_fen,
            },
        }
    }
}

/// The category totals use for transfers.
pub const TRANSFER_CATEGORY: &str = "transfer";

/// A change to the monthly totals. Reversals post negative amounts into the
/// month and category of the entry they reverse, so totals stay net.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub month: Month,
    pub fund: String,
    pub category: String,
    pub income_fen: i64,
    pub spending_fen: i64,
}

pub(super) fn posting(
    month: Month,
    fund: &str,
    category: &str,
    income_fen: i64,
    spending_fen: i64,
) -> Posting {
    Posting {
        month,
        fund: fund.to_string(),
        category: category.to_string(),
        income_fen,
        spending_fen,
    }
}

/// The effect and postings of a body: the one place they are built, both
/// for the entry being applied and for the target a reversal inverts. Kinds
/// that move no money (genesis, governance, reversal itself) give
/// [`Effect::None`] and no postings; a reversal's come from its target.
/// Funds are not checked here (the caller has), nor balances
/// ([`apply_effect`]).
pub(super) fn money_effect(body: &Body) -> (Effect, Vec<Posting>) {
    let month = body.date.month();
    match &body.content {
        Content::Income(i) => (
            Effect::Credit {
                fund: i.fund.clone(),
                amount_fen: i.amount_fen,
            },
            vec![posting(
                month,
                &i.fund,
                i.category.as_str(),
                i.amount_fen as i64,
                0,
            )],
        ),
        Content::Expenditure(e) => (
            Effect::Debit {
                fund: e.fund.clone(),
                amount_fen: e.amount_fen,
            },
            vec![posting(
                month,
                &e.fund,
                e.category.as_str(),
                0,
                e.amount_fen as i64,
            )],
        ),
        Content::Transfer(t) => (
            Effect::Move {
                from_fund: t.from_fund.clone(),
                to_fund: t.to_fund.clone(),
                amount_fen: t.amount_fen,
            },
            vec![
                posting(
                    month,
                    &t.from_fund,
                    TRANSFER_CATEGORY,
                    0,
                    t.amount_fen as i64,
                ),
                posting(month, &t.to_fund, TRANSFER_CATEGORY, t.amount_fen as i64, 0),
            ],
        ),
        _ => (Effect::None, vec![]),
    }
}

/// New balances after an effect, with checked arithmetic. No fund may go
/// below zero.
///
/// # Errors
/// [`ApplyError::UnknownFund`] for a fund not in `balances`,
/// [`ApplyError::Overdraft`] for a debit above a balance, and
/// [`ApplyError::Overflow`] for a credit past `u64::MAX` fen.
pub fn apply_effect(
    balances: &BTreeMap<String, u64>,
    effect: &Effect,
) -> Result<BTreeMap<String, u64>, ApplyError> {
    let mut next = balances.clone();
    let mut credit = |fund: &str, amount_fen: u64| -> Result<(), ApplyError> {
        let balance = next
            .get_mut(fund)
            .ok_or_else(|| ApplyError::UnknownFund { fund: fund.into() })?;
        *balance = balance
            .checked_add(amount_fen)
            .ok_or_else(|| ApplyError::Overflow { fund: fund.into() })?;
        Ok(())
    };
    match effect {
        Effect::None => {}
        Effect::Credit { fund, amount_fen } => credit(fund, *amount_fen)?,
        Effect::Debit { fund, amount_fen } => debit(&mut next, fund, *amount_fen)?,
        Effect::Move {
            from_fund,
            to_fund,
            amount_fen,
        } => {
            debit(&mut next, from_fund, *amount_fen)?;
            let balance =
                next.get_mut(to_fund.as_str())
                    .ok_or_else(|| ApplyError::UnknownFund {
                        fund: to_fund.clone(),
                    })?;
            *balance = balance
                .checked_add(*amount_fen)
                .ok_or_else(|| ApplyError::Overflow {
                    fund: to_fund.clone(),
                })?;
        }
    }
    Ok(next)
}

fn debit(
    balances: &mut BTreeMap<String, u64>,
    fund: &str,
    amount_fen: u64,
) -> Result<(), ApplyError> {
    let balance = balances
        .get_mut(fund)
        .ok_or_else(|| ApplyError::UnknownFund { fund: fund.into() })?;
    *balance = balance
        .checked_sub(amount_fen)
        .ok_or(ApplyError::Overdraft {
            fund: fund.to_string(),
            balance_fen: *balance,
            amount_fen,
        })?;
    Ok(())
}
