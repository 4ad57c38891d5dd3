//! Replays the fuzz corpus (`fuzz/corpus/<target>/*`) through the core
//! decoders' invariants, so that the corpus stays a regression suite without
//! a fuzzer or a nightly compiler: a crash input saved under the corpus
//! keeps failing here until the bug is fixed.
//!
//! The invariants are not copied: `fuzz/src/invariants.rs` is compiled into
//! this test as a module, the same file the fuzz targets call. Seeds named
//! `fixture-*` are made by `fuzz/examples/gen_corpus.rs` from the fixed
//! ledger in that file; `demo-*` come from a real demo ledger; `found-*`
//! were found by the fuzzer; `edge-*` are hand-written (see fuzz/README.md).

#[path = "../../../fuzz/src/invariants.rs"]
mod invariants;

use feeledger_core::entry::{Body, Leaf};
use feeledger_core::note::{open_checkpoint, Checkpoint, Note, Receipt};
use invariants::*;
use std::path::PathBuf;

/// A check: panics if an invariant does not hold for these bytes.
type Check = fn(&[u8]);

/// The fuzz targets whose corpus this test replays, with the check each
/// file goes through. `add_checkpoint` and `proposal` drive the HTTP server
/// and are replayed here through the core checks only (see their tests).
const TARGETS: [(&str, Check); 10] = [
    ("body", check_body),
    ("leaf", check_leaf),
    ("canonical", check_canonical),
    ("apply", check_apply),
    ("checkpoint", check_checkpoint),
    ("note", check_note),
    ("cosignature", check_cosignature),
    ("receipt", check_receipt),
    ("tile_path", check_tile_path),
    ("witness_request", check_witness_request),
];

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// Every file of one target's corpus, as (file name, bytes), sorted by name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_root().join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is missing: {e}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|e| {
            let e = e.expect("a directory entry");
            let bytes = std::fs::read(e.path()).expect("a corpus file");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs `check` over a target's corpus, naming the file that fails.
fn replay(target: &str, check: Check) -> usize {
    let files = corpus(target);
    assert!(!files.is_empty(), "the corpus of {target} is empty");
    for (name, bytes) in &files {
        if std::panic::catch_unwind(|| check(bytes)).is_err() {
            panic!("fuzz/corpus/{target}/{name}: invariant broken (see the panic above)");
        }
    }
    files.len()
}

fn fixture_files(target: &str) -> Vec<(String, Vec<u8>)> {
    corpus(target)
        .into_iter()
        .filter(|(name, _)| name.starts_with("fixture-"))
        .collect()
}

// Proves the corpus is there: every target has a non-empty corpus directory
// (a missing or emptied corpus would make the replays below vacuous).
#[test]
fn corpus_is_not_empty() {
    let mut total = 0;
    for (target, _) in TARGETS {
        let n = corpus(target).len();
        assert!(n > 0, "fuzz/corpus/{target} is empty");
        total += n;
    }
    for target in ["add_checkpoint", "proposal"] {
        let n = corpus(target).len();
        assert!(n > 0, "fuzz/corpus/{target} is empty");
        total += n;
    }
    assert!(total >= 100, "only {total} corpus files");
}

// Proves `Body::decode` holds its invariants on the body corpus: what
// decodes re-encodes to the same bytes, its id is SHA-256 of them, and the
// body passes its own field checks.
#[test]
fn body_corpus() {
    replay("body", check_body);
}

// Proves `Leaf::decode` holds its invariants on the leaf corpus: re-encoding,
// `body_bytes_of_leaf` and `Leaf::canonical_bytes_from_parts` all give back
// the exact input bytes.
#[test]
fn leaf_corpus() {
    replay("leaf", check_leaf);
}

// Proves `canonical::parse_canonical` accepts exactly the JCS form of
// allowed values on the canonical corpus (edge cases: UTF-16 key order,
// depth, floats, -0, duplicates, controls).
#[test]
fn canonical_corpus() {
    replay("canonical", check_canonical);
}

// Proves `LedgerState::apply` on the fixed ledger leaves the state unchanged
// for every refused leaf of the apply corpus, and advances it by one for
// every accepted one.
#[test]
fn apply_corpus() {
    replay("apply", check_apply);
}

// Proves `Checkpoint::parse` prints every accepted checkpoint back to its
// exact input.
#[test]
fn checkpoint_corpus() {
    replay("checkpoint", check_checkpoint);
}

// Proves `Note::parse` prints every accepted note back to its input, and that
// every signature `Note::verify` accepts with the fixed log key also verifies
// with ed25519_dalek directly.
#[test]
fn note_corpus() {
    replay("note", check_note);
}

// Proves every cosignature `open_checkpoint` accepts with the fixed keys is
// the exact line `cosign` makes for that text and timestamp.
#[test]
fn cosignature_corpus() {
    replay("cosignature", check_cosignature);
}

// Proves `Receipt::parse` prints every receipt back to its input, and that
// a receipt `Receipt::verify` accepts has its leaf included under the root.
#[test]
fn receipt_corpus() {
    replay("receipt", check_receipt);
}

// Proves `tiles::parse_tile_path` prints every accepted path back to its
// input, and that built paths round-trip.
#[test]
fn tile_path_corpus() {
    replay("tile_path", check_tile_path);
}

// Proves `AddCheckpointRequest::parse` holds its invariants on its corpus
// (an accepted body is the one `to_bytes` builds back), and that the
// fixture seeds and every add-checkpoint body the fixture ledger produced
// still parse, so the deep paths stay reachable.
#[test]
fn witness_request_corpus() {
    replay("witness_request", check_witness_request);
    let mut fixtures = fixture_files("witness_request");
    fixtures.extend(fixture_files("add_checkpoint"));
    assert!(!fixtures.is_empty(), "no witness_request fixture seeds");
    for (name, bytes) in fixtures {
        assert!(
            feeledger_core::note::AddCheckpointRequest::parse(&bytes).is_ok(),
            "{name}"
        );
    }
}

