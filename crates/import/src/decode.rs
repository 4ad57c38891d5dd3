//! Bytes to text: the encodings Excel writes a CSV file in.
//!
//! A Chinese Excel saves "CSV (逗号分隔)" in GBK and "CSV UTF-8 (逗号分隔)"
//! in UTF-8 with a byte order mark; other tools write plain UTF-8. Anything
//! else (UTF-16 "Unicode text", Latin-1, a workbook saved as `.xlsx`) is
//! refused with the way to save the file again, never decoded by guess: a
//! wrong guess would turn a unit's number or a memo into other characters.

use crate::ImportError;
use encoding_rs::GBK;

/// The byte order mark Excel puts before UTF-8.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// UTF-8 with a byte order mark, as Excel's "CSV UTF-8" writes it.
    Utf8Bom,
    /// GBK, as a Chinese Excel's "CSV (逗号分隔)" writes it.
    Gbk,
}

impl Encoding {
    /// `UTF-8 (with BOM)`, for the preview.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Gbk => "GBK",
        }
    }
}

/// Decodes a CSV file's bytes: UTF-8 (with or without a BOM) if they are
/// valid UTF-8, else GBK if they are valid GBK.
///
/// # Errors
/// [`ImportError::Encoding`] if they are neither (the offset of the first
/// byte that is not UTF-8), [`ImportError::Utf16`] for UTF-16 (Excel's
/// "Unicode text"), [`ImportError::Workbook`] for an `.xlsx` or `.xls`
/// workbook.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), ImportError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(ImportError::Utf16);
    }
    // A zip archive (xlsx) or an OLE compound file (xls).
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(ImportError::Workbook);
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return match std::str::from_utf8(rest) {
            Ok(text) => Ok((text.to_string(), Encoding::Utf8Bom)),
            Err(e) => Err(ImportError::Encoding {
                offset_bytes: UTF8_BOM.len() + e.valid_up_to(),
            }),
        };
    }
    let not_utf8 = match std::str::from_utf8(bytes) {
        Ok(text) => return Ok((text.to_string(), Encoding::Utf8)),
        Err(e) => e.valid_up_to(),
    };
    match GBK.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => Ok((text.into_owned(), Encoding::Gbk)),
        None => Err(ImportError::Encoding {
            offset_bytes: not_utf8,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UTF-8, UTF-8 with a BOM and GBK all read as the same text, and the
    /// encoding is reported.
    #[test]
    fn reads_the_encodings_excel_writes() {
        let text = "房号,金额\r\n3-1502,1280.50\r\n";
        assert_eq!(
            decode(text.as_bytes()).unwrap(),
            (text.to_string(), Encoding::Utf8)
        );
        let bom = [UTF8_BOM, text.as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap(), (text.to_string(), Encoding::Utf8Bom));
        let (gbk, _, unmappable) = GBK.encode(text);
        assert!(!unmappable);
        assert_ne!(gbk.as_ref(), text.as_bytes());
        assert_eq!(decode(&gbk).unwrap(), (text.to_string(), Encoding::Gbk));
    }

    /// Latin-1, UTF-16 and a workbook are refused with their own errors,
    /// each saying how to save the file as CSV UTF-8.
    #[test]
    fn refuses_other_encodings() {
        // "Café 100" in Latin-1: 0xE9 followed by a space is neither UTF-8 nor GBK.
        let latin1 = b"unit,amount\n3-1502,Caf\xE9 100\n";
        let err = decode(latin1).unwrap_err();
        assert_eq!(err, ImportError::Encoding { offset_bytes: 22 });
        assert!(err.to_string().contains("CSV UTF-8"), "{err}");
        assert!(err.to_string().contains("另存为"), "{err}");
        assert_eq!(decode(b"\xFF\xFEu\0n\0").unwrap_err(), ImportError::Utf16);
        assert_eq!(
            decode(b"PK\x03\x04....").unwrap_err(),
            ImportError::Workbook
        );
        // A BOM then bytes that are not UTF-8.
        assert_eq!(
            decode(b"\xEF\xBB\xBFunit\xFF").unwrap_err(),
            ImportError::Encoding { offset_bytes: 7 }
        );
    }
}
