//! Expected strings come from (paths abbreviated):
//! - DBZ: debezium/debezium, debezium-connector-mongodb/src/test/java/io/debezium/connector/mongodb/
//! - JWT: mongodb/mongo-java-driver, bson/src/test/unit/org/bson/json/JsonWriterTest.java. It uses
//!   the default settings (RELAXED, no indent), i.e. exactly Debezium's legacy updatedFields.
//! - CORPUS: mongodb/specifications, source/bson-corpus/tests/<type>.json (values and input bytes;
//!   the corpus' own whitespace differs from the Java writer's).
//! - DRIVER: output of mongo-java-driver's bson module (HEAD, built locally, OpenJDK 17) with
//!   Debezium's JsonSerialization settings, for combinations the test files above lack.

use super::{relaxed_fields, relaxed_id, strict_document};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{
    Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp, bson,
    doc,
};

const OID: &str = "4d0ce088e447ad08b4721a37";

fn oid() -> ObjectId {
    ObjectId::parse_str(OID).unwrap()
}

/// Decodes a corpus `canonical_bson` hex string.
fn corpus(hex: &str) -> Document {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Document::from_reader(&mut bytes.as_slice()).unwrap()
}

fn first(doc: &Document) -> &Bson {
    doc.iter().next().unwrap().1
}

fn bin(subtype: u8, bytes: &[u8]) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::from(subtype),
        bytes: bytes.to_vec(),
    })
}

fn regex(pattern: &str, options: &str) -> Bson {
    // Fields set directly so that unsorted options reach the writer.
    Bson::RegularExpression(Regex {
        pattern: pattern.to_string(),
        options: options.to_string(),
    })
}

fn double(v: f64) -> String {
    strict_document(&doc! { "d": v })
}

#[test]
fn strict_read_record_from_field_exclude_list_it() {
    // DBZ FieldExcludeListIT.shouldExcludeFieldsForReadEvent
    let d = doc! { "_id": oid(), "phone": 123_i64, "scores": [1.2, 3.4, 5.6] };
    assert_eq!(
        strict_document(&d),
        format!(
            r#"{{"_id": {{"$oid": "{OID}"}},"phone": {{"$numberLong": "123"}},"scores": [1.2,3.4,5.6]}}"#
        )
    );
}

#[test]
fn legacy_updated_fields() {
    // DBZ JsonSerializationTest.shouldPreserveLegacyUpdatedFieldsFormatting
    let d = doc! { "name": "Mary", "zipcode": "11111" };
    assert_eq!(
        relaxed_fields(&d),
        r#"{"name": "Mary", "zipcode": "11111"}"#
    );
    // DBZ FieldExcludeListIT.shouldExcludeFieldsForUpdateEvent (`updated`)
    let d = doc! { "phone": 123_i64, "scores": [1.2, 3.4, 5.6] };
    assert_eq!(
        relaxed_fields(&d),
        r#"{"phone": 123, "scores": [1.2, 3.4, 5.6]}"#
    );
}

