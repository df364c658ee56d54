//! The overview: counts per queue, workers, Redis's own facts.

use chrono::{DateTime, Utc};

use super::{int, text, time, RawHash, Registry};

/// A worker as its hash describes it.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The worker name.
    pub name: String,
    /// `state` (`?` when missing, as RQ shows it).
    pub state: String,
    /// Queue names in priority order.
    pub queues: Vec<String>,
    /// The job it is running: `current_job` (RQ < 3) or its executions set (RQ 3).
    pub current_job: Option<String>,
    /// Process id.
    pub pid: Option<i64>,
    /// Host name.
    pub hostname: Option<String>,
    /// The worker's Redis client address.
    pub ip_address: Option<String>,
    /// When it started.
    pub birth: Option<DateTime<Utc>>,
    /// Its last heartbeat.
    pub last_heartbeat: Option<DateTime<Utc>>,
    /// When it died (a clean stop keeps the hash 60 s).
    pub death: Option<DateTime<Utc>>,
    /// Jobs that finished.
    pub successful_job_count: i64,
    /// Jobs that failed.
    pub failed_job_count: i64,
    /// Total seconds spent working.
    pub total_working_time: f64,
    /// RQ version.
    pub version: Option<String>,
    /// Python version (`sys.version`).
    pub python_version: Option<String>,
    /// When a warm shutdown was asked of it (RQ 2.x/3.0 write it).
    pub shutdown_requested: Option<DateTime<Utc>>,
}

impl Worker {
    /// Builds a worker from its hash and, for RQ 3, its executions set members.
    pub fn from_hash(name: &str, h: &RawHash, executions: &[String]) -> Worker {
        let current_job = text(h, "current_job").or_else(|| {
            executions
                .iter()
                .min()
                .map(|m| m.split(':').next().unwrap_or(m).to_string())
        });
        Worker {
            name: name.to_string(),
            state: text(h, "state").unwrap_or_else(|| "?".to_string()),
            queues: text(h, "queues")
                .map(|q| q.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
            current_job,
            pid: int(h, "pid"),
            hostname: text(h, "hostname"),
            ip_address: text(h, "ip_address"),
            birth: time(h, "birth"),
            last_heartbeat: time(h, "last_heartbeat"),
            death: time(h, "death"),
            successful_job_count: int(h, "successful_job_count").unwrap_or(0),
            failed_job_count: int(h, "failed_job_count").unwrap_or(0),
            total_working_time: text(h, "total_working_time")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0.0),
            version: text(h, "version"),
            python_version: text(h, "python_version"),
            shutdown_requested: time(h, "shutdown_requested_date"),
        }
    }

    /// True when the heartbeat is older than RQ's worker TTL (480 s), or 90 s while busy: the
    /// process is probably gone.
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        let limit = if self.state == "busy" { 90 } else { 480 };
        match self.last_heartbeat {
            Some(hb) => (now - hb).num_seconds() > limit,
            None => true,
        }
    }
}

/// Counts of one queue.
#[derive(Debug, Clone, Default)]
pub struct QueueCounts {
    /// The queue name.
    pub name: String,
    /// `LLEN` of the queue.
    pub queued: u64,
    /// Started registry size (in RQ 2+, executions).
    pub started: u64,
    /// Deferred registry size.
    pub deferred: u64,
    /// Scheduled registry size.
    pub scheduled: u64,
    /// Finished registry size.
    pub finished: u64,
    /// Failed registry size.
    pub failed: u64,
    /// Canceled registry size.
    pub canceled: u64,
    /// RQ 3's ready registry size.
    pub ready: u64,
    /// When the job at the head of the queue was enqueued.
    pub oldest_enqueued_at: Option<DateTime<Utc>>,
    /// Who holds the queue's scheduler lock (`rq:scheduler-lock:<q>`), if anyone.
    pub scheduler: Option<SchedulerLock>,
    /// Scheduled jobs whose time has come (score up to now) and are still waiting.
    pub overdue_scheduled: u64,
    /// Started-registry entries past their deadline: jobs whose worker is gone (or that ran past
    /// their timeout and heartbeat), not yet cleaned up by RQ.
    pub abandoned: u64,
}

