//! Money as integer fen. Parsing and display of yuan amounts, exactly.
//!
//! Amounts are never floats anywhere in feeledger: "12.30" is parsed digit by
//! digit into 1230 fen, and 1230 fen is shown as "12.30".
//!
//! The one grammar people may type (people copy amounts from invoices and
//! bank slips, which group thousands with commas):
//!
//! ```text
//! amount   = whole [ "." 1*2DIGIT ]
//! whole    = 1*DIGIT                          ; plain: 1280
//!          / NZDIGIT 0*2DIGIT 1*( "," 3DIGIT ) ; grouped: 1,280 or 12,345,678
//! ```
//!
//! Anything else is refused rather than guessed at: `12,8050` is not
//! ¥128,050.00, it is a typo.

use crate::entry::AMOUNT_FEN_MAX;

/// Fen per yuan.
pub const FEN_PER_YUAN: u64 = 100;

/// Digits in one thousands group after the first.
const GROUP_DIGITS: usize = 3;

/// Why an amount did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{text:?} is not an amount in yuan: use 1280.50 or 1,280.50 (digits, commas only between groups of three, at most 2 decimals)")]
    Syntax { text: String },
    #[error("{text:?}: amounts are positive; to undo an entry, record a reversal (feeledger propose ... reversal)")]
    Negative { text: String },
    #[error("{text:?} is zero; an amount is at least 0.01 元")]
    Zero { text: String },
    #[error(
        "{text:?} is too large; an amount is at most {} 元",
        format_yuan_grouped(AMOUNT_FEN_MAX)
    )]
    TooLarge { text: String },
}

/// Parses a yuan amount such as `1280`, `1280.5`, `1,280.50` or
/// `12,345,678` into fen. Zero parses (it is a valid balance); see
/// [`parse_amount`] for the amount of an entry.
///
/// # Errors
/// [`AmountError`] for anything outside the grammar in the module docs:
/// signs, exponents, 3+ decimals, commas out of their thousands places.
pub fn parse_yuan(text: &str) -> Result<u64, AmountError> {
    let syntax = || AmountError::Syntax {
        text: text.to_string(),
    };
    if text.starts_with('-') {
        return Err(AmountError::Negative {
            text: text.to_string(),
        });
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(f) = fraction {
        if !all_digits(f) || f.len() > 2 {
            return Err(syntax());
        }
    }
    let whole_digits: String = if whole.contains(',') {
        let mut groups = whole.split(',');
        let first = groups.next().unwrap_or_default();
        let first_ok = all_digits(first) && first.len() <= GROUP_DIGITS && !first.starts_with('0');
        if !first_ok || !groups.all(|g| g.len() == GROUP_DIGITS && all_digits(g)) {
            return Err(syntax());
        }
        whole.chars().filter(|c| *c != ',').collect()
    } else if all_digits(whole) {
        whole.to_string()
    } else {
        return Err(syntax());
    };
    let too_large = || AmountError::TooLarge {
        text: text.to_string(),
    };
    let whole: u64 = whole_digits.parse().map_err(|_| too_large())?;
    let fraction_fen: u64 = match fraction {
        None => 0,
        Some(f) if f.len() == 1 => u64::from(f.as_bytes()[0] - b'0') * 10,
        Some(f) => u64::from(f.as_bytes()[0] - b'0') * 10 + u64::from(f.as_bytes()[1] - b'0'),
    };
    whole
        .checked_mul(FEN_PER_YUAN)
        .and_then(|fen| fen.checked_add(fraction_fen))
        .ok_or_else(too_large)
}

/// Parses the amount of one entry: as [`parse_yuan`], and 0.01 to
/// [`AMOUNT_FEN_MAX`] fen, the range the core accepts.
///
/// # Errors
/// As [`parse_yuan`], and [`AmountError::Zero`] or [`AmountError::TooLarge`].
pub fn parse_amount(text: &str) -> Result<u64, AmountError> {
    match parse_yuan(text)? {
        0 => Err(AmountError::Zero {
            text: text.to_string(),
        }),
        fen if fen > AMOUNT_FEN_MAX => Err(AmountError::TooLarge {
            text: text.to_string(),
        }),
        fen => Ok(fen),
    }
}

/// Shows fen as yuan with two decimals: 128050 → "1280.50".
pub fn format_fen(amount_fen: u64) -> String {
    format!(
        "{}.{:02}",
        amount_fen / FEN_PER_YUAN,
        amount_fen % FEN_PER_YUAN
    )
}

/// Shows fen as yuan with thousands grouped: 128050 → "1,280.50".
pub fn format_yuan_grouped(amount_fen: u64) -> String {
    let whole = (amount_fen / FEN_PER_YUAN).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / GROUP_DIGITS);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % GROUP_DIGITS == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", amount_fen % FEN_PER_YUAN)
}

