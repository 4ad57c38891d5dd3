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
//!
//! A pending proposal can also be withdrawn ([`withdrawal_step`]): by its
//! proposer, or by as many members of a role its rule names as that role's
//! threshold. A withdrawn proposal leaves the pending set for good.
//!
//! Proposal ids are taken from people by any unique prefix of at least
//! [`PROPOSAL_ID_PREFIX_DIGITS_MIN`] hex digits ([`IdPrefix`]).

use crate::entry::{normalize_signatures, EntrySignature, Kind, Role, Roles, RuleKind, Rules};
use crate::hash::Hash;
use crate::state::{Approval, LedgerState, Signer};
use crate::withdrawal::WithdrawalError;
use std::collections::BTreeMap;

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

/// The roles the rule of a body of `kind` names, under `rules`: the roles
/// whose members' signatures count for it, and whose threshold may
/// withdraw it. A reversal follows the rule of the kind it reverses
/// (`reversal_target`); one whose target is unknown names none.
pub fn rule_roles(rules: &Rules, kind: Kind, reversal_target: Option<Kind>) -> Vec<Role> {
    let rule_kind = |kind: Kind| match kind {
        Kind::Income => Some(RuleKind::Income),
        Kind::Expenditure => Some(RuleKind::Expenditure),
        Kind::Transfer => Some(RuleKind::Transfer),
        Kind::Governance => Some(RuleKind::Governance),
        Kind::Genesis | Kind::Reversal => None,
    };
    let rule = match kind {
        Kind::Reversal => reversal_target
            .filter(|k| matches!(k, Kind::Income | Kind::Expenditure | Kind::Transfer))
            .and_then(rule_kind),
        other => rule_kind(other),
    };
    rule.and_then(|r| rules.get(&r).cloned())
        .unwrap_or_default()
}

/// Who proposed a proposal: the keys that signed it when it was made
/// (`proposed_by`). A proposal stored before that was recorded names no
/// one, unless it carries exactly one signature, which can only be the
/// proposer's.
pub fn proposers(proposed_by: &[String], signatures: &[EntrySignature]) -> Vec<String> {
    match (proposed_by, signatures) {
        ([], [only]) => vec![only.key.clone()],
        _ => proposed_by.to_vec(),
    }
}

/// What a set of valid withdrawal signatures does to a pending proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithdrawalStep {
    /// The proposer signed, or a role the rule names reached its
    /// threshold: the proposal leaves the pending set, withdrawn by `by`
    /// (every key that signed the withdrawal, in key order).
    Withdraw { by: Vec<String> },
    /// Role members signed, but fewer than any role's threshold: the
    /// signatures are kept until more come. `progress` is, for each role
    /// the rule names, (distinct keys that signed, threshold).
    Wait {
        progress: BTreeMap<Role, (u32, u32)>,
    },
}

