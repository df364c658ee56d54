//! The pickle decoder on arbitrary bytes: never panics, hangs or runs away with memory, and what
//! it returns can always be shown (repr) and serialized (JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = rqdash::pickle::loads(data) {
        let _ = v.repr(10_000);
        let _ = v.to_json().to_string();
    }
});
