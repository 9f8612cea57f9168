//! Dates, times, timestamps and intervals from the server, including values beyond chrono.

use super::*;

#[test]
fn dates_including_bc_and_infinity() {
    let cases = [
        ("2024-01-02", 19_724),
        ("0001-01-01", -719_162),
        ("9999-12-31", 2_932_896),
        ("0044-03-15 BC", -735_160),
        ("4713-01-01 BC", -2_440_550),
        ("4713-11-24 BC", -2_440_222),
        ("5874897-12-31", 2_145_042_905),
        ("1970-01-01", 0),
        ("1969-12-31", -1),
        ("2000-02-29", 11_016),
        ("0001-02-29 BC", -719_469),
        ("infinity", i32::MAX),
        ("-infinity", i32::MIN),
    ];
    for (s, days) in cases {
        assert_eq!(parse(1082, -1, s), Value::Date(days), "{s}");
    }
    // Rejected by the server too: no year 0, no 29 February in 4 BC (year -3) or 100 AD.
    for bad in [
        "0000-01-01",
        "0004-02-29 BC",
        "0100-02-29",
        "2023-13-01",
        "2023-04-31",
        "24-01-01",
        "2024-1-01",
        "2024-01-02 AD",
        "Infinity",
    ] {
        parse_err(1082, -1, bad);
    }
}

#[test]
fn times_of_day() {
    assert_eq!(parse(1083, -1, "00:00:00"), Value::Time(0));
    assert_eq!(parse(1083, -1, "24:00:00"), Value::Time(86_400_000_000));
    assert_eq!(
        parse(1083, -1, "23:59:59.999999"),
        Value::Time(86_399_999_999)
    );
    assert_eq!(parse(1083, 3, "12:34:56.5"), Value::Time(45_296_500_000));
    assert_eq!(
        parse(1083, -1, "12:34:56.123456"),
        Value::Time(45_296_123_456)
    );
    for bad in [
        "24:00:01",
        "24:00:00.1",
        "25:00:00",
        "12:60:00",
        "1:00:00",
        "12:00",
        "12:00:00.1234567",
    ] {
        parse_err(1083, -1, bad);
    }
    let tz = |micros, offset_seconds| Value::TimeTz {
        micros,
        offset_seconds,
    };
    assert_eq!(
        parse(1266, -1, "12:34:56+05:45"),
        tz(45_296_000_000, 20_700)
    );
    assert_eq!(
        parse(1266, -1, "12:34:56.789-08"),
        tz(45_296_789_000, -28_800)
    );
    assert_eq!(parse(1266, -1, "00:00:00+00"), tz(0, 0));
    assert_eq!(
        parse(1266, -1, "24:00:00-15:59"),
        tz(86_400_000_000, -57_540)
    );
    assert_eq!(
        parse(1266, -1, "12:00:00+15:59"),
        tz(43_200_000_000, 57_540)
    );
    assert_eq!(
        parse(1266, -1, "12:00:00+05:30:15"),
        tz(43_200_000_000, 19_815)
    );
    for bad in [
        "12:00:00",
        "12:00:00+16",
        "12:00:00+5",
        "12:00:00+05:60",
        "12:00:00+05:30:15:01",
    ] {
        parse_err(1266, -1, bad);
    }
}

#[test]
fn timestamps_without_zone() {
    let cases = [
        ("2024-01-02 03:04:05.12", 1_704_164_645_120_000),
        ("2024-01-02 03:04:05", 1_704_164_645_000_000),
        ("0001-01-01 00:00:00", -62_135_596_800_000_000),
        ("9999-12-31 23:59:59.999999", 253_402_300_799_999_999),
        ("4713-01-01 00:00:00 BC", -210_863_520_000_000_000),
        ("0044-03-15 12:00:00 BC", -63_517_780_800_000_000),
        ("1969-12-31 23:59:59.999999", -1),
        ("294247-01-10 04:00:54.775806", i64::MAX - 1),
        ("infinity", i64::MAX),
        ("-infinity", i64::MIN),
    ];
    for (s, micros) in cases {
        assert_eq!(parse(1114, -1, s), Value::Timestamp(micros), "{s}");
    }
    // Valid in PostgreSQL but past i64 microseconds since 1970, or on the infinity value.
    assert!(parse_err(1114, -1, "294276-12-31 23:59:59.999999").contains("out of range"));
    assert!(parse_err(1114, -1, "294247-01-10 04:00:54.775807").contains("out of range"));
    for bad in [
        "2024-01-02",
        "2024-01-02 24:00:00",
        "2024-01-02 03:04:05+00",
        "2024-02-30 00:00:00",
    ] {
        parse_err(1114, -1, bad);
    }
}

