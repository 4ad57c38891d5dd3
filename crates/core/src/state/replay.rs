//! Replaying a log in memory: [`MemoryHistory`] answers the look-ups
//! ([`Needs`]) from what was applied, and [`Replayer`] runs decode, look up,
//! apply, record over a whole log (the auditor's loop).

use super::*;

/// Answers [`Needs`] from memory: for audits that stream a whole log, and
/// for tests. Holds the reversals, and, as made, every leaf and one body id
/// per entry ([`MemoryHistory::new`]), the body ids only
/// ([`MemoryHistory::without_leaves`]: the caller fetches a reversal's
/// target from where the leaves are; reversals are rare, and a million
/// leaves do not fit a small memory budget), or neither
/// ([`MemoryHistory::without_leaves_or_body_ids`]). There is no `Default`:
/// which of these a history is must be chosen, since one without body ids
/// finds replays only through the caller's index.
#[derive(Debug)]
pub struct MemoryHistory {
    /// `None` when the caller answers "was this body seen" from its own
    /// index (see [`MemoryHistory::without_leaves_or_body_ids`]).
    body_ids: Option<HashMap<Hash, u64>>,
    leaves: Option<HashMap<u64, Leaf>>,
    reversed_by: HashMap<u64, u64>,
}

impl MemoryHistory {
    /// Holds every leaf and body id. Deliberately not `Default` (see the
    /// type's doc).
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        MemoryHistory {
            body_ids: Some(HashMap::new()),
            leaves: Some(HashMap::new()),
            reversed_by: HashMap::new(),
        }
    }

    pub fn without_leaves() -> Self {
        MemoryHistory {
            body_ids: Some(HashMap::new()),
            leaves: None,
            reversed_by: HashMap::new(),
        }
    }

    /// Holds only the reversals: 40 bytes an entry less than
    /// [`MemoryHistory::without_leaves`]. The caller answers replay
    /// look-ups from an index of its own, and must check that index
    /// against the leaves (each body id maps to its own entry's seq), for
    /// an index that hides a replay would otherwise hide it here too.
    pub fn without_leaves_or_body_ids() -> Self {
        MemoryHistory {
            body_ids: None,
            leaves: None,
            reversed_by: HashMap::new(),
        }
    }

    /// Look-ups from memory; a target leaf not held is fetched with `fetch`,
    /// and, when the history holds no body ids, an earlier entry with the
    /// same body is asked of `body_seen_at`.
    pub fn lookups_with(
        &self,
        needs: &Needs,
        fetch: &mut dyn FnMut(u64) -> Option<Leaf>,
        body_seen_at: &mut dyn FnMut(&Hash) -> Option<u64>,
    ) -> Lookups {
        Lookups {
            body_seen_at: match &self.body_ids {
                Some(ids) => ids.get(&needs.body_id).copied(),
                None => body_seen_at(&needs.body_id),
            },
            target: needs.target_seq.and_then(|seq| {
                let leaf = match &self.leaves {
                    Some(leaves) => leaves.get(&seq).cloned(),
                    None => fetch(seq),
                };
                leaf.map(|leaf| (leaf, self.reversed_by.get(&seq).copied()))
            }),
        }
    }

    pub fn lookups(&self, needs: &Needs) -> Lookups {
        self.lookups_with(needs, &mut |_| None, &mut |_| None)
    }

    /// Records an applied leaf.
    pub fn record(&mut self, leaf: &Leaf, applied: &Applied) {
        if let Some(ids) = &mut self.body_ids {
            ids.insert(applied.body_id, applied.seq);
        }
        if let Some(leaves) = &mut self.leaves {
            leaves.insert(applied.seq, leaf.clone());
        }
        if let Some(target) = applied.reverses {
            self.reversed_by.insert(target, applied.seq);
        }
    }
}

/// Replays leaves in memory: decode, look up, apply, record. The auditor's
/// loop and the tests' model ledger.
#[derive(Debug)]
pub struct Replayer {
    pub state: LedgerState,
    pub history: MemoryHistory,
    pub totals: Totals,
}

impl Replayer {
    /// # Errors
    /// As [`LedgerState::from_genesis`].
    pub fn start(genesis_leaf_bytes: &[u8]) -> Result<Replayer, ApplyError> {
        Self::start_with(genesis_leaf_bytes, MemoryHistory::new())
    }

    /// As [`Replayer::start`], with a history of the caller's choice.
    ///
    /// # Errors
    /// As [`LedgerState::from_genesis`].
    pub fn start_with(
        genesis_leaf_bytes: &[u8],
        mut history: MemoryHistory,
    ) -> Result<Replayer, ApplyError> {
        let leaf = Leaf::decode(genesis_leaf_bytes)?;
        let (state, applied) = LedgerState::from_genesis(genesis_leaf_bytes)?;
        history.record(&leaf, &applied);
        Ok(Replayer {
            state,
            history,
            totals: Totals::default(),
        })
    }

    /// # Errors
    /// As [`LedgerState::apply`].
    pub fn apply(&mut self, leaf_bytes: &[u8]) -> Result<Applied, ApplyError> {
        let leaf = Leaf::decode(leaf_bytes)?;
        self.apply_decoded(&leaf, leaf_bytes, None, &mut |_| None, &mut |_| None)
    }

    /// Applies a leaf decoded from `leaf_bytes` (perhaps on another thread,
    /// with its signatures checked there), fetching a reversal's target with
    /// `fetch_target` when the history does not hold leaves, and asking
    /// `body_seen_at` for the seq of an entry with the same body when it
    /// holds no body ids (an answer at or after this leaf's seq is not an
    /// earlier entry, and is ignored).
    ///
    /// # Errors
    /// As [`LedgerState::apply`].
    pub fn apply_decoded(
        &mut self,
        leaf: &Leaf,
        leaf_bytes: &[u8],
        check: Option<&SignatureCheck>,
        fetch_target: &mut dyn FnMut(u64) -> Option<Leaf>,
        body_seen_at: &mut dyn FnMut(&Hash) -> Option<u64>,
    ) -> Result<Applied, ApplyError> {
        let mut earlier_with_body = |id: &Hash| body_seen_at(id).filter(|&seen| seen < leaf.seq);
        let lookups = self.history.lookups_with(
            &leaf_needs(leaf, leaf_bytes),
            fetch_target,
            &mut earlier_with_body,
        );
        let applied = self
            .state
            .apply_leaf_prechecked(leaf, leaf_bytes, &lookups, check)?;
        self.history.record(leaf, &applied);
        self.totals.add(&applied.postings);
        Ok(applied)
    }
}
