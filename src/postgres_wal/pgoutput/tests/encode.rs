//! Test-only pgoutput encoder, written from the documented layouts.

use super::*;

// ------------------------------------------------------------------
// Test-only encoder, written from the documented layouts.
// ------------------------------------------------------------------

fn put_str(out: &mut Vec<u8>, s: &str) {
    assert!(!s.contains('\0'), "protocol strings cannot contain NUL");
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

fn put_xid(out: &mut Vec<u8>, xid: &Option<u32>) {
    if let Some(xid) = xid {
        out.extend_from_slice(&xid.to_be_bytes());
    }
}

fn put_tuple(out: &mut Vec<u8>, tuple: &TupleData) {
    let n = i16::try_from(tuple.len()).expect("at most 32767 columns");
    out.extend_from_slice(&n.to_be_bytes());
    for v in tuple {
        match v {
            TupleValue::Null => out.push(b'n'),
            TupleValue::UnchangedToast => out.push(b'u'),
            TupleValue::Text(b) | TupleValue::Binary(b) => {
                out.push(if matches!(v, TupleValue::Text(_)) {
                    b't'
                } else {
                    b'b'
                });
                let len = i32::try_from(b.len()).expect("value fits Int32");
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
}

fn put_old(out: &mut Vec<u8>, old: &OldTuple) {
    match old {
        OldTuple::Key(t) => {
            out.push(b'K');
            put_tuple(out, t);
        }
        OldTuple::Full(t) => {
            out.push(b'O');
            put_tuple(out, t);
        }
    }
}

/// Encodes a message; `xid: Some(_)` fields are written (as inside a
/// stream block), `None` ones are not.
pub(super) fn encode(msg: &PgOutputMessage) -> Vec<u8> {
    use PgOutputMessage as M;
    let mut o = Vec::new();
    match msg {
        M::Begin {
            final_lsn,
            commit_ts,
            xid,
        } => {
            o.push(b'B');
            o.extend_from_slice(&final_lsn.to_be_bytes());
            o.extend_from_slice(&commit_ts.to_be_bytes());
            o.extend_from_slice(&xid.to_be_bytes());
        }
        M::Commit {
            flags,
            commit_lsn,
            end_lsn,
            commit_ts,
        } => {
            o.push(b'C');
            o.push(*flags);
            o.extend_from_slice(&commit_lsn.to_be_bytes());
            o.extend_from_slice(&end_lsn.to_be_bytes());
            o.extend_from_slice(&commit_ts.to_be_bytes());
        }
        M::Origin { commit_lsn, name } => {
            o.push(b'O');
            o.extend_from_slice(&commit_lsn.to_be_bytes());
            put_str(&mut o, name);
        }
        M::Relation(rel) => {
            o.push(b'R');
            put_xid(&mut o, &rel.xid);
            o.extend_from_slice(&rel.rel_id.to_be_bytes());
            put_str(&mut o, &rel.namespace);
            put_str(&mut o, &rel.name);
            o.push(rel.replica_identity.as_byte());
            let n = i16::try_from(rel.columns.len()).expect("at most 32767 columns");
            o.extend_from_slice(&n.to_be_bytes());
            for c in &rel.columns {
                o.push(u8::from(c.is_key));
                put_str(&mut o, &c.name);
                o.extend_from_slice(&c.type_oid.to_be_bytes());
                o.extend_from_slice(&c.type_modifier.to_be_bytes());
            }
        }
        M::Type {
            xid,
            type_oid,
            namespace,
            name,
        } => {
            o.push(b'Y');
            put_xid(&mut o, xid);
            o.extend_from_slice(&type_oid.to_be_bytes());
            put_str(&mut o, namespace);
            put_str(&mut o, name);
        }
        M::Insert { xid, rel_id, new } => {
            o.push(b'I');
            put_xid(&mut o, xid);
            o.extend_from_slice(&rel_id.to_be_bytes());
            o.push(b'N');
            put_tuple(&mut o, new);
        }
        M::Update {
            xid,
            rel_id,
            old,
            new,
        } => {
            o.push(b'U');
            put_xid(&mut o, xid);
            o.extend_from_slice(&rel_id.to_be_bytes());
            if let Some(old) = old {
                put_old(&mut o, old);
            }
            o.push(b'N');
            put_tuple(&mut o, new);
        }
        M::Delete { xid, rel_id, old } => {
            o.push(b'D');
            put_xid(&mut o, xid);
            o.extend_from_slice(&rel_id.to_be_bytes());
            put_old(&mut o, old);
        }
        M::Truncate {
            xid,
            options,
            rel_ids,
        } => {
            o.push(b'T');
            put_xid(&mut o, xid);
            let n = i32::try_from(rel_ids.len()).expect("count fits Int32");
            o.extend_from_slice(&n.to_be_bytes());
            o.push(*options);
            for id in rel_ids {
                o.extend_from_slice(&id.to_be_bytes());
            }
        }
        M::Message {
            xid,
            transactional,
            lsn,
            prefix,
            content,
        } => {
            o.push(b'M');
            put_xid(&mut o, xid);
            o.push(u8::from(*transactional));
            o.extend_from_slice(&lsn.to_be_bytes());
            put_str(&mut o, prefix);
            let n = i32::try_from(content.len()).expect("content fits Int32");
            o.extend_from_slice(&n.to_be_bytes());
            o.extend_from_slice(content);
        }
        M::StreamStart { xid, first_segment } => {
            o.push(b'S');
            o.extend_from_slice(&xid.to_be_bytes());
            o.push(u8::from(*first_segment));
        }
        M::StreamStop => o.push(b'E'),
        M::StreamCommit {
            xid,
            flags,
            commit_lsn,
            end_lsn,
            commit_ts,
        } => {
            o.push(b'c');
            o.extend_from_slice(&xid.to_be_bytes());
            o.push(*flags);
            o.extend_from_slice(&commit_lsn.to_be_bytes());
            o.extend_from_slice(&end_lsn.to_be_bytes());
            o.extend_from_slice(&commit_ts.to_be_bytes());
        }
        M::StreamAbort { xid, subxid } => {
            o.push(b'A');
            o.extend_from_slice(&xid.to_be_bytes());
            o.extend_from_slice(&subxid.to_be_bytes());
        }
    }
    o
}
