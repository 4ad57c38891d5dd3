//! Properties: every single-byte change is caught, and decoding never panics on
//! arbitrary bytes.

use crate::fixture::*;

/// A funded ledger, and the next leaf (an expenditure with every optional
/// field, signed by three keys), shared by the mutation tests.
struct MutationFixture {
    replayer: Replayer,
    leaf: Leaf,
    bytes: Vec<u8>,
}

fn mutation_fixture() -> &'static MutationFixture {
    static FIXTURE: OnceLock<MutationFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let l = Ledger::funded();
        let mut b = expenditure("operating", 4_321, "mut-1");
        if let Content::Expenditure(e) = &mut b.content {
            e.owners_approval = Some(OwnersApproval {
                decision_ref: "业主大会决议 2024-01".into(),
                participating_area_bp: 9_000,
                participating_headcount_bp: 8_000,
                approving_area_bp: 7_000,
                approving_headcount_bp: 6_000,
            });
        }
        let leaf = l.leaf(b, &["co-1", "cm-1", "cm-3"]);
        let bytes = leaf.to_canonical_bytes();
        // The unmutated leaf applies.
        let mut state = l.r.state.clone();
        let lookups = l.r.history.lookups(&leaf.needs());
        state.apply_leaf(&leaf, &bytes, &lookups).unwrap();
        MutationFixture {
            replayer: l.r,
            leaf,
            bytes,
        }
    })
}

/// The property: a changed leaf either fails to decode, or fails to apply,
/// or (if it applies) carries the same signed body and signatures — only
/// unsigned metadata (its time) changed — and has another leaf hash.
fn check_mutated(mutated: &[u8]) {
    let fx = mutation_fixture();
    let Ok(leaf) = Leaf::decode(mutated) else {
        return;
    };
    let mut state = fx.replayer.state.clone();
    let lookups = fx.replayer.history.lookups(&leaf.needs());
    if state.apply_leaf(&leaf, mutated, &lookups).is_err() {
        assert_eq!(state.snapshot(), fx.replayer.state.snapshot());
        return;
    }
    assert_eq!(leaf.body, fx.leaf.body, "a signed body changed undetected");
    assert_eq!(leaf.signatures, fx.leaf.signatures);
    assert_eq!((leaf.seq, leaf.prev), (fx.leaf.seq, fx.leaf.prev));
    assert_ne!(leaf.time_ms, fx.leaf.time_ms);
    assert_ne!(leaf_hash(mutated), leaf_hash(&fx.bytes));
}

/// Proves, exhaustively for every byte position and a set of likely
/// replacements (bit flips, digits, quotes, escapes, white space), that no
/// single-byte change to a valid signed leaf alters what was signed.
#[test]
fn every_single_byte_change_is_caught() {
    let fx = mutation_fixture();
    let mut replacements: Vec<u8> = b"059\"\\ ,:{]az-=+".to_vec();
    replacements.extend([0x00, 0xff]);
    let mut accepted = 0;
    for i in 0..fx.bytes.len() {
        let original = fx.bytes[i];
        let flips = [
            original ^ 0x01,
            original ^ 0x02,
            original ^ 0x20,
            original ^ 0x80,
        ];
        for &b in replacements.iter().chain(flips.iter()) {
            if b == original {
                continue;
            }
            let mut m = fx.bytes.clone();
            m[i] = b;
            check_mutated(&m);
            if Leaf::decode(&m).is_ok_and(|leaf| leaf.body == fx.leaf.body) {
                accepted += 1;
            }
        }
    }
    // Some changes (in the unsigned time) do decode; none changes the body.
    assert!(accepted > 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Proves Body::decode and Leaf::decode return (never panic) on arbitrary
    /// bytes.
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Body::decode(&bytes);
        let _ = Leaf::decode(&bytes);
    }

    /// Proves the decoders never panic on JSON-looking text either (built from
    /// JSON punctuation, digits, keys of our schema and escapes), which
    /// reaches deeper than random bytes.
    #[test]
    fn decode_never_panics_on_json_like_text(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"),
                Just("\""), Just("\\u0000"), Just("\\ud800"), Just("0"), Just("-1"),
                Just("9007199254740993"), Just("1e400"), Just("1.5"), Just("null"),
                Just("true"), Just("\"kind\":\"income\""), Just("\"body\":"),
                Just("\"amount_fen\":"), Just("\"ledger\":\"a\""), Just("星"),
                Just("\"signatures\":[]"), Just("\"date\":\"2024-02-30\""),
            ],
            0..64,
        )
    ) {
        let text: String = parts.concat();
        let _ = Body::decode(text.as_bytes());
        let _ = Leaf::decode(text.as_bytes());
    }

    /// Proves a random single-byte change to a valid signed leaf never slips
    /// a changed body or signature past decode and apply.
    #[test]
    fn random_single_byte_change_is_caught(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fx = mutation_fixture();
        let i = index.index(fx.bytes.len());
        prop_assume!(fx.bytes[i] != byte);
        let mut m = fx.bytes.clone();
        m[i] = byte;
        check_mutated(&m);
        let _ = Body::decode(&m);
    }

    /// Proves decoding a valid body with one byte changed never panics, and
    /// a changed body that still decodes has another proposal id.
    #[test]
    fn mutated_body_decode_never_panics(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let fx = mutation_fixture();
        let body = fx.leaf.body.to_canonical_bytes();
        let i = index.index(body.len());
        prop_assume!(body[i] != byte);
        let mut m = body.clone();
        m[i] = byte;
        if let Ok(b) = Body::decode(&m) {
            prop_assert_ne!(b.id(), fx.leaf.body.id());
        }
    }
}
