//! What RQ 2.x and 3.0 keep in Redis besides queues, jobs and workers, written and read by real
//! RQ through the subcommands of `tests/py/rqfixture_newer.py`: cron schedulers (`rq cron`),
//! scheduler locks (`--with-scheduler`), groups, executions, rate limits (3.0), retries and
//! repeats. `tests/py/RQ_NEWER_KEYS.md` lists the keys each one leaves, per RQ version.
//!
//! Every call returns the fixture's JSON as a `serde_json::Value`; the shapes are in the docs of
//! the Python functions and in RQ_NEWER_KEYS.md. Subcommands refuse (exit 1, so these panic) on
//! RQ versions without the feature: cron needs 2.4+, groups and executions 2.0+, rate limits 3.0.

use super::rq::Rq;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Rq {
    /// Starts a real `rq cron` (2.4+; never with the JSON serializer: cron jobs are always
    /// pickled) on a config file in a new temp dir, with an interval job
    /// `rqdash-cron-interval` (`add(1, b=2)` every 2 s) and a cron-string job
    /// `rqdash-cron-minutely` (`echo('cron-string')`, `* * * * *`), both on queue `cron`.
    /// Returns once RQ shows the scheduler registered and the interval job enqueued at least
    /// once. `ready()`: `{rq_version, pid, name, hostname, config_file, config_dir, queue,
    /// created_at, last_heartbeat, interval_job: {name, interval, func_name}, cron_job: {name,
    /// cron, func_name}, interval_run_ids: [newest first]}`. `pid` is the `rq cron` process.
    /// Dropping it sends SIGTERM (RQ's clean stop: the `rq:cron_schedulers` member goes, the hash
    /// lives out its 120 s TTL) and removes the config dir.
    pub fn cron(&self, url: &str) -> LiveProcess {
        LiveProcess::spawn(self.command("cron", url), "cron")
    }

    /// `cron` with the interval job named `interval_name` and the cron-string job `cron_name`
    /// (any text: RQ takes the names as given).
    pub fn cron_named(&self, url: &str, interval_name: &str, cron_name: &str) -> LiveProcess {
        let mut c = self.command("cron", url);
        c.args(["--interval-name", interval_name, "--cron-name", cron_name]);
        LiveProcess::spawn(c, "cron")
    }

    /// A group named `group` (2.0+) with a finished, a failed (exception `ValueError: text`) and a
    /// queued job (ids `hostile-group-ok`, `-fail`, `-pending`) whose argument is `text`; on 3.0
    /// also rate-limit key `rate_limit_key` (concurrency 1) with a leaked slot
    /// (`hostile-rl-holder`) and a waiter (`hostile-rl-waiter`). `{rq_version, group: <groups_oracle
    /// group>, rate_limit_supported, rate_limit: <rate_limits_oracle entry> | null}`.
    pub fn hostile_newer(&self, url: &str, group: &str, rate_limit_key: &str, text: &str) -> Value {
        let mut c = self.command("hostile-newer", url);
        c.args([
            "--group",
            group,
            "--rate-limit-key",
            rate_limit_key,
            "--text",
            text,
        ]);
        self.run(c)
    }

    /// Leaves two cron schedulers whose last heartbeat is `age_secs` (> 120) old, written by RQ's
    /// CronScheduler with its clock set back: `skewed` still has its hash (TTL ~120 s), `crashed`
    /// has only the `rq:cron_schedulers` member. `{rq_version, age_seconds, config_file,
    /// skewed|crashed: {name, pid, key, last_heartbeat, heartbeat_age_seconds, alive, hash_exists,
    /// hash_ttl}}`. Takes about 1.5 s.
    pub fn stale_cron(&self, url: &str, age_secs: u64) -> Value {
        let mut c = self.command("stale-cron", url);
        c.args(["--age", &age_secs.to_string()]);
        self.run(c)
    }

    /// RQ's read of cron state, without writing: `{rq_version, registry: [{name,
    /// last_heartbeat, score, alive, has_hash}], schedulers: [{name, hostname, pid, config_file,
    /// created_at, last_heartbeat, alive, cron_jobs}], cron_jobs: [{name, func_name, queue_name,
    /// args, kwargs, cron, interval, next_enqueue_time, latest_enqueue_time, job_options,
    /// scheduler, runs: [{job_id, status, enqueued_at, score}] newest first}], cron_job_names:
    /// [{name, last_enqueue, runs}] | null}`.
    pub fn cron_oracle(&self, url: &str) -> Value {
        self.run(self.command("cron-oracle", url))
    }

    /// Schedules `sched-in-1h`, `sched-in-10m` and an overdue `sched-overdue-served` on
    /// `queues[0]` and an overdue `sched-overdue-orphan` on `no-scheduler`, then runs worker
    /// `name` with the scheduler on `queues`. Returns once RQ reports a scheduler (lock) for every
    /// queue and `sched-overdue-served` has been enqueued and run (finished). `ready()`:
    /// `{rq_version, pid, worker_name, queues, orphan_queue, ids, per_queue: {q: report},
    /// orphan: report}` where report is the `scheduler_oracle` shape. Drop = SIGTERM (locks
    /// released, scheduler hash deleted); `kill()` = SIGKILL (they stay until their 61 s TTL).
    pub fn scheduler_worker(&self, url: &str, queues: &[&str], name: &str) -> LiveProcess {
        let mut c = self.command("scheduler-worker", url);
        c.arg("--queues").args(queues).args(["--name", name]);
        LiveProcess::spawn(c, "scheduler-worker")
    }

    /// RQ's view of the scheduler of each queue: `{rq_version, queues: {q: {lock_key,
    /// lock_holder, lock_ttl, scheduler_pid, scheduler: {name, hostname, pid, queues,
    /// created_at, last_heartbeat} | null, scheduled: [{id, scheduled_for, score, overdue,
    /// status}]}}}`. On RQ 1.x the lock holds a pid and `scheduler` is null.
    pub fn scheduler_oracle(&self, url: &str, queues: &[&str]) -> Value {
        let mut c = self.command("scheduler-oracle", url);
        c.arg("--queues").args(queues);
        self.run(c)
    }

    /// Creates groups `group-all-ok` (3 finished + 1 whose hash expired), `group-mixed`
    /// (2 finished, 2 failed), `group-pending` (2 queued) and `group-two-queues` (1 finished,
    /// 1 queued) on queues `groups` / `groups-pending`, running a burst worker on `groups` only.
    /// `{rq_version, queues, burst_worker, groups: <groups_oracle groups>}`. Takes ~1 s.
    pub fn groups(&self, url: &str) -> Value {
        self.run(self.command("groups", url))
    }

    /// `count` groups made by RQ's Group API, `many-<start>` upwards (five digits), one `add()`
    /// job each on queue `many`, created in that order: `{rq_version, count, groups}`.
    pub fn many_groups(&self, url: &str, start: usize, count: usize) -> Value {
        let mut c = self.command("many-groups", url);
        c.arg("--count")
            .arg(count.to_string())
            .arg("--start")
            .arg(start.to_string());
        self.run(c)
    }

    /// RQ's view of every group, read-only: `{rq_version, groups: {name: {name, key, job_ids,
    /// statuses: {id: status | null}, counts: {status | "missing": n}} | null}}`.
    pub fn groups_oracle(&self, url: &str) -> Value {
        self.run(self.command("groups-oracle", url))
    }

    /// Jobs scheduled with the separate `rq-scheduler` library (in the RQ 2.12.0 venv): an
    /// interval job repeating 5 times, a cron job and a one-off. `{rq_version, queue, jobs: [{id,
    /// next_run, queue_name, interval, cron, repeat}]}` (rq-scheduler's own view).
    pub fn legacy_scheduler(&self, url: &str) -> Value {
        self.run(self.command("legacy-scheduler", url))
    }

    /// Expired registry entries (2 finished, 1 failed) and a job stuck in the intermediate list,
    /// written by RQ's own code with its clock set back `age` seconds, on queue `lagging`.
    /// `{rq_version, queue, expired: {finished, failed}, intermediate: [ids],
    /// intermediate_stuck: [ids]}`, as RQ would clean them up.
    pub fn maintenance_lag(&self, url: &str, age: u64) -> Value {
        let mut c = self.command("maintenance-lag", url);
        c.args(["--age", &age.to_string()]);
        self.run(c)
    }

    /// RQ 3.0 rate limits: key `api` (concurrency 2) with 2 slot holders and 3 waiters over
    /// queues `rl` and `rl-other`, key `leaky` (concurrency 1) whose holder was deleted with a
    /// caller-owned pipeline (a leaked slot) and 1 waiter. `{rq_version, queues, statuses,
    /// queue_job_ids, rate_limits: <rate_limits_oracle rate_limits>}`.
    pub fn rate_limits(&self, url: &str) -> Value {
        self.run(self.command("rate-limits", url))
    }

    /// RQ 3.0's view of every rate-limit key, read-only: `{rq_version, rate_limits: {key: {key,
    /// concurrency, in_use, holders: [{id, status, queue, score}], waiting, waiters: [...],
    /// oldest_waiter_age_seconds, leaked: [ids]}}}`.
    pub fn rate_limits_oracle(&self, url: &str) -> Value {
        self.run(self.command("rate-limits-oracle", url))
    }

    /// `retry-failing` (Retry(max=3, interval=[60, 120]), failed once), `repeat-once`
    /// (Repeat(times=3, interval=[30, 90]), run once; 2.3+) and `retry-returned` (returned
    /// Retry(max=2, interval=45); 2.x+) on queue `retries`, each waiting in the scheduled
    /// registry. `{rq_version, queue, burst_worker, repeat_supported, returned_retry_supported,
    /// jobs: {id: <retries_oracle job>}}`.
    pub fn retries(&self, url: &str) -> Value {
        self.run(self.command("retries", url))
    }

    /// RQ's view of jobs' retry and repeat state: `{rq_version, jobs: {id: {id, queue, status,
    /// retries_left, retry_intervals, number_of_retries, enqueue_at_front_on_retry,
    /// repeats_left, repeat_intervals, scheduled_score, scheduled_for, results: [{type,
    /// created_at}]} | null}}`.
    pub fn retries_oracle(&self, url: &str, ids: &[&str]) -> Value {
        let mut c = self.command("retries-oracle", url);
        c.arg("--ids").args(ids);
        self.run(c)
    }

    /// RQ's view of a job's executions (2.0+; pair it with `busy_worker`), waiting up to 10 s for
    /// one to exist: `{rq_version, job_id, status, worker_name, executions: [{id, job_id,
    /// composite_key, worker_name, created_at, last_heartbeat, registry_score, started_score,
    /// ttl}], started_registry: [{job_id, execution_id, score}], workers: {name: {state,
    /// current_job_id, executions_set}}}`.
    pub fn executions(&self, url: &str, job_id: &str) -> Value {
        let mut c = self.command("executions", url);
        c.args(["--job-id", job_id]);
        self.run(c)
    }
}

