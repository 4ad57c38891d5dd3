//! The genesis body of a new ledger, from what its founders decide.
//!
//! Pure: the business date (today, if the founders named none) and the
//! nonce (fresh random bytes for a real ledger, fixed for the demo) are
//! passed in. Reading a genesis description from a file, and signing and
//! storing the body, is `feeledger-ledgerdir`'s.

use crate::canonical::to_canonical_bytes;
use crate::entry::{
    check_signature_list, default_rules, normalize_signatures, Body, Content, Date, EntrySignature,
    FormatError, FundDef, Genesis, Role, Roles, Rules, REQUIRED_FUNDS,
};
use crate::hash::Hash;
use crate::keyfile::{sign_body, KeyFile};
use crate::note::VerifierKey;
use std::collections::BTreeMap;

/// What a genesis says, before it is dated and given a nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisTerms {
    /// The ledger's origin; its log key is named after it.
    pub origin: String,
    /// The community's display name.
    pub name: String,
    /// Fund id → display name. A required fund left out gets its default
    /// name ([`default_fund_name`]).
    pub funds: BTreeMap<String, String>,
    /// The roles, in any key order: the body lists each role's keys by
    /// name.
    pub roles: Roles,
    /// The rules; the defaults ([`default_rules`]) if `None`.
    pub rules: Option<Rules>,
}

impl GenesisTerms {
    /// The genesis body: these terms, dated `date`, with `nonce`, naming
    /// `log_key` as the key that signs the checkpoints. The body is not
    /// checked here; the store's `create` judges it as every entry is
    /// judged.
    pub fn body(&self, date: Date, nonce: String, log_key: &VerifierKey) -> Body {
        let mut funds = self.funds.clone();
        for id in REQUIRED_FUNDS {
            if !funds.contains_key(id) {
                funds.insert(
                    id.to_string(),
                    default_fund_name(id).unwrap_or(id).to_string(),
                );
            }
        }
        let roles: Roles = self
            .roles
            .iter()
            .map(|(role, def)| {
                let mut def = def.clone();
                def.keys.sort_by(|a, b| a.name.cmp(&b.name));
                (*role, def)
            })
            .collect();
        let rules = self
            .rules
            .clone()
            .unwrap_or_else(|| default_rules(roles.contains_key(&Role::Supervisor)));
        Body {
            ledger: self.origin.clone(),
            date,
            nonce,
            content: Content::Genesis(Genesis {
                name: self.name.clone(),
                currency: "CNY".into(),
                minor_unit: "fen".into(),
                minor_units_per_major: 100,
                funds: funds
                    .into_iter()
                    .map(|(id, name)| FundDef { id, name })
                    .collect(),
                roles,
                rules,
                log_key: log_key.to_string(),
            }),
        }
    }
}

/// The display name a required fund gets when the founders name none.
pub fn default_fund_name(id: &str) -> Option<&'static str> {
    match id {
        "operating" => Some("物业服务费 Property fees"),
        "public_revenue" => Some("公共收益 Common-area income"),
        "maintenance" => Some("专项维修资金 Maintenance fund"),
        _ => None,
    }
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm): a caller turns its clock's reading into today's date.
pub fn date_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
    Date { year, month, day }
}

/// Largest genesis signature file a reader accepts: one is about 200 bytes.
pub const GENESIS_SIGNATURE_BYTES_MAX: u64 = 1_024;

/// One founder's signature of a genesis draft, as a signature file holds it
/// (docs/format.md §11.7): the draft's id (SHA-256 of its canonical
/// bytes), the key's name and its entry signature (§8.1) over the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisSignature {
    /// The id of the draft the founder signed.
    pub id: Hash,
    pub signature: EntrySignature,
}

/// The JSON of a signature file, before its fields are checked.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureFileJson {
    id: String,
    key: String,
    sig: String,
}

impl GenesisSignature {
    /// Signs the draft `body` with `key`.
    pub fn sign(body: &Body, key: &KeyFile) -> GenesisSignature {
        let signature = sign_body(body, [key])
            .pop()
            .expect("one key gives one signature");
        GenesisSignature {
            id: body.id(),
            signature,
        }
    }

    /// The file's text: the canonical JSON object `{"id", "key", "sig"}`
    /// and one `\n`.
    pub fn to_text(&self) -> String {
        let value = serde_json::json!({
            "id": self.id.to_hex(),
            "key": self.signature.key,
            "sig": self.signature.sig,
        });
        let mut text = String::from_utf8(to_canonical_bytes(&value)).expect("JCS is UTF-8");
        text.push('\n');
        text
    }

