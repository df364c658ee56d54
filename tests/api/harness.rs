//! The harness itself: every process a test starts carries the run's marker while it runs, is
//! gone after the test, also when the test fails, and the leftover check that `scripts/test.sh`
//! runs after the suite names what survives (and only that).

use crate::support::browser::Browser;
use crate::support::nginx::Nginx;
use crate::support::process::{carrying, tag, Spawned, TempDir, PREFIX};
use crate::support::{wait_for, Rq, TestApp, TestRedis};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn leftovers(args: &[&str]) -> Output {
    Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/leftovers.py"))
        .args(args)
        .output()
        .expect("python3 runs scripts/leftovers.py (apt-get install python3)")
}

/// The pids `scripts/leftovers.py --list` finds carrying `marker`.
fn listed(marker: &str) -> Vec<u32> {
    let out = leftovers(&["--list", marker]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["pid"].as_u64().unwrap() as u32
        })
        .collect()
}

/// The marker the check after the suite looks for: the run folder's name under `scripts/test.sh`;
/// otherwise (a plain `cargo test`) the prefix of every tag, which the helpers carry either way.
fn run_marker() -> String {
    match std::env::var("RQDASH_TEST_RUN") {
        Ok(run) => {
            assert!(
                std::env::temp_dir().ends_with(&run),
                "RQDASH_TEST_RUN={run} but the temp folder is {}",
                std::env::temp_dir().display()
            );
            run
        }
        Err(_) => PREFIX.to_string(),
    }
}

struct Deliberate;

#[test]
fn every_helper_carries_the_run_marker_and_is_gone_after_a_failing_test() {
    let marker = run_marker();
    // The tags of the helpers, and how many processes carried them.
    let mut tags: Vec<String> = Vec::new();
    let mut seen_count = 0;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let redis = TestRedis::start();
        let rq = Rq::new("2.12.0");
        let worker = rq.busy_worker(&redis.url(), "harness", "harness-sleep");
        redis.wait_field("rq:job:harness-sleep", "status", "started");
        let app = TestApp::for_redis(&redis.url());
        let port = app.address.rsplit(':').next().unwrap().to_string();
        let nginx = Nginx::start(&format!(
            "  location / {{ proxy_pass http://127.0.0.1:{port}; }}"
        ));
        let mut rqdash = Spawned::start(
            Command::new(env!("CARGO_BIN_EXE_rqdash"))
                .args(["-u", &redis.url(), "-p", "0"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            &tag("rqdash"),
            "rqdash",
            Duration::from_secs(5),
        )
        .unwrap();
        let browser = Browser::start();
        browser.goto(&format!("{}/0/view/queues", nginx.address));
        assert_eq!(
            browser.eval("return typeof window.htmx;"),
            "object",
            "the page loaded through nginx"
        );
        // The horse runs sleep(600) in a process of its own.
        wait_for(Duration::from_secs(10), "the work horse", || {
            (worker.processes().len() >= 2).then_some(())
        });
        tags = vec![
            redis.tag().to_string(),
            worker.tag().to_string(),
            nginx.tag().to_string(),
            rqdash.tag().to_string(),
            browser.tag().to_string(),
        ];

        let seen = listed(&marker);
        for t in &tags {
            let procs = carrying(t);
            assert!(!procs.is_empty(), "no process carries {t}");
            for p in &procs {
                assert!(
                    seen.contains(&p.pid),
                    "pid {} ({t}) does not carry {marker}: {}",
                    p.pid,
                    p.cmdline
                );
            }
            seen_count += procs.len();
        }
        // The processes that hide where they come from are among them: redis-server's title
        // replaces its command line and environment, the horse leaves the worker's session,
        // Chromium's helpers overwrite their environment.
        let browser_procs = browser.processes();
        for kind in ["chromedriver", "--type=renderer", "--type=zygote"] {
            assert!(
                browser_procs.iter().any(|p| p.cmdline.contains(kind)),
                "no {kind} among {browser_procs:#?}"
            );
        }
        assert!(redis.processes()[0]
            .cmdline
            .starts_with("redis-server 127.0.0.1:"));
        assert_eq!(nginx.processes().len(), 1, "nginx without worker processes");
        assert_eq!(rqdash.child().try_wait().unwrap(), None, "rqdash runs");
        eprintln!("harness: failing on purpose, to check that the guards clean up");
        std::panic::panic_any(Deliberate);
    }));
    match outcome {
        Err(e) if e.is::<Deliberate>() => {}
        Err(e) => std::panic::resume_unwind(e),
        Ok(()) => unreachable!(),
    }
    assert!(seen_count >= 9, "only {seen_count} processes seen");
    // After the failure no process carries a helper's tag, and no temp dir is left.
    for t in &tags {
        assert_eq!(carrying(t), vec![], "left running after the test failed");
        let dir = std::env::temp_dir().join(t);
        assert!(!dir.exists(), "{} was left behind", dir.display());
    }
}

