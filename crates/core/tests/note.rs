//! Tests of `feeledger_core::note`: signed notes, keys, checkpoints,
//! cosignatures and receipts, against published vectors, the independent
//! `signed_note` crate and hand-built inputs.

use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use feeledger_core::hash::{leaf_hash, node_hash, Hash};
use feeledger_core::note::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

// Published by golang.org/x/mod/sumdb/note (package docs and note_test.go).
// The stored C2SP signed-note.md shows an example note (quasimodo) but does
// not publish its key, so the Go example key is the verifiable vector.
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIG_LINE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const GO_ENOCH_LINE: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

// From C2SP signed-note.md.
const C2SP_NOTE: &str = "Ognuno sta solo sul cuor della terra\n\
trafitto da un raggio di sole:\n\
\n\
ed è subito sera.\n\
\n\
— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

// From C2SP tlog-cosignature.md (the checkpoint part is also tlog-checkpoint.md's example).
const C2SP_COSIGNED: &str = "example.com/behind-the-sofa\n\
20852163\n\
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
\n\
— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

fn go_note() -> String {
    format!("{GO_TEXT}\n{GO_SIG_LINE}")
}

fn signer(name: &str, alg: KeyAlg, seed: u8) -> NoteSigner {
    NoteSigner::new(name, alg, SigningKey::from_bytes(&[seed; 32])).unwrap()
}

fn log_signer() -> NoteSigner {
    signer("example.com/log", KeyAlg::Ed25519, 1)
}

fn witness(n: u8) -> NoteSigner {
    signer(
        &format!("witness{n}.example"),
        KeyAlg::CosignatureV1,
        100 + n,
    )
}

fn checkpoint(size: u64, root: Hash) -> Checkpoint {
    Checkpoint {
        origin: "example.com/log".into(),
        size,
        root,
        extensions: vec![],
    }
}

// ---------------------------------------------------------------------------
// 1. Published vectors
// ---------------------------------------------------------------------------

// Proves the published Go verifier key parses, has key id c74f20a3 by the
// C2SP formula, and re-encodes to the same text.
#[test]
fn go_example_verifier_key() {
    let vkey = VerifierKey::parse(GO_VKEY).unwrap();
    assert_eq!(vkey.name(), "PeterNeumann");
    assert_eq!(vkey.alg(), KeyAlg::Ed25519);
    assert_eq!(hex::encode(vkey.key_id()), "c74f20a3");
    assert_eq!(
        key_id("PeterNeumann", ALG_ED25519, vkey.key().as_bytes()),
        [0xc7, 0x4f, 0x20, 0xa3]
    );
    assert_eq!(vkey.to_string(), GO_VKEY);
}

// Proves the published Go example note verifies under the published key, and
// that signing its text with the published private key reproduces it byte
// for byte (Ed25519 is deterministic).
#[test]
fn go_example_note_verifies_and_is_reproduced() {
    let vkey = VerifierKey::parse(GO_VKEY).unwrap();
    let note = Note::parse(go_note().as_bytes()).unwrap();
    assert_eq!(note.text, GO_TEXT);
    let verified = note.verify(std::slice::from_ref(&vkey)).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name, "PeterNeumann");
    assert_eq!(verified[0].key_id, vkey.key_id());
    assert_eq!(verified[0].alg, KeyAlg::Ed25519);
    assert_eq!(verified[0].timestamp_s, None);

    let skey = NoteSigner::parse(GO_SKEY).unwrap();
    assert_eq!(skey.verifier_key(), vkey);
    assert_eq!(skey.to_private_key_text(), GO_SKEY);
    let signed = Note::sign(GO_TEXT, &[&skey]).unwrap();
    assert_eq!(signed.to_bytes(), go_note().as_bytes());
}

// Proves the Go doubly-signed example verifies with only the PeterNeumann key:
// the EnochRoot line, from a key we do not know, is ignored.
#[test]
fn go_example_unknown_second_signer_is_ignored() {
    let msg = format!("{GO_TEXT}\n{GO_SIG_LINE}{GO_ENOCH_LINE}");
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(note.signatures.len(), 2);
    assert_eq!(note.signatures[1].name, "EnochRoot");
    let verified = note
        .verify(&[VerifierKey::parse(GO_VKEY).unwrap()])
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(note.to_bytes(), msg.as_bytes());
}

// Proves the C2SP signed-note.md example parses (text with an inner blank
// line, split at the last blank line) and re-encodes identically; its key is
// not published, so with any other key it has no verified signature.
#[test]
fn c2sp_signed_note_example_parses() {
    let note = Note::parse(C2SP_NOTE.as_bytes()).unwrap();
    assert_eq!(
        note.text,
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    );
    assert_eq!(note.signatures.len(), 1);
    assert_eq!(note.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(note.signatures[0].signature.len(), 64);
    assert_eq!(note.to_bytes(), C2SP_NOTE.as_bytes());
    assert_eq!(
        note.verify(&[VerifierKey::parse(GO_VKEY).unwrap()]),
        Err(NoteError::NoVerifiedSignature)
    );
}

// Proves the C2SP checkpoint/cosignature example parses: the checkpoint
// fields, and the witness line's 8-byte timestamp equal to the 1679315147 of
// the spec's example signed message, which we reproduce exactly.
#[test]
fn c2sp_cosignature_example_parses() {
    let note = Note::parse(C2SP_COSIGNED.as_bytes()).unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20852163);
    assert_eq!(
        B64.encode(cp.root.0),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), note.text);
    let w = &note.signatures[1];
    assert_eq!(w.name, "witness.example.com/w1");
    assert_eq!(w.signature.len(), COSIGNATURE_V1_SIGNATURE_BYTES);
    assert_eq!(w.cosignature_timestamp(), Some(1679315147));
    assert_eq!(
        cosignature_message(&note.text, 1679315147),
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
    assert_eq!(note.to_bytes(), C2SP_COSIGNED.as_bytes());
}

