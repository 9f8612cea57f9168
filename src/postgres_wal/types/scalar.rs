//! Scalar value texts: booleans, `numeric` and `money`, `bytea` and bit strings.

use num_bigint::BigInt;

use crate::event::Decimal;

pub(super) fn parse_bool(text: &str) -> Result<bool, String> {
    // `boolout` prints `t` / `f`; the rest is what `boolin` (and `bit(1)`) would give.
    match text.to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "y" | "yes" | "on" => Ok(true),
        "f" | "false" | "0" | "n" | "no" | "off" => Ok(false),
        _ => Err("not a boolean (t or f)".to_owned()),
    }
}

/// A `numeric` or `money` value, brought to `scale` when the column has a fixed one. Only
/// `money` maps to a fixed scale without a precision, so only then is currency text read.
pub(super) fn parse_decimal(
    text: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> Result<Decimal, String> {
    let is_money = precision.is_none() && scale.is_some();
    let decimal = Decimal::parse(text)
        .or_else(|| if is_money { parse_money(text) } else { None })
        .ok_or_else(|| "not a decimal number".to_owned())?;
    match (decimal, scale) {
        (Decimal::Finite { unscaled, scale }, Some(target)) => {
            Ok(rescale(unscaled, scale, target)?)
        }
        (decimal, _) => Ok(decimal),
    }
}

/// `unscaled * 10^-scale` as a decimal of scale `target`, without rounding.
fn rescale(unscaled: BigInt, scale: u32, target: u32) -> Result<Decimal, String> {
    if scale == target {
        return Ok(Decimal::Finite { unscaled, scale });
    }
    if scale < target {
        let factor = BigInt::from(10u32).pow(target - scale);
        return Ok(Decimal::Finite {
            unscaled: unscaled * factor,
            scale: target,
        });
    }
    let factor = BigInt::from(10u32).pow(scale - target);
    let zero = BigInt::from(0u32);
    if &unscaled % &factor != zero {
        return Err(format!("more than {target} fractional digits"));
    }
    Ok(Decimal::Finite {
        unscaled: unscaled / factor,
        scale: target,
    })
}

/// `money` as `cash_out` prints it in the C and English locales: `$1,234.56`, `-$1.00`, and
/// `($1.00)` for negatives in some locales.
fn parse_money(text: &str) -> Option<Decimal> {
    let trimmed = text.trim();
    let (mut negative, body) = match trimmed.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) => (true, inner),
        None => (false, trimmed),
    };
    let mut int_digits = String::new();
    let mut frac_digits: Option<String> = None;
    // 0: before the number, 1: in it, 2: after it.
    let mut state = 0;
    let mut last_was_digit = false;
    for c in body.chars() {
        match c {
            '0'..='9' if state < 2 => {
                state = 1;
                last_was_digit = true;
                match &mut frac_digits {
                    Some(frac) => frac.push(c),
                    None => int_digits.push(c),
                }
            }
            ',' if state == 1 && last_was_digit && frac_digits.is_none() => {
                last_was_digit = false;
            }
            '.' if frac_digits.is_none() && (state == 0 || (state == 1 && last_was_digit)) => {
                state = 1;
                last_was_digit = false;
                frac_digits = Some(String::new());
            }
            // A minus before the number or right after its last digit (`1.00-`).
            '-' if !negative && (state != 1 || last_was_digit) => {
                negative = true;
                if state == 1 {
                    state = 2;
                }
            }
            '+' if state != 1 => {}
            _ if c.is_ascii_digit() || matches!(c, ',' | '.' | '-' | '+' | '(' | ')') => {
                return None;
            }
            // Whitespace and currency symbols, around the number only.
            _ => {
                if state == 1 {
                    if !last_was_digit {
                        return None;
                    }
                    state = 2;
                }
            }
        }
    }
    if int_digits.is_empty() && frac_digits.as_deref().is_none_or(str::is_empty) {
        return None;
    }
    if !last_was_digit && state == 1 && frac_digits.as_deref() != Some("") {
        // A trailing group separator.
        return None;
    }
    let sign = if negative { "-" } else { "" };
    let literal = match frac_digits {
        Some(frac) if !frac.is_empty() => format!("{sign}{int_digits}.{frac}"),
        _ => format!("{sign}{int_digits}"),
    };
    Decimal::parse(&literal)
}

/// `bytea` in the hex format (`\x0aff`) or the legacy escape format (`a\000\\`).
pub(super) fn parse_bytea(text: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix("\\x") {
        let digits = hex.as_bytes();
        let mut out = Vec::with_capacity(digits.len() / 2);
        let mut i = 0;
        while i < digits.len() {
            if digits[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            let high = hex_value(digits[i]);
            let low = digits.get(i + 1).copied().and_then(hex_value);
            match (high, low) {
                (Some(h), Some(l)) => out.push((h << 4) | l),
                _ => return Err("invalid hexadecimal digit or odd number of digits".to_owned()),
            }
            i += 2;
        }
        return Ok(out);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1..i + 4) {
            _ if bytes.get(i + 1) == Some(&b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            Some(&[a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7']) => {
                out.push(((a - b'0') << 6) | ((b - b'0') << 3) | (c - b'0'));
                i += 4;
            }
            _ => return Err("invalid escape (expected \\\\ or \\ooo)".to_owned()),
        }
    }
    Ok(out)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A bit string `0101` packed most significant bit first; returns the bytes and the bit count.
pub(super) fn parse_bits(text: &str) -> Result<(Vec<u8>, u32), String> {
    let length = u32::try_from(text.len()).map_err(|_| "too many bits".to_owned())?;
    let mut bytes = vec![0u8; text.len().div_ceil(8)];
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'0' => {}
            b'1' => bytes[i / 8] |= 0x80 >> (i % 8),
            _ => return Err("a bit string holds only 0 and 1".to_owned()),
        }
    }
    Ok((bytes, length))
}
