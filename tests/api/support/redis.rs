//! A private `redis-server` per test, on a free port, in its own temp dir; on drop it is shut
//! down (with any child it forked) and the dir removed.

use super::process::{Spawned, TempDir};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running redis-server owned by one test.
pub struct TestRedis {
    // Declared before `dir`, so the server stops before its dir is removed.
    child: Option<Spawned>,
    /// Its port.
    pub port: u16,
    dir: TempDir,
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

fn redis_bin() -> String {
    std::env::var("REDIS_SERVER_BIN").unwrap_or_else(|_| "redis-server".into())
}

/// Starts `redis-server` on `port` in `dir` with `extra` arguments. redis-server overwrites its
/// environment with its process title, so the title carries the dir (the tag) instead; the
/// processes it forks (background saves, replication) keep that title.
fn spawn(port: u16, dir: &TempDir, extra: &[String]) -> Spawned {
    let bin = redis_bin();
    let d = dir.path();
    let mut cmd = Command::new(&bin);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ])
    .args(extra)
    .arg("--dir")
    .arg(d)
    .arg("--logfile")
    .arg(d.join("redis.log"))
    .arg("--proc-title-template")
    .arg(format!(
        "{{title}} {{listen-addr}} {{server-mode}} {}",
        d.display()
    ))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // SIGTERM on drop: redis-server stops its forked children and exits.
    Spawned::start(&mut cmd, dir.tag(), "redis-server", Duration::from_secs(5)).unwrap_or_else(|e| {
        panic!("cannot start {bin}: {e}. Install redis-server (apt-get install redis-server) or set REDIS_SERVER_BIN")
    })
}

impl TestRedis {
    /// Starts a redis-server (binary from `REDIS_SERVER_BIN`, default `redis-server` on PATH).
    /// Panics loudly, with the log, if it cannot start: tests never skip for a missing tool.
    pub fn start() -> TestRedis {
        TestRedis::start_with(&[])
    }

    /// Starts a redis-server with extra arguments (e.g. `--requirepass`).
    pub fn start_with(extra: &[&str]) -> TestRedis {
        let args: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
        for _attempt in 0..5 {
            let port = free_port();
            let dir = TempDir::new("redis");
            let child = spawn(port, &dir, &args);
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
                args: args.clone(),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Some(Ok(Some(_))) = r.child.as_mut().map(|c| c.child().try_wait()) {
                    break; // lost the port race: try another port
                }
                if r.ping() {
                    return r;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let log = std::fs::read_to_string(r.dir.path().join("redis.log")).unwrap_or_default();
            eprintln!(
                "redis-server on port {} did not come up; log:\n{log}",
                r.port
            );
        }
        panic!("could not start a redis-server after 5 attempts");
    }

    /// The data directory (for sockets and certificates).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
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
        self.child = Some(spawn(self.port, &self.dir, &self.args));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.ping() {
            assert!(Instant::now() < deadline, "redis-server did not come back");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to 30 s) until a dashboard's history has made its first round (its start is
    /// set in `rqdash:rq:hist:meta`).
    pub fn wait_history_started(&self) {
        let mut c = self.conn();
        super::wait_for(Duration::from_secs(30), "the history's first round", || {
            let since: Option<i64> = redis::cmd("HGET")
                .arg("rqdash:rq:hist:meta")
                .arg("since")
                .query(&mut c)
                .unwrap();
            since.map(|_| ())
        });
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

    /// Stops the server as a crash would, with SIGKILL (to test outages), and waits until
    /// nothing it started is left.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.end_with(Duration::ZERO);
        }
    }

    /// Its tag (its temp dir's name).
    pub fn tag(&self) -> &str {
        self.dir.tag()
    }

    /// The processes of this server (it and what it forked).
    pub fn processes(&self) -> Vec<super::process::Proc> {
        super::process::carrying(self.dir.tag())
    }
}
// Drop: `child` (a `Spawned`) shuts the server down, then `dir` (a `TempDir`) is removed.