/// Decides a withdrawal from its verified signers (all withdrawal
/// signatures gathered so far, see [`crate::withdrawal::verify_withdrawal`]),
/// the proposal's `proposers` ([`proposers`]), the roles its rule names
/// ([`rule_roles`]) and the roles in force.
///
/// # Errors
/// [`WithdrawalError::NotAllowed`] for the first signer who is neither a
/// proposer nor a member of a role the rule names.
pub fn withdrawal_step(
    signers: &[Signer],
    proposers: &[String],
    rule_roles: &[Role],
    roles: &Roles,
) -> Result<WithdrawalStep, WithdrawalError> {
    if let Some(outsider) = signers
        .iter()
        .find(|s| !proposers.contains(&s.key) && !rule_roles.contains(&s.role))
    {
        return Err(WithdrawalError::NotAllowed {
            key: outsider.key.clone(),
            role: outsider.role,
            proposers: if proposers.is_empty() {
                "unknown".into()
            } else {
                proposers.join(", ")
            },
            roles: rule_roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let mut by: Vec<String> = signers.iter().map(|s| s.key.clone()).collect();
    by.sort();
    by.dedup();
    if signers.iter().any(|s| proposers.contains(&s.key)) {
        return Ok(WithdrawalStep::Withdraw { by });
    }
    let progress: BTreeMap<Role, (u32, u32)> = rule_roles
        .iter()
        .map(|role| {
            let mut keys: Vec<&str> = signers
                .iter()
                .filter(|s| s.role == *role)
                .map(|s| s.key.as_str())
                .collect();
            keys.sort_unstable();
            keys.dedup();
            let have = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            let need = roles.get(role).map_or(u32::MAX, |def| def.threshold);
            (*role, (have, need))
        })
        .collect();
    if progress.values().any(|(have, need)| have >= need) {
        Ok(WithdrawalStep::Withdraw { by })
    } else {
        Ok(WithdrawalStep::Wait { progress })
    }
}

/// The fewest hex digits a proposal id may be shortened to: 8 digits (32
/// bits) tell apart the at most [`PROPOSALS_PENDING_MAX`] pending
/// proposals with a chance of a clash of about one in ten thousand, and a
/// clash is named, never guessed.
pub const PROPOSAL_ID_PREFIX_DIGITS_MIN: usize = 8;

/// A proposal id as a person types it: 8 to 64 hex digits, either case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPrefix {
    /// Lower-case hex digits.
    digits: String,
}

/// Why a typed proposal id is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdPrefixError {
    #[error("{text:?} is not a proposal id: an id is hex digits (0-9, a-f)")]
    NotHex { text: String },
    #[error("proposal id {text:?} is too short: give at least {min} of its 64 hex digits")]
    TooShort { text: String, min: usize },
    #[error("proposal id {text:?} is too long: an id has 64 hex digits")]
    TooLong { text: String },
}

impl IdPrefix {
    /// Parses a typed id or prefix.
    ///
    /// # Errors
    /// [`IdPrefixError`] for a character that is not a hex digit, fewer than
    /// [`PROPOSAL_ID_PREFIX_DIGITS_MIN`] digits, or more than 64.
    pub fn parse(text: &str) -> Result<IdPrefix, IdPrefixError> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IdPrefixError::NotHex { text: text.into() });
        }
        if text.len() < PROPOSAL_ID_PREFIX_DIGITS_MIN {
            return Err(IdPrefixError::TooShort {
                text: text.into(),
                min: PROPOSAL_ID_PREFIX_DIGITS_MIN,
            });
        }
        if text.len() > 2 * crate::hash::HASH_BYTES {
            return Err(IdPrefixError::TooLong { text: text.into() });
        }
        Ok(IdPrefix {
            digits: text.to_ascii_lowercase(),
        })
    }

    /// The whole id, if all 64 digits were given.
    pub fn full(&self) -> Option<Hash> {
        Hash::from_hex(&self.digits).ok()
    }

    /// The id's leading whole bytes: a store scans the keys that start
    /// with them, then keeps those that [match](IdPrefix::matches).
    pub fn leading_bytes(&self) -> Vec<u8> {
        let even = self.digits.len() & !1;
        hex::decode(&self.digits[..even]).expect("hex digits, checked at parse")
    }

    /// Whether `id` starts with these digits.
    pub fn matches(&self, id: &Hash) -> bool {
        id.to_hex().starts_with(&self.digits)
    }

    /// The digits, in lower case.
    pub fn as_str(&self) -> &str {
        &self.digits
    }
}

/// The one id among `candidates` that `prefix` names.
///
/// # Errors
/// [`IdMatch::None`] if no candidate matches; [`IdMatch::Ambiguous`],
/// listing the matches in order, if more than one does.
pub fn resolve_id(prefix: &IdPrefix, candidates: &[Hash]) -> Result<Hash, IdMatch> {
    let mut matches: Vec<Hash> = candidates
        .iter()
        .filter(|id| prefix.matches(id))
        .copied()
        .collect();
    matches.sort_unstable_by_key(|id| id.0);
    matches.dedup();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(IdMatch::None),
        _ => Err(IdMatch::Ambiguous(matches)),
    }
}