#[test]
fn timestamps_with_zone_in_any_session_time_zone() {
    // The same four instants printed by the server under several TimeZone settings,
    // including local mean time offsets with seconds.
    let instants = [
        1_704_164_645_120_000,
        -2_208_988_800_000_000,
        -62_135_596_800_000_000,
        1_719_835_200_000_001,
    ];
    let printed: [[&str; 4]; 8] = [
        [
            "2024-01-02 03:04:05.12+00",
            "1900-01-01 00:00:00+00",
            "0001-01-01 00:00:00+00",
            "2024-07-01 12:00:00.000001+00",
        ],
        [
            "2024-01-02 08:49:05.12+05:45",
            "1900-01-01 05:41:16+05:41:16",
            "0001-01-01 05:41:16+05:41:16",
            "2024-07-01 17:45:00.000001+05:45",
        ],
        [
            "2024-01-01 23:34:05.12-03:30",
            "1899-12-31 20:29:08-03:30:52",
            "0001-12-31 20:29:08-03:30:52 BC",
            "2024-07-01 09:30:00.000001-02:30",
        ],
        [
            "2024-01-02 04:04:05.12+01",
            "1900-01-01 00:19:32+00:19:32",
            "0001-01-01 00:19:32+00:19:32",
            "2024-07-01 14:00:00.000001+02",
        ],
        [
            "2024-01-02 17:04:05.12+14",
            "1899-12-31 13:30:40-10:29:20",
            "0001-12-31 13:30:40-10:29:20 BC",
            "2024-07-02 02:00:00.000001+14",
        ],
        [
            "2024-01-01 15:04:05.12-12",
            "1899-12-31 12:00:00-12",
            "0001-12-31 12:00:00-12 BC",
            "2024-07-01 00:00:00.000001-12",
        ],
        [
            "2024-01-01 22:04:05.12-05",
            "1899-12-31 19:00:00-05",
            "0001-12-31 19:03:58-04:56:02 BC",
            "2024-07-01 08:00:00.000001-04",
        ],
        [
            "2024-01-02 08:34:05.12+05:30",
            "1900-01-01 05:21:10+05:21:10",
            "0001-01-01 05:53:28+05:53:28",
            "2024-07-01 17:30:00.000001+05:30",
        ],
    ];
    for zone in printed {
        for (s, micros) in zone.iter().zip(instants) {
            assert_eq!(parse(1184, -1, s), Value::TimestampTz(micros), "{s}");
        }
    }
    assert_eq!(
        parse(1184, -1, "9999-12-31 23:59:59.999999+00"),
        Value::TimestampTz(253_402_300_799_999_999)
    );
    assert_eq!(
        parse(1184, -1, "4713-01-01 00:00:00+00 BC"),
        Value::TimestampTz(-210_863_520_000_000_000)
    );
    assert_eq!(parse(1184, -1, "infinity"), Value::TimestampTz(i64::MAX));
    assert_eq!(parse(1184, -1, "-infinity"), Value::TimestampTz(i64::MIN));
    assert!(parse_err(1184, -1, "2024-01-02 03:04:05").contains("missing UTC offset"));
}

#[test]
fn intervals_in_the_postgres_style() {
    let cases = [
        (
            "1 year 2 mons 3 days 04:05:06.789",
            interval(14, 3, 14_706_789_000),
        ),
        ("-1 days +02:03:00", interval(0, -1, 7_380_000_000)),
        ("00:00:00", interval(0, 0, 0)),
        ("1 year", interval(12, 0, 0)),
        ("-1 years -2 mons", interval(-14, 0, 0)),
        (
            "-10 mons -3 days +04:05:06",
            interval(-10, -3, 14_706_000_000),
        ),
        ("-04:05:06.000001", interval(0, 0, -14_706_000_001)),
        ("1 mon -1 days", interval(1, -1, 0)),
        ("1000000:00:00", interval(0, 0, 3_600_000_000_000_000)),
        ("-178000000 years", interval(-2_136_000_000, 0, 0)),
        ("178000000 years", interval(2_136_000_000, 0, 0)),
        (
            "2147483647 days 2147483647:00:00",
            interval(0, i32::MAX, 7_730_941_129_200_000_000),
        ),
        (
            "-2147483648 days -2147483648:00:00",
            interval(0, i32::MIN, -7_730_941_132_800_000_000),
        ),
        ("1 mon 15 days", interval(1, 15, 0)),
        ("00:00:00.000001", interval(0, 0, 1)),
        ("-00:00:00.5", interval(0, 0, -500_000)),
        ("2562047788:00:54.775807", interval(0, 0, i64::MAX)),
    ];
    for (s, expected) in cases {
        assert_eq!(parse(1186, -1, s), expected, "{s}");
    }
    for bad in [
        "",
        "1",
        "1 fortnight",
        "1.5 years",
        "1 year ago",
        "178956971 years",
        "2147483648 days",
        "2562047788:00:54.775808",
        "1:2:3",
        "00:00:60",
    ] {
        parse_err(1186, -1, bad);
    }
}

