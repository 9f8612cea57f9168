//! Debezium-compatible MongoDB extended JSON. Mirrors the Java driver's `org.bson.json.JsonWriter`
//! as configured by Debezium's `JsonSerialization`, so events match Debezium byte for byte.

use mongodb::bson::{Binary, Bson, Document, Regex, Timestamp};

/// Debezium's `after`/`before` rendering (its legacy default json.serialization: the Java driver's JsonMode.STRICT with Debezium's compact separators).
pub fn strict_document(doc: &Document) -> String {
    render(Mode::Strict, ",", |w| w.document(doc))
}

/// Debezium's key `id` rendering of a document's `_id` (JsonMode.RELAXED, compact separators as in the key).
pub fn relaxed_id(id: &Bson) -> String {
    render(Mode::Relaxed, ",", |w| w.value(id))
}

/// Debezium's legacy `updateDescription.updatedFields` rendering (RELAXED, with ", " between members).
pub fn relaxed_fields(doc: &Document) -> String {
    render(Mode::Relaxed, ", ", |w| w.document(doc))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Strict,
    Relaxed,
}

/// Last millisecond of 9999-12-31; RELAXED dates outside 0..=this fall back to `$numberLong`.
const LAST_MS_OF_YEAR_9999: i64 = 253_402_300_799_999;

struct Writer {
    out: String,
    mode: Mode,
    /// Between members and array elements: "," when Debezium sets indent with empty
    /// indent/newline strings, ", " for the driver's default (non-indented) settings.
    sep: &'static str,
}

fn render(mode: Mode, sep: &'static str, write: impl FnOnce(&mut Writer)) -> String {
    let mut w = Writer {
        out: String::new(),
        mode,
        sep,
    };
    write(&mut w);
    w.out
}

impl Writer {
    fn name(&mut self, first: bool, name: &str) {
        if !first {
            self.out.push_str(self.sep);
        }
        write_string(&mut self.out, name);
        self.out.push_str(": ");
    }

    /// Opens a wrapper object such as `{"$oid": ` (the caller writes the value and closes).
    fn open(&mut self, name: &str) {
        self.out.push('{');
        self.name(true, name);
    }

    fn string(&mut self, s: &str) {
        write_string(&mut self.out, s);
    }

    /// `{"name": "value"}`, the shape of most extended-JSON wrappers.
    fn wrap_string(&mut self, name: &str, value: &str) {
        self.open(name);
        self.string(value);
        self.out.push('}');
    }

    fn document(&mut self, doc: &Document) {
        self.out.push('{');
        for (i, (k, v)) in doc.iter().enumerate() {
            self.name(i == 0, k);
            self.value(v);
        }
        self.out.push('}');
    }

