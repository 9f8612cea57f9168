//! PostgreSQL's built-in geometric types and PostGIS values, from their output text, as
//! Debezium renders them: `point` as a `Point` (x, y and the point's WKB), `box`, `lseg`,
//! `path` and `polygon` as OGC WKB (little endian, no SRID) with Debezium's extensions,
//! `circle` and `line` by their numbers, and PostGIS `geometry` / `geography` (printed as hex
//! EWKB) as those bytes with the SRID read from them.
//!
//! Only PostgreSQL's canonical output is read (`(x,y)`, `[(x,y),(x,y)]`, `((x,y),...)`,
//! `<(x,y),r>`, `{A,B,C}`); numbers are `float8out`'s (`1.5`, `1e+100`, `Infinity`, `NaN`).

use crate::event::{ShapeKind, Value};

/// OGC WKB geometry type codes (a point's WKB is `event::point_wkb`).
const WKB_LINE_STRING: u32 = 2;
const WKB_POLYGON: u32 = 3;
/// PostGIS EWKB's flag in the type word: an SRID follows it.
const EWKB_SRID_FLAG: u32 = 0x2000_0000;

type Xy = (f64, f64);

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("\"{}\" is not a number", text.trim()))
}

/// `inner` without the `open` and `close` around it.
fn strip(text: &str, open: char, close: char) -> Result<&str, String> {
    text.trim()
        .strip_prefix(open)
        .and_then(|t| t.strip_suffix(close))
        .ok_or_else(|| format!("expected {open}...{close}"))
}

/// `(x,y)`.
fn point(text: &str) -> Result<Xy, String> {
    let (x, y) = strip(text, '(', ')')?
        .split_once(',')
        .ok_or("a point needs x,y")?;
    Ok((number(x)?, number(y)?))
}

/// `(x,y),(x,y),...`: at least one point.
fn points(text: &str) -> Result<Vec<Xy>, String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    loop {
        let end = rest.find(')').ok_or("a point without )")?;
        out.push(point(&rest[..=end])?);
        rest = rest[end + 1..].trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        rest = rest
            .strip_prefix(',')
            .ok_or("points must be separated by ,")?
            .trim_start();
    }
}

fn header(wkb: &mut Vec<u8>, kind: u32) {
    wkb.push(1); // little endian
    wkb.extend_from_slice(&kind.to_le_bytes());
}

fn push_points(wkb: &mut Vec<u8>, points: &[Xy]) -> Result<(), String> {
    let n = u32::try_from(points.len()).map_err(|_| "too many points".to_owned())?;
    wkb.extend_from_slice(&n.to_le_bytes());
    for (x, y) in points {
        wkb.extend_from_slice(&x.to_le_bytes());
        wkb.extend_from_slice(&y.to_le_bytes());
    }
    Ok(())
}

fn line_string_wkb(points: &[Xy]) -> Result<Vec<u8>, String> {
    let mut wkb = Vec::with_capacity(9 + 16 * points.len());
    header(&mut wkb, WKB_LINE_STRING);
    push_points(&mut wkb, points)?;
    Ok(wkb)
}

/// A polygon of one ring.
fn polygon_wkb(ring: &[Xy]) -> Result<Vec<u8>, String> {
    let mut wkb = Vec::with_capacity(13 + 16 * ring.len());
    header(&mut wkb, WKB_POLYGON);
    wkb.extend_from_slice(&1u32.to_le_bytes());
    push_points(&mut wkb, ring)?;
    Ok(wkb)
}

/// `point` text as Debezium's `Point`: x, y, their WKB, no SRID.
pub(super) fn parse_point(text: &str) -> Result<Value, String> {
    let (x, y) = point(text)?;
    Ok(Value::point(x, y))
}

