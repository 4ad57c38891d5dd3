//! Judging one entry: proposals, signatures (checked ahead or here) and
//! the one path every leaf takes into the state (docs/format.md, "Rules").

use super::*;
use crate::canonical::LEAF_BYTES_MAX;

/// A signature that verified, and the role of its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    pub key: String,
    pub role: Role,
}

/// How far a set of signatures goes toward a kind's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub kind: Kind,
    /// The roles the rule needs.
    pub required_roles: Vec<Role>,
    /// Valid signers, in key-name order.
    pub signers: Vec<Signer>,
    /// For each required role: (distinct valid keys, threshold).
    pub progress: BTreeMap<Role, (u32, u32)>,
}

impl Approval {
    pub fn is_satisfied(&self) -> bool {
        self.progress.values().all(|(have, need)| have >= need)
    }

    /// The first unmet part of the rule, as an error.
    pub fn unmet(&self) -> Option<ApplyError> {
        self.progress
            .iter()
            .find(|(_, (have, need))| have < need)
            .map(|(role, (have, need))| ApplyError::RuleNotMet {
                kind: self.kind,
                role: *role,
                have: *have,
                need: *need,
            })
    }
}

/// Signatures verified ahead of `apply`, possibly on another thread; see
/// [`LedgerState::check_signatures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    body_id: Hash,
    /// Which signatures these are (see [`signatures_digest`]): a check
    /// speaks only for the very list it was made on, in its order.
    signatures_digest: Hash,
    /// Per signature, in order: the key its name stood for when the check
    /// was made (none if no role held the name), and whether `verify_strict`
    /// passed with it.
    verdicts: Vec<(Option<VerifyingKey>, bool)>,
}

impl SignatureCheck {
    /// The per-signature verdicts, if this check was made for this body and
    /// these signatures: each one that was made with the very key its name
    /// stands for in `state` now (`verify_strict` of the same key, message
    /// and signature gives the same answer), none for the others, which are
    /// verified again. So a change of roles costs the checks of the keys it
    /// changed, not of every signature checked ahead of it.
    fn verdicts_for(
        &self,
        state: &LedgerState,
        body_id: &Hash,
        signatures: &[EntrySignature],
    ) -> Option<Vec<Option<bool>>> {
        if !(self.body_id == *body_id
            && self.verdicts.len() == signatures.len()
            && self.signatures_digest == signatures_digest(signatures))
        {
            return None;
        }
        Some(
            signatures
                .iter()
                .zip(&self.verdicts)
                .map(|(sig, (key_then, valid))| {
                    let key_now = state.keys.get(&sig.key).map(|(_, key)| key);
                    (key_then.is_some() && key_then.as_ref() == key_now).then_some(*valid)
                })
                .collect(),
        )
    }
}

/// SHA-256 over each signature's key name and signature text, each
/// preceded by its length (u32 big-endian), in order.
fn signatures_digest(signatures: &[EntrySignature]) -> Hash {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for s in signatures {
        for part in [s.key.as_bytes(), s.sig.as_bytes()] {
            hasher.update((part.len() as u32).to_be_bytes());
            hasher.update(part);
        }
    }
    Hash(hasher.finalize().into())
}

impl LedgerState {
    /// Checks a proposal (a body and the signatures gathered so far) against
    /// the current state, without committing it. Entry point for a caller
    /// that holds only the body (a test, a one-off check). At least one signature must
    /// be valid and come from a role the kind's rule names; every signature
    /// given must verify. Money is checked against today's balances (it is
    /// checked again when the entry commits).
    ///
    /// # Errors
    /// Any [`ApplyError`] except the sequence and chain ones.
    pub fn check_proposal(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        lookups: &Lookups,
    ) -> Result<Approval, ApplyError> {
        self.check_proposal_prechecked(body, &body.to_canonical_bytes(), signatures, lookups, None)
            .map(|(approval, _)| approval)
    }

