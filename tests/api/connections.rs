//! Every way of reaching Redis: unix socket, ACL user and password with a db number, TLS.

use crate::support::process::TempDir;
use crate::support::{Rq, TestApp, TestRedis};
use std::process::Command;

fn queue_names(app: &TestApp) -> Vec<String> {
    app.json("/0/data/queues.json")["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_unix_socket_url_works() {
    // Declared before the server, so it is removed after the server stopped, also on failure.
    let dir = TempDir::new("unix-socket");
    let sock = dir.path().join("redis.sock");
    let redis = TestRedis::start_with(&[
        "--unixsocket",
        sock.to_str().unwrap(),
        "--unixsocketperm",
        "700",
    ]);
    Rq::new("2.12.0").enqueue(&redis.url(), "via-socket", 1);
    let app = TestApp::for_redis(&format!("unix://{}", sock.display()));
    assert_eq!(queue_names(&app), vec!["via-socket"]);
    assert_eq!(app.get("/healthz").status, 200);
    drop(app);
    drop(redis);
    assert!(
        !sock.exists(),
        "redis-server removes its socket when it stops"
    );
}

#[test]
fn an_acl_user_with_a_password_and_a_db_number_works() {
    let redis = TestRedis::start();
    let mut c = redis.conn();
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "dash", "on", ">pa55", "~*", "&*", "+@all"])
        .query(&mut c)
        .unwrap();
    let db3 = format!("redis://127.0.0.1:{}/3", redis.port);
    Rq::new("2.12.0").enqueue(&db3, "in-db-3", 2);
    let app = TestApp::for_redis(&format!("redis://dash:pa55@127.0.0.1:{}/3", redis.port));
    assert_eq!(queue_names(&app), vec!["in-db-3"]);
    // The wrong password is a clear 503, not a hang.
    let bad = TestApp::for_redis(&format!("redis://dash:wrong@127.0.0.1:{}/3", redis.port));
    let r = bad.get("/0/data/queues.json");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(!r.text().contains("wrong"), "the password is not echoed");
}

#[test]
fn a_tls_url_works() {
    // A self-signed certificate; `#insecure` tells the client not to verify it.
    let probe = TestRedis::start();
    let dir = probe.dir().to_path_buf();
    let ok = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl is needed for the TLS test (apt-get install openssl)");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let tls_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let redis = TestRedis::start_with(&[
        "--tls-port",
        &tls_port.to_string(),
        "--tls-cert-file",
        cert.to_str().unwrap(),
        "--tls-key-file",
        key.to_str().unwrap(),
        "--tls-ca-cert-file",
        cert.to_str().unwrap(),
        "--tls-auth-clients",
        "no",
    ]);
    // Seed over the plain port; read over TLS.
    Rq::new("2.12.0").enqueue(&redis.url(), "over-tls", 1);
    let app = TestApp::for_redis(&format!("rediss://127.0.0.1:{tls_port}/0#insecure"));
    assert_eq!(queue_names(&app), vec!["over-tls"]);
}
