//! `rqdash --healthcheck`: asks a running dashboard for `/healthz` over plain TCP, so a container
//! `HEALTHCHECK` needs no curl in the image.

use base64::Engine;

use crate::config::Settings;

/// Asks a running dashboard configured by `settings` for `/healthz` (what a container
/// `HEALTHCHECK` runs; needs no curl in the image).
///
/// # Errors
/// A message when the dashboard does not answer 200.
pub fn healthcheck(settings: &Settings) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let host = match settings.bind.as_str() {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, settings.port))
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address to check")?;
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut req = format!(
        "GET {}/healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
        settings.url_prefix
    );
    if let Some(c) = &settings.auth {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", c.username, c.password));
        req.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        Err(format!("{status} {body}"))
    }
}