    /// As [`LedgerState::check_proposal`], for a body whose canonical bytes
    /// the caller has; also returns the [`SignatureCheck`] it established
    /// (every signature verified against the keys in force), so that
    /// committing the proposal does not verify the signatures again.
    /// `earlier` is a check made ahead by [`LedgerState::check_signatures`]
    /// (on another thread, say); it is used only if it was made for this
    /// body and these signatures against the keys in force now. Entry point
    /// for the store's proposal path.
    ///
    /// # Errors
    /// As [`LedgerState::check_proposal`].
    ///
    /// # Panics
    /// In debug builds, if `body_bytes` are not the JCS of `body`.
    pub fn check_proposal_prechecked(
        &self,
        body: &Body,
        body_bytes: &[u8],
        signatures: &[EntrySignature],
        lookups: &Lookups,
        earlier: Option<&SignatureCheck>,
    ) -> Result<(Approval, SignatureCheck), ApplyError> {
        debug_assert_eq!(body.to_canonical_bytes(), body_bytes);
        check_signature_list(signatures, "$.signatures")?;
        let body_id = crate::hash::sha256(body_bytes);
        let message = crate::entry::signing_message(body_bytes);
        let verified = earlier.and_then(|c| c.verdicts_for(self, &body_id, signatures));
        let (approval, _) =
            self.check_body(body, signatures, lookups, &message, verified.as_deref())?;
        let relevant = approval
            .signers
            .iter()
            .any(|s| approval.required_roles.contains(&s.role));
        if !relevant {
            return Err(ApplyError::NoRuleSigner {
                kind: body.kind(),
                roles: approval
                    .required_roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" + "),
            });
        }
        // check_body refused any unknown key or bad signature, so every
        // signature here verified against the keys in force.
        let check = SignatureCheck {
            body_id,
            signatures_digest: signatures_digest(signatures),
            verdicts: signatures
                .iter()
                .map(|s| (self.keys.get(&s.key).map(|(_, key)| *key), true))
                .collect(),
        };
        Ok((approval, check))
    }

    /// Validates one leaf and, only if it is valid, advances the state.
    /// Entry point for bytes from outside (a fuzzer, a test): decodes, then
    /// goes through [`LedgerState::apply_leaf_prechecked`] like every path.
    ///
    /// # Errors
    /// Any [`ApplyError`] (a leaf over `LEAF_BYTES_MAX` is refused by the
    /// decoder, as [`ApplyError::Format`]); the state is then unchanged.
    pub fn apply(&mut self, leaf_bytes: &[u8], lookups: &Lookups) -> Result<Applied, ApplyError> {
        let leaf = Leaf::decode(leaf_bytes)?;
        self.apply_leaf(&leaf, leaf_bytes, lookups)
    }

    /// As [`LedgerState::apply`], for a leaf already decoded from
    /// `leaf_bytes`, with every signature verified here. Entry point for a
    /// caller that decoded the leaf but checked no signatures ahead.
    ///
    /// # Errors
    /// As [`LedgerState::apply_leaf_prechecked`].
    ///
    /// # Panics
    /// As [`LedgerState::apply_leaf_prechecked`].
    pub fn apply_leaf(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        lookups: &Lookups,
    ) -> Result<Applied, ApplyError> {
        self.apply_leaf_prechecked(leaf, leaf_bytes, lookups, None)
    }

    /// Checks an entry's signatures against the keys in force, without
    /// changing anything: callers run this on many threads ahead of the
    /// sequential [`LedgerState::apply_leaf_prechecked`], which then skips the
    /// Ed25519 work. `body_bytes` must be JCS of the body whose signatures
    /// these are (see [`crate::entry::body_bytes_of_leaf`]). Never fails:
    /// a bad or unknown signature is a `false` verdict, refused by the apply.
    pub fn check_signatures(
        &self,
        body_bytes: &[u8],
        signatures: &[EntrySignature],
    ) -> SignatureCheck {
        let message = crate::entry::signing_message(body_bytes);
        let verdicts = signatures
            .iter()
            .map(|entry_sig| match self.keys.get(&entry_sig.key) {
                Some((_, verifying)) => (
                    Some(*verifying),
                    entry_sig
                        .signature()
                        .is_some_and(|sig| verifying.verify_strict(&message, &sig).is_ok()),
                ),
                None => (None, false),
            })
            .collect();
        SignatureCheck {
            body_id: crate::hash::sha256(body_bytes),
            signatures_digest: signatures_digest(signatures),
            verdicts,
        }
    }

    /// As [`LedgerState::apply_leaf`], using a [`SignatureCheck`] made
    /// earlier by [`LedgerState::check_signatures`]. The check is used only
    /// for this very body (same body id) and this very signature list (same
    /// digest), and each of its verdicts only if it was made with the key
    /// the signature's name stands for now; every other signature is
    /// verified here. "Prechecked" is about signatures, not
    /// overflow: amounts are always added with checked arithmetic.
    ///
    /// Every other apply entry point ends here: the one place a leaf is
    /// judged. Entry point for the store's commit and the auditor's replay.
    ///
    /// # Errors
    /// Any [`ApplyError`], among them [`ApplyError::LeafTooLarge`] for
    /// `leaf_bytes` over [`LEAF_BYTES_MAX`]; the state is then unchanged.
    ///
    /// # Panics
    /// In debug builds, if `leaf_bytes` are not the canonical bytes of
    /// `leaf`.
    pub fn apply_leaf_prechecked(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        lookups: &Lookups,
        check: Option<&SignatureCheck>,
    ) -> Result<Applied, ApplyError> {
        // A leaf built from parts (the store's commit) has not been through
        // the decoder's size limit; the log never holds a longer one.
        if leaf_bytes.len() > LEAF_BYTES_MAX {
            return Err(ApplyError::LeafTooLarge {
                bytes: leaf_bytes.len(),
                max: LEAF_BYTES_MAX,
            });
        }
        debug_assert_eq!(leaf.to_canonical_bytes(), leaf_bytes);
        let s = &self.snapshot;
        if leaf.seq != s.size {
            return Err(ApplyError::Sequence {
                expected: s.size,
                found: leaf.seq,
            });
        }
        if leaf.prev != s.head {
            return Err(ApplyError::BrokenChain {
                seq: leaf.seq,
                expected: s.head,
                found: leaf.prev,
            });
        }
        if leaf.time_ms < s.last_time_ms {
            return Err(ApplyError::TimeWentBackwards {
                seq: leaf.seq,
                previous_ms: s.last_time_ms,
                found_ms: leaf.time_ms,
            });
        }
        if leaf.seq > 0 && leaf.body.kind() == Kind::Genesis {
            return Err(ApplyError::SecondGenesis { seq: leaf.seq });
        }
        let body_bytes_owned;
        let body_bytes = match crate::entry::body_bytes_of_leaf(leaf_bytes) {
            Some(bytes) => bytes,
            None => {
                body_bytes_owned = leaf.body.to_canonical_bytes();
                &body_bytes_owned
            }
        };
        debug_assert_eq!(body_bytes, leaf.body.to_canonical_bytes().as_slice());
        let body_id = crate::hash::sha256(body_bytes);
        let message = crate::entry::signing_message(body_bytes);
        let verified = check.and_then(|c| c.verdicts_for(self, &body_id, &leaf.signatures));
        let (approval, outcome) = self.check_body(
            &leaf.body,
            &leaf.signatures,
            lookups,
            &message,
            verified.as_deref(),
        )?;
        if let Some(unmet) = approval.unmet() {
            return Err(unmet);
        }
        // Every check passed: only now does the state change.
        let applied = Applied {
            seq: leaf.seq,
            leaf_hash: leaf_hash(leaf_bytes),
            body_id,
            kind: leaf.body.kind(),
            effect: outcome.effect,
            reverses: outcome.reverses,
            postings: outcome.postings,
            signers: approval.signers,
        };
        let s = &mut self.snapshot;
        s.balances = outcome.balances;
        if let Content::Governance(g) = &leaf.body.content {
            if let Some(roles) = &g.roles {
                s.roles = roles.clone();
                self.keys = index_keys(roles);
                self.roles_version += 1;
            }
            if let Some(rules) = &g.rules {
                s.rules = rules.clone();
            }
        }
        s.size += 1;
        s.head = applied.leaf_hash;
        s.last_time_ms = leaf.time_ms;
        Ok(applied)
    }

    /// Everything about a body that does not depend on its position in the
    /// log: ledger, fund references, signatures, money, replay and reversal
    /// references. Returns the approval and the outcome it would have.
    fn check_body(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        lookups: &Lookups,
        message: &[u8],
        verified: Option<&[Option<bool>]>,
    ) -> Result<(Approval, Outcome), ApplyError> {
        let s = &self.snapshot;
        if body.ledger != s.origin {
            return Err(ApplyError::WrongLedger {
                expected: s.origin.clone(),
                found: body.ledger.clone(),
            });
        }
        if let Some(seq) = lookups.body_seen_at {
            return Err(ApplyError::Replay { seq });
        }
        let fund_exists = |fund: &str| -> Result<(), ApplyError> {
            if s.balances.contains_key(fund) {
                Ok(())
            } else {
                Err(ApplyError::UnknownFund {
                    fund: fund.to_string(),
                })
            }
        };
        // The effect and postings are built by `money_effect` only, the
        // same function that builds a reversal's target's below.
        let (effect, postings) = money_effect(body);
        let (rule_kind, effect, reverses, postings) = match &body.content {
            Content::Genesis(_) => {
                if s.size != 0 {
                    return Err(ApplyError::SecondGenesis { seq: s.size });
                }
                (None, effect, None, postings)
            }
            Content::Income(i) => {
                fund_exists(&i.fund)?;
                (Some(RuleKind::Income), effect, None, postings)
            }
            Content::Expenditure(e) => {
                fund_exists(&e.fund)?;
                (Some(RuleKind::Expenditure), effect, None, postings)
            }
            Content::Transfer(t) => {
                fund_exists(&t.from_fund)?;
                fund_exists(&t.to_fund)?;
                (Some(RuleKind::Transfer), effect, None, postings)
            }
            Content::Reversal(r) => {
                let Some((target, reversed_by)) = &lookups.target else {
                    return Err(ApplyError::TargetMissing {
                        target_seq: r.target_seq,
                    });
                };
                if target.seq != r.target_seq {
                    return Err(ApplyError::LookupMismatch { what: "target seq" });
                }
                if target.seq >= s.size {
                    return Err(ApplyError::TargetMissing {
                        target_seq: r.target_seq,
                    });
                }
                let target_kind = target.body.kind();
                let Some(target_rule) = rule_for(target_kind).filter(|_| {
                    matches!(
                        target_kind,
                        Kind::Income | Kind::Expenditure | Kind::Transfer
                    )
                }) else {
                    return Err(ApplyError::NotReversible {
                        target_seq: target.seq,
                        kind: target_kind,
                    });
                };
                if let Some(by_seq) = reversed_by {
                    return Err(ApplyError::AlreadyReversed {
                        target_seq: target.seq,
                        by_seq: *by_seq,
                    });
                }
                let (target_effect, target_postings) = money_effect(&target.body);
                let postings = target_postings
                    .into_iter()
                    .map(|p| Posting {
                        income_fen: -p.income_fen,
                        spending_fen: -p.spending_fen,
                        ..p
                    })
                    .collect();
                (
                    Some(target_rule),
                    target_effect.inverse(),
                    Some(target.seq),
                    postings,
                )
            }
            Content::Governance(g) => {
                let roles = g.roles.as_ref().unwrap_or(&s.roles);
                let rules = g.rules.as_ref().unwrap_or(&s.rules);
                check_rules(rules, roles, "$.body.rules")?;
                (Some(RuleKind::Governance), effect, None, postings)
            }
        };
        let balances = apply_effect(&s.balances, &effect)?;
        let approval = self.evaluate_signatures(body, signatures, rule_kind, message, verified)?;
        Ok((
            approval,
            Outcome {
                effect,
                reverses,
                postings,
                balances,
            },
        ))
    }

    /// Verifies every signature (any bad or unknown one is an error) and
    /// counts distinct keys per role. Genesis is checked against the roles
    /// it defines, and needs every one of them.
    fn evaluate_signatures(
        &self,
        body: &Body,
        signatures: &[EntrySignature],
        rule_kind: Option<RuleKind>,
        message: &[u8],
        verified: Option<&[Option<bool>]>,
    ) -> Result<Approval, ApplyError> {
        // A check made against this state's keys says nothing about a
        // genesis, which is checked against the keys it defines.
        let verified = verified.filter(|_| !matches!(body.content, Content::Genesis(_)));
        let genesis_keys;
        let (keys, required_roles): (&HashMap<String, (Role, VerifyingKey)>, Vec<Role>) =
            match &body.content {
                Content::Genesis(g) => {
                    genesis_keys = index_keys(&g.roles);
                    (&genesis_keys, g.roles.keys().copied().collect())
                }
                _ => {
                    let rule_kind = rule_kind.expect("every kind but genesis has a rule");
                    (&self.keys, self.snapshot.rules[&rule_kind].clone())
                }
            };
        let roles = match &body.content {
            Content::Genesis(g) => &g.roles,
            _ => &self.snapshot.roles,
        };
        let mut signers = Vec::with_capacity(signatures.len());
        for (i, entry_sig) in signatures.iter().enumerate() {
            let Some((role, verifying)) = keys.get(&entry_sig.key) else {
                return Err(ApplyError::UnknownKey {
                    key: entry_sig.key.clone(),
                });
            };
            let valid = match verified.and_then(|v| v[i]) {
                Some(valid) => valid,
                None => entry_sig
                    .signature()
                    .is_some_and(|sig| verifying.verify_strict(message, &sig).is_ok()),
            };
            if !valid {
                return Err(ApplyError::BadSignature {
                    key: entry_sig.key.clone(),
                });
            }
            signers.push(Signer {
                key: entry_sig.key.clone(),
                role: *role,
            });
        }
        // Signature lists are unique by key name, and key names are unique
        // across roles, so counting signers per role counts distinct keys.
        let progress = required_roles
            .iter()
            .map(|role| {
                let have = signers.iter().filter(|s| s.role == *role).count() as u32;
                (*role, (have, roles[role].threshold))
            })
            .collect();
        Ok(Approval {
            kind: body.kind(),
            required_roles,
            signers,
            progress,
        })
    }
}

