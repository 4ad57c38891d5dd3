//! Canonical JSON (RFC 8785, JCS) with feeledger's restrictions.
//!
//! Every byte string that is hashed or signed is JCS. Decoding is strict: the
//! input must already be byte-for-byte canonical, so that one value has one
//! encoding and a verifier never has to ask "which bytes were signed?".
//!
//! On top of JCS we allow only strings, integers, arrays and objects (no
//! floats, no `null`, no booleans), integers within ±(2^53 − 1) (the range
//! JCS can express exactly, since it formats numbers as IEEE doubles), no
//! control characters in any string or key, and a bounded nesting depth.

use serde_json::Value;

/// A leaf is at most 65,535 bytes: C2SP tlog-tiles entry bundles prefix each
/// entry with a big-endian u16 length.
pub const LEAF_BYTES_MAX: usize = 65_535;

/// Deepest nesting of arrays and objects we accept. Our schemas need 5.
pub const JSON_DEPTH_MAX: usize = 8;

/// Largest integer magnitude JCS represents exactly (2^53 − 1).
pub const JSON_INTEGER_MAX: u64 = (1 << 53) - 1;

/// Why bytes are not acceptable canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("document is {found_bytes} bytes; the limit is {LEAF_BYTES_MAX}")]
    TooLarge { found_bytes: usize },
    #[error("not valid UTF-8 at byte {at_byte}")]
    NotUtf8 { at_byte: usize },
    #[error("not valid JSON: {reason}")]
    Syntax { reason: String },
    #[error("at {path}: {what} is not allowed (only strings, integers, arrays and objects)")]
    ForbiddenValue { path: String, what: &'static str },
    #[error("at {path}: integer is outside ±{JSON_INTEGER_MAX}")]
    IntegerRange { path: String },
    #[error("at {path}: control character U+{code_point:04X} in a string")]
    ControlCharacter { path: String, code_point: u32 },
    #[error("nesting deeper than {JSON_DEPTH_MAX} at {path}")]
    TooDeep { path: String },
    #[error("not in canonical form: unexpected bytes after the JSON value at byte {at_byte} (a trailing newline?)")]
    TrailingBytes { at_byte: usize },
    #[error("not in RFC 8785 canonical form (first difference at byte {at_byte})")]
    NotCanonical { at_byte: usize },
}

/// Serializes a value as JCS. The value must already satisfy the
/// restrictions above; [`check_value`] asserts that in debug builds.
pub fn to_canonical_bytes(value: &Value) -> Vec<u8> {
    debug_assert_eq!(check_value(value, "$", 0), Ok(()));
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always serializes")
}