/// `box`, `lseg`, `path` or `polygon` text as Debezium's `Geometry` value.
pub(super) fn parse_shape(kind: ShapeKind, text: &str) -> Result<Value, String> {
    let mut extensions = vec![("type".to_owned(), kind.name().to_owned())];
    let wkb = match kind {
        ShapeKind::Box => {
            // PostgreSQL prints the upper-right corner first; Debezium walks the rectangle
            // from it: (x1,y1) (x1,y2) (x2,y2) (x2,y1) and back.
            let [(x1, y1), (x2, y2)] = two(points(text)?, "a box")?;
            polygon_wkb(&[(x1, y1), (x1, y2), (x2, y2), (x2, y1), (x1, y1)])?
        }
        ShapeKind::Lseg => {
            let ends = two(points(strip(text, '[', ']')?)?, "a line segment")?;
            line_string_wkb(&ends)?
        }
        ShapeKind::Path => {
            let trimmed = text.trim();
            let (inner, closed) = if trimmed.starts_with('[') {
                (strip(trimmed, '[', ']')?, false)
            } else {
                (strip(trimmed, '(', ')')?, true)
            };
            extensions.push(("closed".to_owned(), closed.to_string()));
            line_string_wkb(&points(inner)?)?
        }
        ShapeKind::Polygon => {
            let mut ring = points(strip(text, '(', ')')?)?;
            // Debezium closes the ring (compared as doubles, so NaN never matches).
            if let (Some(&first), Some(&last)) = (ring.first(), ring.last())
                && ring.len() >= 2
                && (first.0 != last.0 || first.1 != last.1)
            {
                ring.push(first);
            }
            polygon_wkb(&ring)?
        }
    };
    Ok(Value::Shape { wkb, extensions })
}

fn two(points: Vec<Xy>, what: &str) -> Result<[Xy; 2], String> {
    <[Xy; 2]>::try_from(points).map_err(|p| format!("{what} needs 2 points, not {}", p.len()))
}

/// `circle` text `<(x,y),r>`.
pub(super) fn parse_circle(text: &str) -> Result<Value, String> {
    let (center, radius) = strip(text, '<', '>')?
        .rsplit_once(',')
        .ok_or("a circle needs a center and a radius")?;
    let (x, y) = point(center)?;
    Ok(Value::Circle {
        x,
        y,
        radius: number(radius)?,
    })
}

/// `line` text `{A,B,C}`.
pub(super) fn parse_line(text: &str) -> Result<Value, String> {
    let parts: Vec<&str> = strip(text, '{', '}')?.split(',').collect();
    let [a, b, c] = parts[..] else {
        return Err("a line needs 3 coefficients".to_owned());
    };
    Ok(Value::Line {
        a: number(a)?,
        b: number(b)?,
        c: number(c)?,
    })
}

/// PostGIS `geometry` / `geography` output (hex EWKB): the EWKB bytes as they are (what
/// Debezium puts in `wkb`) and the SRID when the type word flags one.
pub(super) fn parse_postgis(text: &str) -> Result<Value, String> {
    let hex = text.trim().as_bytes();
    if !hex.len().is_multiple_of(2) {
        return Err("odd number of hex digits".to_owned());
    }
    let wkb = hex
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| "not hex EWKB".to_owned())
        })
        .collect::<Result<Vec<u8>, String>>()?;
    if wkb.len() < 9 {
        return Err(format!("EWKB of {} bytes, fewer than 9", wkb.len()));
    }
    let word = |at: usize| -> [u8; 4] { [wkb[at], wkb[at + 1], wkb[at + 2], wkb[at + 3]] };
    let little = match wkb[0] {
        0 => false,
        1 => true,
        b => return Err(format!("byte order marker {b}")),
    };
    let read = |at| {
        if little {
            u32::from_le_bytes(word(at))
        } else {
            u32::from_be_bytes(word(at))
        }
    };
    let srid = (read(1) & EWKB_SRID_FLAG != 0).then(|| read(5) as i32);
    Ok(Value::Geometry { wkb, srid })
}

/// pgvector's `vector` / `halfvec` text `[1,2,3]`: the numbers, as Debezium's
/// `Vectors.fromVectorString` splits them.
pub(super) fn parse_vector<T: std::str::FromStr>(text: &str) -> Result<Vec<T>, String> {
    strip(text, '[', ']')?
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .map_err(|_| format!("\"{}\" is not a number", n.trim()))
        })
        .collect()
}
