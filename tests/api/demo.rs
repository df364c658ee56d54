//! `scripts/demo.sh`, the README's one-command demo, run for real: it must bring up a dashboard
//! whose counts change by themselves, and SIGINT (Ctrl-C) must stop everything it started.
//!
//! The demo runs as users run it, except that it serves with this build's binary
//! (`RQDASH_DEMO_BIN`, so the test needs no release build) and keeps its temp dir in the test's
//! own (`TMPDIR`). Every process it starts carries the test's tag: in its environment
//! (`RQDASH_TEST_PROC`, inherited from the script) or, for redis-server, on its command line (the
//! demo's data dir is under the tagged temp dir). After SIGINT none may be left.

use crate::support::process::{carrying, signal, Spawned, TempDir};
use crate::support::{http, wait_for};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The demo's queues (scripts/demo/generator.py).
const QUEUES: [&str; 5] = ["high", "default", "emails", "reports", "archive"];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind a free port")
        .local_addr()
        .unwrap()
        .port()
}

/// The demo's output so far, for failure messages.
fn output(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Totals of the finished and failed registries over every queue, and the queue names.
fn totals(queues: &Value) -> (u64, u64, Vec<String>) {
    let list = queues["queues"].as_array().expect("queues.json has queues");
    let sum = |field: &str| list.iter().map(|q| q[field].as_u64().unwrap_or(0)).sum();
    let names = list
        .iter()
        .map(|q| q["name"].as_str().unwrap_or_default().to_string())
        .collect();
    (
        sum("finished_job_registry_count"),
        sum("failed_job_registry_count"),
        names,
    )
}

#[test]
fn the_demo_runs_by_itself_and_sigint_leaves_nothing_behind() {
    let tmp = TempDir::new("demo");
    let log = tmp.path().join("demo.out");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo.sh");
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .args(["--port", &port.to_string()])
        .env("TMPDIR", tmp.path())
        .env("RQDASH_DEMO_BIN", env!("CARGO_BIN_EXE_rqdash"))
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    // Its own process group, as in a terminal: SIGINT below goes to the script alone, as Ctrl-C
    // goes to the foreground group; the script must pass the stop on to everything else.
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut demo = Spawned::start(
        &mut cmd,
        tmp.tag(),
        "scripts/demo.sh",
        Duration::from_secs(30),
    )
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));

    // Up: the dashboard answers (the venv may have to be made first).
    let first = wait_for(Duration::from_secs(180), "the demo's dashboard", || {
        if let Ok(Some(status)) = demo.child().try_wait() {
            panic!(
                "scripts/demo.sh exited ({status}) before the dashboard answered:\n{}",
                output(&log)
            );
        }
        TcpStream::connect(("127.0.0.1", port)).ok()?;
        let r = http::get(&format!("{base}/0/data/queues.json"));
        (r.status == 200).then(|| r.json())
    });
    let (finished0, failed0, _) = totals(&first);

    // Live: the counts grow by themselves, failures included.
    let (finished1, failed1, _) = wait_for(
        Duration::from_secs(60),
        "finished and failed counts to grow, and the five queues",
        || {
            assert!(
                matches!(demo.child().try_wait(), Ok(None)),
                "scripts/demo.sh exited while running:\n{}",
                output(&log)
            );
            let t = totals(&http::get(&format!("{base}/0/data/queues.json")).json());
            let all = QUEUES.iter().all(|q| t.2.iter().any(|n| n == q));
            (t.0 > finished0 && t.1 > failed0 && all).then_some(t)
        },
    );
    // What the banner promises is there within the first minute: each exception it names
    // among the failed jobs (the last 100 of each queue).
    let said = output(&log);
    let named: Vec<String> = said
        .split_once("Failed jobs (")
        .and_then(|(_, rest)| rest.split_once("..."))
        .map(|(list, _)| {
            list.split(',')
                .map(|e| e.trim().to_string())
                .filter(|e| !e.is_empty())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        named.iter().any(|e| e == "TimeoutError"),
        "the banner names the exceptions to look at:\n{said}"
    );
    let seen = wait_for(
        Duration::from_secs(60),
        "every exception the banner names among the failed jobs",
        || {
            let failed: String = QUEUES
                .iter()
                .map(|q| http::get(&format!("{base}/0/data/jobs/{q}/failed/100/dsc/1.json")).text())
                .collect();
            named
                .iter()
                .all(|e| failed.contains(&format!("{e}:")))
                .then_some(named.len())
        },
    );
    eprintln!("demo: the {seen} exceptions the banner names are all in the failed lists");
    let workers = http::get(&format!("{base}/0/data/workers.json")).json();
    assert_eq!(
        workers["workers"].as_array().map(Vec::len),
        Some(3),
        "three workers: {workers}"
    );
    let cron = http::get(&format!("{base}/0/view/cron")).text();
    assert!(
        cron.contains("cleanup-sessions"),
        "rq cron's interval job on the cron page"
    );
    eprintln!("demo live: finished {finished0} -> {finished1}, failed {failed0} -> {failed1}");
    let running = carrying(tmp.tag());
    assert!(
        running.len() >= 8,
        "the script, redis-server, 3 workers, rq cron, the generator and the dashboard carry the tag: {running:#?}"
    );

    // Ctrl-C: the script stops everything and exits 130.
    signal("INT", &[demo.id()]);
    let status = wait_for(
        Duration::from_secs(30),
        "scripts/demo.sh to stop after SIGINT",
        || demo.child().try_wait().unwrap(),
    );
    let said = output(&log);
    assert_eq!(
        status.code(),
        Some(130),
        "exit status after SIGINT:\n{said}"
    );
    assert!(said.contains("nothing left running"), "{said}");
    let left = carrying(tmp.tag());
    assert!(
        left.is_empty(),
        "left running after SIGINT: {left:#?}\n{said}"
    );
    let files: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["demo.out"], "the demo's temp dir is gone");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the dashboard's port is closed"
    );
}
