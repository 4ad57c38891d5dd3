//! Withdrawing a pending proposal: the signed statement and its check
//! (docs/format.md §8.5).
//!
//! A withdrawal is an Ed25519 signature, by a role key in force, over
//!
//! ```text
//! "feeledger/withdrawal/v1\n" || origin || "\n" || hex(proposal id) || "\n"
//! ```
//!
//! The context line keeps it apart from an entry signature
//! (`feeledger/entry/v1\n`), a checkpoint (whose second line is a decimal
//! size) and a cosignature (`cosignature/v1\n`); the origin keeps it from
//! being replayed on another ledger; the id names the one proposal it
//! withdraws. Who may withdraw is policy, decided by
//! [`crate::proposal_policy::withdrawal_step`]; this module says only
//! whose signatures these are and that they verify.

use crate::entry::{check_signature_list, EntrySignature, FormatError, Role};
use crate::hash::Hash;
use crate::state::{LedgerState, Signer};
use ed25519_dalek::Signer as _;

/// Domain separation for withdrawal signatures: such a signature can never
/// be mistaken for an entry signature, a checkpoint or a cosignature.
pub const WITHDRAWAL_SIGNATURE_CONTEXT: &[u8] = b"feeledger/withdrawal/v1\n";

/// The message a key signs to withdraw proposal `proposal_id` of the
/// ledger named `origin`: the context line, the origin, a newline, the id
/// as 64 lower-case hex digits, a newline.
pub fn withdrawal_message(origin: &str, proposal_id: &Hash) -> Vec<u8> {
    let id = proposal_id.to_hex();
    let mut message =
        Vec::with_capacity(WITHDRAWAL_SIGNATURE_CONTEXT.len() + origin.len() + id.len() + 2);
    message.extend_from_slice(WITHDRAWAL_SIGNATURE_CONTEXT);
    message.extend_from_slice(origin.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(id.as_bytes());
    message.push(b'\n');
    message
}

/// A withdrawal signature by `key_name` with `key`.
pub fn sign_withdrawal(
    key_name: &str,
    key: &ed25519_dalek::SigningKey,
    origin: &str,
    proposal_id: &Hash,
) -> EntrySignature {
    EntrySignature::new(
        key_name,
        &key.sign(&withdrawal_message(origin, proposal_id)),
    )
}

/// Why a withdrawal is refused. Nothing is recorded then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalError {
    /// The list is empty, too long, unsorted, repeats a key or holds a
    /// malformed key name or signature (the rule of §8.2).
    #[error("withdrawal signatures: {0}")]
    Format(#[from] FormatError),
    /// The key holds no role in force.
    #[error(
        "key {key:?} holds no role in this ledger; a withdrawal is signed with a role member's key"
    )]
    UnknownKey { key: String },
    /// The signature does not verify (`verify_strict`) over the
    /// withdrawal message of this ledger and proposal.
    #[error("the withdrawal signature by {key} does not verify: it must sign \"feeledger/withdrawal/v1\\n\" || origin || \"\\n\" || proposal id || \"\\n\" (docs/format.md §8.5)")]
    BadSignature { key: String },
    /// The key is neither the proposer's nor of a role the proposal's rule
    /// names.
    #[error("key {key} ({role}) may not withdraw this proposal: only its proposer ({proposers}) or members of a role its rule names ({roles}) may")]
    NotAllowed {
        key: String,
        role: Role,
        proposers: String,
        roles: String,
    },
}

impl WithdrawalError {
    /// A stable machine-readable name, for API bodies and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            WithdrawalError::Format(_) => "malformed",
            WithdrawalError::UnknownKey { .. } => "unknown_key",
            WithdrawalError::BadSignature { .. } => "bad_signature",
            WithdrawalError::NotAllowed { .. } => "not_allowed_to_withdraw",
        }
    }
}

