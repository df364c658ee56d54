//! One results-stream entry of arbitrary fields and entry id.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rqdash::rq::model::{RawHash, ResultEntry};

const FIELDS: [&str; 7] = [
    "type", "return_value", "exc_string", "worker_name", "execution_id",
    "execution_started_at", "execution_ended_at",
];

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff);
    let id = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let mut h = RawHash::new();
    for (i, part) in parts.enumerate() {
        h.insert(FIELDS[i % FIELDS.len()].to_string(), part.to_vec());
    }
    let e = ResultEntry::from_stream(&id, &h, id.len() % 2 == 0);
    let _ = e.return_value.map(|v| v.repr(1000));
});
