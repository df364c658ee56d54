//! The `rqdash` binary as a user runs it: flags, environment, errors.

use crate::support::process::{tag, Spawned};
use crate::support::{Rq, TestRedis};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rqdash() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rqdash"))
}

#[test]
fn help_lists_every_rq_dashboard_variable() {
    let out = rqdash().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "RQ_DASHBOARD_REDIS_URL",
        "RQ_DASHBOARD_BIND",
        "RQ_DASHBOARD_PORT",
        "RQ_DASHBOARD_URL_PREFIX",
        "RQ_DASHBOARD_USERNAME",
        "RQ_DASHBOARD_PASSWORD",
        "RQ_DASHBOARD_POLL_INTERVAL",
        "RQ_DASHBOARD_DISABLE_DELETE",
        "RQ_DASHBOARD_READ_ONLY",
        "RQ_DASHBOARD_KEY_PREFIX",
        "RQ_DASHBOARD_JSON",
    ] {
        assert!(help.contains(var), "--help lacks {var}");
    }
    for scheme in ["redis://", "rediss://", "unix://", "redis+sentinel://"] {
        assert!(
            help.contains(scheme),
            "--help does not mention {scheme} URLs"
        );
    }
    for flag in [
        "-u, --redis-url",
        "-b, --bind",
        "-p, --port",
        "-j, --json",
        "--disable-delete",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn invalid_configuration_stops_with_exit_code_2_and_says_what_is_wrong() {
    // A value rqdash refuses: one line.
    for (args, needle) in [
        (vec!["-u", "http://nope"], "invalid --redis-url"),
        (vec!["--poll-interval", "10"], "--poll-interval"),
        (vec!["--username", "admin"], "--username and --password"),
    ] {
        let out = rqdash().args(&args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(err.starts_with("rqdash: "), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
    }
    // What the flag parser cannot read: its message, 3 to 7 lines (the README says so).
    for (args, needle) in [
        (
            vec!["--port", "notaport"],
            "invalid value 'notaport' for '--port <PORT>'",
        ),
        (vec!["-p"], "a value is required for '--port <PORT>'"),
        (vec!["--nope"], "unexpected argument '--nope'"),
        (
            vec!["--prot", "1"],
            "tip: a similar argument exists: '--port'",
        ),
    ] {
        let out = rqdash().args(&args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = err.trim().lines().collect();
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(lines[0].starts_with("error: "), "{args:?}: {err}");
        assert_eq!(
            lines.last(),
            Some(&"For more information, try '--help'."),
            "{args:?}: {err}"
        );
        assert!((3..=7).contains(&lines.len()), "{args:?}: {err}");
    }
}

#[test]
fn the_binary_serves_instances_from_the_environment() {
    let a = TestRedis::start();
    let b = TestRedis::start();
    Rq::new("1.16.2").enqueue(&b.url(), "from-env", 2);
    // Stopped on drop, also when an assertion fails.
    let mut process = Spawned::start(
        rqdash()
            .env("RQ_DASHBOARD_REDIS_URL", format!("{} {}", a.url(), b.url()))
            .env("RQ_DASHBOARD_PORT", "0")
            .env("RQ_DASHBOARD_BIND", "127.0.0.1")
            .env("RQ_DASHBOARD_URL_PREFIX", "/rq")
            .stderr(Stdio::piped())
            .stdout(Stdio::null()),
        &tag("rqdash"),
        "rqdash",
        Duration::from_secs(5),
    )
    .unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(process.child().stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("rqdash logs its address").unwrap();
        if let Some(rest) = line.split("http://127.0.0.1:").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            break digits.parse::<u16>().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no address logged"
        );
    };
    let base = format!("http://127.0.0.1:{port}/rq");
    let v = crate::support::http::get(&format!("{base}/1/data/queues.json")).json();
    assert_eq!(v["queues"][0]["name"], "from-env");
    assert_eq!(v["queues"][0]["count"], 2);
    assert_eq!(
        crate::support::http::get(&format!("{base}/healthz")).status,
        200
    );
    // Without the prefix nothing is served.
    assert_eq!(
        crate::support::http::get(&format!("http://127.0.0.1:{port}/healthz")).status,
        404
    );
}

#[test]
fn basic_auth_protects_every_page_when_configured() {
    let redis = TestRedis::start();
    let mut settings = rqdash::config::Settings::for_url(&redis.url());
    settings.auth = Some(rqdash::config::Credentials {
        username: "ops".into(),
        password: "pw".into(),
    });
    let app = crate::support::TestApp::spawn(settings);
    for path in ["/", "/0/data/queues.json", "/static/app.css"] {
        let r = app.get(path);
        assert_eq!(r.status, 401, "{path}");
        assert!(r
            .header("www-authenticate")
            .unwrap_or("")
            .starts_with("Basic"));
    }
    // ops:pw
    let ok = crate::support::http::request(
        "GET",
        &format!("{}/0/data/queues.json", app.address),
        &[("Authorization", "Basic b3BzOnB3")],
        None,
    );
    assert_eq!(ok.status, 200);
    // ops:wrong
    let bad = crate::support::http::request(
        "GET",
        &format!("{}/0/data/queues.json", app.address),
        &[("Authorization", "Basic b3BzOndyb25n")],
        None,
    );
    assert_eq!(bad.status, 401);
}

/// Starts `rqdash --log-format json` on `redis`; returns it, its stderr lines and its port.
fn json_logging_dashboard(
    redis: &TestRedis,
) -> (
    Spawned,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
    u16,
) {
    let mut process = Spawned::start(
        rqdash()
            .args(["-u", &redis.url(), "-p", "0", "--log-format", "json"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null()),
        &tag("rqdash"),
        "rqdash",
        Duration::from_secs(5),
    )
    .unwrap();
    let mut lines = BufReader::new(process.child().stderr.take().unwrap()).lines();
    // Every line is a JSON object; one of the first says where it listens.
    let msg = loop {
        let line = lines.next().expect("a log line").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
        let m = v["message"].as_str().unwrap_or_default().to_string();
        if m.contains("listening on http://127.0.0.1:") {
            break m;
        }
    };
    let port: u16 = msg
        .split("127.0.0.1:")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    (process, lines, port)
}

/// `signal` (INT or TERM) while a request waits on a Redis that stalls for 1.5 s: the request
/// still gets its answer, and the process exits 0 and says why.
fn stops_gracefully_on(signal: &str) {
    let redis = TestRedis::start();
    let (mut process, lines, port) = json_logging_dashboard(&redis);
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        crate::support::http::get(&format!("{base}/healthz")).status,
        200
    );
    // Redis stalls every client for 1.5 s; a job's JSON (never cached) waits for it.
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(1500)
        .arg("ALL")
        .query(&mut redis.conn())
        .unwrap();
    let in_flight = {
        let url = format!("{base}/0/data/job/no-such-job.json");
        std::thread::spawn(move || crate::support::http::get(&url))
    };
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args([&format!("-{signal}"), &process.id().to_string()])
        .status()
        .unwrap();
    // The request in flight gets its answer once Redis does.
    let r = in_flight
        .join()
        .expect("the request in flight got an answer");
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(r.json()["error"], "job_not_found");
    let status = process.child().wait().unwrap();
    assert!(status.success(), "exit status {status} after SIG{signal}");
    let said: Vec<String> = lines.map_while(Result::ok).collect();
    let said = said.join("\n");
    assert!(
        said.contains(&format!("SIG{signal}: stopping gracefully")),
        "{said}"
    );
    assert!(!said.to_lowercase().contains("forced"), "{said}");
}

#[test]
fn json_logs_and_a_graceful_shutdown_on_sigterm() {
    stops_gracefully_on("TERM");
}

#[test]
fn ctrl_c_stops_as_gracefully_as_sigterm() {
    stops_gracefully_on("INT");
}
