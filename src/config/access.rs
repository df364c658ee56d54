//! Who may reach the dashboard, and through what: the proxies whose headers are believed
//! (`--trust-proxy` from the addresses of `--trusted-proxies`), the host names it answers to
//! (`--allowed-hosts`, the `--public-url` host, the bind address, localhost and IP addresses, so
//! a web page elsewhere cannot reach it through DNS rebinding), the credentials hidden from
//! every label and log line, and how a given secret is compared ([`constant_time_eq`]).

use ipnet::IpNet;
use std::net::IpAddr;

/// Compares two byte strings in time independent of where they differ (passwords, tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// The proxies trusted by default: this host (a proxy beside the dashboard).
pub const DEFAULT_TRUSTED_PROXIES: &str = "127.0.0.0/8,::1/128";

/// Parses `--trusted-proxies`: CIDR ranges or single addresses, comma-separated or repeated.
///
/// # Errors
/// The entry that is not an address or a range, in a sentence.
pub fn parse_proxies(items: &[String]) -> Result<Vec<IpNet>, String> {
    let mut out = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        let net = item
            .parse::<IpNet>()
            .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                format!(
                    "invalid --trusted-proxies entry {item:?}: give addresses or ranges like 10.0.0.5 or 10.0.0.0/8"
                )
            })?;
        out.push(net);
    }
    Ok(out)
}

/// Parses `--allowed-hosts`: host names (without port), comma-separated or repeated, lower-cased;
/// `*` answers to every name.
///
/// # Errors
/// A name with a character no host name has.
pub fn parse_hosts(items: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')).map(str::trim) {
        if item.is_empty() {
            continue;
        }
        if item != "*"
            && !item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._[]:".contains(c))
        {
            return Err(format!(
                "invalid --allowed-hosts entry {item:?}: give host names like rq.example.com"
            ));
        }
        out.push(item.to_ascii_lowercase());
    }
    Ok(out)
}

/// The host name of an `http(s)://` URL, lower-cased, without port or brackets.
pub fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host_name(authority).to_ascii_lowercase()).filter(|h| !h.is_empty())
}

/// The host name of a `Host` header's value (`name`, `name:port`, `[v6]:port`), without port or
/// brackets.
pub fn host_name(host: &str) -> &str {
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether `peer` is one of the `trusted` proxies.
pub fn trusted(peer: Option<IpAddr>, trusted: &[IpNet]) -> bool {
    peer.is_some_and(|ip| {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        trusted.iter().any(|n| n.contains(&ip))
    })
}

/// The client's address for the audit log: the peer's, or when the peer is a trusted proxy the
/// nearest `X-Forwarded-For` entry (`hops`, left to right as sent) that is not itself a trusted
/// proxy; the entries further left are whatever the client chose to send.
pub fn client_address(
    peer: Option<IpAddr>,
    hops: &[&str],
    proxied: bool,
    proxies: &[IpNet],
) -> String {
    let peer_text = peer.map(|p| p.to_string()).unwrap_or_default();
    if !proxied {
        return peer_text;
    }
    let hops: Vec<IpAddr> = hops
        .iter()
        .flat_map(|h| h.split(','))
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !trusted(Some(**ip), proxies))
        .or(hops.first())
        .map_or(peer_text, |ip| ip.to_string())
}

/// Whether the dashboard answers to `host` (a `Host` header's value): localhost, any IP address
/// and any name without a dot (DNS rebinding needs a name in a zone the attacker controls, so a
/// dotted one; proxies often send an upstream's or a container's single-label name), the bind
/// name, the public URL's host, or an allowed name.
pub fn host_allowed(host: &str, bind: &str, public_host: Option<&str>, allowed: &[String]) -> bool {
    let name = host_name(host.trim()).to_ascii_lowercase();
    name.is_empty()
        || !name.contains('.')
        || name == "localhost"
        || name.parse::<IpAddr>().is_ok()
        || name == bind.to_ascii_lowercase()
        || public_host == Some(name.as_str())
        || allowed.iter().any(|a| a == "*" || *a == name)
}

