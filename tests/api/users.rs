//! Local users from `--users-file` (htpasswd, bcrypt): an entry `htpasswd -B` wrote and one
//! `rqdash hash-password` printed both sign in and may act, a wrong password or unknown name is
//! refused, the file is re-read when it changes, and the signed-in name is shown.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::http::basic;
use crate::support::process::TempDir;
use crate::support::{http, Rq, TestApp, TestRedis};

/// Written by `htpasswd -nbB -C 5 carol 'carol pass'` (apache2-utils).
const CAROL: &str = "carol:$2y$05$WMxiKCB90lutJ0D1nfDJWuFmPlFkzAMvzr9WoRuDN222wR0l7ZQRO";

/// The users-file line `rqdash hash-password` prints for `user` with `password` on its stdin.
fn hash_password(user: &str, password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rqdash"))
        .args(["hash-password", user, "--cost", "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn users_from_an_htpasswd_file_sign_in_and_the_file_is_re_read() {
    let redis = TestRedis::start();
    Rq::new("2.12.0").seed(&redis.url());
    let dir = TempDir::new("users");
    let path = dir.path().join("users.htpasswd");
    let ann = hash_password("ann", "ann's pass: with a colon");
    assert!(ann.starts_with("ann:$2y$05$"), "{ann}");
    std::fs::write(&path, format!("# the team\n{CAROL}\n{ann}\n")).unwrap();
    let cli = <rqdash::config::Cli as clap::Parser>::parse_from([
        "rqdash",
        "-u",
        &redis.url(),
        "-p",
        "0",
        "--http-workers",
        "1",
        "--users-file",
        path.to_str().unwrap(),
        "--readonly-username",
        "viewer",
        "--readonly-password",
        "viewer-password",
    ]);
    let app = TestApp::spawn(rqdash::config::Settings::from_cli(cli).unwrap());
    let get = |auth: &str| {
        http::request(
            "GET",
            &format!("{}/0/view/queues", app.address),
            &[("Authorization", auth)],
            None,
        )
    };
    let status = |id: &str| -> Option<String> {
        redis::cmd("HGET")
            .arg(format!("rq:job:{id}"))
            .arg("status")
            .query(&mut redis.conn())
            .unwrap()
    };
    // Nobody, a wrong password and an unknown name: 401, Redis untouched.
    assert_eq!(
        http::get(&format!("{}/0/view/queues", app.address)).status,
        401
    );
    for (u, p) in [
        ("carol", "wrong"),
        ("nobody", "carol pass"),
        ("ann", "ann's pass"),
    ] {
        assert_eq!(get(&basic(u, p)).status, 401, "{u}:{p}");
        let r = app.post(
            "/0/job/job-failed-1/requeue",
            &[("Authorization", &basic(u, p))],
        );
        assert_eq!(r.status, 401, "{u}:{p}");
    }
    // A forged proxy header next to them changes nothing (no --auth-header here).
    let r = app.post(
        "/0/job/job-failed-1/requeue",
        &[
            ("X-Forwarded-User", "carol"),
            ("Authorization", &basic("carol", "wrong")),
        ],
    );
    assert_eq!(r.status, 401);
    let r = app.post(
        "/0/job/job-failed-1/requeue",
        &[("X-Forwarded-User", "carol")],
    );
    assert_eq!(r.status, 401);
    assert_eq!(status("job-failed-1").as_deref(), Some("failed"));

    // Both entries sign in, their name is shown, and they may act.
    let carol = basic("carol", "carol pass");
    let page = get(&carol);
    assert_eq!(page.status, 200);
    let doc = scraper::Html::parse_document(&page.text());
    let shown: Vec<String> = doc
        .select(&scraper::Selector::parse("#signed-in strong").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(shown, vec!["carol".to_string()]);
    let annb = basic("ann", "ann's pass: with a colon");
    assert_eq!(get(&annb).status, 200);
    let r = app.post("/0/job/job-failed-1/requeue", &[("Authorization", &carol)]);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(status("job-failed-1").as_deref(), Some("queued"));
    // The read-only login still only views.
    let viewer = basic("viewer", "viewer-password");
    assert_eq!(get(&viewer).status, 200);
    let r = app.post("/0/job/job-failed-2/requeue", &[("Authorization", &viewer)]);
    assert_eq!(r.status, 403);
    assert_eq!(status("job-failed-2").as_deref(), Some("failed"));

    // The file changes: carol is gone, ann has a new password, dan arrives.
    let ann2 = hash_password("ann", "new pass");
    let dan = hash_password("dan", "dan pass");
    std::fs::write(&path, format!("{ann2}\n{dan}\n")).unwrap();
    crate::support::wait_for(
        std::time::Duration::from_secs(10),
        "the users file to be re-read",
        || (get(&basic("dan", "dan pass")).status == 200).then_some(()),
    );
    assert_eq!(get(&carol).status, 401, "a removed user");
    assert_eq!(get(&annb).status, 401, "an old password");
    assert_eq!(get(&basic("ann", "new pass")).status, 200);

    // A file that cannot be read is refused at start, with its name.
    let err =
        rqdash::config::Settings::from_cli(<rqdash::config::Cli as clap::Parser>::parse_from([
            "rqdash",
            "--users-file",
            "/nonexistent/users",
        ]))
        .unwrap_err();
    assert!(err.contains("/nonexistent/users"), "{err}");
}
