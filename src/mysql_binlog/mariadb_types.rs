//! MariaDB's plugin types `INET4` (10.10+), `INET6` (10.5+) and `UUID` (10.7+). The binlog
//! carries them as `BINARY(4)`/`BINARY(16)` (trailing zero bytes dropped, as for any BINARY);
//! a result set carries the server's text. Debezium's MariaDB connector maps `UUID` to
//! `io.debezium.data.Uuid` (the binlog bytes read in order as the UUID, which is how the
//! server writes them); its DDL parser knows no INET4/INET6, so Siphon renders them as the
//! server's text (a string, as Debezium's PostgreSQL connector does for `inet`).

use std::fmt::Write;

/// `a.b.c.d` from four bytes.
pub fn inet4_text(b: &[u8; 4]) -> String {
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// An IPv6 address as MariaDB's `INET6` renders it: RFC 5952 (lower-case hex, the first
/// longest run of two or more zero groups as `::`), and IPv4-compatible (`::a.b.c.d`, when
/// the run of zeros is exactly the first six groups) or IPv4-mapped (`::ffff:a.b.c.d`)
/// addresses with their last 32 bits dotted.
pub fn inet6_text(b: &[u8; 16]) -> String {
    let words: Vec<u16> = b
        .chunks_exact(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]))
        .collect();
    // The longest run of zero groups (first wins), if two or more long.
    let (mut gap, mut run_start, mut run) = ((0usize, 0usize), 0usize, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if run == 0 {
                run_start = i;
            }
            run += 1;
            if run > gap.1 {
                gap = (run_start, run);
            }
        } else {
            run = 0;
        }
    }
    let gap = (gap.1 >= 2).then_some(gap);
    let mut out = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((pos, len)) = gap
            && i == pos
        {
            out.push_str(if i == 0 { "::" } else { ":" });
            i += len;
            continue;
        }
        let dotted = gap.is_some_and(|(pos, len)| {
            pos == 0 && i == 6 && (len == 6 || (len == 5 && words[5] == 0xffff))
        });
        if dotted {
            let _ = write!(out, "{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
            break;
        }
        let _ = write!(out, "{:x}", words[i]);
        if i < 7 {
            out.push(':');
        }
        i += 1;
    }
    out
}

/// The UUID of sixteen bytes read in order.
pub fn uuid_of(b: &[u8; 16]) -> uuid::Uuid {
    uuid::Uuid::from_bytes(*b)
}

/// `bytes` as a fixed-length array, restoring the trailing zero bytes the binlog drops from
/// a BINARY(n); `None` when longer than `N`.
pub fn padded<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    out.get_mut(..bytes.len())?.copy_from_slice(bytes);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(text: &str) -> String {
        let addr: std::net::Ipv6Addr = text.parse().unwrap();
        inet6_text(&addr.octets())
    }

    #[test]
    fn inet6_renders_as_mariadb_does() {
        for (input, want) in [
            ("2001:db8::1", "2001:db8::1"),
            ("::", "::"),
            ("::1", "::1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"),
            ("::ffff:0.0.0.1", "::ffff:0.0.0.1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:0:0:1::1", "2001:0:0:1::1"),
            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("fe80::", "fe80::"),
            (
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            ),
        ] {
            assert_eq!(v6(input), want, "{input}");
        }
    }

    #[test]
    fn inet4_uuid_and_padding() {
        assert_eq!(inet4_text(&[192, 168, 1, 2]), "192.168.1.2");
        assert_eq!(padded::<4>(&[]), Some([0; 4]));
        assert_eq!(padded::<4>(&[10]), Some([10, 0, 0, 0]));
        assert_eq!(padded::<4>(&[1, 2, 3, 4, 5]), None);
        let b = [
            0x6c, 0xcd, 0x78, 0x0c, 0xba, 0xba, 0x10, 0x26, 0x95, 0x64, 0x5b, 0x8c, 0x65, 0x60,
            0x24, 0xdb,
        ];
        assert_eq!(
            uuid_of(&b).to_string(),
            "6ccd780c-baba-1026-9564-5b8c656024db"
        );
    }
}
