//! The CLI's clock and RNG. The libraries read neither: they are given the
//! time, today's date, nonces and new keys, from here.

use ed25519_dalek::SigningKey;
use feeledger_core::entry::Date;
use feeledger_core::genesis::date_from_days;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Today's date in UTC, from the clock.
pub fn today() -> Date {
    date_from_days((now_ms() / 86_400_000) as i64)
}

/// Random nonce: 16 bytes, hex.
pub fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// A new Ed25519 key, from the operating system's RNG.
pub fn new_signing_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// What a new ledger takes from the clock and the RNG.
pub fn fresh() -> feeledger_ledgerdir::Fresh {
    feeledger_ledgerdir::Fresh {
        today: today(),
        nonce: new_nonce(),
        now_ms: now_ms(),
    }
}
