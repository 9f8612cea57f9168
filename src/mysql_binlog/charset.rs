//! MySQL/MariaDB character sets: a column's charset from its collation id (binlog TABLE_MAP
//! metadata) or its name (`information_schema`), and the decoding of its bytes to text. Binlog
//! values arrive in the column's own charset; snapshot reads ask the server for utf8mb4.
//!
//! Single-byte charsets decode through the server's own tables (`charset_tables`); the CJK
//! multi-byte ones through `encoding_rs` with the server's differences (`cjk`); UTF-16/32 and
//! UCS-2 by hand (encoding_rs has no
//! UTF-32 and its UTF-16 decoder replaces rather than refuses a lone surrogate). Bytes that
//! are not valid in the charset are an error, never replaced.

use std::borrow::Cow;

use super::charset_tables as tables;

/// A column's character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// A charset Siphon decodes, by its canonical MySQL name (`utf8mb4`, `sjis`, `cp1250`, ...).
    Named(&'static str),
    /// A collation id Siphon does not know (a newer server's): its values cannot be decoded.
    UnknownCollation(u16),
    /// A charset name Siphon does not know.
    UnknownName,
}

/// Every charset MariaDB 10.11 and MySQL 8 ship, but `binary`.
const NAMES: &[&str] = &[
    "armscii8", "ascii", "big5", "cp1250", "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866",
    "cp932", "dec8", "eucjpms", "euckr", "gb18030", "gb2312", "gbk", "geostd8", "greek", "hebrew",
    "hp8", "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7", "macce",
    "macroman", "sjis", "swe7", "tis620", "ucs2", "ujis", "utf16", "utf16le", "utf32", "utf8mb3",
    "utf8mb4",
];

/// Collation ids below 1024, as ranges of ids of one charset (MariaDB 10.11's
/// `information_schema.COLLATIONS`, plus MySQL 8's own ids 76, 248–250 and 255–323).
const COLLATIONS: &[(u16, u16, &str)] = &[
    (1, 1, "big5"),
    (2, 2, "latin2"),
    (3, 3, "dec8"),
    (4, 4, "cp850"),
    (5, 5, "latin1"),
    (6, 6, "hp8"),
    (7, 7, "koi8r"),
    (8, 8, "latin1"),
    (9, 9, "latin2"),
    (10, 10, "swe7"),
    (11, 11, "ascii"),
    (12, 12, "ujis"),
    (13, 13, "sjis"),
    (14, 14, "cp1251"),
    (15, 15, "latin1"),
    (16, 16, "hebrew"),
    (18, 18, "tis620"),
    (19, 19, "euckr"),
    (20, 20, "latin7"),
    (21, 21, "latin2"),
    (22, 22, "koi8u"),
    (23, 23, "cp1251"),
    (24, 24, "gb2312"),
    (25, 25, "greek"),
    (26, 26, "cp1250"),
    (27, 27, "latin2"),
    (28, 28, "gbk"),
    (29, 29, "cp1257"),
    (30, 30, "latin5"),
    (31, 31, "latin1"),
    (32, 32, "armscii8"),
    (33, 33, "utf8mb3"),
    (34, 34, "cp1250"),
    (35, 35, "ucs2"),
    (36, 36, "cp866"),
    (37, 37, "keybcs2"),
    (38, 38, "macce"),
    (39, 39, "macroman"),
    (40, 40, "cp852"),
    (41, 42, "latin7"),
    (43, 43, "macce"),
    (44, 44, "cp1250"),
    (45, 46, "utf8mb4"),
    (47, 49, "latin1"),
    (50, 52, "cp1251"),
    (53, 53, "macroman"),
    (54, 55, "utf16"),
    (56, 56, "utf16le"),
    (57, 57, "cp1256"),
    (58, 59, "cp1257"),
    (60, 61, "utf32"),
    (62, 62, "utf16le"),
    (64, 64, "armscii8"),
    (65, 65, "ascii"),
    (66, 66, "cp1250"),
    (67, 67, "cp1256"),
    (68, 68, "cp866"),
    (69, 69, "dec8"),
    (70, 70, "greek"),
    (71, 71, "hebrew"),
    (72, 72, "hp8"),
    (73, 73, "keybcs2"),
    (74, 74, "koi8r"),
    (75, 75, "koi8u"),
    (76, 76, "utf8mb3"),
    (77, 77, "latin2"),
    (78, 78, "latin5"),
    (79, 79, "latin7"),
    (80, 80, "cp850"),
    (81, 81, "cp852"),
    (82, 82, "swe7"),
    (83, 83, "utf8mb3"),
    (84, 84, "big5"),
    (85, 85, "euckr"),
    (86, 86, "gb2312"),
    (87, 87, "gbk"),
    (88, 88, "sjis"),
    (89, 89, "tis620"),
    (90, 90, "ucs2"),
    (91, 91, "ujis"),
    (92, 93, "geostd8"),
    (94, 94, "latin1"),
    (95, 96, "cp932"),
    (97, 98, "eucjpms"),
    (99, 99, "cp1250"),
    (101, 124, "utf16"),
    (128, 151, "ucs2"),
    (159, 159, "ucs2"),
    (160, 183, "utf32"),
    (192, 215, "utf8mb3"),
    (223, 223, "utf8mb3"),
    (224, 247, "utf8mb4"),
    (248, 250, "gb18030"),
    (255, 323, "utf8mb4"),
    (576, 578, "utf8mb3"),
    (608, 610, "utf8mb4"),
    (640, 642, "ucs2"),
    (672, 674, "utf16"),
    (736, 738, "utf32"),
];

