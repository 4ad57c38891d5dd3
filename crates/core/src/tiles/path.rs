//! C2SP tlog-tiles paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`.
//!
//! `<L>` is the tile level, a decimal from 0 to [`TILE_LEVEL_MAX`] with no
//! leading zeros. `<N>` is the tile index in 3-digit path elements, all but
//! the last prefixed with `x` (1234067 → `x001/x234/067`). `.p/<W>` marks a
//! partial tile of width 1 to 255. Parsing is strict: one index has one
//! path, and anything else is refused (and served as 404 by the server).
//!
//! A hash tile at level L, index N, width W is the concatenation of the W
//! node hashes at tree level 8·L, indices 256·N to 256·N+W−1. An entry
//! bundle is, for each of its W leaves, a big-endian u16 length and the
//! leaf bytes (which is why a leaf is at most 65,535 bytes).

use super::{tile_width_at, PARTIAL_WIDTH_MAX, TILE_LEVEL_MAX};
use crate::merkle::{TILE_HEIGHT, TILE_WIDTH_MAX};

/// Most `x` path elements of an index: 2^48 / 256 tiles need 14 digits.
const INDEX_ELEMENTS_MAX: usize = 6;

/// What a tile path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Merkle hashes at tile level `level`.
    Hashes { level: u8 },
    /// Entry bundle (level -1 in the spec's terms).
    Entries,
}

/// A parsed tile path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    pub kind: TileKind,
    pub index: u64,
    /// `None` for a full tile of 256.
    pub partial_width: Option<u16>,
}

impl TilePath {
    /// The path of tile `index` of `kind` holding `width` hashes or
    /// entries: a full tile for [`TILE_WIDTH_MAX`], a partial one (`.p/W`)
    /// below. `None` for a width of 0 or above [`TILE_WIDTH_MAX`], or a
    /// hash level above [`TILE_LEVEL_MAX`].
    pub fn new(kind: TileKind, index: u64, width: u64) -> Option<TilePath> {
        if let TileKind::Hashes { level } = kind {
            if level > TILE_LEVEL_MAX {
                return None;
            }
        }
        let partial_width = match width {
            TILE_WIDTH_MAX => None,
            1..TILE_WIDTH_MAX => Some(u16::try_from(width).ok()?),
            _ => return None,
        };
        Some(TilePath {
            kind,
            index,
            partial_width,
        })
    }

    /// Whether this path names bytes of a log of `size` entries: its tile
    /// holds at least [`TilePath::width`] hashes or entries there.
    pub fn exists_in(&self, size: u64) -> bool {
        tile_width_at(self.kind, self.index, size).is_some_and(|w| self.width() <= w)
    }

    /// The width this path asks for.
    pub fn width(&self) -> u64 {
        self.partial_width.map_or(TILE_WIDTH_MAX, u64::from)
    }

    /// The tree level of the hashes in a hash tile.
    pub fn tree_level(&self) -> Option<u8> {
        match self.kind {
            TileKind::Hashes { level } => Some(level * TILE_HEIGHT),
            TileKind::Entries => None,
        }
    }

    /// The path from the log's prefix, with the leading `tile/`: the name
    /// of its file in a backup, and its URL path on a server.
    pub fn rel_path(&self) -> String {
        format!("tile/{}", self.to_path())
    }

    /// The path, without the leading `tile/`.
    pub fn to_path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut digits = Vec::new();
        let mut n = self.index;
        loop {
            digits.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        let elements: Vec<String> = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| {
                if i + 1 < digits.len() {
                    format!("x{d:03}")
                } else {
                    format!("{d:03}")
                }
            })
            .collect();
        let mut path = format!("{level}/{}", elements.join("/"));
        if let Some(w) = self.partial_width {
            path.push_str(&format!(".p/{w}"));
        }
        path
    }
}

/// Parses the part of a tile path after `tile/`.
///
/// # Errors
/// `None` for anything that is not exactly one valid tile path.
pub fn parse_tile_path(path: &str) -> Option<TilePath> {
    let mut parts = path.split('/');
    let kind = match parts.next()? {
        "entries" => TileKind::Entries,
        level => {
            let value = parse_decimal(level)?;
            let level = u8::try_from(value).ok().filter(|l| *l <= TILE_LEVEL_MAX)?;
            TileKind::Hashes { level }
        }
    };
    let rest: Vec<&str> = parts.collect();
    // The last elements are either "DDD" or "DDD.p", "W".
    let (index_parts, partial_width) = match rest.as_slice() {
        [head @ .., last, width] if last.ends_with(".p") => {
            let w = parse_decimal(width)?;
            let w = u16::try_from(w)
                .ok()
                .filter(|w| (1..=PARTIAL_WIDTH_MAX).contains(w))?;
            let mut parts: Vec<&str> = head.to_vec();
            parts.push(last.strip_suffix(".p")?);
            (parts, Some(w))
        }
        parts => (parts.to_vec(), None),
    };
    if index_parts.is_empty() || index_parts.len() > INDEX_ELEMENTS_MAX {
        return None;
    }
    let mut index: u64 = 0;
    for (i, element) in index_parts.iter().enumerate() {
        let last = i + 1 == index_parts.len();
        let digits = if last {
            *element
        } else {
            element.strip_prefix('x')?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u64 = digits.parse().ok()?;
        index = index.checked_mul(1000)?.checked_add(value)?;
    }
    let parsed = TilePath {
        kind,
        index,
        partial_width,
    };
    // One index, one path: "x000/001" is refused in favour of "001".
    (parsed.to_path() == path).then_some(parsed)
}

fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's example index, partial tiles and entry bundles round-trip.
    #[test]
    fn parses_the_spec_examples() {
        let p = parse_tile_path("0/x001/x234/067").unwrap();
        assert_eq!(
            p,
            TilePath {
                kind: TileKind::Hashes { level: 0 },
                index: 1_234_067,
                partial_width: None
            }
        );
        let p = parse_tile_path("entries/000.p/17").unwrap();
        assert_eq!(
            p,
            TilePath {
                kind: TileKind::Entries,
                index: 0,
                partial_width: Some(17)
            }
        );
        assert_eq!(parse_tile_path("2/x001/000").unwrap().index, 1000);
        assert_eq!(parse_tile_path("1/255.p/255").unwrap().width(), 255);
    }

    /// Every malformed or non-canonical path is refused, including traversal attempts.
    #[test]
    fn refuses_malformed_paths() {
        for bad in [
            "",
            "0",
            "0/",
            "6/000",
            "00/000",
            "-1/000",
            "0/1",
            "0/0001",
            "0/x000/001",
            "0/001/x002",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/017",
            "0/000.p",
            "0/../000",
            "../../etc/passwd",
            "entries/..",
            "0/000/",
            "0/000.p/1/2",
            "0/x1/000",
            "0/x001/x002/x003/x004/x005/x006/007",
            "0/+12",
            "0/ 12",
        ] {
            assert_eq!(parse_tile_path(bad), None, "{bad:?}");
        }
    }
}
