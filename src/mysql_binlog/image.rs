//! Row images that leave columns out. A session with `binlog_row_image=MINIMAL` or `NOBLOB`
//! writes rows events whose before and after images carry only the columns their bitmaps
//! mark, so the values are placed by the bitmap, never by position.
//!
//! What an absent column becomes (Debezium leaves it null everywhere, which turns a NOT NULL
//! column of a new row into a wrong value or a failure far from the cause):
//! - a BLOB, TEXT, JSON or GEOMETRY column (what NOBLOB leaves out when unchanged):
//!   unavailable, rendered as Debezium's placeholder, as for PostgreSQL's unchanged TOAST;
//! - any other column of the before image (MINIMAL keeps only the key there): NULL, as for a
//!   PostgreSQL delete under `REPLICA IDENTITY DEFAULT`;
//! - any other column of the after image (MINIMAL keeps only what the statement changed): a
//!   definite error naming the table and columns, since the new row is not known.

use mysql_async::consts::ColumnType;

/// Which image of a rows event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Before,
    After,
}

/// What to put in a column the image leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Absent {
    Unavailable,
    Null,
    /// The image cannot be delivered.
    Missing,
}

/// Places an image's values at their columns: `None` where the bitmap leaves one out.
pub fn by_column<T>(
    values: Vec<T>,
    present: &[bool],
    count: usize,
) -> Result<Vec<Option<T>>, String> {
    let marked = present.iter().take(count).filter(|&&p| p).count();
    if marked != values.len() {
        return Err(format!(
            "the row image has {} values but its column bitmap marks {marked}",
            values.len()
        ));
    }
    let mut values = values.into_iter();
    Ok((0..count)
        .map(|i| {
            if present.get(i).copied().unwrap_or(false) {
                values.next()
            } else {
                None
            }
        })
        .collect())
}

/// Column types stored out of the row, which NOBLOB leaves out of images when unchanged.
pub fn is_blob(ty: ColumnType) -> bool {
    use ColumnType::*;
    matches!(
        ty,
        MYSQL_TYPE_BLOB
            | MYSQL_TYPE_TINY_BLOB
            | MYSQL_TYPE_MEDIUM_BLOB
            | MYSQL_TYPE_LONG_BLOB
            | MYSQL_TYPE_JSON
            | MYSQL_TYPE_GEOMETRY
    )
}

/// What an absent column of `image` becomes.
pub fn absent(image: Image, blob: bool) -> Absent {
    match (image, blob) {
        (_, true) => Absent::Unavailable,
        (Image::Before, false) => Absent::Null,
        (Image::After, false) => Absent::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_to_the_columns_the_bitmap_marks() {
        let placed = by_column(vec!["a", "c"], &[true, false, true, false], 4).unwrap();
        assert_eq!(placed, vec![Some("a"), None, Some("c"), None]);
        // A bitmap is padded to whole bytes: bits past the column count are ignored.
        let placed = by_column(
            vec![1],
            &[true, false, false, false, false, false, false, true],
            2,
        );
        assert_eq!(placed.unwrap(), vec![Some(1), None]);
    }

    #[test]
    fn a_count_mismatch_is_an_error() {
        let err = by_column(vec![1, 2, 3], &[true, true, false], 3).unwrap_err();
        assert!(err.contains("3 values") && err.contains("marks 2"), "{err}");
    }

    #[test]
    fn absent_columns_follow_the_image_and_type() {
        assert_eq!(absent(Image::Before, true), Absent::Unavailable);
        assert_eq!(absent(Image::After, true), Absent::Unavailable);
        assert_eq!(absent(Image::Before, false), Absent::Null);
        assert_eq!(absent(Image::After, false), Absent::Missing);
        assert!(is_blob(ColumnType::MYSQL_TYPE_JSON));
        assert!(!is_blob(ColumnType::MYSQL_TYPE_VARCHAR));
    }
}