/// MariaDB's UCA 14.0 collations (10.10+) number 2048 + 256 × the charset's index in this
/// list + the tailoring and flags: `information_schema` shows no id for them.
const UCA1400: &[&str] = &["utf8mb3", "utf8mb4", "ucs2", "utf16", "utf32"];

impl Charset {
    pub const UTF8MB4: Charset = Charset::Named("utf8mb4");

    /// From an `information_schema` charset name.
    pub fn from_name(name: &str) -> Charset {
        let lower = name.to_ascii_lowercase();
        let lower = if lower == "utf8" { "utf8mb3" } else { &lower };
        NAMES
            .iter()
            .find(|n| **n == lower)
            .map_or(Charset::UnknownName, |n| Charset::Named(n))
    }

    /// From a collation id; `None` for `binary` (63), whose columns hold bytes.
    pub fn from_collation_id(id: u16) -> Option<Charset> {
        if id == 63 {
            return None;
        }
        // MariaDB's NO PAD variants are the PAD collation's id + 1024.
        let base = if (1024..2048).contains(&id) {
            id - 1024
        } else {
            id
        };
        let name = if (2048..2048 + 256 * UCA1400.len() as u16).contains(&id) {
            Some(UCA1400[usize::from((id - 2048) / 256)])
        } else {
            COLLATIONS
                .iter()
                .find(|(lo, hi, _)| (*lo..=*hi).contains(&base))
                .map(|(_, _, name)| *name)
        };
        Some(name.map_or(Charset::UnknownCollation(id), Charset::Named))
    }

    /// The name errors show.
    pub fn label(self) -> String {
        match self {
            Charset::Named(n) => n.to_owned(),
            Charset::UnknownCollation(id) => format!("the charset of collation id {id}"),
            Charset::UnknownName => "an unknown charset".to_owned(),
        }
    }