// ---------------------------------------------------------------------------
// 2. Cross-check with the independent signed_note crate (cloudflare/azul)
// ---------------------------------------------------------------------------

fn their_verifiers<S: AsRef<str>>(vkeys: &[S]) -> signed_note::VerifierList {
    signed_note::VerifierList::new(
        vkeys
            .iter()
            .map(|k| {
                Box::new(signed_note::StandardVerifier::new(k.as_ref()).unwrap())
                    as Box<dyn signed_note::Verifier>
            })
            .collect(),
    )
}

// Proves a note we sign verifies with signed_note, and a note signed_note
// signs verifies with ours, for keys generated by signed_note; the key text
// forms and key ids agree both ways.
#[test]
fn cross_check_with_signed_note_crate() {
    let mut rng = rand_core::OsRng;
    let (skey, vkey) = signed_note::generate_key(&mut rng, "example.org/cross");

    // Key forms agree.
    let ours = NoteSigner::parse(&skey).unwrap();
    assert_eq!(ours.to_private_key_text(), skey);
    assert_eq!(ours.verifier_key().to_string(), vkey);
    let vk = VerifierKey::parse(&vkey).unwrap();
    let mut alg_key = vec![ALG_ED25519];
    alg_key.extend_from_slice(vk.key().as_bytes());
    assert_eq!(
        signed_note::key_id("example.org/cross", &alg_key).to_be_bytes(),
        vk.key_id()
    );
    assert_eq!(
        signed_note::new_ed25519_verifier_key("example.org/cross", vk.key()),
        vkey
    );

    // Ours -> theirs.
    let text = "hello from feeledger\n\nsecond paragraph\n";
    let other = log_signer();
    let ours_note = Note::sign(text, &[&ours, &other]).unwrap().to_bytes();
    let theirs = signed_note::Note::from_bytes(&ours_note).unwrap();
    let (verified, unverified) = theirs.verify(&their_verifiers(&[&vkey])).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].name(), "example.org/cross");
    assert_eq!(verified[0].id().to_be_bytes(), vk.key_id());
    assert_eq!(unverified.len(), 1);
    let other_vkey = other.verifier_key().to_string();
    let (verified, _) = theirs
        .verify(&their_verifiers(&[&vkey, &other_vkey]))
        .unwrap();
    assert_eq!(verified.len(), 2);
    assert_eq!(theirs.to_bytes(), ours_note);

    // Theirs -> ours.
    let their_signer = signed_note::StandardSigner::new(&skey).unwrap();
    let mut n = signed_note::Note::new(text.as_bytes(), &[]).unwrap();
    n.add_sigs(&[&their_signer]).unwrap();
    let their_bytes = n.to_bytes();
    let parsed = Note::parse(&their_bytes).unwrap();
    let verified = parsed.verify(std::slice::from_ref(&vk)).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(parsed.to_bytes(), their_bytes);
    // Deterministic Ed25519: both implementations produce the same bytes.
    assert_eq!(their_bytes, Note::sign(text, &[&ours]).unwrap().to_bytes());
}

// Proves signed_note parses our cosigned checkpoint, verifies the log
// signature and sets the cosignature aside as unknown (it has no cosignature
// v1 support, so the cosignature itself is cross-checked by hand in
// `cosignature_layout_checked_by_hand`).
#[test]
fn signed_note_crate_accepts_cosigned_checkpoint() {
    let log = log_signer();
    let w = witness(1);
    let cp = checkpoint(5, Hash([7; 32]));
    let mut note = sign_checkpoint(&cp, &log).unwrap();
    note.add_signature(cosign(&note.text, 1_700_000_000, &w).unwrap())
        .unwrap();
    let theirs = signed_note::Note::from_bytes(&note.to_bytes()).unwrap();
    let (verified, unverified) = theirs
        .verify(&their_verifiers(&[&log.verifier_key().to_string()]))
        .unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(unverified.len(), 1);
    assert_eq!(unverified[0].name(), "witness1.example");
    assert_eq!(unverified[0].signature().len(), 72);
}

// ---------------------------------------------------------------------------
// 3. Rejections
// ---------------------------------------------------------------------------

