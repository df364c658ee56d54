//! Decoding of RQ's encoded fields: zlib, base64, pickle and JSON payloads, tracebacks.
//!
//! Nothing here can execute job data: pickles go through [`crate::pickle`], a pure-data
//! decoder that records class names instead of importing them. Every decoder is bounded in the
//! memory it may allocate, and every failure becomes a [`Decoded::Opaque`] value that says what
//! the bytes were, never an error page.

use base64::Engine;
use flate2::read::ZlibDecoder;
use std::io::Read;

use crate::pickle::{self, PyValue};

/// The most bytes a zlib field may inflate to (guards against zip bombs).
pub const MAX_INFLATED: usize = 16 * 1024 * 1024;

/// How long a repr may get before it is cut.
pub const MAX_REPR: usize = 20_000;

/// How much of a long text field (description, traceback) a page or answer shows.
pub const MAX_TEXT: usize = 100_000;

/// How much of a description a list row shows.
pub const MAX_ROW_TEXT: usize = 2_000;

/// The largest JSON value an answer carries for one decoded payload, in bytes.
pub const MAX_JSON: usize = 200_000;

/// A decoded payload (argument, return value, meta).
#[derive(Debug, Clone)]
pub enum Decoded {
    /// A Python pickle, decoded as inert data.
    Pickle(PyValue),
    /// A JSON document (RQ's `JSONSerializer`).
    Json(serde_json::Value),
    /// Plain text that is neither (e.g. RQ's literal `Unserializable return value`).
    Text(String),
    /// Bytes that could not be decoded: their size, what they look like, and why.
    Opaque {
        /// Size in bytes.
        len: usize,
        /// What the bytes look like (`pickle`, `binary`, ...).
        kind: String,
        /// Why decoding failed.
        reason: String,
    },
}

impl Decoded {
    /// Returns a Python-like repr for display, cut at `max` characters.
    pub fn repr(&self, max: usize) -> String {
        match self {
            Decoded::Pickle(v) => v.repr(max),
            Decoded::Json(v) => truncate(&v.to_string(), max),
            Decoded::Text(t) => truncate(t, max),
            Decoded::Opaque { len, kind, reason } => {
                format!("<{kind}, {len} bytes, not decoded: {reason}>")
            }
        }
    }

    /// Returns a JSON rendering for the API; a value larger than [`MAX_JSON`] bytes becomes its
    /// cut repr instead.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Decoded::Pickle(v) => v.to_json(),
            Decoded::Json(v) => v.clone(),
            Decoded::Text(t) => serde_json::Value::String(truncate(t, MAX_TEXT)),
            Decoded::Opaque { .. } => serde_json::Value::String(self.repr(MAX_REPR)),
        };
        match serde_json::to_string(&v) {
            Ok(s) if s.len() > MAX_JSON => serde_json::Value::String(format!(
                "{} (cut: {} bytes as JSON)",
                truncate(&self.repr(MAX_REPR), MAX_REPR),
                s.len()
            )),
            _ => v,
        }
    }

    /// True when decoding failed.
    pub fn is_opaque(&self) -> bool {
        matches!(self, Decoded::Opaque { .. })
    }
}

/// Cuts `s` at `max` characters, adding `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Keeps the end of `s` (at most `max` characters), marking the cut with `…`: for tracebacks,
/// whose last lines say what went wrong.
pub fn tail(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let skip = s.char_indices().nth(n - max).map_or(0, |(i, _)| i);
    format!("…{}", &s[skip..])
}

/// Inflates zlib data, refusing output larger than [`MAX_INFLATED`].
pub fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut dec = ZlibDecoder::new(data).take(MAX_INFLATED as u64 + 1);
    dec.read_to_end(&mut out).map_err(|e| e.to_string())?;
    if out.len() > MAX_INFLATED {
        return Err(format!("inflates to more than {MAX_INFLATED} bytes"));
    }
    Ok(out)
}