/// A Redis URL with its credentials hidden, for labels, pages and logs: the user and password
/// before `@`, and the value of every query parameter that holds one (`pass=`, `password=`, as
/// the redis crate takes them in `unix://` URLs).
pub fn mask_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***:***@{}", &base[..s], &base[at + 1..]),
        _ => base.to_string(),
    };
    if let Some(q) = query {
        let params: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("pass") => format!("{k}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// A webhook URL for logs: its scheme and host only (Slack, Mattermost and Discord keep the
/// token in the path).
pub fn mask_webhook(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{authority}/…")
        }
        None => "(a webhook)".into(),
    }
}

/// A request path for a log line: control characters escaped, so a decoded `%0A` cannot start a
/// forged line.
pub fn log_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"a:b", b"a:b"));
        assert!(!constant_time_eq(b"a:b", b"a:c"));
        assert!(!constant_time_eq(b"a:b", b"a:bb"));
        assert!(!constant_time_eq(b"", b"x"));
    }

    #[test]
    fn every_credential_form_is_masked() {
        assert_eq!(mask_url("redis://u:p@h:1/0"), "redis://***:***@h:1/0");
        assert_eq!(mask_url("redis://h:1"), "redis://h:1");
        assert_eq!(
            mask_url("unix:///run/redis.sock?db=2&pass=s3cret"),
            "unix:///run/redis.sock?db=2&pass=***"
        );
        assert_eq!(
            mask_url("redis+unix:///s.sock?user=me&password=s3cret"),
            "redis+unix:///s.sock?user=me&password=***"
        );
        assert_eq!(
            mask_url("redis+sentinel://:pw@a:26379,b/mymaster/3"),
            "redis+sentinel://***:***@a:26379,b/mymaster/3"
        );
        assert_eq!(
            mask_webhook("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
    }

    #[test]
    fn hosts_and_proxies() {
        let allowed = parse_hosts(&["rq.example.com, Other.example".into()]).unwrap();
        assert!(host_allowed("localhost:9181", "127.0.0.1", None, &[]));
        assert!(host_allowed("127.0.0.1:9181", "127.0.0.1", None, &[]));
        assert!(host_allowed("[::1]:9181", "127.0.0.1", None, &[]));
        assert!(host_allowed("10.1.2.3", "0.0.0.0", None, &[]));
        assert!(!host_allowed("evil.example:9181", "127.0.0.1", None, &[]));
        assert!(!host_allowed(
            "127.0.0.1.nip.example",
            "127.0.0.1",
            None,
            &[]
        ));
        assert!(
            host_allowed("dash", "127.0.0.1", None, &[]),
            "an upstream's name"
        );
        assert!(host_allowed("other.example", "127.0.0.1", None, &allowed));
        assert!(host_allowed(
            "RQ.example.com",
            "127.0.0.1",
            Some("rq.example.com"),
            &[]
        ));
        assert_eq!(
            url_host("https://u@Rq.Example.com:8443/x"),
            Some("rq.example.com".into())
        );
        let p = parse_proxies(&[DEFAULT_TRUSTED_PROXIES.into()]).unwrap();
        assert!(trusted("127.0.0.1".parse().ok(), &p));
        assert!(trusted("::ffff:127.0.0.1".parse().ok(), &p));
        assert!(!trusted("10.0.0.1".parse().ok(), &p));
        assert!(parse_proxies(&["nope".into()]).is_err());
        assert_eq!(log_safe("/a\nb"), "/a\\nb");
        assert_eq!(log_safe("queue “ünï”"), "queue “ünï”");
        // The client chooses the left of X-Forwarded-For; the proxy appends the real peer.
        let peer = "127.0.0.1".parse().ok();
        assert_eq!(
            client_address(peer, &["6.6.6.6, 203.0.113.9"], true, &p),
            "203.0.113.9"
        );
        assert_eq!(
            client_address(peer, &["6.6.6.6", "203.0.113.9, 127.0.0.1"], true, &p),
            "203.0.113.9"
        );
        assert_eq!(client_address(peer, &["6.6.6.6"], false, &p), "127.0.0.1");
    }
}