// Proves one flipped bit in a known key's signature rejects the whole note,
// with the line number of the bad signature.
#[test]
fn flipped_signature_byte_is_rejected() {
    let a = log_signer();
    let mut note = Note::sign("a\nb\n", &[&a]).unwrap();
    note.signatures[0].signature[10] ^= 1;
    let reparsed = Note::parse(&note.to_bytes()).unwrap();
    match reparsed.verify(&[a.verifier_key()]) {
        Err(NoteError::InvalidSignature { line, name, .. }) => {
            assert_eq!(line, 4);
            assert_eq!(name, "example.com/log");
        }
        other => panic!("{other:?}"),
    }
    // A changed text fails too.
    let mut note = Note::sign("a\nb\n", &[&a]).unwrap();
    note.text = "a\nc\n".into();
    assert!(matches!(
        note.verify(&[a.verifier_key()]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

// Proves lines from unknown keys are ignored, including a key that shares
// only the name (different key id) with a known key; a bad signature from an
// unknown key does not matter.
#[test]
fn unknown_keys_are_ignored() {
    let a = log_signer();
    let b = signer("other.example", KeyAlg::Ed25519, 2);
    let same_name = signer("example.com/log", KeyAlg::Ed25519, 3);
    let mut note = Note::sign("x\n", &[&b, &a, &same_name]).unwrap();
    note.signatures[0].signature[0] ^= 1; // b's signature is now bad
    note.signatures[2].signature[0] ^= 1; // same_name's too
    let verified = note.verify(&[a.verifier_key()]).unwrap();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0].key_id, a.key_id());
    // With no known key at all the note is refused.
    assert_eq!(
        note.verify(&[signer("z", KeyAlg::Ed25519, 9).verifier_key()]),
        Err(NoteError::NoVerifiedSignature)
    );
    assert_eq!(note.verify(&[]), Err(NoteError::NoVerifiedSignature));
}

// Proves 16 signatures (the spec's floor) and 100 (our limit) are accepted,
// and 101 are refused by parse and by sign.
#[test]
fn signature_count_limits() {
    let signers: Vec<NoteSigner> = (0..101)
        .map(|i| signer(&format!("s{i}"), KeyAlg::Ed25519, i as u8))
        .collect();
    let refs: Vec<&NoteSigner> = signers.iter().collect();
    let vkeys: Vec<VerifierKey> = signers.iter().map(|s| s.verifier_key()).collect();

    let n16 = Note::sign("t\n", &refs[..16]).unwrap();
    let parsed = Note::parse(&n16.to_bytes()).unwrap();
    assert_eq!(parsed.verify(&vkeys).unwrap().len(), 16);

    let n100 = Note::sign("t\n", &refs[..100]).unwrap();
    let parsed = Note::parse(&n100.to_bytes()).unwrap();
    assert_eq!(parsed.verify(&vkeys[..1]).unwrap().len(), 1);

    assert_eq!(
        Note::sign("t\n", &refs),
        Err(NoteError::TooManySignatures {
            found: 101,
            max: NOTE_SIGNATURES_MAX
        })
    );
    let mut bytes = n100.to_bytes();
    bytes.extend_from_slice(n16.signatures[0].to_line().as_bytes());
    assert_eq!(
        Note::parse(&bytes),
        Err(NoteError::TooManySignatures {
            found: 101,
            max: NOTE_SIGNATURES_MAX
        })
    );
}

// Proves malformed notes are refused with a specific error (and a line number
// where one applies).
#[test]
fn malformed_notes_are_refused() {
    let good = go_note();
    let sig_b64 = GO_SIG_LINE
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let cases: Vec<(Vec<u8>, NoteError)> = vec![
        (GO_TEXT.as_bytes().to_vec(), NoteError::NoBlankLine),
        (
            format!("{GO_TEXT}\n").into_bytes(),
            NoteError::MissingSignatures,
        ),
        (
            good.trim_end_matches('\n').as_bytes().to_vec(),
            NoteError::MissingFinalNewline,
        ),
        (
            format!("{GO_TEXT}\n-- PeterNeumann {sig_b64}\n").into_bytes(),
            NoteError::SignatureLinePrefix { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n—PeterNeumann {sig_b64}\n").into_bytes(),
            NoteError::SignatureLinePrefix { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann\n").into_bytes(),
            NoteError::SignatureLineShape { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n— Peter+Neumann {sig_b64}\n").into_bytes(),
            NoteError::SignatureName {
                line: 4,
                source: KeyError::NamePlus { at: 5 },
            },
        ),
        (
            format!("{GO_TEXT}\n—  {sig_b64}\n").into_bytes(),
            NoteError::SignatureName {
                line: 4,
                source: KeyError::NameEmpty,
            },
        ),
        (
            format!("{GO_TEXT}\n— Peter\u{a0}Neumann {sig_b64}\n").into_bytes(),
            NoteError::SignatureName {
                line: 4,
                source: KeyError::NameSpace { at: 5 },
            },
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann {sig_b64} \n").into_bytes(),
            NoteError::SignatureBase64 { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann \n").into_bytes(),
            NoteError::SignatureBase64 { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG\n").into_bytes(),
            NoteError::SignatureBase64 { line: 4 },
        ),
        (
            format!("{GO_TEXT}\n— PeterNeumann AAAAAA==\n").into_bytes(),
            NoteError::SignatureTooShort { line: 4, len: 4 },
        ),
        (
            format!("{GO_TEXT}\n{GO_SIG_LINE}\n").into_bytes(),
            NoteError::MissingSignatures,
        ),
        (
            good.replace("cryptography", "crypto\tgraphy").into_bytes(),
            NoteError::ControlChar {
                line: 1,
                byte: b'\t',
            },
        ),
        (
            good.replace("problem is.\n", "problem is.\r\n")
                .into_bytes(),
            NoteError::ControlChar {
                line: 2,
                byte: b'\r',
            },
        ),
        (
            [&good.as_bytes()[..5], &[0xff], &good.as_bytes()[5..]].concat(),
            NoteError::NotUtf8 { offset: 5 },
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(
            Note::parse(&bytes),
            Err(want.clone()),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let big = vec![b'a'; NOTE_BYTES_MAX + 1];
    assert!(matches!(Note::parse(&big), Err(NoteError::TooLarge { .. })));

    // Signing refuses bad text and non-Ed25519 or duplicate signers.
    let a = log_signer();
    assert_eq!(
        Note::sign("no newline", &[&a]),
        Err(NoteError::TextMissingFinalNewline)
    );
    assert_eq!(
        Note::sign("", &[&a]),
        Err(NoteError::TextMissingFinalNewline)
    );
    assert_eq!(
        Note::sign("a\x01\n", &[&a]),
        Err(NoteError::ControlChar { line: 1, byte: 1 })
    );
    assert_eq!(Note::sign("a\n", &[]), Err(NoteError::NoSigners));
    assert!(matches!(
        Note::sign("a\n", &[&a, &a]),
        Err(NoteError::DuplicateSigner { .. })
    ));
    assert!(matches!(
        Note::sign("a\n", &[&witness(1)]),
        Err(NoteError::WrongSignerAlg { .. })
    ));
}

// Proves two lines from the same known key are refused, even when both are
// valid, and that two different verifier keys with one (name, id) are refused.
#[test]
fn duplicate_signatures_and_ambiguous_verifiers_are_refused() {
    let a = log_signer();
    let note = Note::sign("a\n", &[&a]).unwrap();
    let mut bytes = note.to_bytes();
    bytes.extend_from_slice(note.signatures[0].to_line().as_bytes());
    let dup = Note::parse(&bytes).unwrap();
    assert!(matches!(
        dup.verify(&[a.verifier_key()]),
        Err(NoteError::DuplicateSignature { line: 4, .. })
    ));
    // Ignored when the key is unknown.
    let b = signer("b", KeyAlg::Ed25519, 2);
    let mut note2 = Note::sign("a\n", &[&b]).unwrap();
    note2.signatures.push(note.signatures[0].clone());
    note2.signatures.push(note.signatures[0].clone());
    assert_eq!(note2.verify(&[b.verifier_key()]).unwrap().len(), 1);
    // add_signature refuses a second line for one key.
    let mut n = note.clone();
    assert!(matches!(
        n.add_signature(note.signatures[0].clone()),
        Err(NoteError::DuplicateSigner { .. })
    ));
    // The same key listed twice is fine.
    assert_eq!(
        note.verify(&[a.verifier_key(), a.verifier_key()])
            .unwrap()
            .len(),
        1
    );
}

// Proves small-order public keys are refused when a verifier key is built or
// parsed, here the identity point encoded as 01 00 .. 00, and that
// non-canonical point encodings are refused too.
#[test]
fn weak_and_non_canonical_keys_are_refused() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).unwrap();
    assert!(weak.is_weak());
    assert_eq!(
        VerifierKey::new("weak.example", KeyAlg::Ed25519, weak),
        Err(KeyError::WeakKey)
    );
    assert_eq!(
        VerifierKey::new("weak.example", KeyAlg::CosignatureV1, weak),
        Err(KeyError::WeakKey)
    );
    let id = key_id("weak.example", ALG_ED25519, &identity);
    let mut raw = vec![ALG_ED25519];
    raw.extend_from_slice(&identity);
    let text = format!("weak.example+{}+{}", hex::encode(id), B64.encode(&raw));
    assert_eq!(VerifierKey::parse(&text), Err(KeyError::WeakKey));

    // p + y for small y is a second, non-canonical spelling of y. Find one
    // that decodes to a point of large order and check it is refused.
    let mut found = 0;
    for y in 2u8..19 {
        let mut enc = [0xffu8; 32];
        enc[0] = 0xed + y;
        enc[31] = 0x7f;
        if let Ok(k) = VerifyingKey::from_bytes(&enc) {
            if !k.is_weak() {
                found += 1;
                assert_eq!(
                    VerifierKey::new("nc.example", KeyAlg::Ed25519, k),
                    Err(KeyError::NonCanonicalKey)
                );
            }
        }
    }
    assert!(found > 0, "no non-canonical test point found");
}

// Proves verifier and signer key texts are checked: key id (value and lower
// case), algorithm byte, length, base64, name, prefix; and that Debug of a
// signer never shows the secret.
#[test]
fn key_text_rejections() {
    let good = VerifierKey::parse(GO_VKEY).unwrap();
    let b64 = GO_VKEY.splitn(3, '+').nth(2).unwrap();
    assert!(matches!(
        VerifierKey::parse(&format!("PeterNeumann+c74f20a4+{b64}")),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    assert!(matches!(
        VerifierKey::parse(&format!("PeterNeumann+C74F20A3+{b64}")),
        Err(KeyError::KeyIdHex { .. })
    ));
    assert!(matches!(
        VerifierKey::parse(&format!("PeterNeumann+c74f20a+{b64}")),
        Err(KeyError::KeyIdHex { .. })
    ));
    assert!(matches!(
        VerifierKey::parse(&format!("Peter Neumann+c74f20a3+{b64}")),
        Err(KeyError::NameSpace { .. })
    ));
    assert_eq!(
        VerifierKey::parse("PeterNeumann+c74f20a3"),
        Err(KeyError::VerifierKeyShape)
    );
    assert_eq!(
        VerifierKey::parse("PeterNeumann+c74f20a3+AQ"),
        Err(KeyError::KeyBase64)
    );
    assert_eq!(
        VerifierKey::parse("PeterNeumann+c74f20a3+AQ=="),
        Err(KeyError::KeyLength { len: 1 })
    );
    let mut raw = vec![0x02];
    raw.extend_from_slice(good.key().as_bytes());
    assert_eq!(
        VerifierKey::parse(&format!("PeterNeumann+c74f20a3+{}", B64.encode(&raw))),
        Err(KeyError::UnknownAlg { alg: 2 })
    );
    assert_eq!(
        VerifierKey::parse(&"x".repeat(256)),
        Err(KeyError::VerifierKeyShape)
    );
    assert!(matches!(
        VerifierKey::new(&"x".repeat(256), KeyAlg::Ed25519, *good.key()),
        Err(KeyError::NameTooLong { len: 256, .. })
    ));
    // Control characters, C0, DEL and C1 alike (docs/format.md §3.1).
    for name in ["Peter\u{1}", "Peter\u{7f}", "Peter\u{80}", "Peter\u{9f}"] {
        assert_eq!(
            VerifierKey::new(name, KeyAlg::Ed25519, *good.key()).map(|_| ()),
            Err(KeyError::NameControl { at: 5 }),
            "{name:?}"
        );
    }
    assert_eq!(
        NoteSigner::parse(GO_VKEY).map(|_| ()),
        Err(KeyError::SignerKeyShape)
    );
    assert!(matches!(
        NoteSigner::parse(&GO_SKEY.replace("c74f20a3", "00000000")),
        Err(KeyError::KeyIdMismatch { .. })
    ));
    let s = NoteSigner::parse(GO_SKEY).unwrap();
    let dbg = format!("{s:?}");
    assert!(dbg.contains("PeterNeumann") && dbg.contains("c74f20a3"));
    let secret_b64 = GO_SKEY.rsplit('+').next().unwrap();
    assert!(!dbg.contains(secret_b64) && !dbg.contains("AYEKFALV"));
}

// ---------------------------------------------------------------------------
// 4. Checkpoints
// ---------------------------------------------------------------------------

// Proves checkpoints round-trip through text and through a signed note, with
// and without extension lines, and open_checkpoint returns them.
#[test]
fn checkpoint_round_trip() {
    let log = log_signer();
    for (size, exts) in [
        (0u64, vec![]),
        (1, vec!["ext one".to_owned()]),
        (u64::MAX, vec!["a".to_owned(), "b b".to_owned()]),
    ] {
        let cp = Checkpoint {
            origin: "example.com/log".into(),
            size,
            root: Hash([size as u8; 32]),
            extensions: exts,
        };
        let text = cp.to_text();
        assert_eq!(Checkpoint::parse(&text).unwrap(), cp);
        let note = sign_checkpoint(&cp, &log).unwrap();
        assert_eq!(note.text, text);
        let (got, got_note, cosigs) =
            open_checkpoint(&note.to_bytes(), &log.verifier_key(), &[]).unwrap();
        assert_eq!(got, cp);
        assert_eq!(got_note, note);
        assert!(cosigs.is_empty());
    }
    let cp = checkpoint(42, Hash([9; 32]));
    assert_eq!(
        cp.to_text(),
        format!("example.com/log\n42\n{}\n", B64.encode([9u8; 32]))
    );
}

// Proves strict checkpoint parsing: leading zeros, signs, bad or short base64
// roots, missing newline, missing lines, empty origin or extension lines.
#[test]
fn checkpoint_parse_rejections() {
    let root = B64.encode([3u8; 32]);
    let cases: Vec<(String, CheckpointError)> = vec![
        (
            format!("o\n01\n{root}\n"),
            CheckpointError::SizeLeadingZero { found: "01".into() },
        ),
        (
            format!("o\n00\n{root}\n"),
            CheckpointError::SizeLeadingZero { found: "00".into() },
        ),
        (
            format!("o\n+1\n{root}\n"),
            CheckpointError::SizeNotDecimal { found: "+1".into() },
        ),
        (
            format!("o\n-1\n{root}\n"),
            CheckpointError::SizeNotDecimal { found: "-1".into() },
        ),
        (
            format!("o\n 1\n{root}\n"),
            CheckpointError::SizeNotDecimal { found: " 1".into() },
        ),
        (
            format!("o\n\n{root}\n"),
            CheckpointError::SizeNotDecimal { found: "".into() },
        ),
        (
            format!("o\n18446744073709551616\n{root}\n"),
            CheckpointError::SizeOverflow {
                found: "18446744073709551616".into(),
            },
        ),
        (
            "o\n1\nnot base64!\n".to_owned(),
            CheckpointError::RootBase64,
        ),
        (
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
            CheckpointError::RootBase64,
        ),
        (
            format!("o\n1\n{}\n", B64.encode([3u8; 31])),
            CheckpointError::RootLength { len: 31 },
        ),
        (
            format!("o\n1\n{}\n", B64.encode([3u8; 33])),
            CheckpointError::RootLength { len: 33 },
        ),
        (
            format!("o\n1\n{root}"),
            CheckpointError::MissingFinalNewline,
        ),
        (
            "o\n1\n".to_owned(),
            CheckpointError::TooFewLines { found: 2 },
        ),
        (format!("\n1\n{root}\n"), CheckpointError::EmptyOrigin),
        (
            format!("o\n1\n{root}\n\next\n"),
            CheckpointError::EmptyExtension { line: 4 },
        ),
        (
            format!("o\n1\n{root}\next\n\n"),
            CheckpointError::EmptyExtension { line: 5 },
        ),
        (
            format!("o\x7f\x01\n1\n{root}\n"),
            CheckpointError::ControlChar { line: 1, byte: 1 },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Checkpoint::parse(&text), Err(want), "{text:?}");
    }
    assert_eq!(
        Checkpoint::parse(&format!("o\n0\n{root}\n")).unwrap().size,
        0
    );
}

// Proves open_checkpoint requires the log key's own valid signature and an
// origin equal to the log key name, and that sign_checkpoint refuses
// unrepresentable checkpoints and a mismatched origin.
#[test]
fn checkpoint_open_requires_log_signature_and_origin() {
    let log = log_signer();
    let w = witness(1);
    let cp = checkpoint(3, Hash([1; 32]));

    // Origin must equal the key name, both ways.
    let mut other = cp.clone();
    other.origin = "example.com/other".into();
    assert!(matches!(
        sign_checkpoint(&other, &log),
        Err(NoteError::OriginMismatch { .. })
    ));
    let forged = Note::sign(&other.to_text(), &[&log]).unwrap();
    assert!(matches!(
        open_checkpoint(&forged.to_bytes(), &log.verifier_key(), &[]),
        Err(NoteError::OriginMismatch { .. })
    ));

    // Only a cosignature: no log signature.
    let cosig = cosign(&cp.to_text(), 10, &w).unwrap();
    let only_cosig = Note::new(cp.to_text(), vec![cosig]).unwrap();
    assert!(matches!(
        open_checkpoint(
            &only_cosig.to_bytes(),
            &log.verifier_key(),
            &[w.verifier_key()]
        ),
        Err(NoteError::MissingLogSignature { .. })
    ));
    // Signed by another key with the same name: no log signature.
    let impostor = signer("example.com/log", KeyAlg::Ed25519, 77);
    let by_impostor = sign_checkpoint(&cp, &impostor).unwrap();
    assert!(matches!(
        open_checkpoint(&by_impostor.to_bytes(), &log.verifier_key(), &[]),
        Err(NoteError::MissingLogSignature { .. })
    ));
    // A signed text that is not a checkpoint.
    let not_cp = Note::sign("example.com/log\n1\n", &[&log]).unwrap();
    assert!(matches!(
        open_checkpoint(&not_cp.to_bytes(), &log.verifier_key(), &[]),
        Err(NoteError::Checkpoint(CheckpointError::TooFewLines {
            found: 2
        }))
    ));
    // Keys of the wrong kind.
    assert!(matches!(
        open_checkpoint(&by_impostor.to_bytes(), &w.verifier_key(), &[]),
        Err(NoteError::WrongKeyAlg { .. })
    ));
    assert!(matches!(
        open_checkpoint(
            &by_impostor.to_bytes(),
            &log.verifier_key(),
            &[impostor.verifier_key()]
        ),
        Err(NoteError::WrongKeyAlg { .. })
    ));
    // Unrepresentable fields.
    let mut bad = cp.clone();
    bad.origin = "example.com/log\n7".into();
    assert!(matches!(
        sign_checkpoint(&bad, &log),
        Err(NoteError::Checkpoint(_))
    ));
    let mut bad = cp.clone();
    bad.extensions = vec![String::new()];
    assert!(matches!(
        sign_checkpoint(&bad, &log),
        Err(NoteError::Checkpoint(_))
    ));
}

// ---------------------------------------------------------------------------
// 5. Cosignatures
// ---------------------------------------------------------------------------

// Proves a cosignature verifies with its timestamp, that several cosigners are
// reported, and that unknown cosigners are ignored.
#[test]
fn cosignature_sign_and_verify() {
    let log = log_signer();
    let (w1, w2, w3) = (witness(1), witness(2), witness(3));
    let cp = checkpoint(10, Hash([4; 32]));
    let mut note = sign_checkpoint(&cp, &log).unwrap();
    note.add_signature(cosign(&note.text, 1_700_000_000, &w1).unwrap())
        .unwrap();
    note.add_signature(cosign(&note.text, 1_700_000_005, &w2).unwrap())
        .unwrap();
    note.add_signature(cosign(&note.text, 1, &w3).unwrap())
        .unwrap();
    let (got, _, cosigs) = open_checkpoint(
        &note.to_bytes(),
        &log.verifier_key(),
        &[w2.verifier_key(), w1.verifier_key()],
    )
    .unwrap();
    assert_eq!(got, cp);
    assert_eq!(cosigs.len(), 2);
    assert_eq!(cosigs[0].name, "witness1.example");
    assert_eq!(cosigs[0].alg, KeyAlg::CosignatureV1);
    assert_eq!(cosigs[0].timestamp_s, Some(1_700_000_000));
    assert_eq!(cosigs[1].timestamp_s, Some(1_700_000_005));

    // The largest allowed timestamp works; one more is refused.
    let s = cosign(&note.text, (1u64 << 63) - 1, &w1).unwrap();
    assert_eq!(s.cosignature_timestamp(), Some(i64::MAX as u64));
    assert_eq!(
        cosign(&note.text, 1u64 << 63, &w1),
        Err(NoteError::TimestampTooLarge {
            timestamp_s: 1u64 << 63
        })
    );
    // Wrong signer kind and non-checkpoint text are refused.
    assert!(matches!(
        cosign(&note.text, 1, &log),
        Err(NoteError::WrongSignerAlg { .. })
    ));
    assert!(matches!(
        cosign("hello\n", 1, &w1),
        Err(NoteError::Checkpoint(_))
    ));
}

// Proves a cosignature fails after its timestamp or the checkpoint text is
// changed, and that a well-signed timestamp above 2^63 - 1 is refused.
#[test]
fn cosignature_tampering_is_rejected() {
    let log = log_signer();
    let w = witness(1);
    let cp = checkpoint(10, Hash([4; 32]));
    let mut note = sign_checkpoint(&cp, &log).unwrap();
    let cosig = cosign(&note.text, 1_000, &w).unwrap();

    // Changed timestamp.
    let mut changed = cosig.clone();
    changed.signature[..8].copy_from_slice(&1_001u64.to_be_bytes());
    let mut n = note.clone();
    n.add_signature(changed).unwrap();
    assert!(matches!(
        open_checkpoint(&n.to_bytes(), &log.verifier_key(), &[w.verifier_key()]),
        Err(NoteError::InvalidSignature { line: 6, .. })
    ));

    // Changed checkpoint (validly log-signed) under the old cosignature.
    let cp2 = checkpoint(11, Hash([4; 32]));
    let mut n2 = sign_checkpoint(&cp2, &log).unwrap();
    n2.add_signature(cosig.clone()).unwrap();
    assert!(matches!(
        open_checkpoint(&n2.to_bytes(), &log.verifier_key(), &[w.verifier_key()]),
        Err(NoteError::InvalidSignature { .. })
    ));
    // ... but ignoring that cosigner the log signature still verifies.
    assert!(open_checkpoint(&n2.to_bytes(), &log.verifier_key(), &[]).is_ok());

    // A timestamp of 2^63, correctly signed by hand, is still refused.
    let ts = 1u64 << 63;
    let sk = SigningKey::from_bytes(&[101; 32]);
    let sig = sk.sign(&cosignature_message(&note.text, ts)).to_bytes();
    let mut payload = ts.to_be_bytes().to_vec();
    payload.extend_from_slice(&sig);
    note.add_signature(NoteSignature {
        name: w.name().into(),
        key_id: w.key_id(),
        signature: payload,
    })
    .unwrap();
    assert!(matches!(
        open_checkpoint(&note.to_bytes(), &log.verifier_key(), &[w.verifier_key()]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

// Proves the cosignature line layout against tlog-cosignature.md using only
// sha2/base64/ed25519 directly: key id = SHA-256(name || 0x0A || 0x04 || key)[..4],
// then an 8-byte big-endian timestamp, then an Ed25519 signature over
// "cosignature/v1\ntime <T>\n" || checkpoint text. Also shows that the same
// name and key have different key ids as a log key and as a cosigner.
#[test]
fn cosignature_layout_checked_by_hand() {
    let sk = SigningKey::from_bytes(&[5; 32]);
    let pk = sk.verifying_key();
    let name = "witness.example/w";
    let w = NoteSigner::new(name, KeyAlg::CosignatureV1, sk.clone()).unwrap();
    let as_log = NoteSigner::new(name, KeyAlg::Ed25519, sk).unwrap();
    assert_ne!(w.key_id(), as_log.key_id());

    let text = "example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let line = cosign(text, 1679315147, &w).unwrap().to_line();
    let b64 = line
        .strip_prefix("\u{2014} witness.example/w ")
        .unwrap()
        .strip_suffix('\n')
        .unwrap();
    let raw = B64.decode(b64).unwrap();
    assert_eq!(raw.len(), 4 + 8 + 64);

    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, 0x04]);
    h.update(pk.as_bytes());
    assert_eq!(&raw[..4], &h.finalize()[..4]);
    assert_eq!(&raw[4..12], &1679315147u64.to_be_bytes());
    let msg = format!("cosignature/v1\ntime 1679315147\n{text}");
    let sig = ed25519_dalek::Signature::from_bytes(&raw[12..].try_into().unwrap());
    pk.verify_strict(msg.as_bytes(), &sig).unwrap();

    let vkey = w.verifier_key();
    let vtext = vkey.to_string();
    let prefix = format!("witness.example/w+{}+", hex::encode(w.key_id()));
    let raw_key = B64.decode(vtext.strip_prefix(&prefix).unwrap()).unwrap();
    assert_eq!(raw_key[0], 0x04);
    assert_eq!(&raw_key[1..], pk.as_bytes());
    assert_eq!(VerifierKey::parse(&vkey.to_string()).unwrap(), vkey);
    let skey = w.to_private_key_text();
    assert_eq!(NoteSigner::parse(&skey).unwrap().verifier_key(), vkey);
}

// ---------------------------------------------------------------------------
// 6. Receipts
// ---------------------------------------------------------------------------

struct Tree {
    leaves: Vec<Vec<u8>>,
    root: Hash,
    proofs: Vec<Vec<Hash>>,
}

/// A three-leaf RFC 6962 tree built by hand: root = H(H(l0, l1), l2).
fn three_leaf_tree() -> Tree {
    let leaves: Vec<Vec<u8>> = vec![b"alpha".to_vec(), b"beta".to_vec(), b"gamma".to_vec()];
    let l: Vec<Hash> = leaves.iter().map(|x| leaf_hash(x)).collect();
    let n01 = node_hash(&l[0], &l[1]);
    let root = node_hash(&n01, &l[2]);
    assert_eq!(
        feeledger_core::merkle::root_from_leaf_hashes(&l),
        root,
        "hand-built root agrees with merkle.rs"
    );
    Tree {
        leaves,
        root,
        proofs: vec![vec![l[1], l[2]], vec![l[0], l[2]], vec![n01]],
    }
}

fn receipt_for(tree: &Tree, i: usize, note: &Note) -> Receipt {
    Receipt {
        leaf: tree.leaves[i].clone(),
        index: i as u64,
        proof: tree.proofs[i].clone(),
        checkpoint: note.clone(),
    }
}

// Proves receipts round-trip through the tlog-proof text (exact layout
// checked) and verify for every leaf, reporting cosignatures.
#[test]
fn receipt_round_trip_and_verify() {
    let tree = three_leaf_tree();
    let log = log_signer();
    let w = witness(1);
    let cp = checkpoint(3, tree.root);
    let mut note = sign_checkpoint(&cp, &log).unwrap();
    note.add_signature(cosign(&note.text, 77, &w).unwrap())
        .unwrap();

    for i in 0..3 {
        let r = receipt_for(&tree, i, &note);
        let text = r.to_text();
        let mut want = format!(
            "c2sp.org/tlog-proof@v1\nextra {}\nindex {i}\n",
            B64.encode(&tree.leaves[i])
        );
        for h in &tree.proofs[i] {
            want.push_str(&B64.encode(h.0));
            want.push('\n');
        }
        want.push('\n');
        want.push_str(std::str::from_utf8(&note.to_bytes()).unwrap());
        assert_eq!(text, want);
        let back = Receipt::parse(text.as_bytes()).unwrap();
        assert_eq!(back, r);
        let v = back
            .verify(&log.verifier_key(), &[w.verifier_key()])
            .unwrap();
        assert_eq!(v.checkpoint, cp);
        assert_eq!(v.index, i as u64);
        assert_eq!(v.leaf_hash, leaf_hash(&tree.leaves[i]));
        assert_eq!(v.cosignatures.len(), 1);
        assert_eq!(v.cosignatures[0].timestamp_s, Some(77));
    }

    // A one-leaf tree: empty proof, no proof lines.
    let one = checkpoint(1, leaf_hash(b"solo"));
    let r = Receipt {
        leaf: b"solo".to_vec(),
        index: 0,
        proof: vec![],
        checkpoint: sign_checkpoint(&one, &log).unwrap(),
    };
    let text = r.to_text();
    assert!(text.contains("index 0\n\nexample.com/log\n"));
    assert_eq!(Receipt::parse(text.as_bytes()).unwrap(), r);
    r.verify(&log.verifier_key(), &[]).unwrap();
}

// Proves a receipt fails when the leaf, index, proof or checkpoint is altered.
#[test]
fn receipt_tampering_is_rejected() {
    let tree = three_leaf_tree();
    let log = log_signer();
    let note = sign_checkpoint(&checkpoint(3, tree.root), &log).unwrap();
    let good = receipt_for(&tree, 1, &note);
    let vk = log.verifier_key();
    good.verify(&vk, &[]).unwrap();

    let mut r = good.clone();
    r.leaf = b"betA".to_vec();
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Inclusion(_))
    ));

    let mut r = good.clone();
    r.index = 0;
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Inclusion(_))
    ));

    let mut r = good.clone();
    r.index = 3;
    assert_eq!(
        r.verify(&vk, &[]),
        Err(ReceiptError::IndexOutOfRange { index: 3, size: 3 })
    );

    let mut r = good.clone();
    r.proof[0].0[0] ^= 1;
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Inclusion(_))
    ));

    let mut r = good.clone();
    r.proof.pop();
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Inclusion(_))
    ));

    // Checkpoint text changed (root of another tree) without re-signing.
    let mut r = good.clone();
    r.checkpoint.text = checkpoint(3, Hash([0; 32])).to_text();
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Checkpoint(NoteError::InvalidSignature { .. }))
    ));
    // Validly signed checkpoint of a different tree.
    let mut r = good.clone();
    r.checkpoint = sign_checkpoint(&checkpoint(3, Hash([0; 32])), &log).unwrap();
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Inclusion(_))
    ));
    // Signed by someone else.
    let other = signer("example.com/log", KeyAlg::Ed25519, 50);
    let mut r = good.clone();
    r.checkpoint = sign_checkpoint(&checkpoint(3, tree.root), &other).unwrap();
    assert!(matches!(
        r.verify(&vk, &[]),
        Err(ReceiptError::Checkpoint(
            NoteError::MissingLogSignature { .. }
        ))
    ));
}