/// Decodes a serializer output (pickle or JSON). `json_first` comes from `--json`; the bytes are
/// sniffed either way, since Redis does not record which serializer wrote them.
pub fn payload(data: &[u8], json_first: bool) -> Decoded {
    let looks_pickle = data.first() == Some(&0x80);
    let try_json = |d: &[u8]| serde_json::from_slice::<serde_json::Value>(d).ok();
    if json_first || !looks_pickle {
        if let Some(v) = try_json(data) {
            return Decoded::Json(v);
        }
    }
    if looks_pickle || !json_first {
        match pickle::loads(data) {
            Ok(v) => return Decoded::Pickle(v),
            Err(e) if looks_pickle => {
                return Decoded::Opaque {
                    len: data.len(),
                    kind: "pickle".into(),
                    reason: e.to_string(),
                }
            }
            Err(_) => {}
        }
    }
    match std::str::from_utf8(data) {
        Ok(t) => Decoded::Text(t.to_string()),
        Err(_) => Decoded::Opaque {
            len: data.len(),
            kind: "binary".into(),
            reason: "neither pickle, JSON nor text".into(),
        },
    }
}

/// Decodes a results-stream `return_value`: base64 of the serializer output.
pub fn base64_payload(data: &[u8], json_first: bool) -> Decoded {
    match base64::engine::general_purpose::STANDARD.decode(trim_ascii(data)) {
        Ok(raw) => payload(&raw, json_first),
        Err(e) => Decoded::Opaque {
            len: data.len(),
            kind: "base64".into(),
            reason: e.to_string(),
        },
    }
}

fn trim_ascii(d: &[u8]) -> &[u8] {
    let start = d
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(d.len());
    let end = d
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &d[start..end]
}

/// Decodes a results-stream `exc_string`: base64 → zlib → UTF-8. Falls back to the text itself.
pub fn exc_string(data: &[u8]) -> Option<String> {
    let text = match base64::engine::general_purpose::STANDARD.decode(trim_ascii(data)) {
        Ok(raw) => match inflate(&raw) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(_) => String::from_utf8_lossy(&raw).into_owned(),
        },
        Err(_) => String::from_utf8_lossy(data).into_owned(),
    };
    (!text.is_empty()).then(|| tail(&text, MAX_TEXT))
}

/// The last non-empty line (`Type: message`) of a results-stream `exc_string`, decoded as
/// [`exc_string`] does but with buffers reused per thread: for scans over many jobs, where a
/// fresh decoder per job would cost more than the rest of the scan.
pub fn exc_string_last_line(data: &[u8]) -> Option<String> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let Scratch { b64, out, dec } = &mut *s;
        b64.clear();
        let text: &[u8] =
            match base64::engine::general_purpose::STANDARD.decode_vec(trim_ascii(data), b64) {
                Ok(()) => match inflate_into(dec, b64, out) {
                    Ok(()) => out,
                    Err(()) => b64,
                },
                Err(_) => data,
            };
        let line = last_line_of(text);
        shrink(b64);
        shrink(out);
        line
    })
}

/// The last non-empty line of the job hash's `exc_info` (zlib, or raw), like
/// [`exc_string_last_line`].
pub fn exc_info_last_line(data: &[u8]) -> Option<String> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let Scratch { out, dec, .. } = &mut *s;
        let line = match inflate_into(dec, data, out) {
            Ok(()) => last_line_of(out),
            Err(()) => last_line_of(data),
        };
        shrink(out);
        line
    })
}

/// Frees a reused buffer that a big input grew past 1 MiB.
fn shrink(b: &mut Vec<u8>) {
    if b.capacity() > 1 << 20 {
        *b = Vec::new();
    }
}

/// Buffers reused by the per-thread decoders above.
struct Scratch {
    b64: Vec<u8>,
    out: Vec<u8>,
    dec: flate2::Decompress,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch {
        b64: Vec::new(),
        out: Vec::new(),
        dec: flate2::Decompress::new(true),
    });
}

