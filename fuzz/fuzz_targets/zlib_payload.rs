//! zlib and payload decoding as job `data`, `meta`, `exc_info` and results fields get it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rqdash::rq::decode;

fuzz_target!(|data: &[u8]| {
    let json_first = data.first().is_some_and(|b| b & 1 == 1);
    let _ = decode::inflate(data);
    let _ = decode::exc_info_field(data);
    let _ = decode::exc_string(data);
    let _ = decode::payload(data, json_first).to_json();
    let _ = decode::base64_payload(data, json_first).repr(1000);
    if let Ok(call) = decode::job_data(data, json_first) {
        let _ = call.call_string(500);
    }
    let _ = decode::preview_bytes(data, 300);
});
