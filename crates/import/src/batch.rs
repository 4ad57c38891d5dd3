//! The rule of a batch of signed incomes (an import), checked against the
//! ledger as it is before anything is written: every proposal must be an
//! income that commits at once with the signatures it carries, or one
//! already recorded. The caller (the CLI with a data directory, or the
//! server's `POST /api/v1/proposals/batch`) looks up each body, calls
//! [`check_batch`], and commits the new ones in one group commit only if
//! the whole batch passed: a bad proposal records nothing.

use feeledger_core::entry::{Body, Content, EntrySignature, Kind};
use feeledger_core::hash::Hash;
use feeledger_core::state::{ApplyError, LedgerState, Lookups, SignatureCheck};
use std::collections::{BTreeMap, HashMap};

/// One signed proposal of a batch, with what the caller looked up for it.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    pub body: &'a Body,
    /// The body's canonical bytes (as received: decoding is strict).
    pub body_bytes: &'a [u8],
    /// Normalized (sorted by key, one per key), as the store sees them.
    pub signatures: &'a [EntrySignature],
    /// The store's look-ups for the body against the published ledger.
    pub lookups: &'a Lookups,
    /// A signature check made ahead, if any ([`LedgerState::check_signatures`]).
    pub check: Option<&'a SignatureCheck>,
}

/// What a proposal of a batch that passed will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It commits at once as a new entry.
    New,
    /// The same body is already entry `seq`: it is left out, so that
    /// importing a file again records nothing new.
    Recorded { seq: u64 },
}

/// Why a batch is refused, naming the proposal by its index (from 0).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    #[error("proposals[{index}]: a batch holds incomes only, this is a {kind}")]
    NotIncome { index: usize, kind: Kind },
    #[error("proposals[{index}] is the same body as proposals[{first}]")]
    Repeated { index: usize, first: usize },
    /// The ledger's own refusal (signatures, rule, fund, overflow...).
    #[error("proposals[{index}]: {source}")]
    Refused { index: usize, source: ApplyError },
}

impl BatchError {
    /// The proposal's index in the batch.
    pub fn index(&self) -> usize {
        match self {
            BatchError::NotIncome { index, .. }
            | BatchError::Repeated { index, .. }
            | BatchError::Refused { index, .. } => *index,
        }
    }
}

/// Checks every proposal of a batch against `state`, in order, as if each
/// earlier new one had been recorded (its money counted, its body seen).
/// A proposal whose signatures do not meet the income rule by themselves is
/// refused: a batch never leaves pending proposals behind.
///
/// # Errors
/// [`BatchError`] for the first proposal that fails, by index.
pub fn check_batch(
    state: &LedgerState,
    items: &[BatchItem<'_>],
) -> Result<Vec<Verdict>, BatchError> {
    let mut first_of: HashMap<Hash, usize> = HashMap::new();
    let mut added_fen: BTreeMap<&str, u64> = BTreeMap::new();
    let mut verdicts = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Content::Income(income) = &item.body.content else {
            return Err(BatchError::NotIncome {
                index,
                kind: item.body.kind(),
            });
        };
        let id = feeledger_core::hash::sha256(item.body_bytes);
        if let Some(&first) = first_of.get(&id) {
            return Err(BatchError::Repeated { index, first });
        }
        first_of.insert(id, index);
        if let Some(seq) = item.lookups.body_seen_at {
            verdicts.push(Verdict::Recorded { seq });
            continue;
        }
        let refused = |source| BatchError::Refused { index, source };
        let (approval, _) = state
            .check_proposal_prechecked(
                item.body,
                item.body_bytes,
                item.signatures,
                item.lookups,
                item.check,
            )
            .map_err(refused)?;
        if let Some(unmet) = approval.unmet() {
            return Err(refused(unmet));
        }
        // Each income was checked alone against today's balance; together
        // they must not overflow the fund either.
        let added = added_fen.entry(income.fund.as_str()).or_default();
        let balance = state.balances().get(&income.fund).copied().unwrap_or(0);
        *added = added
            .checked_add(income.amount_fen)
            .filter(|sum| balance.checked_add(*sum).is_some())
            .ok_or_else(|| {
                refused(ApplyError::Overflow {
                    fund: income.fund.clone(),
                })
            })?;
        verdicts.push(Verdict::New);
    }
    Ok(verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use feeledger_core::fixtures;

    const ORIGIN: &str = "example.org/test";

    /// A fixture ledger's state after its genesis, and three property fees
    /// signed by its company key.
    fn setup() -> (LedgerState, Vec<(Body, Vec<EntrySignature>)>) {
        let genesis = fixtures::chain(vec![fixtures::two_role_genesis(ORIGIN, "t")]);
        let (state, _) = LedgerState::from_genesis(&genesis[0]).unwrap();
        let bodies = (0..3)
            .map(|i| fixtures::property_fee(ORIGIN, &format!("n{i}")))
            .collect();
        (state, bodies)
    }

    fn items<'a>(
        bodies: &'a [(Body, Vec<EntrySignature>, Vec<u8>)],
        lookups: &'a [Lookups],
    ) -> Vec<BatchItem<'a>> {
        bodies
            .iter()
            .zip(lookups)
            .map(|((body, signatures, bytes), lookups)| BatchItem {
                body,
                body_bytes: bytes,
                signatures,
                lookups,
                check: None,
            })
            .collect()
    }

    /// New incomes pass, recorded ones are left out, and a repeated body,
    /// a bad signature or an unmet rule refuses the whole batch by index.
    #[test]
    fn a_batch_passes_whole_or_names_the_proposal() {
        let (state, bodies) = setup();
        let mut with_bytes: Vec<(Body, Vec<EntrySignature>, Vec<u8>)> = bodies
            .into_iter()
            .map(|(b, s)| {
                let bytes = b.to_canonical_bytes();
                (b, s, bytes)
            })
            .collect();
        let mut lookups = vec![Lookups::default(); 3];
        lookups[1].body_seen_at = Some(7);
        assert_eq!(
            check_batch(&state, &items(&with_bytes, &lookups)).unwrap(),
            vec![Verdict::New, Verdict::Recorded { seq: 7 }, Verdict::New]
        );
        let repeated = vec![with_bytes[0].clone(), with_bytes[0].clone()];
        assert_eq!(
            check_batch(&state, &items(&repeated, &lookups[..2])).unwrap_err(),
            BatchError::Repeated { index: 1, first: 0 }
        );
        with_bytes[2].1.clear();
        let err = check_batch(&state, &items(&with_bytes, &lookups)).unwrap_err();
        assert_eq!(err.index(), 2, "{err}");
        assert!(matches!(err, BatchError::Refused { .. }), "{err}");
    }
}