/// Inflates zlib `input` into `out` with a reused decoder; refuses more than [`MAX_INFLATED`].
fn inflate_into(dec: &mut flate2::Decompress, input: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
    dec.reset(true);
    out.clear();
    loop {
        if out.capacity() - out.len() < 4096 {
            // Grow by at most what is still allowed, so a bomb stops at MAX_INFLATED + 1 bytes.
            let room = (MAX_INFLATED + 1).saturating_sub(out.len());
            out.reserve_exact(out.len().max(16 * 1024).min(room.max(1)));
        }
        let (read, written) = (dec.total_in(), out.len());
        let rest = input.get(read as usize..).ok_or(())?;
        match dec.decompress_vec(rest, out, flate2::FlushDecompress::None) {
            _ if out.len() > MAX_INFLATED => return Err(()),
            Ok(flate2::Status::StreamEnd) => return Ok(()),
            Ok(_) if dec.total_in() == read && out.len() == written => return Err(()),
            Ok(_) => {}
            Err(_) => return Err(()),
        }
    }
}

/// Returns the last non-empty line of a traceback (`Type: message`), trimmed; empty when there
/// is none.
pub fn last_line(traceback: &str) -> &str {
    traceback
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// The last non-empty line of `text` (lossy UTF-8), trimmed; `None` when there is none.
fn last_line_of(text: &[u8]) -> Option<String> {
    let line = text
        .split(|b| *b == b'\n')
        .rev()
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty())?;
    Some(String::from_utf8_lossy(line).into_owned())
}

/// Decodes the job hash's `exc_info`: zlib (falling back to raw) → UTF-8; `None` when empty, as
/// after a requeue.
pub fn exc_info_field(data: &[u8]) -> Option<String> {
    let raw = inflate(data).unwrap_or_else(|_| data.to_vec());
    let text = String::from_utf8_lossy(&raw).into_owned();
    (!text.is_empty()).then(|| tail(&text, MAX_TEXT))
}

/// A decoded job call: RQ's `data` 4-tuple `(func_name, instance, args, kwargs)`.
#[derive(Debug, Clone)]
pub struct Call {
    /// Dotted function name.
    pub func_name: String,
    /// The instance for method jobs, as a repr.
    pub instance: Option<String>,
    /// Positional arguments.
    pub args: Vec<Decoded>,
    /// Keyword arguments: name and value.
    pub kwargs: Vec<(String, Decoded)>,
}

impl Call {
    /// Returns a Python-like call string, e.g. `mod.add(1, 2, k='v')`.
    pub fn call_string(&self, max: usize) -> String {
        let mut parts: Vec<String> = self.args.iter().map(|a| a.repr(200)).collect();
        parts.extend(
            self.kwargs
                .iter()
                .map(|(k, v)| format!("{k}={}", v.repr(200))),
        );
        truncate(&format!("{}({})", self.func_name, parts.join(", ")), max)
    }
}

/// Decodes a job's `data` field.
///
/// # Errors
/// A message saying why the payload is not a job call (it is then shown as such).
pub fn job_data(data: &[u8], json_first: bool) -> Result<Call, String> {
    // RQ falls back to the raw bytes when zlib fails (very old jobs).
    let raw = inflate(data).unwrap_or_else(|_| data.to_vec());
    match payload(&raw, json_first) {
        Decoded::Pickle(PyValue::Tuple(items)) | Decoded::Pickle(PyValue::List(items))
            if items.len() == 4 =>
        {
            let mut it = items.into_iter();
            let (f, inst, args, kwargs) = (
                it.next().unwrap_or(PyValue::None),
                it.next().unwrap_or(PyValue::None),
                it.next().unwrap_or(PyValue::None),
                it.next().unwrap_or(PyValue::None),
            );
            let func_name = match f {
                PyValue::Str(s) => s,
                other => other.repr(500),
            };
            let instance = (inst != PyValue::None).then(|| inst.repr(500));
            let args = match args {
                PyValue::Tuple(v) | PyValue::List(v) => {
                    v.into_iter().map(Decoded::Pickle).collect()
                }
                PyValue::None => Vec::new(),
                other => vec![Decoded::Pickle(other)],
            };
            let kwargs = match kwargs {
                PyValue::Dict(kv) => kv
                    .into_iter()
                    .map(|(k, v)| {
                        let k = match k {
                            PyValue::Str(s) => s,
                            other => other.repr(200),
                        };
                        (k, Decoded::Pickle(v))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Call {
                func_name,
                instance,
                args,
                kwargs,
            })
        }
        Decoded::Json(serde_json::Value::Array(items)) if items.len() == 4 => {
            let func_name = match &items[0] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let instance = (!items[1].is_null()).then(|| items[1].to_string());
            let args = match &items[2] {
                serde_json::Value::Array(a) => a.iter().cloned().map(Decoded::Json).collect(),
                _ => Vec::new(),
            };
            let kwargs = match &items[3] {
                serde_json::Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), Decoded::Json(v.clone())))
                    .collect(),
                _ => Vec::new(),
            };
            Ok(Call {
                func_name,
                instance,
                args,
                kwargs,
            })
        }
        Decoded::Opaque { len, kind, reason } => Err(format!(
            "{kind} payload of {len} bytes not decoded: {reason}"
        )),
        other => Err(format!(
            "not an RQ job call: {}",
            truncate(&other.repr(200), 200)
        )),
    }
}