/// Shows fen the way people read money: 128050 → "¥1,280.50".
pub fn format_yuan(amount_fen: u64) -> String {
    format!("¥{}", format_yuan_grouped(amount_fen))
}

/// Shows signed fen as yuan: -5 → "-0.05".
pub fn format_signed_fen(amount_fen: i64) -> String {
    let sign = if amount_fen < 0 { "-" } else { "" };
    format!("{sign}{}", format_fen(amount_fen.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Yuan text converts to fen exactly, and back.
    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(parse_yuan("1280.5"), Ok(128_050));
        assert_eq!(parse_yuan("1,280.50"), Ok(128_050));
        assert_eq!(parse_yuan("12,345,678"), Ok(1_234_567_800));
        assert_eq!(parse_yuan("0.01"), Ok(1));
        assert_eq!(parse_yuan("7"), Ok(700));
        assert_eq!(format_fen(128_050), "1280.50");
        assert_eq!(format_fen(1), "0.01");
        assert_eq!(format_signed_fen(-5), "-0.05");
        assert_eq!(format_yuan(128_050), "¥1,280.50");
        assert_eq!(format_yuan(1), "¥0.01");
        assert_eq!(format_yuan(100_000), "¥1,000.00");
        assert_eq!(format_yuan(99_999), "¥999.99");
        assert_eq!(format_yuan_grouped(123_456_789_012), "1,234,567,890.12");
        for bad in ["", "1.234", "1e3", "1.", ".5", "１", "+5", " 5", "5 "] {
            assert!(
                matches!(parse_yuan(bad), Err(AmountError::Syntax { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_yuan("999999999999999999999"),
            Err(AmountError::TooLarge { .. })
        ));
    }

    /// Commas outside their thousands places are refused, never read as a
    /// different amount: each of these once recorded a wrong amount.
    #[test]
    fn refuses_misplaced_commas() {
        for bad in [
            "12,8050",
            "1,28",
            "1,,280",
            ",1280",
            "1280,",
            "0,123",
            "1,280,5",
            "1,2345",
            "1234,567",
            "1,280.5,0",
            "1.280,50",
        ] {
            let err = parse_yuan(bad).expect_err(bad);
            assert!(
                err.to_string().contains("use 1280.50 or 1,280.50"),
                "{bad}: {err}"
            );
        }
    }

    /// A minus sign is named as the rule "amounts are positive" with the
    /// way to undo an entry, and zero is refused as an entry's amount.
    #[test]
    fn refuses_negative_and_zero_amounts() {
        let err = parse_yuan("-5").unwrap_err();
        assert_eq!(err, AmountError::Negative { text: "-5".into() });
        assert!(err.to_string().contains("amounts are positive"), "{err}");
        assert!(err.to_string().contains("reversal"), "{err}");
        assert_eq!(parse_yuan("0"), Ok(0));
        assert!(matches!(
            parse_amount("0.00"),
            Err(AmountError::Zero { .. })
        ));
        assert_eq!(parse_amount("0.01"), Ok(1));
        assert_eq!(parse_amount("100,000,000,000"), Ok(AMOUNT_FEN_MAX));
        let err = parse_amount("100,000,000,000.01").unwrap_err();
        assert!(matches!(err, AmountError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("100,000,000,000.00 元"), "{err}");
    }

    /// The reference grammar, written independently of [`parse_yuan`] as a
    /// state machine over bytes; the value is computed in u128 so that an
    /// overflow of u64 can be told apart from a refusal.
    fn reference(text: &str) -> Option<u128> {
        #[derive(Clone, Copy)]
        enum S {
            Start,
            /// The first run of whole digits: its length, and whether it began with 0.
            First(usize, bool),
            /// Digits seen in the current group after a comma.
            Group(usize),
            /// Decimals seen after the point.
            Decimals(usize),
        }
        let (mut state, mut whole, mut fraction, mut decimals) = (S::Start, 0u128, 0u128, 0u32);
        for b in text.bytes() {
            let digit = b.is_ascii_digit();
            let d = u128::from(b.wrapping_sub(b'0'));
            state = match (state, b) {
                (S::Start, _) if digit => S::First(1, b == b'0'),
                (S::First(n, zero), _) if digit => S::First(n + 1, zero),
                (S::First(n, false), b',') if n <= 3 => S::Group(0),
                (S::First(..), b'.') => S::Decimals(0),
                (S::Group(n), _) if digit && n < 3 => S::Group(n + 1),
                (S::Group(3), b',') => S::Group(0),
                (S::Group(3), b'.') => S::Decimals(0),
                (S::Decimals(n), _) if digit && n < 2 => S::Decimals(n + 1),
                _ => return None,
            };
            if digit {
                match state {
                    S::Decimals(_) => {
                        fraction = fraction * 10 + d;
                        decimals += 1;
                    }
                    _ => whole = whole.checked_mul(10)?.checked_add(d)?,
                }
            }
        }
        let accepted = match state {
            S::Start | S::Decimals(0) | S::Group(0..=2) => false,
            S::First(..) | S::Group(_) | S::Decimals(_) => true,
        };
        accepted.then(|| whole * 100 + fraction * 10u128.pow(2 - decimals))
    }

    /// Groups a whole number's digits by three with commas, by hand.
    fn grouped(whole: u64) -> String {
        let digits = whole.to_string();
        let mut parts: Vec<&str> = Vec::new();
        let mut end = digits.len();
        while end > 3 {
            parts.push(&digits[end - 3..end]);
            end -= 3;
        }
        parts.push(&digits[..end]);
        parts.reverse();
        parts.join(",")
    }

    proptest! {
        /// Any amount, written plain or grouped with 0, 1 or 2 decimals,
        /// parses back to the same fen.
        #[test]
        fn every_amount_round_trips(whole in 0u64..=u64::MAX / 100 - 1, decimals in 0usize..=2, fraction in 0u64..100) {
            let (fraction_fen, tail) = match decimals {
                0 => (0, String::new()),
                1 => ((fraction / 10) * 10, format!(".{}", fraction / 10)),
                _ => (fraction, format!(".{fraction:02}")),
            };
            let fen = whole * 100 + fraction_fen;
            prop_assert_eq!(parse_yuan(&format!("{whole}{tail}")), Ok(fen));
            prop_assert_eq!(parse_yuan(&format!("{}{tail}", grouped(whole))), Ok(fen));
            prop_assert_eq!(parse_yuan(&format_yuan_grouped(fen)), Ok(fen));
        }

        /// Random text over `0-9 , .` is accepted exactly when the reference
        /// grammar accepts it, with the same value.
        #[test]
        fn accepts_exactly_the_grammar(text in "[0-9,.]{0,14}") {
            check_against_reference(&text)?;
        }

        /// As above, on text shaped like amounts (digit runs of 0 to 4
        /// around commas and a point), where the near misses are.
        #[test]
        fn accepts_exactly_the_grammar_near_misses(text in "[0-9]{0,4}(,[0-9]{0,4}){0,3}(\\.[0-9]{0,3})?") {
            check_against_reference(&text)?;
        }
    }

    fn check_against_reference(text: &str) -> Result<(), TestCaseError> {
        match (reference(text), parse_yuan(text)) {
            (Some(v), Ok(fen)) => prop_assert_eq!(v, u128::from(fen), "{}", text),
            (Some(v), Err(AmountError::TooLarge { .. })) => {
                prop_assert!(v > u128::from(u64::MAX), "{} is {} fen", text, v)
            }
            (Some(v), Err(e)) => prop_assert!(false, "{} ({} fen) refused: {}", text, v, e),
            (None, Ok(fen)) => prop_assert!(false, "{} accepted as {} fen", text, fen),
            (None, Err(e)) => {
                prop_assert!(matches!(e, AmountError::Syntax { .. }), "{}: {}", text, e)
            }
        }
        Ok(())
    }
}