// Proves malformed receipt texts are refused with the offending line.
#[test]
fn receipt_parse_rejections() {
    let tree = three_leaf_tree();
    let log = log_signer();
    let note = sign_checkpoint(&checkpoint(3, tree.root), &log).unwrap();
    let good = receipt_for(&tree, 2, &note).to_text();
    let note_text = std::str::from_utf8(&note.to_bytes()).unwrap().to_owned();
    let h = B64.encode(tree.proofs[2][0].0);
    let cases: Vec<(String, ReceiptError)> = vec![
        (
            good.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
            ReceiptError::Header,
        ),
        (
            good.replace("extra ", "extra  "),
            ReceiptError::ExtraBase64 { line: 2 },
        ),
        (
            format!("c2sp.org/tlog-proof@v1\nextra \nindex 2\n{h}\n\n{note_text}"),
            ReceiptError::ExtraBase64 { line: 2 },
        ),
        (
            good.replace("index 2", "index 02"),
            ReceiptError::IndexNotDecimal {
                line: 3,
                found: "02".into(),
            },
        ),
        (
            good.replace("index 2", "index  2"),
            ReceiptError::IndexNotDecimal {
                line: 3,
                found: " 2".into(),
            },
        ),
        (
            good.replace("index 2", "idx 2"),
            ReceiptError::IndexLine { line: 3 },
        ),
        (
            format!("c2sp.org/tlog-proof@v1\nindex 2\n{h}x\n\n{note_text}"),
            ReceiptError::ProofBase64 { line: 3 },
        ),
        (
            format!(
                "c2sp.org/tlog-proof@v1\nindex 2\n{}\n\n{note_text}",
                B64.encode([1u8; 31])
            ),
            ReceiptError::ProofHashLength { line: 3, len: 31 },
        ),
        (
            format!("c2sp.org/tlog-proof@v1\nindex 2\n{h}\n"),
            ReceiptError::Truncated { line: 4 },
        ),
        (
            format!(
                "c2sp.org/tlog-proof@v1\nindex 2\n{}\n{note_text}",
                format!("{h}\n").repeat(65)
            ),
            ReceiptError::TooManyProofHashes { max: 64 },
        ),
        (
            format!("c2sp.org/tlog-proof@v1\nindex 2\n{h}\n\n{}", note.text),
            ReceiptError::CheckpointNote {
                line: 5,
                source: NoteError::NoBlankLine,
            },
        ),
    ];
    for (text, want) in cases {
        assert_eq!(Receipt::parse(text.as_bytes()), Err(want), "{text:?}");
    }
    // No extra line: the leaf is empty.
    let r =
        Receipt::parse(format!("c2sp.org/tlog-proof@v1\nindex 2\n{h}\n\n{note_text}").as_bytes())
            .unwrap();
    assert!(r.leaf.is_empty());
}