/// Checks withdrawal signatures on proposal `proposal_id` against the keys
/// in force in `state`: the list obeys the signature-list rule, every key
/// holds a role, and every signature verifies strictly. Returns each
/// signer with its role, in list order.
///
/// # Errors
/// The first fault, as a [`WithdrawalError`] (never `NotAllowed`, which is
/// the policy's).
pub fn verify_withdrawal(
    state: &LedgerState,
    proposal_id: &Hash,
    signatures: &[EntrySignature],
) -> Result<Vec<Signer>, WithdrawalError> {
    check_signature_list(signatures, "$.signatures")?;
    let message = withdrawal_message(state.origin(), proposal_id);
    signatures
        .iter()
        .map(|s| {
            let found = state.roles().iter().find_map(|(role, def)| {
                def.keys
                    .iter()
                    .find(|k| k.name == s.key)
                    .map(|k| (*role, k.verifying_key()))
            });
            let Some((role, verifying)) = found else {
                return Err(WithdrawalError::UnknownKey { key: s.key.clone() });
            };
            let verifies = match (verifying, s.signature()) {
                (Some(key), Some(sig)) => key.verify_strict(&message, &sig).is_ok(),
                _ => false,
            };
            if !verifies {
                return Err(WithdrawalError::BadSignature { key: s.key.clone() });
            }
            Ok(Signer {
                key: s.key.clone(),
                role,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{chain, seeded_key, two_role_genesis, COMMITTEE, COMPANY};

    const ORIGIN: &str = "example.org/withdrawal-test";

    fn state() -> LedgerState {
        let leaves = chain(vec![two_role_genesis(ORIGIN, "test")]);
        LedgerState::from_genesis(&leaves[0])
            .expect("the genesis applies")
            .0
    }

    /// The message is the context line, the origin, the id in lower-case
    /// hex, each ended by one newline, and nothing else.
    #[test]
    fn message_bytes() {
        let id = Hash([0xab; 32]);
        let message = withdrawal_message("example.org/x", &id);
        let expected = format!(
            "feeledger/withdrawal/v1\nexample.org/x\n{}\n",
            "ab".repeat(32)
        );
        assert_eq!(message, expected.as_bytes());
        assert!(!message.starts_with(crate::entry::ENTRY_SIGNATURE_CONTEXT));
    }

    /// A signature by a role key verifies and names its role; the same
    /// signature on another proposal, another ledger, or as an entry
    /// signature does not.
    #[test]
    fn verifies_only_its_own_proposal_and_ledger() {
        let state = state();
        let id = Hash([7; 32]);
        let sig = sign_withdrawal(COMMITTEE.0, &seeded_key(COMMITTEE.1), ORIGIN, &id);
        let signers = verify_withdrawal(&state, &id, std::slice::from_ref(&sig)).unwrap();
        assert_eq!(signers[0].role, Role::Committee);
        assert_eq!(
            verify_withdrawal(&state, &Hash([8; 32]), std::slice::from_ref(&sig)),
            Err(WithdrawalError::BadSignature {
                key: COMMITTEE.0.into()
            })
        );
        let elsewhere = sign_withdrawal(COMMITTEE.0, &seeded_key(COMMITTEE.1), "other.org/x", &id);
        assert_eq!(
            verify_withdrawal(&state, &id, &[elsewhere])
                .unwrap_err()
                .code(),
            "bad_signature"
        );
        let entry_like = EntrySignature::new(
            COMPANY.0,
            &seeded_key(COMPANY.1).sign(&crate::entry::signing_message(id.to_hex().as_bytes())),
        );
        assert_eq!(
            verify_withdrawal(&state, &id, &[entry_like])
                .unwrap_err()
                .code(),
            "bad_signature"
        );
    }

    /// A key outside the roles, an empty list and an unsorted list are
    /// refused with their own errors.
    #[test]
    fn refuses_unknown_keys_and_malformed_lists() {
        let state = state();
        let id = Hash([7; 32]);
        let stranger = sign_withdrawal("stranger", &seeded_key(42), ORIGIN, &id);
        assert_eq!(
            verify_withdrawal(&state, &id, &[stranger]),
            Err(WithdrawalError::UnknownKey {
                key: "stranger".into()
            })
        );
        assert_eq!(
            verify_withdrawal(&state, &id, &[]).unwrap_err().code(),
            "malformed"
        );
        let a = sign_withdrawal(COMPANY.0, &seeded_key(COMPANY.1), ORIGIN, &id);
        let b = sign_withdrawal(COMMITTEE.0, &seeded_key(COMMITTEE.1), ORIGIN, &id);
        assert_eq!(
            verify_withdrawal(&state, &id, &[a, b]).unwrap_err().code(),
            "malformed",
            "\"co\" sorts after \"cm\""
        );
    }
}