    /// Decodes `b`; the error says why (naming the charset and the bytes' length, not
    /// their content).
    pub fn decode(self, b: &[u8]) -> Result<String, String> {
        let invalid = || format!("{} bytes are not valid {}", b.len(), self.label());
        let Charset::Named(name) = self else {
            return Err(format!(
                "{} bytes in {}, which Siphon cannot decode",
                b.len(),
                self.label()
            ));
        };
        let whatwg = |e: &'static encoding_rs::Encoding| {
            e.decode_without_bom_handling_and_without_replacement(b)
                .map(Cow::into_owned)
                .ok_or_else(invalid)
        };
        match name {
            "utf8mb4" | "utf8mb3" => std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|_| invalid()),
            "ascii" if b.is_ascii() => Ok(b.iter().map(|&c| char::from(c)).collect()),
            "ascii" => Err(invalid()),
            "big5" | "sjis" | "cp932" | "ujis" | "eucjpms" | "euckr" | "gb2312" | "gbk" => {
                super::cjk::decode(name, b).ok_or_else(invalid)
            }
            // MySQL 8 only: no server here to check it against, so WHATWG's mapping.
            "gb18030" => whatwg(encoding_rs::GB18030),
            "utf16" => units(b, 2, false, true).ok_or_else(invalid),
            "utf16le" => units(b, 2, true, true).ok_or_else(invalid),
            "ucs2" => units(b, 2, false, false).ok_or_else(invalid),
            "utf32" => units(b, 4, false, false).ok_or_else(invalid),
            "swe7" => single_byte(b, |c| tables::SWE7[usize::from(c)]).ok_or_else(invalid),
            other => {
                let table = high_half(other).ok_or_else(invalid)?;
                single_byte(b, |c| {
                    if c < 0x80 {
                        u16::from(c)
                    } else {
                        table[usize::from(c - 0x80)]
                    }
                })
                .ok_or_else(invalid)
            }
        }
    }
}

/// The table of bytes 0x80–0xFF of a single-byte charset whose low half is ASCII.
fn high_half(name: &str) -> Option<&'static [u16; 128]> {
    Some(match name {
        "armscii8" => &tables::ARMSCII8,
        "cp1250" => &tables::CP1250,
        "cp1251" => &tables::CP1251,
        "cp1256" => &tables::CP1256,
        "cp1257" => &tables::CP1257,
        "cp850" => &tables::CP850,
        "cp852" => &tables::CP852,
        "cp866" => &tables::CP866,
        "dec8" => &tables::DEC8,
        "geostd8" => &tables::GEOSTD8,
        "greek" => &tables::GREEK,
        "hebrew" => &tables::HEBREW,
        "hp8" => &tables::HP8,
        "keybcs2" => &tables::KEYBCS2,
        "koi8r" => &tables::KOI8R,
        "koi8u" => &tables::KOI8U,
        "latin1" => &tables::LATIN1,
        "latin2" => &tables::LATIN2,
        "latin5" => &tables::LATIN5,
        "latin7" => &tables::LATIN7,
        "macce" => &tables::MACCE,
        "macroman" => &tables::MACROMAN,
        "tis620" => &tables::TIS620,
        _ => return None,
    })
}

fn single_byte(b: &[u8], map: impl Fn(u8) -> u16) -> Option<String> {
    b.iter()
        .map(|&c| match map(c) {
            tables::UNDEF => None,
            u => char::from_u32(u32::from(u)),
        })
        .collect()
}