/// What a body that passed `check_body` would do to the state.
struct Outcome {
    effect: Effect,
    reverses: Option<u64>,
    postings: Vec<Posting>,
    balances: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{chain, property_fee, two_role_genesis};

    /// The leaf-size limit is the core's rule: leaf bytes over
    /// `LEAF_BYTES_MAX` handed to the apply path (as a store that builds a
    /// leaf from parts hands them, never through the decoder) are refused
    /// with `LeafTooLarge`, the state is unchanged, and the same leaf at its
    /// real size still applies.
    #[test]
    fn leaf_over_the_size_limit_is_refused() {
        let origin = "example.org/ledger";
        let leaves = chain(vec![
            two_role_genesis(origin, "星光花园"),
            property_fee(origin, "n-1"),
        ]);
        let (mut state, _) = LedgerState::from_genesis(&leaves[0]).unwrap();
        let before = state.snapshot().clone();
        let leaf = Leaf::decode(&leaves[1]).unwrap();
        let mut oversized = leaves[1].clone();
        oversized.resize(LEAF_BYTES_MAX + 1, b' ');
        let refused = state.apply_leaf_prechecked(&leaf, &oversized, &Lookups::default(), None);
        assert_eq!(
            refused,
            Err(ApplyError::LeafTooLarge {
                bytes: LEAF_BYTES_MAX + 1,
                max: LEAF_BYTES_MAX,
            })
        );
        assert_eq!(refused.unwrap_err().code(), "too_large");
        assert_eq!(state.snapshot(), &before);
        let applied = state
            .apply_leaf_prechecked(&leaf, &leaves[1], &Lookups::default(), None)
            .unwrap();
        assert_eq!(applied.seq, 1);
    }
}