#[test]
fn intervals_in_the_verbose_and_iso_styles() {
    let expected = [
        interval(14, 3, 14_706_789_000),
        interval(0, -1, 7_380_000_000),
        interval(0, 0, 0),
        interval(-14, 0, 0),
        interval(0, 0, -500_000),
        interval(1, -1, 0),
        interval(-1, 1, -1_500_000),
        interval(0, 0, 3_600_000_000_000_000),
    ];
    let verbose = [
        "@ 1 year 2 mons 3 days 4 hours 5 mins 6.789 secs",
        "@ 1 day -2 hours -3 mins ago",
        "@ 0",
        "@ 1 year 2 mons ago",
        "@ 0.5 secs ago",
        "@ 1 mon -1 days",
        "@ 1 mon -1 days 1.5 secs ago",
        "@ 1000000 hours",
    ];
    let iso = [
        "P1Y2M3DT4H5M6.789S",
        "P-1DT2H3M",
        "PT0S",
        "P-1Y-2M",
        "PT-0.5S",
        "P1M-1D",
        "P-1M1DT-1.5S",
        "PT1000000H",
    ];
    for ((v, i), e) in verbose.iter().zip(iso).zip(expected) {
        assert_eq!(parse(1186, -1, v), e, "{v}");
        assert_eq!(parse(1186, -1, i), e, "{i}");
    }
    for bad in [
        "P",
        "PT",
        "P1",
        "P1H",
        "PT1D",
        "PT.S",
        "PTS",
        "@ ago 1 day",
        "@",
    ] {
        parse_err(1186, -1, bad);
    }
}

#[test]
fn server_values_beyond_chronos_range_and_at_the_limits() {
    // Picked from 50,000 random values the server printed and measured (dates by date
    // subtraction, timestamps by date subtraction plus time of day, intervals by extract).
    assert_eq!(
        parse(1114, -1, "274800-08-23 01:32:37.250906"),
        Value::Timestamp(8_609_703_499_957_250_906)
    );
    assert_eq!(
        parse(1184, -1, "274800-08-23 07:17:37.250906+05:45"),
        Value::TimestampTz(8_609_703_499_957_250_906)
    );
    assert_eq!(
        parse(1184, -1, "2902-09-22 14:56:24.406365+05:41:16 BC"),
        Value::TimestampTz(-153_691_051_491_593_635)
    );
    assert_eq!(parse(1082, -1, "5870561-06-08"), Value::Date(2_143_459_007));
    assert_eq!(parse(1082, -1, "1054684-10-17"), Value::Date(384_496_183));
    assert_eq!(
        parse(
            1186,
            -1,
            "156266979 years 2 mons -1871231207 days +1214724376:30:43.055104"
        ),
        interval(1_875_203_750, -1_871_231_207, 4_373_007_755_443_055_104)
    );
    assert_eq!(
        parse(
            1186,
            -1,
            "@ 10 mons -13 days -4 hours -27 mins -36.842813 secs"
        ),
        interval(10, -13, -16_056_842_813)
    );
    let lowest = interval(i32::MIN, i32::MIN, -i64::MAX);
    for s in [
        "-178956970 years -8 mons -2147483648 days -2562047788:00:54.775807",
        "@ 178956970 years 8 mons 2147483648 days 2562047788 hours 54.775807 secs ago",
        "P-178956970Y-8M-2147483648DT-2562047788H-54.775807S",
    ] {
        assert_eq!(parse(1186, -1, s), lowest, "{s}");
    }
    let highest = interval(i32::MAX, i32::MAX, i64::MAX);
    for s in [
        "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807",
        "@ 178956970 years 7 mons 2147483647 days 2562047788 hours 54.775807 secs",
        "P178956970Y7M2147483647DT2562047788H54.775807S",
    ] {
        assert_eq!(parse(1186, -1, s), highest, "{s}");
    }
}