/// A long-running fixture process (`rq cron`, a worker with its scheduler), started and ready.
/// Dropping it stops it with SIGTERM (SIGKILL after 5 s) and removes the temp dir it reported.
pub struct LiveProcess {
    child: Child,
    ready: Value,
    log: PathBuf,
}

impl LiveProcess {
    fn spawn(mut c: Command, what: &str) -> LiveProcess {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "rqfixture-{what}-{}-{stamp}.log",
            std::process::id()
        ));
        let err = std::fs::File::create(&log).expect("create the fixture log");
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::from(err))
            .spawn()
            .expect("spawn the fixture");
        // One line once the state is in place, then EOF; EOF without a line means it failed
        // (the fixture gives up after 30 s).
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("read the readiness line");
        let ready: Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let tail: String = text
                    .lines()
                    .rev()
                    .take(30)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join("\n");
                panic!(
                    "rqfixture {what} did not get ready (said {line:?}); log {}:\n{tail}",
                    log.display()
                );
            }
        };
        LiveProcess { child, ready, log }
    }

    /// The readiness document the fixture printed.
    pub fn ready(&self) -> &Value {
        &self.ready
    }

    /// The process id (the `rq cron` process, or the worker).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, as a crash: RQ's keys (scheduler hash, locks, registry member) stay behind.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn signal_and_wait(&mut self, signal: &str, wait: Duration) -> bool {
        let _ = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for LiveProcess {
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_)))
            && !self.signal_and_wait("-TERM", Duration::from_secs(5))
        {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(dir) = self.ready["config_dir"].as_str() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