    fn value(&mut self, v: &Bson) {
        let relaxed = self.mode == Mode::Relaxed;
        match v {
            Bson::Double(d) if relaxed && !d.is_finite() => {
                self.wrap_string("$numberDouble", &java_double(*d))
            }
            Bson::Double(d) => self.out.push_str(&java_double(*d)),
            Bson::String(s) => self.string(s),
            Bson::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(self.sep);
                    }
                    self.value(item);
                }
                self.out.push(']');
            }
            Bson::Document(doc) => self.document(doc),
            Bson::Boolean(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Bson::Null => self.out.push_str("null"),
            Bson::RegularExpression(re) => self.regex(re),
            Bson::JavaScriptCode(code) => self.wrap_string("$code", code),
            Bson::JavaScriptCodeWithScope(cws) => {
                self.open("$code");
                self.string(&cws.code);
                self.name(false, "$scope");
                self.document(&cws.scope);
                self.out.push('}');
            }
            Bson::Int32(i) => self.out.push_str(&i.to_string()),
            Bson::Int64(i) if relaxed => self.out.push_str(&i.to_string()),
            Bson::Int64(i) => self.wrap_string("$numberLong", &i.to_string()),
            Bson::Timestamp(ts) => self.timestamp(ts),
            Bson::Binary(bin) => self.binary(bin),
            Bson::ObjectId(oid) => self.wrap_string("$oid", &oid.to_hex()),
            Bson::DateTime(dt) => self.date(dt.timestamp_millis()),
            Bson::Symbol(s) => self.wrap_string("$symbol", s),
            Bson::Decimal128(d) => self.wrap_string("$numberDecimal", &decimal128(d.bytes())),
            Bson::Undefined => self.wrap_raw("$undefined", "true"),
            Bson::MaxKey => self.wrap_raw("$maxKey", "1"),
            Bson::MinKey => self.wrap_raw("$minKey", "1"),
            Bson::DbPointer(_) => {
                // DbPointer's fields are private; its canonical extended JSON exposes them.
                let json = v.clone().into_canonical_extjson();
                let ptr = &json["$dbPointer"];
                self.open("$ref");
                self.string(ptr["$ref"].as_str().unwrap_or_default());
                self.name(false, "$id");
                self.wrap_string("$oid", ptr["$id"]["$oid"].as_str().unwrap_or_default());
                self.out.push('}');
            }
        }
    }

    fn wrap_raw(&mut self, name: &str, value: &str) {
        self.open(name);
        self.out.push_str(value);
        self.out.push('}');
    }

    /// `{"k1": "v1","k2": "v2"}`, nested as `{"outer": {...}}` when `outer` is given.
    fn string_pair(&mut self, outer: Option<&str>, first: [&str; 2], second: [&str; 2]) {
        if let Some(outer) = outer {
            self.open(outer);
        }
        self.open(first[0]);
        self.string(first[1]);
        self.name(false, second[0]);
        self.string(second[1]);
        self.out.push('}');
        if outer.is_some() {
            self.out.push('}');
        }
    }

    fn regex(&mut self, re: &Regex) {
        // BsonRegularExpression sorts its option characters.
        let mut options: Vec<char> = re.options.chars().collect();
        options.sort_unstable();
        let (pattern, options) = (
            re.pattern.as_str(),
            &options.into_iter().collect::<String>(),
        );
        match self.mode {
            Mode::Strict => self.string_pair(None, ["$regex", pattern], ["$options", options]),
            Mode::Relaxed => self.string_pair(
                Some("$regularExpression"),
                ["pattern", pattern],
                ["options", options],
            ),
        }
    }

    fn timestamp(&mut self, ts: &Timestamp) {
        self.open("$timestamp");
        self.open("t");
        self.out.push_str(&ts.time.to_string());
        self.name(false, "i");
        self.out.push_str(&ts.increment.to_string());
        self.out.push('}');
        self.out.push('}');
    }

    fn binary(&mut self, bin: &Binary) {
        let data = base64(&bin.bytes);
        let subtype = format!("{:02X}", u8::from(bin.subtype));
        match self.mode {
            Mode::Strict => self.string_pair(None, ["$binary", &data], ["$type", &subtype]),
            Mode::Relaxed => {
                self.string_pair(Some("$binary"), ["base64", &data], ["subType", &subtype])
            }
        }
    }

    fn date(&mut self, ms: i64) {
        match self.mode {
            Mode::Strict => self.wrap_raw("$date", &ms.to_string()),
            Mode::Relaxed if (0..=LAST_MS_OF_YEAR_9999).contains(&ms) => {
                self.wrap_string("$date", &iso_millis(ms))
            }
            Mode::Relaxed => {
                self.open("$date");
                self.wrap_string("$numberLong", &ms.to_string());
                self.out.push('}');
            }
        }
    }
}

/// The driver's `StrictCharacterStreamJsonWriter.writeStringHelper`: short escapes for a few
/// characters, `\uxxxx` (lowercase) for every UTF-16 unit outside its allowed categories.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if java_escapes(c) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Supplementary characters are written as surrogates (category Cs), which are always escaped.
fn java_escapes(c: char) -> bool {
    let c = c as u32;
    c > 0xFFFF || ESCAPED_BMP.partition_point(|&bound| bound <= c) % 2 == 1
}