#[test]
fn the_leftover_check_names_what_survived_and_only_that() {
    let outer = TempDir::new("leftover-check");
    // A stand-in for a run folder. mktemp's names have a fixed length, so no run's name holds
    // another's; the stand-ins follow suit.
    let run = outer
        .path()
        .join(format!("rqdash-test-run.{}", outer.tag()));
    let other = outer
        .path()
        .join(format!("rqdash-test-run.{}", tag("other")));
    std::fs::create_dir_all(run.join("sub")).unwrap();
    std::fs::write(run.join("sub/left-behind.txt"), "x").unwrap();
    let marker = run.file_name().unwrap().to_str().unwrap().to_string();

    // One process carries the marker only in its environment...
    let mut sleeper = Spawned::start(
        Command::new("sleep").arg("600").env("TMPDIR", &run),
        &tag("sleep"),
        "sleep",
        Duration::ZERO,
    )
    .unwrap();
    // ...one only on its command line (redis-server overwrites its environment with its title)...
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redis_tag = tag("redis");
    let mut redis = Spawned::start(
        Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .arg("--dir")
            .arg(outer.path())
            .arg("--proc-title-template")
            .arg(format!("{{title}} {redis_tag} {}", run.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        &redis_tag,
        "redis-server",
        Duration::ZERO,
    )
    .unwrap();
    wait_for(Duration::from_secs(10), "redis-server's title", || {
        let p = carrying(&redis_tag);
        p.iter()
            .any(|p| p.cmdline.contains(&marker) && p.pid == redis.id())
            .then_some(())
    });
    // ...one carries no marker but is in the process group the check is given (as a process
    // that renamed itself and cleared its environment would be: an nginx worker)...
    let mut grouped = Spawned::start(
        std::os::unix::process::CommandExt::process_group(
            Command::new("sleep").arg("600").env_remove("TMPDIR"),
            0,
        ),
        &tag("grouped"),
        "sleep",
        Duration::ZERO,
    )
    .unwrap();
    // ...and one carries another run's marker: not ours to report or end.
    let mut bystander = Spawned::start(
        Command::new("sleep").arg("600").env("TMPDIR", &other),
        &tag("bystander"),
        "sleep",
        Duration::ZERO,
    )
    .unwrap();

    let group = grouped.id().to_string();
    let out = leftovers(&[run.to_str().unwrap(), "--group", &group]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    for needle in [
        format!(
            "pid {} (parent {}, found by its environment)",
            sleeper.id(),
            std::process::id()
        ),
        format!(
            "pid {} (parent {}, found by its command line)",
            redis.id(),
            std::process::id()
        ),
        format!(
            "pid {} (parent {}, found by its process group)",
            grouped.id(),
            std::process::id()
        ),
        "sub/left-behind.txt".to_string(),
    ] {
        assert!(report.contains(&needle), "{needle} missing from:\n{report}");
    }
    assert!(
        !report.contains(&format!("pid {} ", bystander.id())),
        "{report}"
    );
    // It ended what it reported, removed the folder, and left the bystander alone.
    assert!(sleeper.child().try_wait().unwrap().is_some(), "sleep ended");
    assert!(redis.child().try_wait().unwrap().is_some(), "redis ended");
    assert!(
        grouped.child().try_wait().unwrap().is_some(),
        "grouped sleep ended"
    );
    assert!(!run.exists(), "the run folder is removed");
    assert_eq!(
        bystander.child().try_wait().unwrap(),
        None,
        "bystander alive"
    );
    bystander.end();

    // Nothing left: it passes quietly.
    std::fs::create_dir_all(&run).unwrap();
    let out = leftovers(&[run.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty());
    assert!(!run.exists());
    // And it refuses a folder that is not a run's.
    assert_eq!(
        leftovers(&[outer.path().to_str().unwrap()]).status.code(),
        Some(2)
    );
}

#[test]
fn the_fixture_readme_documents_every_subcommand() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join(".venv/rq-2.12.0/bin/python"))
        .arg(root.join("tests/py/rqfixture.py"))
        .arg("--help")
        .output()
        .expect("the RQ 2.12.0 venv (scripts/setup-rq-venvs.sh)");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    // argparse lists the subcommands indented by four spaces under COMMAND.
    let subcommands: Vec<&str> = help
        .lines()
        .skip_while(|l| l.trim() != "COMMAND")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter(|l| !l.starts_with("     "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(subcommands.len() >= 9, "{subcommands:?} from:\n{help}");
    let readme = std::fs::read_to_string(root.join("tests/py/README.md")).unwrap();
    for sub in subcommands {
        assert!(
            readme.contains(&format!("| `{sub}` |")) && readme.contains(&format!("`{sub} --url U")),
            "tests/py/README.md does not document `{sub}` (a table row and a usage line)"
        );
    }
}
