//! Reading Redis replies. Each helper accepts whatever RESP2 or RESP3 shape a command may return
//! and never fails: a missing or odd value reads as empty, zero or `None`, so a key written by
//! another program shows as nothing rather than an error page.

use redis::Value;

use crate::rq::model::RawHash;

/// True for Redis's WRONGTYPE error.
pub(super) fn is_wrongtype(v: &Value) -> bool {
    matches!(v, Value::ServerError(e) if e.code() == "WRONGTYPE")
}

/// An integer reply (or a numeric string), 0 when absent or negative.
pub(super) fn int_of(v: &Value) -> u64 {
    match v {
        Value::Int(i) => (*i).max(0) as u64,
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// The bytes of a string-like reply.
pub(super) fn bytes_of(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        Value::VerbatimString { text, .. } => Some(text.into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

/// A string-like reply as text (invalid UTF-8 replaced).
pub(super) fn text_of(v: Value) -> Option<String> {
    bytes_of(v).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The elements of an array, set or map reply (a map flattened to key, value, ...).
pub(super) fn items_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) | Value::Set(a) => a,
        Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

/// The string elements of an array or set reply.
pub(super) fn texts_of(v: Value) -> Vec<String> {
    items_of(v).into_iter().filter_map(text_of).collect()
}

/// A `HGETALL` reply as a raw hash.
pub(super) fn hash_of(v: Value) -> RawHash {
    let mut h = RawHash::new();
    let mut it = items_of(v).into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if let (Some(k), Some(v)) = (text_of(k), bytes_of(v)) {
            h.insert(k, v);
        }
    }
    h
}

/// A score (`inf` and `-inf` included).
pub(super) fn float_of(v: Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(d),
        other => text_of(other).and_then(|s| match s.as_str() {
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            s => s.parse().ok(),
        }),
    }
}

/// Parses a `ZRANGE … WITHSCORES` reply into (member, score): RESP3 gives [member, score]
/// pairs, RESP2 a flat list.
pub(super) fn members_with_scores(v: Value) -> Vec<(String, Option<f64>)> {
    let mut out = Vec::new();
    let mut it = items_of(v).into_iter();
    while let Some(m) = it.next() {
        let (member, score) = match m {
            Value::Array(pair) if pair.len() == 2 => {
                let mut pi = pair.into_iter();
                (pi.next(), pi.next())
            }
            other => (Some(other), it.next()),
        };
        if let Some(member) = member.and_then(text_of) {
            out.push((member, score.and_then(float_of)));
        }
    }
    out
}

/// The traceback of a job's latest result: the `exc_string` of the first entry of an
/// `XREVRANGE … COUNT 1` reply on its results stream, decoded.
pub(super) fn latest_exc_string(v: Value) -> Option<String> {
    stream_entries(v).into_iter().next().and_then(|(_, f)| {
        f.get("exc_string")
            .and_then(|b| crate::rq::decode::exc_string(b))
    })
}

/// The last line of the `exc_string` of the newest entry of an `XREVRANGE … COUNT 1` reply on
/// a results stream, decoded with reused buffers (for scans).
pub(super) fn latest_exc_last_line(v: Value) -> Option<String> {
    let entry = items_of(v).into_iter().next()?;
    let fields = items_of(items_of(entry).into_iter().nth(1)?);
    let mut it = fields.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if bytes_of(k).as_deref() == Some(b"exc_string".as_slice()) {
            return bytes_of(v).and_then(|b| crate::rq::decode::exc_string_last_line(&b));
        }
    }
    None
}

/// Parses an XRANGE/XREVRANGE reply into (entry id, fields).
pub(super) fn stream_entries(v: Value) -> Vec<(String, RawHash)> {
    items_of(v)
        .into_iter()
        .filter_map(|entry| {
            let mut parts = items_of(entry).into_iter();
            let id = text_of(parts.next()?)?;
            let fields = hash_of(parts.next()?);
            Some((id, fields))
        })
        .collect()
}
