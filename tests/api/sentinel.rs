//! `redis+sentinel://` URLs against a real Redis Sentinel, through a failover.

use crate::support::process::{Spawned, TempDir};
use crate::support::{wait_for, Rq, TestApp, TestRedis};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A Redis Sentinel, stopped on drop (before its temp dir is removed).
struct Sentinel {
    _process: Spawned,
    port: u16,
    _dir: TempDir,
}

impl Sentinel {
    fn start(master_port: u16) -> Sentinel {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = TempDir::new("sentinel");
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {master_port} 1\n\
                 sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n",
                dir.path().display()
            ),
        )
        .unwrap();
        // Its title carries the tag: redis-server overwrites its environment with it.
        let process = Spawned::start(
            Command::new("redis-server")
                .arg(&conf)
                .arg("--sentinel")
                .arg("--proc-title-template")
                .arg(format!(
                    "{{title}} {{listen-addr}} {{server-mode}} {}",
                    dir.path().display()
                ))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            dir.tag(),
            "redis-server --sentinel",
            Duration::from_secs(5),
        )
        .expect("redis-server --sentinel");
        let s = Sentinel {
            _process: process,
            port,
            _dir: dir,
        };
        wait_for(Duration::from_secs(10), "the sentinel", || {
            s.cmd(&["PING"]).ok()
        });
        s
    }

    fn cmd(&self, args: &[&str]) -> redis::RedisResult<redis::Value> {
        let mut c =
            redis::Client::open(format!("redis://127.0.0.1:{}", self.port))?.get_connection()?;
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut c)
    }

    fn master_port(&self) -> Option<u16> {
        let v = self
            .cmd(&["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])
            .ok()?;
        let addr: Vec<String> = redis::from_redis_value(v).ok()?;
        addr.get(1)?.parse().ok()
    }
}

fn names(app: &TestApp) -> Option<Vec<String>> {
    let r = app.get("/0/data/queues.json");
    (r.status == 200).then(|| {
        r.json()["queues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["name"].as_str().unwrap().to_string())
            .collect()
    })
}

#[test]
fn a_sentinel_url_finds_the_master_and_follows_a_failover() {
    let mut master = TestRedis::start();
    Rq::new("2.12.0").enqueue(&master.url(), "via-sentinel", 2);
    let replica = TestRedis::start_with(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let sentinel = Sentinel::start(master.port);
    let mut s = rqdash::config::Settings::for_url(&format!(
        "redis+sentinel://127.0.0.1:{}/mymaster/0",
        sentinel.port
    ));
    s.snapshot_ttl = Duration::ZERO;
    let app = TestApp::spawn(s);
    assert_eq!(names(&app), Some(vec!["via-sentinel".to_string()]));

    // Fail over to the replica, then stop the old master.
    wait_for(
        Duration::from_secs(40),
        "the sentinel to see the replica",
        || {
            let v = sentinel.cmd(&["SENTINEL", "REPLICAS", "mymaster"]).ok()?;
            let n = match v {
                redis::Value::Array(a) => a.len(),
                _ => 0,
            };
            (n > 0).then_some(())
        },
    );
    wait_for(Duration::from_secs(20), "the replica to sync", || {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query(&mut replica.conn())
            .ok()?;
        info.contains("master_link_status:up").then_some(())
    });
    sentinel
        .cmd(&["SENTINEL", "FAILOVER", "mymaster"])
        .expect("failover starts");
    wait_for(
        Duration::from_secs(30),
        "the replica to become master",
        || (sentinel.master_port() == Some(replica.port)).then_some(()),
    );
    master.stop();
    // The dashboard asks the sentinel again and reads the new master.
    wait_for(
        Duration::from_secs(20),
        "the dashboard to follow the failover",
        || (names(&app) == Some(vec!["via-sentinel".to_string()])).then_some(()),
    );
}
