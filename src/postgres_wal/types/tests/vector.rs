//! pgvector's `vector` and `halfvec`, mapped by type name (no pgvector server here): the
//! values Debezium's `VectorDatabaseIT` expects for its inputs, as pgvector prints them.

use super::*;

#[test]
fn vectors_map_by_name_and_parse_as_debezium() {
    assert_eq!(ty(VECTOR, 3).data_type, DataType::DoubleVector);
    assert_eq!(ty(HALFVEC, 3).data_type, DataType::FloatVector);
    // '[1,2,3]'::vector(3) → List.of(1.0, 2.0, 3.0).
    assert_eq!(
        parse(VECTOR, 3, "[1,2,3]"),
        Value::Array(vec![
            Value::Float64(1.0),
            Value::Float64(2.0),
            Value::Float64(3.0)
        ])
    );
    // '[101,102,103]'::halfvec(3) → List.of(101.0f, 102.0f, 103.0f).
    assert_eq!(
        parse(HALFVEC, 3, "[101,102,103]"),
        Value::Array(vec![
            Value::Float32(101.0),
            Value::Float32(102.0),
            Value::Float32(103.0)
        ])
    );
    assert_eq!(
        parse(VECTOR, -1, "[-1.5, 2e-07]"),
        Value::Array(vec![Value::Float64(-1.5), Value::Float64(2e-7)])
    );
    for bad in ["1,2", "[1,x]", "[]", "[1,,2]"] {
        assert!(parse_err(VECTOR, -1, bad).contains(bad));
    }
}

#[test]
fn sparse_vectors_are_not_supported() {
    assert_eq!(
        map_type(SPARSEVEC, -1, &catalog).unwrap_err(),
        TypeError::Unsupported {
            oid: SPARSEVEC,
            name: "sparsevec".into()
        }
    );
}