/// Half-open `[start, end)` pairs of BMP code points whose `Character.getType` is not in the
/// writer's pass-through list (Cc, Cf, Cn, Co, Cs, Lm, Mc, Me, Mn, Zl, Zp), for Unicode 15.0 as
/// in Java 21 (generated with ICU 72's `u_charType`).
#[rustfmt::skip]
const ESCAPED_BMP: &[u32] = &[
    0x0,0x20, 0x7f,0xa0, 0xad,0xae, 0x2b0,0x2c2, 0x2c6,0x2d2, 0x2e0,0x2e5, 0x2ec,0x2ed, 0x2ee,0x2ef,
    0x300,0x370, 0x374,0x375, 0x378,0x37b, 0x380,0x384, 0x38b,0x38c, 0x38d,0x38e, 0x3a2,0x3a3,
    0x483,0x48a, 0x530,0x531, 0x557,0x55a, 0x58b,0x58d, 0x590,0x5be, 0x5bf,0x5c0, 0x5c1,0x5c3,
    0x5c4,0x5c6, 0x5c7,0x5d0, 0x5eb,0x5ef, 0x5f5,0x606, 0x610,0x61b, 0x61c,0x61d, 0x640,0x641,
    0x64b,0x660, 0x670,0x671, 0x6d6,0x6de, 0x6df,0x6e9, 0x6ea,0x6ee, 0x70e,0x710, 0x711,0x712,
    0x730,0x74d, 0x7a6,0x7b1, 0x7b2,0x7c0, 0x7eb,0x7f6, 0x7fa,0x7fe, 0x816,0x830, 0x83f,0x840,
    0x859,0x85e, 0x85f,0x860, 0x86b,0x870, 0x88f,0x8a0, 0x8c9,0x904, 0x93a,0x93d, 0x93e,0x950,
    0x951,0x958, 0x962,0x964, 0x971,0x972, 0x981,0x985, 0x98d,0x98f, 0x991,0x993, 0x9a9,0x9aa,
    0x9b1,0x9b2, 0x9b3,0x9b6, 0x9ba,0x9bd, 0x9be,0x9ce, 0x9cf,0x9dc, 0x9de,0x9df, 0x9e2,0x9e6,
    0x9fe,0xa05, 0xa0b,0xa0f, 0xa11,0xa13, 0xa29,0xa2a, 0xa31,0xa32, 0xa34,0xa35, 0xa37,0xa38,
    0xa3a,0xa59, 0xa5d,0xa5e, 0xa5f,0xa66, 0xa70,0xa72, 0xa75,0xa76, 0xa77,0xa85, 0xa8e,0xa8f,
    0xa92,0xa93, 0xaa9,0xaaa, 0xab1,0xab2, 0xab4,0xab5, 0xaba,0xabd, 0xabe,0xad0, 0xad1,0xae0,
    0xae2,0xae6, 0xaf2,0xaf9, 0xafa,0xb05, 0xb0d,0xb0f, 0xb11,0xb13, 0xb29,0xb2a, 0xb31,0xb32,
    0xb34,0xb35, 0xb3a,0xb3d, 0xb3e,0xb5c, 0xb5e,0xb5f, 0xb62,0xb66, 0xb78,0xb83, 0xb84,0xb85,
    0xb8b,0xb8e, 0xb91,0xb92, 0xb96,0xb99, 0xb9b,0xb9c, 0xb9d,0xb9e, 0xba0,0xba3, 0xba5,0xba8,
    0xbab,0xbae, 0xbba,0xbd0, 0xbd1,0xbe6, 0xbfb,0xc05, 0xc0d,0xc0e, 0xc11,0xc12, 0xc29,0xc2a,
    0xc3a,0xc3d, 0xc3e,0xc58, 0xc5b,0xc5d, 0xc5e,0xc60, 0xc62,0xc66, 0xc70,0xc77, 0xc81,0xc84,
    0xc8d,0xc8e, 0xc91,0xc92, 0xca9,0xcaa, 0xcb4,0xcb5, 0xcba,0xcbd, 0xcbe,0xcdd, 0xcdf,0xce0,
    0xce2,0xce6, 0xcf0,0xcf1, 0xcf3,0xd04, 0xd0d,0xd0e, 0xd11,0xd12, 0xd3b,0xd3d, 0xd3e,0xd4e,
    0xd50,0xd54, 0xd57,0xd58, 0xd62,0xd66, 0xd80,0xd85, 0xd97,0xd9a, 0xdb2,0xdb3, 0xdbc,0xdbd,
    0xdbe,0xdc0, 0xdc7,0xde6, 0xdf0,0xdf4, 0xdf5,0xe01, 0xe31,0xe32, 0xe34,0xe3f, 0xe46,0xe4f,
    0xe5c,0xe81, 0xe83,0xe84, 0xe85,0xe86, 0xe8b,0xe8c, 0xea4,0xea5, 0xea6,0xea7, 0xeb1,0xeb2,
    0xeb4,0xebd, 0xebe,0xec0, 0xec5,0xed0, 0xeda,0xedc, 0xee0,0xf00, 0xf18,0xf1a, 0xf35,0xf36,
    0xf37,0xf38, 0xf39,0xf3a, 0xf3e,0xf40, 0xf48,0xf49, 0xf6d,0xf85, 0xf86,0xf88, 0xf8d,0xfbe,
    0xfc6,0xfc7, 0xfcd,0xfce, 0xfdb,0x1000, 0x102b,0x103f, 0x1056,0x105a, 0x105e,0x1061,
    0x1062,0x1065, 0x1067,0x106e, 0x1071,0x1075, 0x1082,0x108e, 0x108f,0x1090, 0x109a,0x109e,
    0x10c6,0x10c7, 0x10c8,0x10cd, 0x10ce,0x10d0, 0x10fc,0x10fd, 0x1249,0x124a, 0x124e,0x1250,
    0x1257,0x1258, 0x1259,0x125a, 0x125e,0x1260, 0x1289,0x128a, 0x128e,0x1290, 0x12b1,0x12b2,
    0x12b6,0x12b8, 0x12bf,0x12c0, 0x12c1,0x12c2, 0x12c6,0x12c8, 0x12d7,0x12d8, 0x1311,0x1312,
    0x1316,0x1318, 0x135b,0x1360, 0x137d,0x1380, 0x139a,0x13a0, 0x13f6,0x13f8, 0x13fe,0x1400,
    0x169d,0x16a0, 0x16f9,0x1700, 0x1712,0x171f, 0x1732,0x1735, 0x1737,0x1740, 0x1752,0x1760,
    0x176d,0x176e, 0x1771,0x1780, 0x17b4,0x17d4, 0x17d7,0x17d8, 0x17dd,0x17e0, 0x17ea,0x17f0,
    0x17fa,0x1800, 0x180b,0x1810, 0x181a,0x1820, 0x1843,0x1844, 0x1879,0x1880, 0x1885,0x1887,
    0x18a9,0x18aa, 0x18ab,0x18b0, 0x18f6,0x1900, 0x191f,0x1940, 0x1941,0x1944, 0x196e,0x1970,
    0x1975,0x1980, 0x19ac,0x19b0, 0x19ca,0x19d0, 0x19db,0x19de, 0x1a17,0x1a1e, 0x1a55,0x1a80,
    0x1a8a,0x1a90, 0x1a9a,0x1aa0, 0x1aa7,0x1aa8, 0x1aae,0x1b05, 0x1b34,0x1b45, 0x1b4d,0x1b50,
    0x1b6b,0x1b74, 0x1b7f,0x1b83, 0x1ba1,0x1bae, 0x1be6,0x1bfc, 0x1c24,0x1c3b, 0x1c4a,0x1c4d,
    0x1c78,0x1c7e, 0x1c89,0x1c90, 0x1cbb,0x1cbd, 0x1cc8,0x1cd3, 0x1cd4,0x1ce9, 0x1ced,0x1cee,
    0x1cf4,0x1cf5, 0x1cf7,0x1cfa, 0x1cfb,0x1d00, 0x1d2c,0x1d6b, 0x1d78,0x1d79, 0x1d9b,0x1e00,
    0x1f16,0x1f18, 0x1f1e,0x1f20, 0x1f46,0x1f48, 0x1f4e,0x1f50, 0x1f58,0x1f59, 0x1f5a,0x1f5b,
    0x1f5c,0x1f5d, 0x1f5e,0x1f5f, 0x1f7e,0x1f80, 0x1fb5,0x1fb6, 0x1fc5,0x1fc6, 0x1fd4,0x1fd6,
    0x1fdc,0x1fdd, 0x1ff0,0x1ff2, 0x1ff5,0x1ff6, 0x1fff,0x2000, 0x200b,0x2010, 0x2028,0x202f,
    0x2060,0x2070, 0x2071,0x2074, 0x207f,0x2080, 0x208f,0x20a0, 0x20c1,0x2100, 0x218c,0x2190,
    0x2427,0x2440, 0x244b,0x2460, 0x2b74,0x2b76, 0x2b96,0x2b97, 0x2c7c,0x2c7e, 0x2cef,0x2cf2,
    0x2cf4,0x2cf9, 0x2d26,0x2d27, 0x2d28,0x2d2d, 0x2d2e,0x2d30, 0x2d68,0x2d70, 0x2d71,0x2d80,
    0x2d97,0x2da0, 0x2da7,0x2da8, 0x2daf,0x2db0, 0x2db7,0x2db8, 0x2dbf,0x2dc0, 0x2dc7,0x2dc8,
    0x2dcf,0x2dd0, 0x2dd7,0x2dd8, 0x2ddf,0x2e00, 0x2e2f,0x2e30, 0x2e5e,0x2e80, 0x2e9a,0x2e9b,
    0x2ef4,0x2f00, 0x2fd6,0x2ff0, 0x2ffc,0x3000, 0x3005,0x3006, 0x302a,0x3030, 0x3031,0x3036,
    0x303b,0x303c, 0x3040,0x3041, 0x3097,0x309b, 0x309d,0x309f, 0x30fc,0x30ff, 0x3100,0x3105,
    0x3130,0x3131, 0x318f,0x3190, 0x31e4,0x31f0, 0x321f,0x3220, 0xa015,0xa016, 0xa48d,0xa490,
    0xa4c7,0xa4d0, 0xa4f8,0xa4fe, 0xa60c,0xa60d, 0xa62c,0xa640, 0xa66f,0xa673, 0xa674,0xa67e,
    0xa67f,0xa680, 0xa69c,0xa6a0, 0xa6f0,0xa6f2, 0xa6f8,0xa700, 0xa717,0xa720, 0xa770,0xa771,
    0xa788,0xa789, 0xa7cb,0xa7d0, 0xa7d2,0xa7d3, 0xa7d4,0xa7d5, 0xa7da,0xa7f5, 0xa7f8,0xa7fa,
    0xa802,0xa803, 0xa806,0xa807, 0xa80b,0xa80c, 0xa823,0xa828, 0xa82c,0xa830, 0xa83a,0xa840,
    0xa878,0xa882, 0xa8b4,0xa8ce, 0xa8da,0xa8f2, 0xa8ff,0xa900, 0xa926,0xa92e, 0xa947,0xa95f,
    0xa97d,0xa984, 0xa9b3,0xa9c1, 0xa9ce,0xa9d0, 0xa9da,0xa9de, 0xa9e5,0xa9e7, 0xa9ff,0xaa00,
    0xaa29,0xaa40, 0xaa43,0xaa44, 0xaa4c,0xaa50, 0xaa5a,0xaa5c, 0xaa70,0xaa71, 0xaa7b,0xaa7e,
    0xaab0,0xaab1, 0xaab2,0xaab5, 0xaab7,0xaab9, 0xaabe,0xaac0, 0xaac1,0xaac2, 0xaac3,0xaadb,
    0xaadd,0xaade, 0xaaeb,0xaaf0, 0xaaf3,0xab01, 0xab07,0xab09, 0xab0f,0xab11, 0xab17,0xab20,
    0xab27,0xab28, 0xab2f,0xab30, 0xab5c,0xab60, 0xab69,0xab6a, 0xab6c,0xab70, 0xabe3,0xabeb,
    0xabec,0xabf0, 0xabfa,0xac00, 0xd7a4,0xd7b0, 0xd7c7,0xd7cb, 0xd7fc,0xf900, 0xfa6e,0xfa70,
    0xfada,0xfb00, 0xfb07,0xfb13, 0xfb18,0xfb1d, 0xfb1e,0xfb1f, 0xfb37,0xfb38, 0xfb3d,0xfb3e,
    0xfb3f,0xfb40, 0xfb42,0xfb43, 0xfb45,0xfb46, 0xfbc3,0xfbd3, 0xfd90,0xfd92, 0xfdc8,0xfdcf,
    0xfdd0,0xfdf0, 0xfe00,0xfe10, 0xfe1a,0xfe30, 0xfe53,0xfe54, 0xfe67,0xfe68, 0xfe6c,0xfe70,
    0xfe75,0xfe76, 0xfefd,0xff01, 0xff70,0xff71, 0xff9e,0xffa0, 0xffbf,0xffc2, 0xffc8,0xffca,
    0xffd0,0xffd2, 0xffd8,0xffda, 0xffdd,0xffe0, 0xffe7,0xffe8, 0xffef,0xfffc, 0xfffe,0x10000,
];

