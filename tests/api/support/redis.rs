//! A private `redis-server` per test, on a free port, killed on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server owned by one test.
pub struct TestRedis {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    dir: PathBuf,
    password: Option<String>,
    args: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

fn unique_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "rqdash-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

impl TestRedis {
    /// Starts a redis-server (binary from `REDIS_SERVER_BIN`, default `redis-server` on PATH).
    /// Panics loudly, with the log, if it cannot start: tests never skip for a missing tool.
    pub fn start() -> TestRedis {
        TestRedis::start_with(&[])
    }

    /// Starts a redis-server with extra arguments (e.g. `--requirepass`).
    pub fn start_with(extra: &[&str]) -> TestRedis {
        let bin = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        for _attempt in 0..5 {
            let port = free_port();
            let dir = unique_dir("redis");
            let child = Command::new(&bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(extra)
                .arg("--dir")
                .arg(&dir)
                .arg("--logfile")
                .arg(dir.join("redis.log"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {bin}: {e}. Install redis-server (apt-get install redis-server) or set REDIS_SERVER_BIN")
                });
            let password = extra
                .iter()
                .position(|a| *a == "--requirepass")
                .and_then(|i| extra.get(i + 1))
                .map(|p| p.to_string());
            let mut r = TestRedis {
                child: Some(child),
                port,
                dir,
                password,
                args: extra.iter().map(|a| a.to_string()).collect(),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Some(Ok(Some(_))) = r.child.as_mut().map(|c| c.try_wait()) {
                    break; // lost the port race: try another port
                }
                if r.ping() {
                    return r;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let log = std::fs::read_to_string(r.dir.join("redis.log")).unwrap_or_default();
            eprintln!(
                "redis-server on port {} did not come up; log:\n{log}",
                r.port
            );
        }
        panic!("could not start a redis-server after 5 attempts");
    }

    /// The data directory (for sockets and certificates).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The URL of db 0.
    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// A synchronous connection for direct checks.
    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .expect("connect to test redis")
    }

    fn ping(&self) -> bool {
        redis::Client::open(self.url())
            .ok()
            .and_then(|c| {
                c.get_connection_with_timeout(Duration::from_millis(200))
                    .ok()
            })
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).ok())
            .is_some()
    }

    /// Starts the server again on the same port and directory (it reloads its append-only file
    /// when started with `--appendonly yes`).
    pub fn restart(&mut self) {
        self.stop();
        let bin = std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into());
        let child = Command::new(&bin)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(&self.args)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("restart redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.ping() {
            assert!(Instant::now() < deadline, "redis-server did not come back");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to 30 s) until field `field` of hash `key` holds `want`.
    pub fn wait_field(&self, key: &str, field: &str, want: &str) {
        let mut c = self.conn();
        super::wait_for(
            Duration::from_secs(30),
            &format!("{key} {field} to be {want}"),
            || {
                let v: Option<String> =
                    redis::cmd("HGET").arg(key).arg(field).query(&mut c).ok()?;
                (v.as_deref() == Some(want)).then_some(())
            },
        );
    }

    /// Asserts that queue `queue` holds exactly `n` ids, none twice.
    pub fn assert_queued_once(&self, queue: &str, n: usize) {
        let ids: Vec<String> = redis::cmd("LRANGE")
            .arg(format!("rq:queue:{queue}"))
            .arg(0)
            .arg(-1)
            .query(&mut self.conn())
            .unwrap();
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(
            (ids.len(), unique.len()),
            (n, n),
            "every job of {queue} queued exactly once"
        );
    }

    /// Stops the server (to test outages).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
