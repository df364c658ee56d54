//! Whole-database snapshots for comparing what rqdash did with what RQ did: clone one Redis into
//! another (DUMP/RESTORE), read every key, and compare with tolerance for the moment of the
//! action (timestamps, now-based scores, TTLs).

use std::collections::{BTreeMap, BTreeSet};

use super::TestRedis;

fn scan_all(c: &mut redis::Connection) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query(c)
            .unwrap();
        keys.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    keys.sort();
    keys
}

/// Copies every key (with its TTL) of `from` into `to`.
pub fn clone_into(from: &TestRedis, to: &TestRedis) {
    let mut a = from.conn();
    let mut b = to.conn();
    for k in scan_all(&mut a) {
        let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(&mut a).unwrap();
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut a).unwrap();
        if let Some(d) = dump {
            let _: () = redis::cmd("RESTORE")
                .arg(&k)
                .arg(ttl.max(0))
                .arg(d)
                .arg("REPLACE")
                .query(&mut b)
                .unwrap();
        }
    }
}

/// One stream entry: its id and fields.
pub type Entry = (String, Vec<(Vec<u8>, Vec<u8>)>);

/// A key's value, structured for comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A string.
    Str(Vec<u8>),
    /// A hash.
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    /// A list.
    List(Vec<Vec<u8>>),
    /// A set.
    Set(BTreeSet<Vec<u8>>),
    /// A sorted set, in order.
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A stream: (entry id, fields).
    Stream(Vec<Entry>),
}

/// Every key: (value, TTL in ms or -1).
pub type Snapshot = BTreeMap<String, (Val, i64)>;

/// Reads every key.
pub fn snapshot(r: &TestRedis) -> Snapshot {
    let mut c = r.conn();
    let mut out = Snapshot::new();
    for k in scan_all(&mut c) {
        let t: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
        let v = match t.as_str() {
            "string" => Val::Str(redis::cmd("GET").arg(&k).query(&mut c).unwrap()),
            "hash" => Val::Hash(redis::cmd("HGETALL").arg(&k).query(&mut c).unwrap()),
            "list" => Val::List(
                redis::cmd("LRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .query(&mut c)
                    .unwrap(),
            ),
            "set" => Val::Set(redis::cmd("SMEMBERS").arg(&k).query(&mut c).unwrap()),
            "zset" => {
                let flat: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE")
                    .arg(&k)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(&mut c)
                    .unwrap();
                Val::ZSet(
                    flat.into_iter()
                        .map(|(m, s)| {
                            let s = match s.as_str() {
                                "inf" => f64::INFINITY,
                                "-inf" => f64::NEG_INFINITY,
                                s => s.parse().unwrap(),
                            };
                            (m, s)
                        })
                        .collect(),
                )
            }
            "stream" => {
                let v: redis::Value = redis::cmd("XRANGE")
                    .arg(&k)
                    .arg("-")
                    .arg("+")
                    .query(&mut c)
                    .unwrap();
                let mut entries = Vec::new();
                if let redis::Value::Array(items) = v {
                    for it in items {
                        if let redis::Value::Array(pair) = it {
                            let id: String = redis::from_redis_value(pair[0].clone()).unwrap();
                            let fields: Vec<(Vec<u8>, Vec<u8>)> =
                                redis::from_redis_value(pair[1].clone()).unwrap();
                            entries.push((id, fields));
                        }
                    }
                }
                Val::Stream(entries)
            }
            other => panic!("unexpected type {other} of {}", String::from_utf8_lossy(&k)),
        };
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
        out.insert(String::from_utf8_lossy(&k).into_owned(), (v, ttl));
    }
    out
}

fn is_time(v: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(v).ok()?;
    let d = chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
        .ok()?;
    Some(d.and_utc().timestamp())
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    // Two timestamps written a few seconds apart (the moment of the action) are "the same".
    matches!((is_time(a), is_time(b)), (Some(x), Some(y)) if (x - y).abs() <= 30)
}

fn same_score(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 30.0
}

fn show(v: &[u8]) -> String {
    match std::str::from_utf8(v) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!(
            "0x{}",
            v.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
    }
}

/// The differences between two snapshots, one line each (empty: equivalent).
pub fn diff(rq: &Snapshot, ours: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = rq.keys().chain(ours.keys()).collect();
    for k in keys {
        match (rq.get(k), ours.get(k)) {
            (Some(_), None) => out.push(format!("{k}: RQ has it, rqdash does not")),
            (None, Some(_)) => out.push(format!("{k}: rqdash has it, RQ does not")),
            (Some((a, ta)), Some((b, tb))) => {
                if (*ta < 0) != (*tb < 0) || (*ta >= 0 && (ta - tb).abs() > 30_000) {
                    out.push(format!("{k}: TTL {ta} ms (RQ) vs {tb} ms (rqdash)"));
                }
                match (a, b) {
                    (Val::Str(x), Val::Str(y)) if !same_bytes(x, y) => {
                        out.push(format!("{k}: {} vs {}", show(x), show(y)))
                    }
                    (Val::Hash(x), Val::Hash(y)) => {
                        let fields: BTreeSet<&Vec<u8>> = x.keys().chain(y.keys()).collect();
                        for f in fields {
                            match (x.get(f), y.get(f)) {
                                (Some(p), Some(q)) if same_bytes(p, q) => {}
                                (p, q) => out.push(format!(
                                    "{k} field {}: {} (RQ) vs {} (rqdash)",
                                    show(f),
                                    p.map_or("absent".into(), |v| show(v)),
                                    q.map_or("absent".into(), |v| show(v))
                                )),
                            }
                        }
                    }
                    (Val::List(x), Val::List(y)) if x != y => out.push(format!(
                        "{k}: list {:?} (RQ) vs {:?} (rqdash)",
                        x.iter().map(|v| show(v)).collect::<Vec<_>>(),
                        y.iter().map(|v| show(v)).collect::<Vec<_>>()
                    )),
                    (Val::Set(x), Val::Set(y)) if x != y => out.push(format!(
                        "{k}: set {:?} (RQ) vs {:?} (rqdash)",
                        x.iter().map(|v| show(v)).collect::<Vec<_>>(),
                        y.iter().map(|v| show(v)).collect::<Vec<_>>()
                    )),
                    (Val::ZSet(x), Val::ZSet(y)) => {
                        let xm: BTreeMap<&Vec<u8>, f64> = x.iter().map(|(m, s)| (m, *s)).collect();
                        let ym: BTreeMap<&Vec<u8>, f64> = y.iter().map(|(m, s)| (m, *s)).collect();
                        let members: BTreeSet<&&Vec<u8>> = xm.keys().chain(ym.keys()).collect();
                        for m in members {
                            match (xm.get(*m), ym.get(*m)) {
                                (Some(p), Some(q)) if same_score(*p, *q) => {}
                                (p, q) => out.push(format!(
                                    "{k} member {}: score {p:?} (RQ) vs {q:?} (rqdash)",
                                    show(m)
                                )),
                            }
                        }
                    }
                    (Val::Stream(x), Val::Stream(y)) if x != y => out.push(format!(
                        "{k}: streams differ ({} vs {} entries)",
                        x.len(),
                        y.len()
                    )),
                    (Val::Str(_), Val::Str(_))
                    | (Val::List(_), Val::List(_))
                    | (Val::Set(_), Val::Set(_))
                    | (Val::Stream(_), Val::Stream(_)) => {}
                    (x, y) => out.push(format!("{k}: type {x:?} vs {y:?}")),
                }
            }
            (None, None) => {}
        }
    }
    out
}