    /// Parses a signature file's text. Trailing `\n` characters are removed
    /// first; the rest must be the JSON object and nothing else, with a
    /// 64-digit lowercase id, a key name of §6.2 and a signature of §8.2.
    ///
    /// # Errors
    /// [`SignatureFileError`] naming the field at fault.
    pub fn parse(text: &str) -> Result<GenesisSignature, SignatureFileError> {
        let json: SignatureFileJson = serde_json::from_str(text.trim_end_matches('\n'))
            .map_err(|e| SignatureFileError::NotJson(e.to_string()))?;
        let id = Hash::from_hex(&json.id)
            .ok()
            .filter(|h| h.to_hex() == json.id)
            .ok_or(SignatureFileError::Id)?;
        let signature = EntrySignature {
            key: json.key,
            sig: json.sig,
        };
        check_signature_list(std::slice::from_ref(&signature), "$")
            .map_err(|e| SignatureFileError::Signature(e.to_string()))?;
        Ok(GenesisSignature { id, signature })
    }
}

/// Why a signature file's text is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFileError {
    #[error("not a genesis signature file (a JSON object {{\"id\", \"key\", \"sig\"}} written by `feeledger genesis sign`): {0}")]
    NotJson(String),
    #[error("its \"id\" is not 64 lowercase hex digits")]
    Id,
    #[error("its signature is malformed: {0}")]
    Signature(String),
}

/// Why a genesis draft, or the signatures gathered for it, cannot make a
/// ledger. Each message names the rule and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisDraftError {
    /// The bytes are not exactly the canonical bytes of a body.
    #[error("the draft is not a canonical genesis body ({0}); use the file `feeledger genesis draft` wrote, unchanged (an editor may have added a newline)")]
    NotCanonical(FormatError),
    #[error(
        "the draft is a {kind} body, not a genesis; use the file `feeledger genesis draft` wrote"
    )]
    NotAGenesis { kind: String },
    #[error("the signature by {key} signs another draft ({signed}), not this one ({draft}); have {key} sign this draft with `feeledger genesis sign`")]
    OtherDraft {
        key: String,
        signed: Hash,
        draft: Hash,
    },
    #[error("{key} is not a key the draft lists in any role; only the founders the draft names can sign it (check the key file, or draft again with {key} in a role)")]
    UnknownKey { key: String },
    #[error("the signature by {key} does not verify over this draft (made with another key of that name, or damaged); have {key} sign again with `feeledger genesis sign`")]
    BadSignature { key: String },
    #[error("two different signatures by {key}; give each founder's signature file once")]
    TwoSignatures { key: String },
    #[error("the genesis rule needs {threshold} signature(s) of the {role} role and {signed} were given ({missing} still must sign); collect their signature files")]
    TooFewSignatures {
        role: Role,
        threshold: u32,
        signed: u32,
        missing: String,
    },
    #[error("the log key given is {given}, but the draft names {draft}; give the log key the draft was made with (--log-key)")]
    LogKey { given: String, draft: String },
}

/// Decodes a genesis draft: the canonical bytes of a genesis body.
///
/// # Errors
/// [`GenesisDraftError::NotCanonical`] for bytes that are not a canonical,
/// well-formed body, [`GenesisDraftError::NotAGenesis`] for another kind.
pub fn decode_draft(bytes: &[u8]) -> Result<Body, GenesisDraftError> {
    let body = Body::decode(bytes).map_err(GenesisDraftError::NotCanonical)?;
    match body.content {
        Content::Genesis(_) => Ok(body),
        ref other => Err(GenesisDraftError::NotAGenesis {
            kind: other.kind().to_string(),
        }),
    }
}

