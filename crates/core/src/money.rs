//! Money as integer fen. Parsing and display of yuan amounts, exactly.
//!
//! Amounts are never floats anywhere in feeledger: "12.30" is parsed digit by
//! digit into 1230 fen, and 1230 fen is shown as "12.30".

/// Fen per yuan.
pub const FEN_PER_YUAN: u64 = 100;

/// Why an amount did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{text:?} is not an amount in yuan (digits, optionally '.' and at most 2 decimals, e.g. 1280.50)")]
    Syntax { text: String },
    #[error("{text:?} is too large")]
    TooLarge { text: String },
}

/// Parses a yuan amount such as `1280`, `1280.5` or `1,280.50` into fen.
///
/// # Errors
/// [`AmountError`] for anything else (signs, exponents, 3+ decimals).
pub fn parse_yuan(text: &str) -> Result<u64, AmountError> {
    let syntax = || AmountError::Syntax {
        text: text.to_string(),
    };
    let plain: String = text.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = match plain.split_once('.') {
        Some((w, f)) => (w, f),
        None => (plain.as_str(), ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
        return Err(syntax());
    }
    if plain.contains('.') && fraction.is_empty() {
        return Err(syntax());
    }
    let too_large = || AmountError::TooLarge {
        text: text.to_string(),
    };
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let fraction_fen: u64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u64>().map_err(|_| syntax())? * 10,
        _ => fraction.parse().map_err(|_| syntax())?,
    };
    whole
        .checked_mul(FEN_PER_YUAN)
        .and_then(|fen| fen.checked_add(fraction_fen))
        .ok_or_else(too_large)
}

/// Shows fen as yuan with two decimals: 128050 → "1280.50".
pub fn format_fen(amount_fen: u64) -> String {
    format!(
        "{}.{:02}",
        amount_fen / FEN_PER_YUAN,
        amount_fen % FEN_PER_YUAN
    )
}

/// Shows signed fen as yuan: -5 → "-0.05".
pub fn format_signed_fen(amount_fen: i64) -> String {
    let sign = if amount_fen < 0 { "-" } else { "" };
    format!("{sign}{}", format_fen(amount_fen.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yuan text converts to fen exactly, and back.
    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(parse_yuan("1280.5"), Ok(128_050));
        assert_eq!(parse_yuan("1,280.50"), Ok(128_050));
        assert_eq!(parse_yuan("0.01"), Ok(1));
        assert_eq!(parse_yuan("7"), Ok(700));
        assert_eq!(format_fen(128_050), "1280.50");
        assert_eq!(format_fen(1), "0.01");
        assert_eq!(format_signed_fen(-5), "-0.05");
        for bad in ["", "-1", "1.234", "1e3", "1.", ".5", "１"] {
            assert!(parse_yuan(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            parse_yuan("999999999999999999999"),
            Err(AmountError::TooLarge { .. })
        ));
    }
}
