//! `redis+sentinel://` URLs: Redis Sentinel finds the master.
//!
//! Form: `redis+sentinel://[[user]:password@]host:port[,host:port…]/service_name[/db]`, the
//! common form of Python clients (Kombu, redis-sentinel-url). The credentials and db apply to the
//! master; the sentinels are asked without them.

/// A parsed sentinel URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelUrl {
    /// `redis://host:port` of each sentinel.
    pub sentinels: Vec<String>,
    /// The monitored master's name.
    pub service: String,
    /// The master's db number.
    pub db: i64,
    /// ACL user for the master.
    pub username: Option<String>,
    /// Password for the master.
    pub password: Option<String>,
}

/// Parses a `redis+sentinel://` URL; `None` for any other scheme.
///
/// # Errors
/// A message saying what is wrong with a sentinel URL.
pub fn parse(url: &str) -> Option<Result<SentinelUrl, String>> {
    let rest = url.strip_prefix("redis+sentinel://")?;
    Some((|| {
        let (auth, rest) = match rest.rsplit_once('@') {
            Some((a, r)) => (Some(a), r),
            None => (None, rest),
        };
        let (hosts, path) = rest
            .split_once('/')
            .ok_or("a sentinel URL needs the service name: redis+sentinel://host:26379/mymaster")?;
        let sentinels: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                if h.rsplit_once(':')
                    .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                {
                    format!("redis://{h}")
                } else {
                    format!("redis://{h}:26379")
                }
            })
            .collect();
        if sentinels.is_empty() {
            return Err("a sentinel URL needs at least one host".to_string());
        }
        let mut parts = path.split('/').filter(|p| !p.is_empty());
        let service = parts
            .next()
            .ok_or("a sentinel URL needs the service name after the hosts")?
            .to_string();
        let db = match parts.next() {
            Some(d) => d
                .parse()
                .map_err(|_| format!("invalid db number {d:?} in the sentinel URL"))?,
            None => 0,
        };
        let (username, password) = match auth {
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
                None => (None, Some(a.to_string())),
            },
            None => (None, None),
        };
        Ok(SentinelUrl {
            sentinels,
            service,
            db,
            username,
            password,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls_parse() {
        let s = parse("redis+sentinel://:pw@a:26379,b/mymaster/3")
            .unwrap()
            .unwrap();
        assert_eq!(s.sentinels, vec!["redis://a:26379", "redis://b:26379"]);
        assert_eq!(s.service, "mymaster");
        assert_eq!(s.db, 3);
        assert_eq!(s.password.as_deref(), Some("pw"));
        assert_eq!(s.username, None);
        assert!(parse("redis://x").is_none());
        assert!(parse("redis+sentinel://a:1").unwrap().is_err());
        assert!(parse("redis+sentinel://a:1/m/x").unwrap().is_err());
    }
}