/// Returns a printable preview of raw bytes: text when UTF-8 (cut at `max`), else size and a hex
/// head.
pub fn preview_bytes(v: &[u8], max: usize) -> String {
    match std::str::from_utf8(v) {
        Ok(s) if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => truncate(s, max),
        _ => {
            let head: String = v.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!(
                "<{} bytes: {head}{}>",
                v.len(),
                if v.len() > 16 { "…" } else { "" }
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::ZlibEncoder, Compression};
    use std::io::Write;

    fn zlib(d: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
        e.write_all(d).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn the_scan_decoders_give_the_last_line_the_full_ones_end_with() {
        use base64::Engine;
        let tb = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'k-7'\n\n";
        let big = format!("{}{tb}", "x".repeat(100_000));
        for text in [tb, big.as_str(), "", "just one line", "ünïcode: ✓\n"] {
            let full = |s: Option<String>| {
                s.map(|t| last_line(&t).to_string())
                    .filter(|l| !l.is_empty())
            };
            let z = zlib(text.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(&z);
            assert_eq!(
                exc_string_last_line(b64.as_bytes()),
                full(exc_string(b64.as_bytes())),
                "{text:.40}"
            );
            assert_eq!(exc_info_last_line(&z), full(exc_info_field(&z)));
            // Raw (not compressed, not base64) and truncated data fall back as the full ones do.
            assert_eq!(
                exc_string_last_line(text.as_bytes()),
                full(exc_string(text.as_bytes()))
            );
            assert_eq!(
                exc_info_last_line(text.as_bytes()),
                full(exc_info_field(text.as_bytes()))
            );
            let cut = &z[..z.len() / 2];
            assert_eq!(exc_info_last_line(cut), full(exc_info_field(cut)));
        }
        // A zip bomb is refused, not inflated.
        let bomb = zlib(&vec![b'a'; MAX_INFLATED + 10]);
        assert_eq!(exc_info_last_line(&bomb), full_line_of_raw(&bomb));
    }

    fn full_line_of_raw(d: &[u8]) -> Option<String> {
        last_line_of(d)
    }

    #[test]
    fn rq_empty_exc_info_marker_means_none() {
        let marker = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
        assert_eq!(exc_info_field(&marker), None);
        assert_eq!(
            exc_info_field(b"plain traceback").as_deref(),
            Some("plain traceback")
        );
    }

    #[test]
    fn json_job_data_decodes() {
        let data = zlib(br#"["mod.add", null, [1, 2], {"k": "v"}]"#);
        let call = job_data(&data, true).unwrap();
        assert_eq!(call.func_name, "mod.add");
        assert_eq!(call.call_string(100), r#"mod.add(1, 2, k="v")"#);
    }

    #[test]
    fn zip_bombs_are_refused() {
        let big = vec![0u8; MAX_INFLATED + 10];
        assert!(inflate(&zlib(&big)).is_err());
    }

    #[test]
    fn garbage_is_opaque_not_an_error() {
        let d = payload(&[0x80, 0x05, 0xff, 0xfe], false);
        assert!(d.is_opaque());
        assert!(d.repr(100).contains("4 bytes"));
        assert!(job_data(&[1, 2, 3], false).is_err());
    }

    #[test]
    fn stream_return_values_are_base64_pickles() {
        // pickle.dumps(3, protocol=5) as RQ 2.12 stores it.
        assert_eq!(base64_payload(b"gAVLAy4=", false).repr(10), "3");
    }
}