/// Java's `Double.toString` (JDK 19+ shortest-decimal spec), plus the driver's
/// `JsonDoubleHelper` rewrite of positive exponents `E20` to `E+20`.
fn java_double(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string().replace("inf", "Infinity"); // NaN, Infinity, -Infinity
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    let abs = v.abs();
    // Java takes the closest of the shortest decimals (at least two digits) that round to `v`,
    // ties to even: Rust's exact mode at that length gives it, its shortest mode rounds ties up.
    let shortest = format!("{abs:e}");
    let prec = sci_parts(&shortest).0.len().max(2) - 1;
    let closest = format!("{abs:.prec$e}");
    let chosen = Some(closest)
        .filter(|c| c.parse() == Ok(abs))
        .unwrap_or(shortest);
    let (mut digits, exp) = sci_parts(&chosen);
    digits.truncate(digits.trim_end_matches('0').len().max(1));
    let body = if (-3..7).contains(&exp) {
        if exp < 0 {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                format!("{digits}{}.0", "0".repeat(int_len - digits.len()))
            } else {
                format!("{}.{}", &digits[..int_len], &digits[int_len..])
            }
        }
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        let plus = if exp > 0 { "+" } else { "" };
        format!("{}.{frac}E{plus}{exp}", &digits[..1])
    };
    format!("{sign}{body}")
}