/// Why a prefix names no single id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdMatch {
    None,
    Ambiguous(Vec<Hash>),
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

    fn signer(key: &str, role: Role) -> Signer {
        Signer {
            key: key.into(),
            role,
        }
    }

    fn roles(company: u32, committee: u32) -> Roles {
        let mut roles = Roles::new();
        for (role, threshold) in [(Role::Company, company), (Role::Committee, committee)] {
            roles.insert(
                role,
                crate::entry::RoleDef {
                    threshold,
                    keys: vec![],
                },
            );
        }
        roles
    }

    /// The proposer alone withdraws, whatever the thresholds.
    #[test]
    fn the_proposer_withdraws_alone() {
        let step = withdrawal_step(
            &[signer("co-1", Role::Company)],
            &["co-1".into()],
            &[Role::Company, Role::Committee],
            &roles(2, 2),
        );
        assert_eq!(
            step,
            Ok(WithdrawalStep::Withdraw {
                by: vec!["co-1".into()]
            })
        );
    }

    /// Role members below the threshold wait, with the count per rule
    /// role; at the threshold they withdraw, naming every signer.
    #[test]
    fn a_role_withdraws_at_its_threshold() {
        let rule = [Role::Company, Role::Committee];
        let one = [signer("cm-1", Role::Committee)];
        assert_eq!(
            withdrawal_step(&one, &["co-1".into()], &rule, &roles(1, 2)),
            Ok(WithdrawalStep::Wait {
                progress: [(Role::Company, (0, 1)), (Role::Committee, (1, 2))]
                    .into_iter()
                    .collect()
            })
        );
        let two = [
            signer("cm-2", Role::Committee),
            signer("cm-1", Role::Committee),
        ];
        assert_eq!(
            withdrawal_step(&two, &["co-1".into()], &rule, &roles(1, 2)),
            Ok(WithdrawalStep::Withdraw {
                by: vec!["cm-1".into(), "cm-2".into()]
            })
        );
    }

    /// A member of a role the rule does not name, who did not propose, is
    /// refused by name, even beside signers who may withdraw.
    #[test]
    fn a_role_outside_the_rule_may_not_withdraw() {
        let err = withdrawal_step(
            &[
                signer("cm-1", Role::Committee),
                signer("sv-1", Role::Supervisor),
            ],
            &["co-1".into()],
            &[Role::Company],
            &roles(1, 2),
        )
        .unwrap_err();
        assert!(
            matches!(&err, WithdrawalError::NotAllowed { key, .. } if key == "cm-1"),
            "{err:?}"
        );
        assert_eq!(err.code(), "not_allowed_to_withdraw");
    }

    /// A reversal follows its target's rule; other kinds their own; a
    /// genesis or an unknown target names no role.
    #[test]
    fn rule_roles_by_kind() {
        let rules = crate::entry::default_rules(false);
        assert_eq!(rule_roles(&rules, Kind::Income, None), [Role::Company]);
        assert_eq!(
            rule_roles(&rules, Kind::Reversal, Some(Kind::Expenditure)),
            [Role::Company, Role::Committee]
        );
        assert!(rule_roles(&rules, Kind::Reversal, None).is_empty());
        assert!(rule_roles(&rules, Kind::Genesis, None).is_empty());
    }

    /// The proposer is the recorded one, or the single signer of an older
    /// proposal, and nobody for an older one with several signatures.
    #[test]
    fn proposers_fall_back_to_a_single_signature() {
        assert_eq!(proposers(&["a".into()], &[sig("b", 1)]), ["a"]);
        assert_eq!(proposers(&[], &[sig("b", 1)]), ["b"]);
        assert!(proposers(&[], &[sig("a", 1), sig("b", 2)]).is_empty());
    }

    /// Prefixes: 8 to 64 hex digits in either case; a unique match is
    /// found, an ambiguous one lists every match, none is told apart.
    #[test]
    fn id_prefixes() {
        assert!(matches!(
            IdPrefix::parse("abcd123"),
            Err(IdPrefixError::TooShort { min: 8, .. })
        ));
        assert!(matches!(
            IdPrefix::parse("abcd123g"),
            Err(IdPrefixError::NotHex { .. })
        ));
        assert!(matches!(
            IdPrefix::parse(&"a".repeat(65)),
            Err(IdPrefixError::TooLong { .. })
        ));
        let a = Hash::from_hex(&format!("abcdef01{}", "0".repeat(56))).unwrap();
        let b = Hash::from_hex(&format!("abcdef02{}", "0".repeat(56))).unwrap();
        let prefix = IdPrefix::parse("ABCDEF0").map(|_| ()).unwrap_err();
        assert!(matches!(prefix, IdPrefixError::TooShort { .. }));
        let one = IdPrefix::parse("ABCDEF01").unwrap();
        assert_eq!(one.leading_bytes(), [0xab, 0xcd, 0xef, 0x01]);
        assert_eq!(resolve_id(&one, &[a, b]), Ok(a));
        let both = IdPrefix::parse("abcdef0").err();
        assert!(both.is_some());
        let odd = IdPrefix::parse("abcdef000").unwrap();
        assert_eq!(odd.leading_bytes(), [0xab, 0xcd, 0xef, 0x00]);
        assert_eq!(resolve_id(&odd, &[a, b]), Err(IdMatch::None));
        let shared = IdPrefix::parse("abcdef00").unwrap();
        assert_eq!(resolve_id(&shared, &[a, b]), Err(IdMatch::None));
        let c = Hash::from_hex(&format!("abcdef01{}", "1".repeat(56))).unwrap();
        assert_eq!(
            resolve_id(&one, &[c, a, b]),
            Err(IdMatch::Ambiguous(vec![a, c]))
        );
        assert_eq!(IdPrefix::parse(&a.to_hex()).unwrap().full(), Some(a));
    }
}
