//! SHA-256 digests and the RFC 6962 leaf and node hashes.
//!
//! RFC 6962 section 2.1 separates leaves from interior nodes with a one-byte
//! prefix, so that no leaf can be passed off as a node (second-preimage
//! resistance of the tree).

use sha2::{Digest, Sha256};
use std::fmt;

/// Length of a SHA-256 digest.
pub const HASH_BYTES: usize = 32;

/// Domain prefix of a leaf hash: `SHA-256(0x00 || leaf)`.
pub const LEAF_HASH_PREFIX: u8 = 0x00;
/// Domain prefix of a node hash: `SHA-256(0x01 || left || right)`.
pub const NODE_HASH_PREFIX: u8 = 0x01;

/// A SHA-256 digest. Shown and serialized as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_BYTES]);

impl Hash {
    /// All zeros: the `prev` of the genesis leaf.
    pub const ZERO: Hash = Hash([0; HASH_BYTES]);

    pub fn as_bytes(&self) -> &[u8; HASH_BYTES] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lower-case hex digits; upper case is refused so
    /// that every hash has one spelling in canonical bytes.
    ///
    /// # Errors
    /// [`HashParseError`] if the text is not 64 lower-case hex digits.
    pub fn from_hex(text: &str) -> Result<Hash, HashParseError> {
        if text.len() != 2 * HASH_BYTES {
            return Err(HashParseError::Length {
                found_chars: text.len(),
            });
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(HashParseError::NotLowerHex);
        }
        let mut out = [0u8; HASH_BYTES];
        hex::decode_to_slice(text, &mut out).map_err(|_| HashParseError::NotLowerHex)?;
        Ok(Hash(out))
    }

    /// Takes exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; HASH_BYTES]>::try_from(bytes).ok().map(Hash)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a hex hash did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("a hash is 64 hex digits, found {found_chars} characters")]
    Length { found_chars: usize },
    #[error("a hash must be lower-case hex digits only")]
    NotLowerHex,
}

/// Plain SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_HASH_PREFIX]);
    h.update(leaf);
    Hash(h.finalize().into())
}

/// RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_HASH_PREFIX]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The empty-leaf hash is the published RFC 6962 value, which proves the prefix is applied.
    #[test]
    fn empty_leaf_hash_matches_rfc6962() {
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    /// Hex parsing is strict, so one hash has exactly one spelling.
    #[test]
    fn hex_round_trip_and_strictness() {
        let h = sha256(b"abc");
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert!(Hash::from_hex(&h.to_hex().to_uppercase()).is_err());
        assert!(Hash::from_hex(&h.to_hex()[1..]).is_err());
    }
}