/// Fixed-width code units: 2 or 4 bytes, big- or little-endian; `surrogates`: UTF-16 pairs
/// (UCS-2 and UTF-32 have none, so a surrogate there is invalid).
fn units(b: &[u8], width: usize, little: bool, surrogates: bool) -> Option<String> {
    if !b.len().is_multiple_of(width) {
        return None;
    }
    let values = b.chunks_exact(width).map(|c| {
        let mut v = 0u32;
        for i in 0..width {
            let byte = if little { c[width - 1 - i] } else { c[i] };
            v = v << 8 | u32::from(byte);
        }
        v
    });
    if !surrogates {
        return values.map(char::from_u32).collect();
    }
    char::decode_utf16(values.map(|v| v as u16))
        .collect::<Result<String, _>>()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(n: &'static str) -> Charset {
        Charset::Named(n)
    }

    #[test]
    fn collation_ids_name_their_charset() {
        assert_eq!(Charset::from_collation_id(63), None);
        for (id, name) in [
            (8, "latin1"),
            (45, "utf8mb4"),
            (224, "utf8mb4"),
            (255, "utf8mb4"),
            (33, "utf8mb3"),
            (13, "sjis"),
            (95, "cp932"),
            (54, "utf16"),
            (56, "utf16le"),
            (35, "ucs2"),
            (60, "utf32"),
            (1032, "latin1"),
            (1069, "utf8mb4"),
            (248, "gb18030"),
            // utf8mb4_uca1400_ai_ci and ucs2_uca1400_ai_ci.
            (2308, "utf8mb4"),
            (2564, "ucs2"),
        ] {
            assert_eq!(Charset::from_collation_id(id), Some(named(name)), "{id}");
        }
        assert_eq!(
            Charset::from_collation_id(17),
            Some(Charset::UnknownCollation(17))
        );
    }

    #[test]
    fn names_are_canonical() {
        assert_eq!(Charset::from_name("UTF8"), named("utf8mb3"));
        assert_eq!(Charset::from_name("sjis"), named("sjis"));
        assert_eq!(Charset::from_name("klingon"), Charset::UnknownName);
    }

    #[test]
    fn every_family_decodes() {
        let ok = |n: &'static str, b: &[u8], want: &str| {
            assert_eq!(named(n).decode(b).as_deref(), Ok(want), "{n}");
        };
        ok("latin1", &[b'c', 0xe9, 0x80], "cé€");
        ok("latin5", &[0xd0, 0xfd], "Ğı");
        ok("cp1250", &[0x8a, 0xe8], "Šč");
        ok("cp1251", &[0xcf, 0xf0, 0xe8], "При");
        ok("koi8r", &[0xf0, 0xd2, 0xc9], "При");
        ok("greek", &[0xe1, 0xe2], "αβ");
        ok("hebrew", &[0xf9, 0xec], "של");
        ok("latin2", &[0xb1, 0xea], "ąę");
        ok("cp850", &[0x82, 0x9b], "éø");
        ok("swe7", &[0x5b, 0x7d], "Äå");
        ok("sjis", &[0x93, 0xfa, 0x96, 0x7b], "日本");
        ok("ujis", &[0xc6, 0xfc, 0xcb, 0xdc], "日本");
        ok("gbk", &[0xd6, 0xd0, 0xce, 0xc4], "中文");
        ok("gb2312", &[0xd6, 0xd0], "中");
        ok("big5", &[0xa4, 0xa4, 0xa4, 0xe5], "中文");
        ok("euckr", &[0xc7, 0xd1], "한");
        ok("utf16", &[0xd8, 0x3d, 0xde, 0x00, 0x00, 0x41], "😀A");
        ok("utf16le", &[0x3d, 0xd8, 0x00, 0xde, 0x41, 0x00], "😀A");
        ok("ucs2", &[0x00, 0xe9], "é");
        ok("utf32", &[0, 1, 0xf6, 0, 0, 0, 0, 0x41], "😀A");
        ok("ascii", b"plain", "plain");
    }

    #[test]
    fn invalid_bytes_are_refused_with_charset_and_length() {
        for (n, b) in [
            ("utf8mb4", &[0xff][..]),
            ("ascii", &[0x80]),
            ("sjis", &[0x81]),
            ("utf16", &[0xd8, 0x3d]),
            ("utf16", &[0x00]),
            ("ucs2", &[0xd8, 0x3d]),
            ("utf32", &[0x00, 0x11, 0x00, 0x00]),
            ("cp1250", &[b'a', 0x81]),
            ("greek", &[0xff]),
        ] {
            let e = named(n).decode(b).unwrap_err();
            assert_eq!(e, format!("{} bytes are not valid {n}", b.len()), "{n}");
        }
        let e = Charset::UnknownCollation(4000).decode(b"abc").unwrap_err();
        assert!(
            e.contains("3 bytes") && e.contains("collation id 4000"),
            "{e}"
        );
    }
}