/// The scheduler serving a queue: the value of its lock, and what its own hash says (RQ 2.10+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchedulerLock {
    /// The lock's value: the scheduler's name (RQ 2.10+) or a pid (before).
    pub holder: String,
    /// Its host, from `rq:scheduler:<name>`.
    pub hostname: Option<String>,
    /// Its process id, from `rq:scheduler:<name>`.
    pub pid: Option<i64>,
}

impl SchedulerLock {
    /// The scheduler's process id as RQ's `Queue.scheduler_pid` gives it: the `pid` of its hash
    /// (RQ 2.10+, where the lock holds the scheduler's name), or the lock's value itself when it
    /// is a number (before 2.10 the lock holds the pid). A 2.10+ name (32 hex digits) never
    /// reads as a number, so a name whose hash is gone gives `None`, as RQ does.
    pub fn scheduler_pid(&self) -> Option<i64> {
        self.pid.or_else(|| self.holder.trim().parse().ok())
    }

    /// "name on host (pid 42)", as much as is known.
    pub fn describe(&self) -> String {
        let mut s = self.holder.clone();
        if let Some(h) = &self.hostname {
            s.push_str(&format!(" on {h}"));
        }
        if let Some(p) = self.pid {
            s.push_str(&format!(" (pid {p})"));
        }
        s
    }
}

impl QueueCounts {
    /// Returns the count of `registry`.
    pub fn count(&self, registry: Registry) -> u64 {
        match registry {
            Registry::Queued => self.queued,
            Registry::Started => self.started,
            Registry::Deferred => self.deferred,
            Registry::Scheduled => self.scheduled,
            Registry::Finished => self.finished,
            Registry::Failed => self.failed,
            Registry::Canceled => self.canceled,
            Registry::Ready => self.ready,
        }
    }

    /// Sets the count of `registry`.
    pub fn set(&mut self, registry: Registry, n: u64) {
        let slot = match registry {
            Registry::Queued => &mut self.queued,
            Registry::Started => &mut self.started,
            Registry::Deferred => &mut self.deferred,
            Registry::Scheduled => &mut self.scheduled,
            Registry::Finished => &mut self.finished,
            Registry::Failed => &mut self.failed,
            Registry::Canceled => &mut self.canceled,
            Registry::Ready => &mut self.ready,
        };
        *slot = n;
    }

    /// Adds `other`'s counts to these (for the totals row).
    pub fn add(&mut self, other: &QueueCounts) {
        self.queued += other.queued;
        self.started += other.started;
        self.deferred += other.deferred;
        self.scheduled += other.scheduled;
        self.finished += other.finished;
        self.failed += other.failed;
        self.canceled += other.canceled;
        self.ready += other.ready;
        self.overdue_scheduled += other.overdue_scheduled;
        self.abandoned += other.abandoned;
        self.oldest_enqueued_at = match (self.oldest_enqueued_at, other.oldest_enqueued_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Work of a queue that RQ's maintenance has not dealt with yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueHealth {
    /// Jobs in the intermediate list (taken by a worker, not yet started).
    pub intermediate: u64,
    /// Of the first 100 of those, how many have been there over a minute (RQ's grace time).
    pub intermediate_stuck: u64,
    /// Registry entries whose time passed over 10 minutes ago (RQ's maintenance interval) but
    /// that are still there: expired finished, failed and canceled entries, and started jobs past
    /// their deadline (abandoned).
    pub expired: Vec<(Registry, u64)>,
}

impl QueueHealth {
    /// What is wrong, in sentences (empty when nothing is).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.intermediate_stuck > 0 {
            out.push(format!(
                "{} in the intermediate list for over a minute (taken by a worker that never started them)",
                if self.intermediate_stuck == 1 { "1 job".to_string() } else { format!("{} jobs", self.intermediate_stuck) }
            ));
        }
        for (r, n) in &self.expired {
            if *n == 0 {
                continue;
            }
            out.push(if *r == Registry::Started {
                format!("{n} started jobs over 10 minutes past their deadline: abandoned by a worker that is gone, not yet cleaned up by RQ")
            } else {
                format!("{n} {r} entries expired over 10 minutes ago, not yet cleaned up by RQ's maintenance")
            });
        }
        out
    }
}

