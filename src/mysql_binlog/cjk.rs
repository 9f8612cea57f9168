//! MySQL's CJK charsets: `encoding_rs`'s WHATWG decoders, corrected where MariaDB's own
//! tables differ. WHATWG's Shift_JIS and EUC-JP follow Microsoft's mappings (0x815F is
//! U+FF3C) where MySQL's sjis and ujis follow JIS (U+005C), its Big5 is HKSCS, its GBK and
//! EUC-KR are supersets: decoded through them alone, MySQL text would silently change.
//!
//! `cjk/<charset>.bin` lists every character code (big-endian bytes, as a number) whose
//! MariaDB 10.11 conversion (`CONVERT(CONVERT(UNHEX(code) USING cs) USING utf8mb4)`) is not
//! what the WHATWG decoder gives, with the server's code point, or `UNDEF` where the server
//! has no character for it: 8-byte records (code, code point), sorted by code. cp932 and
//! euckr have no differences over their whole code space.

use encoding_rs::Encoding;

const UNDEF: u32 = u32::MAX;

/// A charset's decoder, its differences, and the byte length of a character by its first
/// byte (`None`: no character starts with it).
type Codec = (&'static Encoding, &'static [u8], fn(u8) -> Option<usize>);

const BIG5: &[u8] = include_bytes!("cjk/big5.bin");
const SJIS: &[u8] = include_bytes!("cjk/sjis.bin");
const GBK: &[u8] = include_bytes!("cjk/gbk.bin");
const GB2312: &[u8] = include_bytes!("cjk/gb2312.bin");
const UJIS: &[u8] = include_bytes!("cjk/ujis.bin");
const EUCJPMS: &[u8] = include_bytes!("cjk/eucjpms.bin");

/// Decodes `b` in the CJK charset `name`; `None` when it is not valid there.
pub fn decode(name: &str, b: &[u8]) -> Option<String> {
    let (encoding, table, len): Codec = match name {
        "big5" => (encoding_rs::BIG5, BIG5, |c| match c {
            0..=0x7f => Some(1),
            0xa1..=0xf9 => Some(2),
            _ => None,
        }),
        "sjis" | "cp932" => (
            encoding_rs::SHIFT_JIS,
            if name == "sjis" { SJIS } else { &[] },
            |c| match c {
                0..=0x7f | 0xa1..=0xdf => Some(1),
                0x81..=0x9f | 0xe0..=0xfc => Some(2),
                _ => None,
            },
        ),
        "gbk" | "euckr" => (
            if name == "gbk" {
                encoding_rs::GBK
            } else {
                encoding_rs::EUC_KR
            },
            if name == "gbk" { GBK } else { &[] },
            |c| match c {
                0..=0x7f => Some(1),
                0x81..=0xfe => Some(2),
                _ => None,
            },
        ),
        "gb2312" => (encoding_rs::GBK, GB2312, |c| match c {
            0..=0x7f => Some(1),
            0xa1..=0xfe => Some(2),
            _ => None,
        }),
        "ujis" | "eucjpms" => (
            encoding_rs::EUC_JP,
            if name == "ujis" { UJIS } else { EUCJPMS },
            |c| match c {
                0..=0x7f => Some(1),
                0x8e | 0xa1..=0xfe => Some(2),
                0x8f => Some(3),
                _ => None,
            },
        ),
        _ => return None,
    };
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let n = len(b[i])?;
        let unit = b.get(i..i + n)?;
        let code = unit.iter().fold(0u32, |a, &x| a << 8 | u32::from(x));
        match lookup(table, code) {
            Some(UNDEF) => return None,
            Some(u) => out.push(char::from_u32(u)?),
            None if n == 1 && b[i] < 0x80 => out.push(char::from(b[i])),
            None => {
                out.push_str(&encoding.decode_without_bom_handling_and_without_replacement(unit)?)
            }
        }
        i += n;
    }
    Some(out)
}

/// The server's code point for `code`, if it differs from WHATWG's.
fn lookup(table: &[u8], code: u32) -> Option<u32> {
    let record = |k: usize| {
        let r = table.get(k * 8..k * 8 + 8)?;
        Some((
            u32::from_be_bytes([r[0], r[1], r[2], r[3]]),
            u32::from_be_bytes([r[4], r[5], r[6], r[7]]),
        ))
    };
    let (mut lo, mut hi) = (0, table.len() / 8);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let (c, u) = record(mid)?;
        match c.cmp(&code) {
            std::cmp::Ordering::Equal => return Some(u),
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_records() {
        for t in [BIG5, SJIS, GBK, GB2312, UJIS, EUCJPMS] {
            assert_eq!(t.len() % 8, 0);
            let codes: Vec<u32> = t
                .chunks_exact(8)
                .map(|r| u32::from_be_bytes([r[0], r[1], r[2], r[3]]))
                .collect();
            assert!(codes.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn mysql_mappings_win_over_whatwg() {
        // JIS mappings of sjis and ujis: a backslash and a wave dash, where cp932 (and
        // WHATWG) have full-width forms.
        assert_eq!(
            decode("sjis", &[0x81, 0x5f, 0x81, 0x60]).as_deref(),
            Some("\\\u{301c}")
        );
        assert_eq!(decode("cp932", &[0x81, 0x5f]).as_deref(), Some("\u{ff3c}"));
        assert_eq!(decode("ujis", &[0xa1, 0xc0]).as_deref(), Some("\\"));
        // MySQL's Big5 has its own 0xC6A1–0xC8FE (the ETEN extensions: kana, Cyrillic).
        assert_eq!(decode("big5", &[0xc7, 0xb4]).as_deref(), Some("Ж"));
        assert_eq!(decode("gb2312", &[0xa1, 0xa4]).as_deref(), Some("\u{30fb}"));
        assert_eq!(decode("gbk", b"a\xd6\xd0").as_deref(), Some("a中"));
        // Codes the server has no character for, and broken sequences.
        assert_eq!(decode("gb2312", &[0xf8, 0xa1]), None);
        assert_eq!(decode("gbk", &[0x80]), None);
        assert_eq!(decode("sjis", &[0x81]), None);
        assert_eq!(decode("ujis", &[0x8f, 0xa1]), None);
    }
}
