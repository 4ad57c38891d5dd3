//! Position in the log: origin, seq, the prev chain, time order and the one
//! genesis.

use crate::fixture::*;

/// Proves a correctly signed entry for another ledger (another origin) is
/// refused, so signatures cannot be replayed across ledgers.
#[test]
fn wrong_ledger_origin_is_refused() {
    let mut l = Ledger::funded();
    let mut b = income("operating", 100, "o-1");
    b.ledger = "other.example/ledger".into();
    let err = l.reject_body(b, &["co-1"]);
    assert_eq!(
        err,
        ApplyError::WrongLedger {
            expected: ORIGIN.into(),
            found: "other.example/ledger".into()
        }
    );
}

/// Proves a leaf must carry exactly the next seq: neither a gap nor a
/// rewrite of an existing position.
#[test]
fn wrong_seq_is_refused() {
    let mut l = Ledger::funded();
    for seq in [4, 2, 0, u64::from(u32::MAX)] {
        let mut leaf = l.leaf(income("operating", 100, "s-1"), &["co-1"]);
        leaf.seq = seq;
        let err = l.reject(&leaf.to_canonical_bytes());
        assert_eq!(
            err,
            ApplyError::Sequence {
                expected: 3,
                found: seq
            }
        );
    }
}

/// Proves `prev` must be the leaf hash of the entry before: zeros, a random
/// hash or the hash of an older entry are refused.
#[test]
fn broken_prev_chain_is_refused() {
    let mut l = Ledger::new(true);
    let older = l
        .commit(income("operating", 100, "p-0"), &["co-1"])
        .leaf_hash;
    l.commit(income("operating", 100, "p-00"), &["co-1"]);
    let head = l.state().head();
    assert_ne!(head, older);
    for found in [Hash::ZERO, Hash([7; 32]), older] {
        let mut leaf = l.leaf(income("operating", 100, "p-1"), &["co-1"]);
        leaf.prev = found;
        let err = l.reject(&leaf.to_canonical_bytes());
        assert_eq!(
            err,
            ApplyError::BrokenChain {
                seq: 3,
                expected: head,
                found
            }
        );
    }
}

/// Proves time never goes backwards (equal times are allowed), and that
/// `next_leaf` clamps a clock that stepped back.
#[test]
fn time_going_backwards_is_refused() {
    let mut l = Ledger::funded();
    let last = l.state().last_time_ms();
    let mut leaf = l.leaf(income("operating", 100, "t-1"), &["co-1"]);
    leaf.time_ms = last - 1;
    let err = l.reject(&leaf.to_canonical_bytes());
    assert_eq!(
        err,
        ApplyError::TimeWentBackwards {
            seq: 3,
            previous_ms: last,
            found_ms: last - 1
        }
    );
    leaf.time_ms = last;
    l.r.apply(&leaf.to_canonical_bytes()).unwrap();
    let clamped = l
        .state()
        .next_leaf(income("operating", 1, "t-2"), vec![], 5);
    assert_eq!(clamped.time_ms, last);
}

/// Proves a ledger has one genesis: a second, correctly signed by every role,
/// is refused at any later seq.
#[test]
fn second_genesis_is_refused() {
    let mut l = Ledger::funded();
    let mut g = genesis_body(true);
    g.nonce = "genesis-2".into();
    let err = l.reject_body(g, &["co-1", "cm-1", "cm-2", "sv-1"]);
    assert_eq!(err, ApplyError::SecondGenesis { seq: 3 });
}

/// Proves the first entry must be a genesis, and a genesis must sit at seq 0
/// with zero prev; the genesis needs every role it defines up to its
/// threshold; and its log key must be an Ed25519 key named after the origin.
#[test]
fn first_entry_must_be_a_proper_genesis() {
    let inc = income("operating", 100, "i-0");
    let leaf = Leaf {
        seq: 0,
        prev: Hash::ZERO,
        time_ms: T0,
        signatures: sigs(&inc, &["co-1"]),
        body: inc,
    };
    let err = Replayer::start(&leaf.to_canonical_bytes()).unwrap_err();
    assert_eq!(
        err,
        ApplyError::NotGenesis {
            found: Kind::Income
        }
    );

    let g = genesis_body(true);
    let all = ["co-1", "cm-1", "cm-2", "sv-1"];
    let mut leaf = Leaf::decode(&genesis_leaf(&g, &all)).unwrap();
    leaf.seq = 1;
    assert_eq!(
        LedgerState::from_genesis(&leaf.to_canonical_bytes()).unwrap_err(),
        ApplyError::Sequence {
            expected: 0,
            found: 1
        }
    );
    leaf.seq = 0;
    leaf.prev = Hash([1; 32]);
    assert_eq!(
        LedgerState::from_genesis(&leaf.to_canonical_bytes()).unwrap_err(),
        ApplyError::BrokenChain {
            seq: 0,
            expected: Hash::ZERO,
            found: Hash([1; 32])
        }
    );

    // Every role must sign: the supervisor is missing, then the committee is short.
    assert_eq!(
        LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err(),
        ApplyError::RuleNotMet {
            kind: Kind::Genesis,
            role: Role::Supervisor,
            have: 0,
            need: 1
        }
    );
    assert_eq!(
        LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-3", "sv-1"])).unwrap_err(),
        ApplyError::RuleNotMet {
            kind: Kind::Genesis,
            role: Role::Committee,
            have: 1,
            need: 2
        }
    );

    // The log key must be named after the origin.
    let mut g = genesis_body(false);
    if let Content::Genesis(c) = &mut g.content {
        c.log_key = NoteSigner::new("other.example/log", KeyAlg::Ed25519, sk(9))
            .unwrap()
            .verifier_key()
            .to_string();
    }
    let err = LedgerState::from_genesis(&genesis_leaf(&g, &["co-1", "cm-1", "cm-2"])).unwrap_err();
    assert!(matches!(err, ApplyError::BadLogKey { .. }), "{err:?}");
}