/// Java's `Decimal128.toString`. Unlike bson's `Display` it keeps a coefficient above
/// 10^34 - 1 (non-canonical) instead of reading it as zero.
fn decimal128(bytes: [u8; 16]) -> String {
    let bits = u128::from_le_bytes(bytes);
    let high = (bits >> 64) as u64;
    let sign = if bits >> 127 == 1 { "-" } else { "" };
    match high & 0x7C00_0000_0000_0000 {
        0x7C00_0000_0000_0000 => return "NaN".to_string(),
        0x7800_0000_0000_0000 => return format!("{sign}Infinity"),
        _ => {}
    }
    let (exp, coefficient) = if high >> 61 & 3 == 3 {
        ((high >> 47 & 0x3FFF) as i32 - 6176, 0)
    } else {
        ((high >> 49 & 0x3FFF) as i32 - 6176, bits & ((1 << 113) - 1))
    };
    let digits = coefficient.to_string();
    let adjusted = exp + digits.len() as i32 - 1;
    let body = if exp == 0 {
        digits
    } else if exp < 0 && adjusted >= -6 {
        let pad = -exp - digits.len() as i32;
        if pad >= 0 {
            format!("0.{}{digits}", "0".repeat(pad as usize))
        } else {
            let split = (-pad) as usize;
            format!("{}.{}", &digits[..split], &digits[split..])
        }
    } else {
        let frac = if digits.len() > 1 {
            format!(".{}", &digits[1..])
        } else {
            String::new()
        };
        let plus = if adjusted > 0 { "+" } else { "" };
        format!("{}{frac}E{plus}{adjusted}", &digits[..1])
    };
    format!("{sign}{body}")
}

/// Splits Rust's `{:e}` output ("1.2345e-5") into significant digits and decimal exponent.
fn sci_parts(s: &str) -> (String, i32) {
    let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
    (mantissa.replace('.', ""), exp.parse().unwrap_or(0))
}

/// `ISO_OFFSET_DATE_TIME` in UTC: seconds always, fraction only when non-zero and without
/// trailing zeros, `Z` offset.
fn iso_millis(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    let (h, min) = (rem / 3_600_000, rem / 60_000 % 60);
    let (s, frac) = (rem / 1000 % 60, rem % 1000);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}");
    if frac != 0 {
        out.push_str(format!(".{frac:03}").trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Proleptic Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Standard padded base64, as `java.util.Base64.getEncoder()`.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (chunk.iter().enumerate()).fold(0, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            let sextet = (n >> (18 - 6 * i) & 63) as usize;
            out.push(if i <= chunk.len() {
                ALPHABET[sextet] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
#[path = "ext_json_tests.rs"]
mod tests;
