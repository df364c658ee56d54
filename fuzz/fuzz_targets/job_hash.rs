//! A whole job hash of arbitrary fields, as the job page and list rows parse it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rqdash::rq::model::{JobDetail, JobSummary, RawHash, Worker};

const FIELDS: [&str; 16] = [
    "data", "meta", "result", "exc_info", "status", "origin", "description", "created_at",
    "enqueued_at", "started_at", "ended_at", "dependency_ids", "timeout", "worker_name",
    "last_heartbeat", "success_callback_name",
];

fuzz_target!(|data: &[u8]| {
    // Split the input into field values on 0xFF bytes.
    let mut h = RawHash::new();
    for (i, part) in data.split(|b| *b == 0xff).enumerate() {
        h.insert(FIELDS[i % FIELDS.len()].to_string(), part.to_vec());
    }
    let d = JobDetail::from_hash("fuzz", &h, data.len() % 2 == 0);
    let _ = d.exc_info();
    let _ = d.return_value().map(|v| v.to_json());
    let values = rqdash::rq::model::SUMMARY_FIELDS
        .iter()
        .map(|f| h.get(*f).cloned())
        .collect();
    let s = JobSummary::from_fields("fuzz".into(), h.contains_key("data"), values, None, Some(1.0));
    let _ = s.exc_last_line();
    let w = Worker::from_hash("w", &h, &[String::from_utf8_lossy(data).into_owned()]);
    let _ = w.is_stale(chrono::Utc::now());
});
