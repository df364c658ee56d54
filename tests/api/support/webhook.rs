//! A local HTTP receiver for alert webhooks: it records every JSON body POSTed to it and answers
//! 200, answers 500, or never answers (holds the connection), as told.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 200.
    Ok,
    /// 500, every time.
    Fail,
    /// Reads the request and never answers.
    Hang,
}

/// A receiver on a free port of 127.0.0.1. Its threads end with the test process.
pub struct Receiver {
    /// The URL to give `--alert-webhook`.
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    /// Starts one.
    pub fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let b = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let b = b.clone();
                std::thread::spawn(move || serve(stream, mode, &b));
            }
        });
        Receiver { url, bodies }
    }

    /// Every body received so far, in order (retries included).
    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// The notices received with `status` for `rule` (and `queue`, when given).
    pub fn notices(&self, status: &str, rule: &str, queue: Option<&str>) -> Vec<Value> {
        self.bodies()
            .into_iter()
            .filter(|n| {
                n["status"] == status && n["rule"] == rule && queue.is_none_or(|q| n["queue"] == q)
            })
            .collect()
    }
}

fn serve(stream: TcpStream, mode: Mode, bodies: &Mutex<Vec<Value>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(stream.try_clone().unwrap());
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; len];
    if r.read_exact(&mut body).is_err() {
        return;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "the webhook got no JSON ({e}): {:?}",
            String::from_utf8_lossy(&body)
        )
    });
    bodies.lock().unwrap().push(v);
    let mut stream = stream;
    match mode {
        Mode::Ok => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
        Mode::Fail => {
            let _ = stream.write_all(
                b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\nfail",
            );
        }
        Mode::Hang => std::thread::sleep(Duration::from_secs(120)),
    }
}