/// Parses bytes that must be canonical JSON obeying feeledger's restrictions.
///
/// # Errors
/// Any [`CanonicalError`]; the message names the JSON path at fault.
pub fn parse_canonical(bytes: &[u8]) -> Result<Value, CanonicalError> {
    if bytes.len() > LEAF_BYTES_MAX {
        return Err(CanonicalError::TooLarge {
            found_bytes: bytes.len(),
        });
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(CanonicalError::NotUtf8 {
            at_byte: e.valid_up_to(),
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| CanonicalError::Syntax {
        reason: e.to_string(),
    })?;
    check_value(&value, "$", 0)?;
    let canonical = to_canonical_bytes(&value);
    if canonical != bytes {
        if bytes.starts_with(&canonical) {
            return Err(CanonicalError::TrailingBytes {
                at_byte: canonical.len(),
            });
        }
        let at_byte = canonical
            .iter()
            .zip(bytes)
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(bytes.len()));
        return Err(CanonicalError::NotCanonical { at_byte });
    }
    Ok(value)
}

/// Checks the restrictions on a value tree. `path` names the position for
/// error messages, in JSONPath-like form (`$.body.amount_fen`).
pub fn check_value(value: &Value, path: &str, depth: usize) -> Result<(), CanonicalError> {
    match value {
        Value::Null => Err(CanonicalError::ForbiddenValue {
            path: path.to_string(),
            what: "null",
        }),
        Value::Bool(_) => Err(CanonicalError::ForbiddenValue {
            path: path.to_string(),
            what: "a boolean",
        }),
        Value::Number(n) => {
            let in_range = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => u <= JSON_INTEGER_MAX,
                (None, Some(i)) => i.unsigned_abs() <= JSON_INTEGER_MAX,
                (None, None) => {
                    return Err(CanonicalError::ForbiddenValue {
                        path: path.to_string(),
                        what: "a fractional or huge number",
                    })
                }
            };
            if in_range {
                Ok(())
            } else {
                Err(CanonicalError::IntegerRange {
                    path: path.to_string(),
                })
            }
        }
        Value::String(s) => check_text(s, path),
        Value::Array(items) => {
            if depth >= JSON_DEPTH_MAX {
                return Err(CanonicalError::TooDeep {
                    path: path.to_string(),
                });
            }
            for (i, item) in items.iter().enumerate() {
                check_value(item, &format!("{path}[{i}]"), depth + 1)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            if depth >= JSON_DEPTH_MAX {
                return Err(CanonicalError::TooDeep {
                    path: path.to_string(),
                });
            }
            for (key, item) in map {
                let item_path = format!("{path}.{key}");
                check_text(key, &item_path)?;
                check_value(item, &item_path, depth + 1)?;
            }
            Ok(())
        }
    }
}

/// True for C0 controls, DEL and C1 controls: characters that can hide text
/// or break line-oriented formats when an entry is displayed.
pub fn is_control(c: char) -> bool {
    let code_point = c as u32;
    code_point < 0x20 || (0x7f..=0x9f).contains(&code_point)
}

fn check_text(s: &str, path: &str) -> Result<(), CanonicalError> {
    match s.chars().find(|&c| is_control(c)) {
        Some(c) => Err(CanonicalError::ControlCharacter {
            path: path.to_string(),
            code_point: c as u32,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Canonical input is accepted, and every way of being non-canonical is refused.
    #[test]
    fn accepts_only_canonical_bytes() {
        assert!(parse_canonical(br#"{"a":1,"b":["x",{"c":"\u00e9"}]}"#).is_err());
        assert!(parse_canonical("{\"a\":1,\"b\":[\"x\",{\"c\":\"é\"}]}".as_bytes()).is_ok());
        for bad in [
            &br#"{"b":1,"a":2}"#[..], // key order
            br#"{"a": 1}"#,           // whitespace
            br#"{"a":1,"a":1}"#,      // duplicate key
            br#"{"a":01}"#,           // leading zero (also a syntax error)
            br#"{"a":"\u0041"}"#,     // needless escape
        ] {
            assert!(
                parse_canonical(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// Floats, null, booleans, huge integers and control characters are refused with their path.
    #[test]
    fn refuses_forbidden_values() {
        let cases: [(&[u8], &str); 6] = [
            (br#"{"a":1.5}"#, "$.a"),
            (br#"{"a":null}"#, "$.a"),
            (br#"{"a":true}"#, "$.a"),
            (br#"{"a":9007199254740992}"#, "$.a"),
            (br#"{"a":["\u0007"]}"#, "$.a[0]"),
            (br#"{"a":"\u0085"}"#, "$.a"),
        ];
        for (bytes, path) in cases {
            let err = parse_canonical(bytes).unwrap_err().to_string();
            assert!(err.contains(path), "{err} should name {path}");
        }
        assert!(parse_canonical(br#"{"a":9007199254740991}"#).is_ok());
    }

    /// Deep nesting and oversized documents are refused before any work proportional to them.
    #[test]
    fn refuses_deep_and_large() {
        let deep = format!("{}{}", "[".repeat(20), "]".repeat(20));
        assert!(matches!(
            parse_canonical(deep.as_bytes()),
            Err(CanonicalError::TooDeep { .. })
        ));
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(LEAF_BYTES_MAX));
        assert!(matches!(
            parse_canonical(big.as_bytes()),
            Err(CanonicalError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_canonical(b"{\"a\":\"\xff\"}"),
            Err(CanonicalError::NotUtf8 { at_byte: 6 })
        ));
    }
}
