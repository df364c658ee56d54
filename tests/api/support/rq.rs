//! Drives real RQ (pip-installed per version by `scripts/setup-rq-venvs.sh`) through
//! `tests/py/rqfixture.py`: seeding, the oracle of what RQ's own API reports, and live workers.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::process::{tag, Spawned};

/// The RQ versions every comparison runs against.
pub const RQ_VERSIONS: [&str; 3] = ["1.16.2", "2.12.0", "3.0.0"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One RQ version's Python.
#[derive(Debug, Clone)]
pub struct Rq {
    /// The RQ version.
    pub version: &'static str,
    python: PathBuf,
    json: bool,
}

impl Rq {
    /// The venv of `version`; panics with the fix when it is missing (never skips).
    pub fn new(version: &'static str) -> Rq {
        let dir = std::env::var("RQDASH_VENV_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root().join(".venv"));
        let python = dir.join(format!("rq-{version}")).join("bin").join("python");
        assert!(
            python.exists(),
            "RQ {version} is not installed at {}: run scripts/setup-rq-venvs.sh first",
            python.display()
        );
        Rq {
            version,
            python,
            json: false,
        }
    }

    /// The same RQ with the JSON serializer.
    pub fn json_serializer(mut self) -> Rq {
        self.json = true;
        self
    }

    /// The fixture command `sub` against `url`, in its own process group.
    pub(super) fn command(&self, sub: &str, url: &str) -> Command {
        let mut c = Command::new(&self.python);
        // Its own process group: RQ kills a work horse with killpg, and a horse that has not yet
        // called setsid is still in its worker's group, which must never be the test run's.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c.arg(root().join("tests/py/rqfixture.py"))
            .arg(sub)
            .arg("--url")
            .arg(url)
            .current_dir(root().join("tests/py"));
        if self.json {
            c.arg("--json-serializer");
        }
        c
    }

    /// Runs a fixture command to its end; panics with its stderr when it fails.
    pub(super) fn run(&self, mut c: Command) -> Value {
        let out = c.output().expect("run python");
        assert!(
            out.status.success(),
            "rqfixture (RQ {}) failed: {}\n{}",
            self.version,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "rqfixture printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Seeds the scenario (see tests/py/README.md).
    pub fn seed(&self, url: &str) -> Value {
        self.run(self.command("seed", url))
    }

    /// What RQ's own API reports about the database.
    pub fn oracle(&self, url: &str) -> Value {
        self.run(self.command("oracle", url))
    }

    /// Enqueues `count` `add(1, 2)` jobs on `queue`; returns their ids.
    pub fn enqueue(&self, url: &str, queue: &str, count: usize) -> Vec<String> {
        self.enqueue_call(url, queue, "add", &["1", "2"], count)
    }

    /// Enqueues `count` calls of `rqdash_jobs.<func>(*args)` on `queue` through RQ's API; returns
    /// their ids.
    pub fn enqueue_call(
        &self,
        url: &str,
        queue: &str,
        func: &str,
        args: &[&str],
        count: usize,
    ) -> Vec<String> {
        self.enqueue_with(url, queue, func, args, count, &[])
    }

    /// Like [`Rq::enqueue_call`], with more options of the fixture's `enqueue` (e.g.
    /// `["--result-ttl", "0"]`).
    pub fn enqueue_with(
        &self,
        url: &str,
        queue: &str,
        func: &str,
        args: &[&str],
        count: usize,
        options: &[&str],
    ) -> Vec<String> {
        let mut c = self.command("enqueue", url);
        c.args(options);
        c.args([
            "--queue",
            queue,
            "--func",
            func,
            "--count",
            &count.to_string(),
            "--args",
        ]);
        c.args(args);
        let v = self.run(c);
        match (v.get("ids"), v.get("id")) {
            (Some(ids), _) => ids
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_string())
                .collect(),
            (_, Some(id)) => vec![id.as_str().unwrap().to_string()],
            _ => panic!("enqueue printed {v}"),
        }
    }

    /// Does an operator action through RQ's own API (`act` in rqfixture.py), e.g.
    /// `act(url, &["--action", "requeue", "--id", "x"])`.
    pub fn act(&self, url: &str, args: &[&str]) -> Value {
        let mut c = self.command("act", url);
        c.args(args);
        self.run(c)
    }

    /// Runs a burst worker on `queues` until they are empty.
    pub fn burst(&self, url: &str, queues: &[&str]) {
        let mut c = self.command("burst", url);
        c.arg("--queues").args(queues);
        self.run(c);
    }

    /// Creates `count` `add(1, 2)` jobs with ids `{prefix}{i}`: queued, or recorded as failed.
    pub fn make_jobs(&self, url: &str, queue: &str, count: usize, prefix: &str, failed: bool) {
        let mut c = self.command("make-jobs", url);
        c.args([
            "--queue",
            queue,
            "--count",
            &count.to_string(),
            "--prefix",
            prefix,
        ]);
        if failed {
            c.arg("--failed");
        }
        self.run(c);
    }

    /// Seeds failed jobs of a few kinds on `search-a` and `search-b`, run by real burst workers,
    /// in two batches (`search-seed` in rqfixture_search.py); returns ids by batch and kind, and
    /// `split`, a time between the batches.
    pub fn search_seed(&self, url: &str) -> Value {
        self.run(self.command("search-seed", url))
    }

    /// What RQ's own API finds for one search (`search-oracle`): `total`, `ids` newest first,
    /// `times` by id. `fields` are the search's fields (`queue`, `registry`, `func`, ...).
    pub fn search_oracle(&self, url: &str, fields: &[(&str, &str)]) -> Value {
        let mut c = self.command("search-oracle", url);
        for (k, v) in fields {
            c.arg(format!("--{k}={v}"));
        }
        self.run(c)
    }

    /// RQ's view of some jobs (`search-jobs`): by id, `status`, `origin` and `results` (entries
    /// in the results stream), or null when gone.
    pub fn search_jobs(&self, url: &str, ids: &[String]) -> Value {
        let mut c = self.command("search-jobs", url);
        c.arg("--ids").args(ids);
        self.run(c)
    }

    /// Plants jobs holding `secret` as free text and `key_secret` under key names (`api_key`,
    /// `password`, `token`) in their arguments, keyword arguments (nested too), meta, a return
    /// value and a traceback, on queue `secrets`, run by a real burst worker (`plant-secret` in
    /// rqfixture_redact.py); returns `ids` by role (`call`, `result`, `failure`, `scheduled`,
    /// `deferred`).
    pub fn plant_secret(&self, url: &str, secret: &str, key_secret: &str) -> Value {
        let mut c = self.command("plant-secret", url);
        c.args(["--secret", secret, "--key-secret", key_secret]);
        self.run(c)
    }

    /// Starts a worker on `secrets-busy` running job `secret-busy`, whose description holds
    /// both secrets (`secret-worker` in rqfixture_redact.py).
    pub fn secret_worker(&self, url: &str, secret: &str, key_secret: &str) -> Worker {
        let mut c = self.command("secret-worker", url);
        c.args(["--secret", secret, "--key-secret", key_secret]);
        Worker::spawn(c)
    }

    /// Starts a worker that runs `sleep(600)` with id `job_id` on `queue`.
    pub fn busy_worker(&self, url: &str, queue: &str, job_id: &str) -> Worker {
        self.busy_worker_with_timeout(url, queue, job_id, 900)
    }

    /// Like [`Rq::busy_worker`], with the job's timeout in seconds.
    pub fn busy_worker_with_timeout(
        &self,
        url: &str,
        queue: &str,
        job_id: &str,
        timeout: u64,
    ) -> Worker {
        let mut c = self.command("busy-worker", url);
        c.args([
            "--queue",
            queue,
            "--job-id",
            job_id,
            "--job-timeout",
            &timeout.to_string(),
        ]);
        Worker::spawn(c)
    }

    /// Creates `count` failed jobs `{prefix}{i}` that count their runs in `rqtest:runs`
    /// (`counted-failed` in rqfixture_concurrency.py): `options` as that command takes them
    /// (`--failure-ttl`, `--sleep`, `--default-one`, `--ghosts`). Returns `ids` and `ghosts`.
    pub fn counted_failed(
        &self,
        url: &str,
        queue: &str,
        count: usize,
        prefix: &str,
        options: &[&str],
    ) -> Value {
        let mut c = self.command("counted-failed", url);
        c.args([
            "--queue",
            queue,
            "--count",
            &count.to_string(),
            "--prefix",
            prefix,
        ]);
        c.args(options);
        self.run(c)
    }

    /// RQ 3.0: failed, queued and scheduled rate-limited jobs on `rl-flaky`
    /// (`rate-limited-failed` in rqfixture_concurrency.py); returns their statuses by id.
    pub fn rate_limited_failed(&self, url: &str) -> Value {
        self.run(self.command("rate-limited-failed", url))
    }

    /// Starts a producer that enqueues `add(1, 2)` jobs `{prefix}0`, `{prefix}1`, ... on `queue`
    /// through RQ until dropped.
    pub fn producer(&self, url: &str, queue: &str, prefix: &str) -> Worker {
        let mut c = self.command("produce", url);
        c.args(["--queue", queue, "--prefix", prefix]);
        Worker::spawn(c)
    }

    /// Holds RQ's scheduler lock of `queue` (taken as RQ's scheduler takes it) until dropped.
    pub fn scheduler_lock(&self, url: &str, queue: &str) -> Worker {
        let mut c = self.command("hold-scheduler-lock", url);
        c.args(["--queue", queue]);
        Worker::spawn(c)
    }

    /// Starts RQ's registry maintenance of `queue`, run in a loop once the key `rqtest:maintain`
    /// is set, until dropped.
    pub fn maintainer(&self, url: &str, queue: &str) -> Worker {
        let mut c = self.command("maintain-on-signal", url);
        c.args(["--queue", queue]);
        Worker::spawn(c)
    }

    /// Starts an idle worker named `name` on `queue`.
    pub fn idle_worker(&self, url: &str, queue: &str, name: &str) -> Worker {
        let mut c = self.command("idle-worker", url);
        c.args(["--queue", queue, "--name", name]);
        Worker::spawn(c)
    }
}

/// A live RQ worker process. On drop it gets SIGTERM (the fixture makes that a cold shutdown,
/// which kills the work horse), then SIGKILL, as does everything still carrying its tag (the
/// horse calls `setsid`, so it is found by the tag its environment inherited).
pub struct Worker {
    process: Spawned,
}

impl Worker {
    fn spawn(mut c: Command) -> Worker {
        c.stdout(Stdio::piped()).stderr(Stdio::null());
        let mut process = Spawned::start(
            &mut c,
            &tag("rq-worker"),
            "an RQ worker",
            Duration::from_millis(2500),
        )
        .expect("spawn worker");
        let mut line = String::new();
        BufReader::new(process.child().stdout.take().unwrap())
            .read_line(&mut line)
            .expect("worker prints its pid");
        assert!(line.contains("pid"), "worker said {line:?}");
        Worker { process }
    }

    /// The worker's pid.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Its tag.
    pub fn tag(&self) -> &str {
        self.process.tag()
    }

    /// Its processes: the worker and its work horse, if one runs.
    pub fn processes(&self) -> Vec<super::process::Proc> {
        self.process.processes()
    }
}