/// Checks the founders' signatures of a genesis draft and the log key
/// that will sign its checkpoints, and returns the signatures as the
/// genesis leaf lists them. It checks what the ledger will check of the
/// genesis (§12.1: known keys, valid signatures, every role's threshold),
/// so that a refusal names the founder and the fix; the store still judges
/// the leaf it is given.
///
/// A signature file given twice counts once.
///
/// # Errors
/// [`GenesisDraftError`]: in this order, a log key other than the draft's,
/// a signature of another draft, a key no role lists, two different
/// signatures by one key, a signature that does not verify, a role short of
/// its threshold (role order company, committee, supervisor).
///
/// # Panics
/// If `body` is not a genesis (use [`decode_draft`]).
pub fn check_draft_signatures(
    body: &Body,
    log_key: &VerifierKey,
    signatures: &[GenesisSignature],
) -> Result<Vec<EntrySignature>, GenesisDraftError> {
    let Content::Genesis(genesis) = &body.content else {
        panic!("check_draft_signatures takes a genesis body");
    };
    if log_key.to_string() != genesis.log_key {
        return Err(GenesisDraftError::LogKey {
            given: log_key.to_string(),
            draft: genesis.log_key.clone(),
        });
    }
    let draft = body.id();
    let message = body.signing_message();
    let mut by_key: BTreeMap<&str, &EntrySignature> = BTreeMap::new();
    for s in signatures {
        let key = &s.signature.key;
        if s.id != draft {
            return Err(GenesisDraftError::OtherDraft {
                key: key.clone(),
                signed: s.id,
                draft,
            });
        }
        let Some(def) = genesis
            .roles
            .values()
            .flat_map(|r| r.keys.iter())
            .find(|k| &k.name == key)
        else {
            return Err(GenesisDraftError::UnknownKey { key: key.clone() });
        };
        if let Some(earlier) = by_key.get(key.as_str()) {
            if earlier.sig != s.signature.sig {
                return Err(GenesisDraftError::TwoSignatures { key: key.clone() });
            }
            continue;
        }
        let verifies = match (def.verifying_key(), s.signature.signature()) {
            (Some(public), Some(sig)) => public.verify_strict(&message, &sig).is_ok(),
            _ => false,
        };
        if !verifies {
            return Err(GenesisDraftError::BadSignature { key: key.clone() });
        }
        by_key.insert(key, &s.signature);
    }
    for (role, def) in &genesis.roles {
        let signed = def
            .keys
            .iter()
            .filter(|k| by_key.contains_key(k.name.as_str()))
            .count() as u32;
        if signed < def.threshold {
            let missing: Vec<&str> = def
                .keys
                .iter()
                .filter(|k| !by_key.contains_key(k.name.as_str()))
                .map(|k| k.name.as_str())
                .collect();
            return Err(GenesisDraftError::TooFewSignatures {
                role: *role,
                threshold: def.threshold,
                signed,
                missing: format!("{} more of {}", def.threshold - signed, missing.join(", ")),
            });
        }
    }
    let mut list: Vec<EntrySignature> = by_key.into_values().cloned().collect();
    normalize_signatures(&mut list);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{KeyDef, RoleDef};
    use crate::keyfile::KeyFile;

    fn terms() -> GenesisTerms {
        let key = |name: &str, seed: u8| {
            let key = KeyFile::from_seed(name, [seed; 32]).unwrap();
            KeyDef {
                display_name: None,
                name: name.into(),
                public_key: key.public_key_base64(),
            }
        };
        GenesisTerms {
            origin: "example.org/test".into(),
            name: "测试小区".into(),
            funds: [("maintenance".to_string(), "维修资金".to_string())].into(),
            roles: [
                (
                    Role::Company,
                    RoleDef {
                        threshold: 1,
                        keys: vec![key("wuye-zhou", 1), key("wuye-li", 2)],
                    },
                ),
                (
                    Role::Committee,
                    RoleDef {
                        threshold: 1,
                        keys: vec![key("weiyuan-wang", 3)],
                    },
                ),
            ]
            .into(),
            rules: None,
        }
    }

    /// The body fills in what the founders left out (the required funds'
    /// names, the default rules for roles without a supervisor), lists each
    /// role's keys by name, keeps the names they gave, and is accepted as
    /// a genesis by the state machine's decoder.
    #[test]
    fn body_fills_defaults_and_sorts_keys() {
        let log = KeyFile::from_seed("example.org/test", [9; 32]).unwrap();
        let date = Date::parse("2025-01-01").unwrap();
        let body = terms().body(date, "00".repeat(16), &log.verifier_key());
        let Content::Genesis(genesis) = &body.content else {
            panic!("not a genesis");
        };
        let funds: Vec<(&str, &str)> = genesis
            .funds
            .iter()
            .map(|f| (f.id.as_str(), f.name.as_str()))
            .collect();
        assert_eq!(
            funds,
            [
                ("maintenance", "维修资金"),
                ("operating", "物业服务费 Property fees"),
                ("public_revenue", "公共收益 Common-area income"),
            ]
        );
        let company: Vec<&str> = genesis.roles[&Role::Company]
            .keys
            .iter()
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(company, ["wuye-li", "wuye-zhou"]);
        assert_eq!(genesis.rules, default_rules(false));
        assert_eq!(genesis.log_key, log.verifier_key().to_string());
        assert_eq!(body.ledger, "example.org/test");
        assert_eq!(body.date, date);
        Body::decode(&body.to_canonical_bytes()).expect("a well-formed genesis body");
    }

    /// Day counts turn into the civil dates they are, across leap days and
    /// the epoch.
    #[test]
    fn dates_from_day_counts() {
        for (days, date) in [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (11_016, "2000-02-29"),
            (20_089, "2025-01-01"),
            (20_512, "2026-02-28"),
        ] {
            assert_eq!(date_from_days(days).to_string(), date, "day {days}");
        }
    }

    /// The terms' draft, its log key, and the founders' keys by seed.
    fn draft() -> (Body, KeyFile) {
        let log = KeyFile::from_seed("example.org/test", [9; 32]).unwrap();
        let date = Date::parse("2025-01-01").unwrap();
        (
            terms().body(date, "00".repeat(16), &log.verifier_key()),
            log,
        )
    }

    fn founder(name: &str, seed: u8) -> KeyFile {
        KeyFile::from_seed(name, [seed; 32]).unwrap()
    }

    /// A signature file's text is canonical JSON and one newline, parses
    /// back to the same signature, and a file with an unknown member, an
    /// upper-case id or a short signature is refused.
    #[test]
    fn signature_files_round_trip_and_are_strict() {
        let (body, _) = draft();
        let signature = GenesisSignature::sign(&body, &founder("weiyuan-wang", 3));
        let text = signature.to_text();
        assert!(text.starts_with(&format!(
            "{{\"id\":\"{}\",\"key\":\"weiyuan-wang\",\"sig\":\"",
            body.id()
        )));
        assert!(text.ends_with("==\"}\n"), "{text}");
        assert_eq!(GenesisSignature::parse(&text), Ok(signature.clone()));
        let upper = text.replace(&body.id().to_hex(), &body.id().to_hex().to_uppercase());
        assert_eq!(GenesisSignature::parse(&upper), Err(SignatureFileError::Id));
        let extra = text.replace("{\"id\"", "{\"x\":1,\"id\"");
        assert!(matches!(
            GenesisSignature::parse(&extra),
            Err(SignatureFileError::NotJson(_))
        ));
        let short = text.replace(&signature.signature.sig, "AAAA");
        assert!(matches!(
            GenesisSignature::parse(&short),
            Err(SignatureFileError::Signature(_))
        ));
    }

    /// The founders' signatures make the genesis's signature list when
    /// every role reaches its threshold (a file given twice counts once),
    /// and each fault is named: another log key, another draft, a key no
    /// role lists, a signature that does not verify, two signatures of one
    /// key, a role short of its threshold.
    #[test]
    fn draft_signatures_are_checked_and_named() {
        let (body, log) = draft();
        let sign = |name: &str, seed: u8| GenesisSignature::sign(&body, &founder(name, seed));
        let li = sign("wuye-li", 2);
        let wang = sign("weiyuan-wang", 3);
        let list = check_draft_signatures(
            &body,
            &log.verifier_key(),
            &[wang.clone(), li.clone(), wang.clone()],
        )
        .unwrap();
        let keys: Vec<&str> = list.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["weiyuan-wang", "wuye-li"]);

        let other_log = KeyFile::from_seed("example.org/test", [8; 32]).unwrap();
        let (other_body, _) = {
            let date = Date::parse("2025-01-02").unwrap();
            (terms().body(date, "00".repeat(16), &log.verifier_key()), ())
        };
        let mut forged = wang.clone();
        forged.signature.key = "wuye-zhou".into();
        let mut twice = li.clone();
        twice.signature.sig = wang.signature.sig.clone();
        let check = |sigs: &[GenesisSignature], key: &KeyFile| {
            check_draft_signatures(&body, &key.verifier_key(), sigs).unwrap_err()
        };
        assert!(matches!(
            check(&[li.clone(), wang.clone()], &other_log),
            GenesisDraftError::LogKey { .. }
        ));
        assert!(matches!(
            check(
                &[li.clone(), GenesisSignature::sign(&other_body, &founder("weiyuan-wang", 3))],
                &log
            ),
            GenesisDraftError::OtherDraft { key, .. } if key == "weiyuan-wang"
        ));
        assert_eq!(
            check(&[li.clone(), sign("outsider", 5)], &log),
            GenesisDraftError::UnknownKey {
                key: "outsider".into()
            }
        );
        assert_eq!(
            check(&[li.clone(), wang.clone(), forged], &log),
            GenesisDraftError::BadSignature {
                key: "wuye-zhou".into()
            }
        );
        assert_eq!(
            check(&[li.clone(), twice, wang.clone()], &log),
            GenesisDraftError::TwoSignatures {
                key: "wuye-li".into()
            }
        );
        assert_eq!(
            check(&[wang], &log),
            GenesisDraftError::TooFewSignatures {
                role: Role::Company,
                threshold: 1,
                signed: 0,
                missing: "1 more of wuye-li, wuye-zhou".into(),
            }
        );
    }

    /// A draft must be exactly a genesis body's canonical bytes.
    #[test]
    fn drafts_are_canonical_genesis_bodies() {
        let (body, _) = draft();
        let bytes = body.to_canonical_bytes();
        assert_eq!(decode_draft(&bytes).unwrap(), body);
        let mut newline = bytes.clone();
        newline.push(b'\n');
        assert!(matches!(
            decode_draft(&newline),
            Err(GenesisDraftError::NotCanonical(_))
        ));
    }
}
