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

/// Deepest nesting of arrays and objects we accept. Our schemas need 6 (leaf, body, roles, role, keys, key).
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
///
/// For the values feeledger allows, serde_json's own output already is JCS
/// when every object key is ASCII: its maps keep keys in byte order (which
/// for ASCII is JCS's UTF-16 order), integers within ±(2^53 − 1) print the
/// same, and no string holds a control character, the only characters the
/// two escape differently. That fast path is taken then (and only if
/// [`serde_json_sorts_keys`]); the general canonicalizer otherwise.
///
/// # Panics
/// Never: a `serde_json::Value` always serializes (the `expect`s name
/// that invariant).
pub fn to_canonical_bytes(value: &Value) -> Vec<u8> {
    debug_assert_eq!(check_value(value, "$", 0), Ok(()));
    if serde_json_sorts_keys() && ascii_keys(value) {
        let fast = serde_json::to_vec(value).expect("a serde_json::Value always serializes");
        debug_assert_eq!(
            fast,
            serde_json_canonicalizer::to_vec(value).expect("serializes")
        );
        return fast;
    }
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value always serializes")
}

/// Whether serde_json's maps keep their keys sorted, as the fast path of
/// [`to_canonical_bytes`] needs. They do unless some crate in the build
/// turns on serde_json's `preserve_order` feature (features are shared by
/// the whole build), which would make them keep insertion order; then
/// every value goes through the general canonicalizer. Checked once.
pub fn serde_json_sorts_keys() -> bool {
    static SORTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTS.get_or_init(|| {
        let mut map = serde_json::Map::new();
        map.insert("b".into(), Value::Null);
        map.insert("a".into(), Value::Null);
        serde_json::to_vec(&Value::Object(map)).ok().as_deref() == Some(br#"{"a":null,"b":null}"#)
    })
}

/// Parses JSON obeying feeledger's restrictions (size, UTF-8, integers,
/// text, depth), without checking that the bytes are in canonical form.
/// For a decoder that re-encodes what it built and compares the bytes
/// itself: equal bytes are the canonical form, since JCS is a function of
/// the value.
///
/// # Errors
/// Any [`CanonicalError`] but `NotCanonical` and `TrailingBytes`.
pub fn parse_restricted(bytes: &[u8]) -> Result<Value, CanonicalError> {
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
    Ok(value)
}

/// Parses bytes that must be canonical JSON obeying feeledger's restrictions.
///
/// # Errors
/// Any [`CanonicalError`]; the message names the JSON path at fault.
pub fn parse_canonical(bytes: &[u8]) -> Result<Value, CanonicalError> {
    let value = parse_restricted(bytes)?;
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
///
/// # Errors
/// [`CanonicalError`] for the first restriction broken (a float, a null,
/// too deep, a string or key out of range), located by `path`.
pub fn check_value(value: &Value, path: &str, depth: usize) -> Result<(), CanonicalError> {
    let mut segments = Vec::with_capacity(JSON_DEPTH_MAX);
    check_at(value, &mut segments, depth).map_err(|fault| fault.into_error(path, &segments))
}

/// One step of a JSON path, kept without allocating until an error needs it.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

enum Fault {
    Forbidden(&'static str),
    IntegerRange,
    Control(u32),
    TooDeep,
}

impl Fault {
    fn into_error(self, base: &str, segments: &[Segment<'_>]) -> CanonicalError {
        let mut path = base.to_string();
        for segment in segments {
            match segment {
                Segment::Key(key) => {
                    path.push('.');
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        match self {
            Fault::Forbidden(what) => CanonicalError::ForbiddenValue { path, what },
            Fault::IntegerRange => CanonicalError::IntegerRange { path },
            Fault::Control(code_point) => CanonicalError::ControlCharacter { path, code_point },
            Fault::TooDeep => CanonicalError::TooDeep { path },
        }
    }
}

/// Walks the tree; on error, `segments` holds the path to the fault.
fn check_at<'a>(
    value: &'a Value,
    segments: &mut Vec<Segment<'a>>,
    depth: usize,
) -> Result<(), Fault> {
    match value {
        Value::Null => Err(Fault::Forbidden("null")),
        Value::Bool(_) => Err(Fault::Forbidden("a boolean")),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) if u <= JSON_INTEGER_MAX => Ok(()),
            (None, Some(i)) if i.unsigned_abs() <= JSON_INTEGER_MAX => Ok(()),
            (None, None) => Err(Fault::Forbidden("a fractional or huge number")),
            _ => Err(Fault::IntegerRange),
        },
        Value::String(s) => check_text_at(s),
        Value::Array(items) => {
            if depth >= JSON_DEPTH_MAX {
                return Err(Fault::TooDeep);
            }
            for (i, item) in items.iter().enumerate() {
                segments.push(Segment::Index(i));
                check_at(item, segments, depth + 1)?;
                segments.pop();
            }
            Ok(())
        }
        Value::Object(map) => {
            if depth >= JSON_DEPTH_MAX {
                return Err(Fault::TooDeep);
            }
            for (key, item) in map {
                segments.push(Segment::Key(key));
                check_text_at(key)?;
                check_at(item, segments, depth + 1)?;
                segments.pop();
            }
            Ok(())
        }
    }
}

fn check_text_at(s: &str) -> Result<(), Fault> {
    match s.chars().find(|&c| is_control(c)) {
        Some(c) => Err(Fault::Control(c as u32)),
        None => Ok(()),
    }
}

/// True if every object key in the tree is ASCII.
fn ascii_keys(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().all(ascii_keys),
        Value::Object(map) => map.iter().all(|(k, v)| k.is_ascii() && ascii_keys(v)),
        _ => true,
    }
}

/// True for C0 controls, DEL and C1 controls: characters that can hide text
/// or break line-oriented formats when an entry is displayed.
pub fn is_control(c: char) -> bool {
    let code_point = c as u32;
    code_point < 0x20 || (0x7f..=0x9f).contains(&code_point)
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

    /// The fast encoder agrees with the general RFC 8785 canonicalizer on
    /// allowed values with ASCII keys: sorted keys, integers at the limits,
    /// non-ASCII and escaped text.
    #[test]
    fn fast_path_matches_the_general_canonicalizer() {
        let value: Value = serde_json::from_str(
            r#"{"z":[9007199254740991,-9007199254740991,0],"a":{"y":"星光\"\\/ é 😀","b":[]},"M":"\u2028"}"#,
        )
        .unwrap();
        assert_eq!(
            to_canonical_bytes(&value),
            serde_json_canonicalizer::to_vec(&value).unwrap()
        );
        let non_ascii_keys: Value = serde_json::from_str(r#"{"é":1,"z":2,"😀":3,"ｚ":4}"#).unwrap();
        assert_eq!(
            to_canonical_bytes(&non_ascii_keys),
            serde_json_canonicalizer::to_vec(&non_ascii_keys).unwrap()
        );
    }

    /// This build's serde_json sorts map keys, so the fast path is in use
    /// (the test above compares its output). If a dependency turned on
    /// serde_json's `preserve_order`, this fails, and encoding would fall
    /// back to the general canonicalizer: slower, never wrong.
    #[test]
    fn the_fast_path_is_in_use_in_this_build() {
        assert!(serde_json_sorts_keys());
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