// ---------------------------------------------------------------------------
// 7. Property tests
// ---------------------------------------------------------------------------

fn valid_note_bytes() -> Vec<u8> {
    let mut n = sign_checkpoint(&checkpoint(3, Hash([2; 32])), &log_signer()).unwrap();
    n.add_signature(cosign(&n.text, 5, &witness(1)).unwrap())
        .unwrap();
    n.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // Proves Note::parse, Checkpoint::parse and Receipt::parse return instead
    // of panicking on arbitrary bytes.
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Note::parse(&bytes);
        let _ = Receipt::parse(&bytes);
        let _ = Checkpoint::parse(&String::from_utf8_lossy(&bytes));
    }

    // Proves the parsers and verification never panic on a valid note with
    // random bytes changed, and that any note that parses re-encodes to the
    // same bytes.
    #[test]
    fn mutated_notes_never_panic(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = valid_note_bytes();
        for (i, b) in edits {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        if let Ok(n) = Note::parse(&bytes) {
            prop_assert_eq!(n.to_bytes(), bytes.clone());
            let _ = n.verify(&[log_signer().verifier_key(), witness(1).verifier_key()]);
            let _ = Checkpoint::parse(&n.text);
        }
        let _ = open_checkpoint(&bytes, &log_signer().verifier_key(), &[witness(1).verifier_key()]);
    }

    // Proves Checkpoint::parse never panics on line-structured text built from
    // checkpoint-like pieces.
    #[test]
    fn checkpoint_parse_never_panics(lines in proptest::collection::vec("[0-9A-Za-z+/=\\- ]{0,48}", 0..6), nl in any::<bool>()) {
        let mut text = lines.join("\n");
        if nl { text.push('\n'); }
        if let Ok(cp) = Checkpoint::parse(&text) {
            prop_assert_eq!(cp.to_text(), text);
        }
    }

    // Proves checkpoints with arbitrary fields round-trip through text.
    #[test]
    fn checkpoint_round_trips(origin in "[a-z0-9./]{1,40}", size in any::<u64>(), root in any::<[u8; 32]>(),
                              exts in proptest::collection::vec("[ -~]{1,30}", 0..3)) {
        let cp = Checkpoint { origin, size, root: Hash(root), extensions: exts };
        prop_assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    }
}