/// A few facts from Redis's `INFO`.
#[derive(Debug, Clone, Default)]
pub struct RedisInfo {
    /// `redis_version`.
    pub version: String,
    /// `used_memory_human`.
    pub memory: String,
    /// `maxmemory_human` (`0B`: no limit).
    pub max_memory: String,
    /// `connected_clients`.
    pub clients: String,
    /// `uptime_in_seconds`.
    pub uptime_secs: i64,
    /// `maxmemory_policy` (RQ loses jobs under anything but `noeviction`).
    pub maxmemory_policy: String,
    /// `used_memory`, bytes.
    pub used_memory: u64,
    /// `maxmemory`, bytes (0: no limit).
    pub maxmemory: u64,
    /// `evicted_keys` since Redis started.
    pub evicted_keys: u64,
    /// `loading`: Redis is still loading its data set.
    pub loading: bool,
    /// `role`: `master` or `slave`.
    pub role: String,
}

impl RedisInfo {
    /// Parses the text of `INFO server memory clients`.
    pub fn parse(text: &str) -> RedisInfo {
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(':')))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        RedisInfo {
            version: get("redis_version"),
            memory: get("used_memory_human"),
            max_memory: get("maxmemory_human"),
            clients: get("connected_clients"),
            uptime_secs: get("uptime_in_seconds").parse().unwrap_or(0),
            maxmemory_policy: get("maxmemory_policy"),
            used_memory: get("used_memory").parse().unwrap_or(0),
            maxmemory: get("maxmemory").parse().unwrap_or(0),
            evicted_keys: get("evicted_keys").parse().unwrap_or(0),
            loading: get("loading") == "1",
            role: get("role"),
        }
    }
}

/// Everything the overview shows, read in a fixed number of round trips.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Queues sorted by name.
    pub queues: Vec<QueueCounts>,
    /// Workers sorted by (state, queues, name) as rq-dashboard does.
    pub workers: Vec<Worker>,
    /// Members of `rq:workers` whose key has expired: workers that died without deregistering,
    /// not yet cleaned by RQ's maintenance.
    pub dead_workers: Vec<String>,
    /// Whether `rq suspend` is in force.
    pub suspended: bool,
    /// Whether any RQ 3 ready registry exists (to show the column).
    pub has_ready: bool,
    /// When this was read.
    pub fetched_at: DateTime<Utc>,
    /// Redis's version, memory, clients and uptime.
    pub redis: RedisInfo,
}

impl Overview {
    /// Returns the totals over all queues.
    pub fn totals(&self) -> QueueCounts {
        let mut t = QueueCounts {
            name: "total".to_string(),
            ..QueueCounts::default()
        };
        for q in &self.queues {
            t.add(q);
        }
        t
    }

    /// Returns the distinct RQ versions the live workers report.
    pub fn rq_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .workers
            .iter()
            .filter_map(|w| w.version.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rq3_workers_take_the_current_job_from_executions() {
        let w = Worker::from_hash("w", &RawHash::new(), &["job1:exec9".to_string()]);
        assert_eq!(w.current_job.as_deref(), Some("job1"));
        assert_eq!(w.state, "?");
    }

    #[test]
    fn the_scheduler_pid_comes_from_the_hash_or_a_lock_holding_a_pid() {
        let lock = |holder: &str, pid| SchedulerLock {
            holder: holder.into(),
            hostname: None,
            pid,
        };
        assert_eq!(lock("5f0c", Some(42)).scheduler_pid(), Some(42));
        // RQ before 2.10: the lock holds the pid.
        assert_eq!(lock("4711", None).scheduler_pid(), Some(4711));
        // A 2.10+ name whose hash is gone: unknown, even when its 32 hex digits are all decimal.
        assert_eq!(lock("8c1d9e2a", None).scheduler_pid(), None);
        assert_eq!(
            lock("12345678901234567890123456789012", None).scheduler_pid(),
            None
        );
    }
}
