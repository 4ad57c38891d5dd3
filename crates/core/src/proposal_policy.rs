//! What happens to a pending proposal, as pure functions: merging new
//! signatures into it, whether it now commits, when it expires or goes
//! stale, and the bounds on how many may wait. The store keeps the
//! proposals and calls these; nothing here reads or writes anything.
//!
//! A proposal is a body waiting for co-signatures. It commits as soon as
//! its signatures meet the kind's rule ([`next_step`]). Until then it is
//! kept, within bounds that stop a flood of junk proposals from growing the
//! store: at most [`PROPOSALS_PENDING_MAX`] in all and
//! [`PROPOSALS_PER_KEY_MAX`] carrying any one key's signature. Proposals
//! that can no longer commit or have waited longer than
//! [`PROPOSAL_TTL_MS`] are [stale](is_stale) and make room for new ones.

use crate::entry::{normalize_signatures, EntrySignature};
use crate::state::{Approval, LedgerState};

/// Most pending proposals a ledger holds at once. A flood of junk proposals
/// cannot grow the store past this.
pub const PROPOSALS_PENDING_MAX: usize = 1_000;

/// A pending proposal older than this no longer counts toward the bounds
/// and is dropped when room is needed: 60 days for a committee to decide.
pub const PROPOSAL_TTL_MS: u64 = 60 * 24 * 3_600 * 1_000;

/// Most pending proposals that carry the signature of any one key.
pub const PROPOSALS_PER_KEY_MAX: usize = 100;

/// What a proposal does once its signatures are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The rule is met: the entry is appended, and the pending proposal
    /// (if any) removed in the same batch.
    Commit,
    /// More signatures are needed: the proposal is kept (or created).
    Wait,
}

/// Whether a proposal with this approval commits now.
pub fn next_step(approval: &Approval) -> NextStep {
    if approval.is_satisfied() {
        NextStep::Commit
    } else {
        NextStep::Wait
    }
}

/// Whether a proposal made at `created_ms` has expired at `now_ms`: it can
/// then neither be signed nor gather more signatures (proposing the same
/// body again starts a new one). Saturates, so a clock at the end of time
/// does not wrap.
pub fn is_expired(created_ms: u64, now_ms: u64) -> bool {
    created_ms.saturating_add(PROPOSAL_TTL_MS) < now_ms
}

/// The signatures of a pending proposal (`existing`, empty for a new one)
/// with `added` merged in: sorted by key, one per key (the later of two
/// from the same key is dropped, as [`normalize_signatures`] does).
pub fn merge_signatures(
    existing: &[EntrySignature],
    added: Vec<EntrySignature>,
) -> Vec<EntrySignature> {
    let mut merged = existing.to_vec();
    merged.extend(added);
    normalize_signatures(&mut merged);
    merged
}

/// When a proposal was made: a pending one keeps its time, a new one is
/// made now.
pub fn created_ms(existing: Option<u64>, now_ms: u64) -> u64 {
    existing.unwrap_or(now_ms)
}

/// Whether a pending proposal can be dropped to make room: it has expired,
/// or one of its signatures is by a key that no longer holds a role (after
/// a governance change), so it can never commit as signed.
pub fn is_stale(
    created_ms: u64,
    signatures: &[EntrySignature],
    state: &LedgerState,
    now_ms: u64,
) -> bool {
    is_expired(created_ms, now_ms) || signatures.iter().any(|s| state.role_of(&s.key).is_none())
}

/// Why a new proposal cannot be kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomError {
    #[error("too many pending proposals ({count}); the limit is {limit}")]
    TooManyPending { count: usize, limit: usize },
    #[error("key {key} already signs {count} pending proposals; the limit is {limit}")]
    TooManyForKey {
        key: String,
        count: usize,
        limit: usize,
    },
}

/// Whether one more pending proposal signed by `signatures` fits beside
/// `pending` (the signature lists of the proposals kept, stale ones
/// already dropped).
///
/// # Errors
/// [`RoomError::TooManyPending`] if [`PROPOSALS_PENDING_MAX`] are pending,
/// or [`RoomError::TooManyForKey`] if a signing key is on
/// [`PROPOSALS_PER_KEY_MAX`] of them.
pub fn check_room(
    pending: &[&[EntrySignature]],
    signatures: &[EntrySignature],
) -> Result<(), RoomError> {
    if pending.len() >= PROPOSALS_PENDING_MAX {
        return Err(RoomError::TooManyPending {
            count: pending.len(),
            limit: PROPOSALS_PENDING_MAX,
        });
    }
    for signature in signatures {
        let count = pending
            .iter()
            .filter(|p| p.iter().any(|s| s.key == signature.key))
            .count();
        if count >= PROPOSALS_PER_KEY_MAX {
            return Err(RoomError::TooManyForKey {
                key: signature.key.clone(),
                count,
                limit: PROPOSALS_PER_KEY_MAX,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(key: &str, byte: u8) -> EntrySignature {
        EntrySignature {
            key: key.to_string(),
            sig: format!("sig-{byte}"),
        }
    }

    /// Merging keeps one signature per key, sorted by key, and keeps the
    /// pending proposal's own signature over a later one by the same key.
    #[test]
    fn merge_sorts_and_keeps_one_per_key() {
        let merged = merge_signatures(&[sig("zhang", 1)], vec![sig("li", 2), sig("zhang", 3)]);
        let keys: Vec<&str> = merged.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["li", "zhang"]);
        let mut expected = vec![sig("zhang", 1), sig("li", 2), sig("zhang", 3)];
        normalize_signatures(&mut expected);
        assert_eq!(merged, expected, "the same rule as normalize_signatures");
    }

    /// A proposal expires strictly after the TTL, and a creation time near
    /// the end of time never wraps into "expired".
    #[test]
    fn expiry_is_strictly_after_the_ttl() {
        assert!(!is_expired(1_000, 1_000 + PROPOSAL_TTL_MS));
        assert!(is_expired(1_000, 1_001 + PROPOSAL_TTL_MS));
        assert!(!is_expired(u64::MAX - 1, u64::MAX));
    }

    /// A pending proposal keeps its creation time; a new one takes now.
    #[test]
    fn created_time_is_kept() {
        assert_eq!(created_ms(Some(5), 9), 5);
        assert_eq!(created_ms(None, 9), 9);
    }

    /// The pending bound refuses the proposal that would be one too many,
    /// and the per-key bound names the key.
    #[test]
    fn room_bounds() {
        let one = [sig("zhang", 1)];
        let full: Vec<&[EntrySignature]> = vec![&one[..]; PROPOSALS_PENDING_MAX];
        assert_eq!(
            check_room(&full, &[sig("li", 2)]),
            Err(RoomError::TooManyPending {
                count: PROPOSALS_PENDING_MAX,
                limit: PROPOSALS_PENDING_MAX
            })
        );
        let by_zhang: Vec<&[EntrySignature]> = vec![&one[..]; PROPOSALS_PER_KEY_MAX];
        assert_eq!(check_room(&by_zhang, &[sig("li", 2)]), Ok(()));
        assert_eq!(
            check_room(&by_zhang, &[sig("li", 2), sig("zhang", 3)]),
            Err(RoomError::TooManyForKey {
                key: "zhang".into(),
                count: PROPOSALS_PER_KEY_MAX,
                limit: PROPOSALS_PER_KEY_MAX
            })
        );
        assert_eq!(check_room(&by_zhang[1..], &[sig("zhang", 3)]), Ok(()));
    }
}