#[test]
fn key_ids_from_connector_it() {
    // DBZ JsonSerializationTest.shouldGeOnlyIdFromCompositeKey
    assert_eq!(relaxed_id(&Bson::Int32(42)), "42");
    // DBZ MongoDbConnectorIT.formatObjectId
    assert_eq!(
        relaxed_id(&Bson::ObjectId(oid())),
        format!(r#"{{"$oid": "{OID}"}}"#)
    );
    // DBZ MongoDbConnectorIT.shouldGenerateRecordsWithCorrectlySerializedId
    assert_eq!(relaxed_id(&Bson::Int64(i32::MAX as i64 + 10)), "2147483657");
    assert_eq!(relaxed_id(&Bson::String("123".into())), r#""123""#);
    let composite = Bson::Document(doc! { "company": 32, "dept": "home improvement" });
    assert_eq!(
        relaxed_id(&composite),
        r#"{"company": 32,"dept": "home improvement"}"#
    );
    let dec: Decimal128 = "123.45678".parse().unwrap();
    assert_eq!(
        relaxed_id(&Bson::Decimal128(dec)),
        r#"{"$numberDecimal": "123.45678"}"#
    );
    // Same test: dates as ZonedDateTime...format(ISO_OFFSET_DATE_TIME); CORPUS datetime.json
    let date = Bson::DateTime(DateTime::from_millis(1_356_351_330_501));
    assert_eq!(
        relaxed_id(&date),
        r#"{"$date": "2012-12-24T12:15:30.501Z"}"#
    );
}

#[test]
fn every_type_in_all_three_renderings() {
    // DRIVER: one document holding every BSON type.
    let mut d = doc! {
        "_id": oid(), "i32": -42, "i64": i64::MIN, "dbl": 1.5,
        "str": "a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}/é", "t": true, "f": false, "nul": Bson::Null,
        "re": regex("^a.*b$", "xmi"),
        "code": Bson::JavaScriptCode("function f() { return 1; }".into()),
        "cws": Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope {
            code: "function f() { return n; }".into(), scope: doc! { "n": 1, "m": [] },
        }),
        "ts": Timestamp { time: 4_294_967_295, increment: 4_000_000_000 },
        "ts2": Timestamp { time: 1_666_193_824, increment: 1 },
        "bin": bin(0x80, &[1, 2, 3]),
        "uuid": bin(4, &[
            0x73, 0xff, 0xd2, 0x64, 0x44, 0xb3, 0x4c, 0x69, 0x90, 0xe8, 0xe7, 0xd1, 0xdf, 0xc0, 0x35, 0xd4,
        ]),
        "date": DateTime::from_millis(1_783_078_553_473), "olddate": DateTime::from_millis(-1000),
        "sym": Bson::Symbol("x".into()), "dec": "123.45678".parse::<Decimal128>().unwrap(),
        "undef": Bson::Undefined, "max": Bson::MaxKey, "min": Bson::MinKey,
    };
    // CORPUS dbpointer.json "DBpointer" bytes, re-pointed at the driver test's namespace/id.
    let ptr = corpus("200000000C6100080000006D792E74657374004D0CE088E447AD08B4721A3700");
    d.insert("ptr", first(&ptr).clone());
    d.insert("arr", bson!([1, [], {}, [2_i64, { "x": f64::NAN }]]));
    d.insert("doc", doc! { "a": { "b": 7_i64, "c": -0.0 } });
    d.insert("", "");
    assert_eq!(
        strict_document(&d),
        concat!(
            r#"{"_id": {"$oid": "4d0ce088e447ad08b4721a37"},"i32": -42,"#,
            r#""i64": {"$numberLong": "-9223372036854775808"},"dbl": 1.5,"#,
            r#""str": "a\"b\\c\b\f\n\r\t\u0001\u001f/é","t": true,"f": false,"nul": null,"#,
            r#""re": {"$regex": "^a.*b$","$options": "imx"},"#,
            r#""code": {"$code": "function f() { return 1; }"},"#,
            r#""cws": {"$code": "function f() { return n; }","$scope": {"n": 1,"m": []}},"#,
            r#""ts": {"$timestamp": {"t": 4294967295,"i": 4000000000}},"#,
            r#""ts2": {"$timestamp": {"t": 1666193824,"i": 1}},"#,
            r#""bin": {"$binary": "AQID","$type": "80"},"#,
            r#""uuid": {"$binary": "c//SZESzTGmQ6OfR38A11A==","$type": "04"},"#,
            r#""date": {"$date": 1783078553473},"olddate": {"$date": -1000},"#,
            r#""sym": {"$symbol": "x"},"dec": {"$numberDecimal": "123.45678"},"#,
            r#""undef": {"$undefined": true},"max": {"$maxKey": 1},"min": {"$minKey": 1},"#,
            r#""ptr": {"$ref": "my.test","$id": {"$oid": "4d0ce088e447ad08b4721a37"}},"#,
            r#""arr": [1,[],{},[{"$numberLong": "2"},{"x": NaN}]],"#,
            r#""doc": {"a": {"b": {"$numberLong": "7"},"c": -0.0}},"": ""}"#,
        )
    );
    assert_eq!(
        relaxed_fields(&d),
        concat!(
            r#"{"_id": {"$oid": "4d0ce088e447ad08b4721a37"}, "i32": -42, "#,
            r#""i64": -9223372036854775808, "dbl": 1.5, "#,
            r#""str": "a\"b\\c\b\f\n\r\t\u0001\u001f/é", "t": true, "f": false, "nul": null, "#,
            r#""re": {"$regularExpression": {"pattern": "^a.*b$", "options": "imx"}}, "#,
            r#""code": {"$code": "function f() { return 1; }"}, "#,
            r#""cws": {"$code": "function f() { return n; }", "$scope": {"n": 1, "m": []}}, "#,
            r#""ts": {"$timestamp": {"t": 4294967295, "i": 4000000000}}, "#,
            r#""ts2": {"$timestamp": {"t": 1666193824, "i": 1}}, "#,
            r#""bin": {"$binary": {"base64": "AQID", "subType": "80"}}, "#,
            r#""uuid": {"$binary": {"base64": "c//SZESzTGmQ6OfR38A11A==", "subType": "04"}}, "#,
            r#""date": {"$date": "2026-07-03T11:35:53.473Z"}, "#,
            r#""olddate": {"$date": {"$numberLong": "-1000"}}, "#,
            r#""sym": {"$symbol": "x"}, "dec": {"$numberDecimal": "123.45678"}, "#,
            r#""undef": {"$undefined": true}, "max": {"$maxKey": 1}, "min": {"$minKey": 1}, "#,
            r#""ptr": {"$ref": "my.test", "$id": {"$oid": "4d0ce088e447ad08b4721a37"}}, "#,
            r#""arr": [1, [], {}, [2, {"x": {"$numberDouble": "NaN"}}]], "#,
            r#""doc": {"a": {"b": 7, "c": -0.0}}, "": ""}"#,
        )
    );
}

#[test]
fn relaxed_compact_key_document() {
    // DRIVER: a document `_id` rendered as the key (compact RELAXED), and the two other forms.
    let id = doc! {
        "a": 5_i64,
        "b": [1e7, DateTime::from_millis(-1), DateTime::from_millis(253_402_300_800_000),
              DateTime::from_millis(253_402_300_799_999), DateTime::from_millis(1500)],
        "c": bin(3, &[0xff, 0xff]), "r": regex("abc", "mi"),
    };
    assert_eq!(
        relaxed_id(&Bson::Document(id.clone())),
        concat!(
            r#"{"a": 5,"b": [1.0E+7,{"$date": {"$numberLong": "-1"}},"#,
            r#"{"$date": {"$numberLong": "253402300800000"}},{"$date": "9999-12-31T23:59:59.999Z"},"#,
            r#"{"$date": "1970-01-01T00:00:01.5Z"}],"c": {"$binary": {"base64": "//8=","subType": "03"}},"#,
            r#""r": {"$regularExpression": {"pattern": "abc","options": "im"}}}"#,
        )
    );
    assert_eq!(
        relaxed_fields(&id),
        concat!(
            r#"{"a": 5, "b": [1.0E+7, {"$date": {"$numberLong": "-1"}}, "#,
            r#"{"$date": {"$numberLong": "253402300800000"}}, {"$date": "9999-12-31T23:59:59.999Z"}, "#,
            r#"{"$date": "1970-01-01T00:00:01.5Z"}], "c": {"$binary": {"base64": "//8=", "subType": "03"}}, "#,
            r#""r": {"$regularExpression": {"pattern": "abc", "options": "im"}}}"#,
        )
    );
    assert_eq!(
        strict_document(&id),
        concat!(
            r#"{"a": {"$numberLong": "5"},"b": [1.0E+7,{"$date": -1},{"$date": 253402300800000},"#,
            r#"{"$date": 253402300799999},{"$date": 1500}],"c": {"$binary": "//8=","$type": "03"},"#,
            r#""r": {"$regex": "abc","$options": "im"}}"#,
        )
    );
}

#[test]
fn json_writer_test_default_settings() {
    // JWT testEmptyDocument, testTwoElementDocument, testNestedDocument, testArray, testNull
    assert_eq!(relaxed_fields(&doc! {}), "{}");
    assert_eq!(strict_document(&doc! {}), "{}");
    let two = doc! { "s": "str", "d": "str2" };
    assert_eq!(relaxed_fields(&two), r#"{"s": "str", "d": "str2"}"#);
    let nested = doc! { "doc": { "doc": { "s": "str" } } };
    assert_eq!(relaxed_fields(&nested), r#"{"doc": {"doc": {"s": "str"}}}"#);
    assert_eq!(
        relaxed_fields(&doc! { "array": [1, 2, 3] }),
        r#"{"array": [1, 2, 3]}"#
    );
    assert_eq!(
        strict_document(&doc! { "array": [1, 2, 3] }),
        r#"{"array": [1,2,3]}"#
    );
    assert_eq!(
        relaxed_fields(&doc! { "null": Bson::Null }),
        r#"{"null": null}"#
    );
    // JWT testBoolean, testSymbol, testMaxKeyStrict, testMinKeyStrict, testUndefinedRelaxed
    assert_eq!(relaxed_fields(&doc! { "abc": true }), r#"{"abc": true}"#);
    let sym = doc! { "symbol": Bson::Symbol("name".into()) };
    assert_eq!(relaxed_fields(&sym), r#"{"symbol": {"$symbol": "name"}}"#);
    let keys = doc! { "maxkey": Bson::MaxKey, "minkey": Bson::MinKey, "u": Bson::Undefined };
    assert_eq!(
        relaxed_fields(&keys),
        r#"{"maxkey": {"$maxKey": 1}, "minkey": {"$minKey": 1}, "u": {"$undefined": true}}"#
    );
    // JWT testObjectIdStrict, testTimestampStrict
    let d = doc! { "_id": oid(), "timestamp": Timestamp { time: 1000, increment: 1 } };
    assert_eq!(
        relaxed_fields(&d),
        format!(
            r#"{{"_id": {{"$oid": "{OID}"}}, "timestamp": {{"$timestamp": {{"t": 1000, "i": 1}}}}}}"#
        )
    );
    // JWT testJavaScript, testJavaScriptWithScope
    let js = doc! {
        "f": Bson::JavaScriptCode("function f() { return 1; }".into()),
        "g": Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope {
            code: "function f() { return n; }".into(),
            scope: doc! { "n": 1 },
        }),
    };
    assert_eq!(
        relaxed_fields(&js),
        concat!(
            r#"{"f": {"$code": "function f() { return 1; }"}, "#,
            r#""g": {"$code": "function f() { return n; }", "$scope": {"n": 1}}}"#
        )
    );
    // JWT testDBPointer (bytes built like CORPUS dbpointer.json "DBpointer")
    let ptr = corpus("200000000C6100080000006D792E74657374004D0CE088E447AD08B4721A3700");
    assert_eq!(
        relaxed_fields(&ptr),
        r#"{"a": {"$ref": "my.test", "$id": {"$oid": "4d0ce088e447ad08b4721a37"}}}"#
    );
}

#[test]
fn int64_relaxed_and_strict() {
    // JWT testInt64Relaxed; CORPUS int64.json for the STRICT ($numberLong) strings
    for (v, s) in [
        (i64::MIN, "-9223372036854775808"),
        (i32::MIN as i64 - 1, "-2147483649"),
        (0, "0"),
        (i32::MAX as i64 + 1, "2147483648"),
        (i64::MAX, "9223372036854775807"),
    ] {
        assert_eq!(relaxed_id(&Bson::Int64(v)), s);
        assert_eq!(
            strict_document(&doc! { "a": v }),
            format!(r#"{{"a": {{"$numberLong": "{s}"}}}}"#)
        );
    }
    // CORPUS int32.json: plain in both modes
    assert_eq!(
        strict_document(&doc! { "i": i32::MIN }),
        r#"{"i": -2147483648}"#
    );
    assert_eq!(relaxed_id(&Bson::Int32(i32::MAX)), "2147483647");
}

#[test]
fn binary_from_json_writer_test_and_corpus() {
    // JWT testBinaryRelaxed
    for (bytes, b64) in [
        (&[][..], ""),
        (&[1], "AQ=="),
        (&[1, 2], "AQI="),
        (&[1, 2, 3], "AQID"),
    ] {
        assert_eq!(
            relaxed_fields(&doc! { "b": bin(0, bytes) }),
            format!(r#"{{"b": {{"$binary": {{"base64": "{b64}", "subType": "00"}}}}}}"#)
        );
    }
    // CORPUS binary.json (subtype 0x02 carries an inner length that is not data)
    for (hex, b64, subtype) in [
        ("0D000000057800000000000000", "", "00"),
        ("0F0000000578000200000001FFFF00", "//8=", "01"),
        ("13000000057800060000000202000000FFFF00", "//8=", "02"),
        (
            "1D000000057800100000000473FFD26444B34C6990E8E7D1DFC035D400",
            "c//SZESzTGmQ6OfR38A11A==",
            "04",
        ),
        ("0F0000000578000200000080FFFF00", "//8=", "80"),
        (
            "170000000578000A0000000927000000FE420000E04000",
            "JwAAAP5CAADgQA==",
            "09",
        ),
    ] {
        let d = corpus(hex);
        assert_eq!(
            relaxed_id(first(&d)),
            format!(r#"{{"$binary": {{"base64": "{b64}","subType": "{subtype}"}}}}"#)
        );
        // LegacyExtendedJsonBinaryConverter: `%02X` type
        assert_eq!(
            strict_document(&d),
            format!(r#"{{"x": {{"$binary": "{b64}","$type": "{subtype}"}}}}"#)
        );
    }
    assert_eq!(
        relaxed_id(&bin(0xfe, &[0])),
        r#"{"$binary": {"base64": "AA==","subType": "FE"}}"#
    );
}

#[test]
fn regex_options_are_sorted() {
    // JWT testRegularExpressionRelaxed ("imxs" -> "imsx", backslash escaping)
    let d = doc! { "regex": regex("a", "imxs"), "r2": regex("a\\b", "") };
    assert_eq!(
        relaxed_fields(&d),
        concat!(
            r#"{"regex": {"$regularExpression": {"pattern": "a", "options": "imsx"}}, "#,
            r#""r2": {"$regularExpression": {"pattern": "a\\b", "options": ""}}}"#
        )
    );
    // LegacyExtendedJsonRegularExpressionConverter; CORPUS regex.json "flags not alphabetized"
    let d = doc! { "a": regex("abc", "mix") };
    assert_eq!(
        strict_document(&d),
        r#"{"a": {"$regex": "abc","$options": "imx"}}"#
    );
}

#[test]
fn timestamps_are_unsigned() {
    // CORPUS timestamp.json
    let d = corpus("10000000116100FFFFFFFFFFFFFFFF00");
    assert_eq!(
        strict_document(&d),
        r#"{"a": {"$timestamp": {"t": 4294967295,"i": 4294967295}}}"#
    );
    let d = corpus("100000001161002A00000015CD5B0700");
    assert_eq!(
        relaxed_fields(&d),
        r#"{"a": {"$timestamp": {"t": 123456789, "i": 42}}}"#
    );
}

#[test]
fn dates() {
    // CORPUS datetime.json relaxed forms, plus JWT testDateTimeRelaxed (Long.MAX/MIN)
    for (hex, relaxed) in [
        (
            "10000000096100000000000000000000",
            r#""1970-01-01T00:00:00Z""#,
        ),
        (
            "10000000096100C5D8D6CC3B01000000",
            r#""2012-12-24T12:15:30.501Z""#,
        ),
        (
            "10000000096100C33CE7B9BDFFFFFF00",
            r#"{"$numberLong": "-284643869501"}"#,
        ),
        (
            "1000000009610000DC1FD277E6000000",
            r#"{"$numberLong": "253402300800000"}"#,
        ),
        (
            "10000000096100D1D6D6CC3B01000000",
            r#""2012-12-24T12:15:30.001Z""#,
        ),
    ] {
        assert_eq!(
            relaxed_id(first(&corpus(hex))),
            format!(r#"{{"$date": {relaxed}}}"#)
        );
    }
    let extremes = doc! { "max": DateTime::MAX, "min": DateTime::MIN };
    assert_eq!(
        relaxed_fields(&extremes),
        concat!(
            r#"{"max": {"$date": {"$numberLong": "9223372036854775807"}}, "#,
            r#""min": {"$date": {"$numberLong": "-9223372036854775808"}}}"#
        )
    );
    // LegacyExtendedJsonDateTimeConverter: STRICT is the bare millisecond number
    assert_eq!(
        strict_document(&extremes),
        r#"{"max": {"$date": 9223372036854775807},"min": {"$date": -9223372036854775808}}"#
    );
    // ISO_OFFSET_DATE_TIME drops trailing fraction zeros (DRIVER); leap day 2000
    let leap = Bson::DateTime(DateTime::from_millis(951_782_400_500));
    assert_eq!(relaxed_id(&leap), r#"{"$date": "2000-02-29T00:00:00.5Z"}"#);
    let ms10 = Bson::DateTime(DateTime::from_millis(4_107_542_400_010));
    assert_eq!(relaxed_id(&ms10), r#"{"$date": "2100-03-01T00:00:00.01Z"}"#);
}

#[test]
fn java_doubles() {
    // JWT testDouble (JsonDoubleHelper strings, used bare in STRICT)
    for (v, s) in [
        (0.0, "0.0"),
        (0.0005, "5.0E-4"),
        (0.5, "0.5"),
        (1.0, "1.0"),
        (1.5, "1.5"),
        (1.5e40, "1.5E+40"),
        (1.5e-40, "1.5E-40"),
        (1234567890.1234568E+123, "1.2345678901234568E+132"),
        (f64::MAX, "1.7976931348623157E+308"),
        (5e-324, "4.9E-324"),
        (-0.0005, "-5.0E-4"),
        (-1.5e40, "-1.5E+40"),
        (-1234567890.1234568E+123, "-1.2345678901234568E+132"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-Infinity"),
        (f64::INFINITY, "Infinity"),
    ] {
        assert_eq!(double(v), format!(r#"{{"d": {s}}}"#), "{v:e}");
    }
    // DRIVER (JsonDoubleHelper on Double.toString; identical on JDK 17 and 19+)
    for (v, s) in [
        (0.1, "0.1"),
        (100.0, "100.0"),
        (1e7, "1.0E+7"),
        (9_999_999.0, "9999999.0"),
        (1.2345678e-5, "1.2345678E-5"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1e20, "1.0E+20"),
        (123456.789, "123456.789"),
        (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        (-0.0, "-0.0"),
        (f64::MIN, "-1.7976931348623157E+308"),
        (1.2345678921232E+18, "1.2345678921232E+18"), // CORPUS double.json
        (-1481944471991899.2, "-1.4819444719918992E+15"), // tie: even digit
    ] {
        assert_eq!(double(v), format!(r#"{{"d": {s}}}"#), "{v:e}");
    }
    // Double.toString's JDK 19+ spec (shortest; JDK 17 printed 9.999999999999999E22 etc.)
    for (v, s) in [(1e23, "1.0E+23"), (2e23, "2.0E+23"), (1e-323, "9.9E-324")] {
        assert_eq!(double(v), format!(r#"{{"d": {s}}}"#), "{v:e}");
    }
    // CORPUS double.json relaxed: non-finite values are wrapped
    let d = doc! { "a": f64::NAN, "b": f64::INFINITY, "c": f64::NEG_INFINITY, "d": -1.0 };
    assert_eq!(
        relaxed_fields(&d),
        concat!(
            r#"{"a": {"$numberDouble": "NaN"}, "b": {"$numberDouble": "Infinity"}, "#,
            r#""c": {"$numberDouble": "-Infinity"}, "d": -1.0}"#
        )
    );
}

#[test]
fn decimal128_strings() {
    // CORPUS decimal128-1.json canonical_bson -> canonical_extjson
    for (hex, s) in [
        ("180000001364000000000000000000000000000000007C00", "NaN"),
        ("18000000136400000000000000000000000000000000FC00", "NaN"),
        (
            "180000001364000000000000000000000000000000007800",
            "Infinity",
        ),
        (
            "18000000136400000000000000000000000000000000F800",
            "-Infinity",
        ),
        (
            "18000000136400D204000000000000000000000000343000",
            "0.001234",
        ),
        (
            "1800000013640040EF5A07000000000000000000002A3000",
            "0.00123400000",
        ),
        ("18000000136400D0070000000000000000000000003A3000", "2.000"),
        (
            "18000000136400F2AF967ED05C82DE3297FF6FDE3C403000",
            "1234567890123456789012345678901234",
        ),
        (
            "18000000136400FFFFFFFF638E8D37C087ADBE09ED010000",
            "9.999999999999999999999999999999999E-6143",
        ),
        (
            "18000000136400FFFFFFFF638E8D37C087ADBE09EDFF5F00",
            "9.999999999999999999999999999999999E+6144",
        ),
        (
            "1800000013640079D9E0F9763ADA429D0200000000583000",
            "1.2345689012345789012345E+34",
        ),
    ] {
        assert_eq!(
            relaxed_id(first(&corpus(hex))),
            format!(r#"{{"$numberDecimal": "{s}"}}"#)
        );
    }
    // DRIVER: Decimal128.toString keeps a non-canonical coefficient (2^113 - 1) as is.
    let mut bytes = [0xff_u8; 16];
    bytes[14..].copy_from_slice(&[0x41, 0x30]);
    let big = Bson::Decimal128(Decimal128::from_bytes(bytes));
    assert_eq!(
        relaxed_id(&big),
        r#"{"$numberDecimal": "10384593717069655257060992658440191"}"#
    );
}

#[test]
fn string_escaping() {
    // CORPUS string.json "Required escapes" (same escapes as StrictCharacterStreamJsonWriter)
    let d = corpus(concat!(
        "320000000261002600000061625C220102030405060708090A0B0C0D0E0F",
        "101112131415161718191A1B1C1D1E1F61620000"
    ));
    assert_eq!(
        strict_document(&d),
        concat!(
            r#"{"a": "ab\\\"\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r"#,
            r#"\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019"#,
            r#"\u001a\u001b\u001c\u001d\u001e\u001fab"}"#
        )
    );
    // DRIVER: combining (Mn), modifier letters (Lm), format (Cf), line/paragraph separators,
    // private use, surrogate pairs, unassigned and C1 controls are escaped; the rest is raw.
    let s = "e\u{301} \u{30fc}\u{3005} \u{2b0} \u{ad}\u{200b}\u{feff} \u{2028}\u{2029} \u{e000} \
             \u{1f600} \u{378} \u{7f}\u{85} \u{a0}\u{3000} é中€☆ \u{0}\u{1f}\u{b}";
    assert_eq!(
        strict_document(&doc! { "s": s }),
        concat!(
            r#"{"s": "e\u0301 \u30fc\u3005 \u02b0 \u00ad\u200b\ufeff \u2028\u2029 \ue000 "#,
            r#"\ud83d\ude00 \u0378 \u007f\u0085 "#,
            "\u{a0}\u{3000} é中€☆ ",
            r#"\u0000\u001f\u000b"}"#
        )
    );
    // Field names use the same escaping; CORPUS code_w_scope.json (Unicode and embedded null).
    assert_eq!(
        relaxed_fields(&doc! { "a\"\u{301}": 1 }),
        r#"{"a\"\u0301": 1}"#
    );
    let d = corpus("1A0000000F61001200000005000000C3A9006400050000000000");
    assert_eq!(
        strict_document(&d),
        r#"{"a": {"$code": "é\u0000d","$scope": {}}}"#
    );
    // Unicode 15.0 (Java 21) assigned U+0870 (Arabic letter); Unicode 13 left it unassigned.
    assert_eq!(
        relaxed_id(&Bson::String("\u{870}\u{89f}".into())),
        "\"\u{870}\\u089f\""
    );
}

#[test]
fn dbpointer_with_utf8_namespace() {
    // CORPUS dbpointer.json "With two-byte UTF-8"; JsonWriter.doWriteDBPointer (non-EXTENDED)
    let d = corpus("1B0000000C610003000000C3A90056E1FC72E0C917E9C471416100");
    assert_eq!(
        strict_document(&d),
        r#"{"a": {"$ref": "é","$id": {"$oid": "56e1fc72e0c917e9c4714161"}}}"#
    );
}