// Proves the checkpoint notes inside the add-checkpoint bodies (after the
// first blank line) hold the note and cosignature invariants. The handler
// is replayed only by `cargo fuzz run add_checkpoint`; the body parser is
// also replayed here (`witness_request_corpus`, `every_check_on_every_file`).
#[test]
fn add_checkpoint_corpus_notes() {
    let files = corpus("add_checkpoint");
    assert!(!files.is_empty(), "the corpus of add_checkpoint is empty");
    for (name, bytes) in &files {
        let note = match bytes.windows(2).position(|w| w == b"\n\n") {
            Some(at) => &bytes[at + 2..],
            None => &bytes[..],
        };
        let ok = std::panic::catch_unwind(|| {
            check_note(note);
            check_cosignature(note);
        });
        assert!(ok.is_ok(), "fuzz/corpus/add_checkpoint/{name}");
    }
}

// Proves the bodies inside the proposal requests hold the body and
// canonical-JSON invariants, and that the fixture proposals still carry
// bodies that decode. The endpoint itself is replayed only by
// `cargo fuzz run proposal`.
#[test]
fn proposal_corpus_bodies() {
    let files = corpus("proposal");
    assert!(!files.is_empty(), "the corpus of proposal is empty");
    for (name, bytes) in &files {
        let Ok(request) = serde_json::from_slice::<serde_json::Value>(bytes) else {
            continue;
        };
        let Some(body) = request["body"].as_str() else {
            continue;
        };
        let ok = std::panic::catch_unwind(|| {
            check_body(body.as_bytes());
            check_canonical(body.as_bytes());
        });
        assert!(ok.is_ok(), "fuzz/corpus/proposal/{name}");
        if name.starts_with("fixture-") {
            assert!(Body::decode(body.as_bytes()).is_ok(), "proposal/{name}");
        }
    }
}

// Proves every check holds on every corpus file, whatever target it was
// made for: each check is specified for arbitrary bytes, and other targets'
// files are well-formed inputs in the wrong place.
#[test]
fn every_check_on_every_file() {
    let mut files = corpus("add_checkpoint");
    files.extend(corpus("proposal"));
    for (target, _) in TARGETS {
        files.extend(corpus(target));
    }
    for (name, bytes) in &files {
        for (target, check) in TARGETS {
            let ok = std::panic::catch_unwind(|| check(bytes));
            assert!(ok.is_ok(), "check of {target} on corpus file {name}");
        }
    }
}

// Proves the fixed-key seeds are still valid inputs, not stale bytes that
// the decoders now refuse early (which would leave the deep paths unfuzzed):
// fixture leaves and bodies decode, the next leaves apply, checkpoints and
// notes parse, cosigned notes verify with their cosignatures, and fixture
// receipts verify. Regenerate with `cargo run --example gen_corpus` in fuzz/.
#[test]
fn fixture_seeds_are_valid() {
    let f = fixture();
    for (name, bytes) in fixture_files("leaf") {
        assert!(Leaf::decode(&bytes).is_ok(), "leaf/{name}");
    }
    for (name, bytes) in fixture_files("body") {
        assert!(Body::decode(&bytes).is_ok(), "body/{name}");
    }
    for (name, bytes) in fixture_files("apply") {
        if !(name.starts_with("fixture-next-") || name.starts_with("fixture-signed-37-"))
            || name.contains("replay")
        {
            continue;
        }
        let bytes = apply_input_leaf(&bytes).expect("a leaf");
        let leaf = Leaf::decode(&bytes).expect("decodes");
        let lookups = f
            .history
            .lookups(&feeledger_core::state::leaf_needs(&leaf, &bytes));
        let mut state = f.state.clone();
        let applied = state.apply(&bytes, &lookups);
        assert!(applied.is_ok(), "apply/{name}: {applied:?}");
    }
    for (name, bytes) in fixture_files("checkpoint") {
        let text = String::from_utf8(bytes).expect("UTF-8");
        assert!(Checkpoint::parse(&text).is_ok(), "checkpoint/{name}");
    }
    for (name, bytes) in fixture_files("note") {
        let note = Note::parse(&bytes).expect("parses");
        assert!(note.verify(&[log_key()]).is_ok(), "note/{name}");
    }
    for (name, bytes) in fixture_files("cosignature") {
        let opened = open_checkpoint(&bytes, &log_key(), &cosigner_keys());
        let (_, _, cosigs) = opened.unwrap_or_else(|e| panic!("cosignature/{name}: {e}"));
        assert_eq!(
            cosigs.is_empty(),
            name.ends_with("log-only"),
            "cosignature/{name}"
        );
    }
    for (name, bytes) in fixture_files("receipt") {
        let receipt = Receipt::parse(&bytes).expect("parses");
        let verified = receipt.verify(&log_key(), &cosigner_keys());
        assert!(verified.is_ok(), "receipt/{name}: {verified:?}");
    }
    // The committed leaves are the fixture's, byte for byte.
    for (i, leaf) in f.leaves.iter().enumerate() {
        let on_disk = corpus("leaf")
            .into_iter()
            .find(|(n, _)| n.starts_with(&format!("fixture-{i:02}-")))
            .map(|(_, b)| b);
        assert_eq!(
            on_disk.as_ref(),
            Some(leaf),
            "leaf/fixture-{i:02}-* is stale"
        );
    }
}
