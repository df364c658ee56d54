//! RQ's Redis key names: the only module that knows them.
//!
//! Mirrors `rq/keys.py`, `rq/registry.py`, `rq/worker_registration.py` and friends as of RQ 1.16.2,
//! 2.12.0 and 3.0.0. RQ 1.x and 2.x always use the prefix `rq`; RQ 3.0 makes it configurable with
//! `RQ_KEY_PREFIX`, which rqdash takes as `--key-prefix`.

use crate::rq::model::Registry;

/// Builds every key rqdash reads, for one key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Default for Keys {
    fn default() -> Self {
        Keys::new("rq")
    }
}

impl Keys {
    /// Returns the key builder for `prefix` (RQ's default is `rq`).
    pub fn new(prefix: &str) -> Self {
        Keys {
            prefix: prefix.to_string(),
        }
    }

    /// Returns the prefix these keys use.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Returns the set of all queue keys (`rq:queues`).
    pub fn queues(&self) -> String {
        format!("{}:queues", self.prefix)
    }

    /// Returns the set of all worker keys (`rq:workers`).
    pub fn workers(&self) -> String {
        format!("{}:workers", self.prefix)
    }

    /// Returns the key whose existence means "workers suspended" (`rq:suspended`).
    pub fn suspended(&self) -> String {
        format!("{}:suspended", self.prefix)
    }

    /// Returns the prefix of every queue key (`rq:queue:`).
    pub fn queue_key_prefix(&self) -> String {
        format!("{}:queue:", self.prefix)
    }

    /// Returns the list key of queue `name` (`rq:queue:<name>`).
    pub fn queue(&self, name: &str) -> String {
        format!("{}:queue:{name}", self.prefix)
    }

    /// Returns the queue name of a member of `rq:queues`, or `None` if it lacks the queue prefix.
    pub fn queue_name_from_key<'a>(&self, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(&self.queue_key_prefix())
    }

    /// Returns the sorted-set key of a registry of queue `name` (`rq:failed:<name>`, ...).
    ///
    /// `Registry::Queued` is the queue list itself.
    pub fn registry(&self, registry: Registry, name: &str) -> String {
        let kind = match registry {
            Registry::Queued => return self.queue(name),
            Registry::Started => "wip",
            Registry::Finished => "finished",
            Registry::Failed => "failed",
            Registry::Deferred => "deferred",
            Registry::Scheduled => "scheduled",
            Registry::Canceled => "canceled",
            Registry::Ready => "ready",
        };
        format!("{}:{kind}:{name}", self.prefix)
    }

    /// Returns the hash key of job `id` (`rq:job:<id>`).
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.prefix)
    }

    /// Returns the set of ids depending on job `id` (`rq:job:<id>:dependents`).
    pub fn dependents(&self, id: &str) -> String {
        format!("{}:job:{id}:dependents", self.prefix)
    }

    /// Returns the set of ids job `id` depends on (`rq:job::<id>:dependencies`; the double colon is RQ's).
    pub fn dependencies(&self, id: &str) -> String {
        format!("{}:job::{id}:dependencies", self.prefix)
    }

    /// Returns the results stream of job `id` (`rq:results:<id>`, RQ 1.12+).
    pub fn results(&self, id: &str) -> String {
        format!("{}:results:{id}", self.prefix)
    }

    /// Returns the executions sorted set of job `id` (`rq:executions:<id>`, RQ 2.0+).
    pub fn executions(&self, id: &str) -> String {
        format!("{}:executions:{id}", self.prefix)
    }

    /// Returns the prefix of every worker key (`rq:worker:`).
    pub fn worker_key_prefix(&self) -> String {
        format!("{}:worker:", self.prefix)
    }

    /// Returns the hash of worker `name` (`rq:worker:<name>`).
    pub fn worker(&self, name: &str) -> String {
        format!("{}:worker:{name}", self.prefix)
    }

    /// Returns the pub/sub channel worker `name` listens on for commands
    /// (`rq:pubsub:<name>`, `rq/command.py`).
    pub fn worker_commands(&self, name: &str) -> String {
        format!("{}:pubsub:{name}", self.prefix)
    }

    /// Returns RQ 3.0's group-cleanup lock (`rq:clean_groups`): its presence says RQ 3 runs here.
    pub fn clean_groups(&self) -> String {
        format!("{}:clean_groups", self.prefix)
    }

    /// Returns the execution hash `rq:execution:<job>:<execution>` (RQ 2.0+).
    pub fn execution(&self, job: &str, execution: &str) -> String {
        format!("{}:execution:{job}:{execution}", self.prefix)
    }

    /// Returns the sorted set of cron schedulers by last heartbeat (`rq:cron_schedulers`, RQ 2.4+).
    pub fn cron_schedulers(&self) -> String {
        format!("{}:cron_schedulers", self.prefix)
    }

    /// Returns the hash of cron scheduler `name` (`rq:cron_scheduler:<name>`).
    pub fn cron_scheduler(&self, name: &str) -> String {
        format!("{}:cron_scheduler:{name}", self.prefix)
    }

    /// Returns the sorted set of cron job names by last enqueue (`rq:cron_jobs`, RQ 2.12+).
    pub fn cron_jobs(&self) -> String {
        format!("{}:cron_jobs", self.prefix)
    }

    /// Returns the jobs a cron job spawned, by enqueue time (`rq:cron_job:<name>:jobs`, 2.11+).
    pub fn cron_job_runs(&self, name: &str) -> String {
        format!("{}:cron_job:{name}:jobs", self.prefix)
    }

    /// Returns the lock of the scheduler that serves `queue` (`rq:scheduler-lock:<queue>`).
    pub fn scheduler_lock(&self, queue: &str) -> String {
        format!("{}:scheduler-lock:{queue}", self.prefix)
    }

    /// Returns the hash a scheduler writes about itself (`rq:scheduler:<name>`, RQ 2.10+).
    pub fn scheduler(&self, name: &str) -> String {
        format!("{}:scheduler:{name}", self.prefix)
    }

    /// Returns the set of group names (`rq:groups`, RQ 2.0+).
    pub fn groups(&self) -> String {
        format!("{}:groups", self.prefix)
    }

    /// Returns the set of job ids of group `name` (`rq:group:<name>`).
    pub fn group(&self, name: &str) -> String {
        format!("{}:group:{name}", self.prefix)
    }

    /// Returns the set of rate-limit keys (`rq:rl-keys`, RQ 3.0).
    pub fn rate_limit_keys(&self) -> String {
        format!("{}:rl-keys", self.prefix)
    }

    /// Returns the hash of rate limit `key` (`rq:rl:<key>`: `concurrency`).
    pub fn rate_limit(&self, key: &str) -> String {
        format!("{}:rl:{key}", self.prefix)
    }

    /// Returns the jobs holding a slot of rate limit `key` (`rq:rl:<key>:allowed`).
    pub fn rate_limit_allowed(&self, key: &str) -> String {
        format!("{}:rl:{key}:allowed", self.prefix)
    }

    /// Returns the jobs waiting for a slot of rate limit `key` (`rq:rl:<key>:rate_limited`).
    pub fn rate_limit_waiting(&self, key: &str) -> String {
        format!("{}:rl:{key}:rate_limited", self.prefix)
    }

    /// Returns the list of jobs between dequeue and start (`rq:queue:<q>:intermediate`).
    pub fn intermediate(&self, queue: &str) -> String {
        format!("{}:queue:{queue}:intermediate", self.prefix)
    }

    /// Returns when job `id` was first seen in a queue's intermediate list
    /// (`rq:queue:<q>:intermediate:first_seen:<id>`).
    pub fn intermediate_first_seen(&self, queue: &str, id: &str) -> String {
        format!("{}:queue:{queue}:intermediate:first_seen:{id}", self.prefix)
    }

    /// Returns the separate `rq-scheduler` library's schedule (`rq:scheduler:scheduled_jobs`).
    pub fn rq_scheduler_jobs(&self) -> String {
        format!("{}:scheduler:scheduled_jobs", self.prefix)
    }

    /// Returns the record of the dashboard's bulk task `id` (`rqdash:task:<id>`: the dashboard's
    /// own key, never RQ's; it expires a week after the task's last progress).
    pub fn dash_task(&self, id: u64) -> String {
        format!("rqdash:{}:task:{id}", self.prefix)
    }

    /// Returns the dashboard's lease `name` (`rqdash:<prefix>:lease:<name>`): which replica does
    /// a job only one may do at a time; it holds the replica's id and expires unless renewed.
    pub fn dash_lease(&self, name: &str) -> String {
        format!("rqdash:{}:lease:{name}", self.prefix)
    }

    /// Returns the audit trail (`rqdash:<prefix>:audit`: a stream, one entry per action,
    /// refused ones too; capped by length and age, see [`crate::audit`]).
    pub fn dash_audit(&self) -> String {
        format!("rqdash:{}:audit", self.prefix)
    }

    /// Returns the hash of the problems announced to the alert webhooks and not yet resolved
    /// (`rqdash:<prefix>:alerts:open`: problem key → the notice sent, as JSON).
    pub fn dash_alerts_open(&self) -> String {
        format!("rqdash:{}:alerts:open", self.prefix)
    }

    /// Returns the history's bookkeeping hash (`rqdash:<prefix>:hist:meta`: `since`, the epoch
    /// second the history began, and `seq`, bumped by every write so two writers never apply
    /// the same round twice).
    pub fn dash_hist_meta(&self) -> String {
        format!("rqdash:{}:hist:meta", self.prefix)
    }

    /// Returns the workers' counters as last counted (`rqdash:<prefix>:hist:workers`: worker
    /// name → `successful failed`).
    pub fn dash_hist_workers(&self) -> String {
        format!("rqdash:{}:hist:workers", self.prefix)
    }

    /// Returns the per-minute points of epoch hour `hour` (`rqdash:<prefix>:hist:m:<hour>`:
    /// queue, or `""` for the total → packed points).
    pub fn dash_hist_minutes(&self, hour: i64) -> String {
        format!("rqdash:{}:hist:m:{hour}", self.prefix)
    }

    /// Returns the hourly points of epoch day `day` (`rqdash:<prefix>:hist:h:<day>`).
    pub fn dash_hist_hours(&self, day: i64) -> String {
        format!("rqdash:{}:hist:h:{day}", self.prefix)
    }

    /// Returns the running totals since the history began (`rqdash:<prefix>:hist:totals`:
    /// `f:<queue>` and `x:<queue>`, finished and failed; `f:` and `x:` for all queues).
    pub fn dash_hist_totals(&self) -> String {
        format!("rqdash:{}:hist:totals", self.prefix)
    }

    /// Returns the job timing statistics of one bucket (`rqdash:<prefix>:stats:<span>:<n>`,
    /// `span` is `10m` or `1h` and `n` the bucket's number since the epoch).
    pub fn dash_stats(&self, span: &str, n: i64) -> String {
        format!("rqdash:{}:stats:{span}:{n}", self.prefix)
    }

    /// Returns how far the statistics have read each registry (`rqdash:<prefix>:stats:marks`:
    /// registry key → score and the ids read at that score).
    pub fn dash_stats_marks(&self) -> String {
        format!("rqdash:{}:stats:marks", self.prefix)
    }

    /// Returns the set of `job_id:execution_id` a worker runs (`rq:worker:<name>:executions`, RQ 3.0).
    pub fn worker_executions(&self, name: &str) -> String {
        format!("{}:worker:{name}:executions", self.prefix)
    }

    /// Returns the worker name of a member of `rq:workers`, or `None` if it lacks the worker prefix.
    pub fn worker_name_from_key<'a>(&self, key: &'a str) -> Option<&'a str> {
        key.strip_prefix(&self.worker_key_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_rq_names() {
        let k = Keys::default();
        assert_eq!(k.queues(), "rq:queues");
        assert_eq!(k.queue("a/b:c"), "rq:queue:a/b:c");
        assert_eq!(k.registry(Registry::Started, "q"), "rq:wip:q");
        assert_eq!(k.registry(Registry::Queued, "q"), "rq:queue:q");
        assert_eq!(k.registry(Registry::Ready, "q"), "rq:ready:q");
        assert_eq!(k.dependencies("x"), "rq:job::x:dependencies");
        assert_eq!(k.dependents("x"), "rq:job:x:dependents");
        assert_eq!(k.results("x"), "rq:results:x");
        assert_eq!(k.queue_name_from_key("rq:queue:a:b"), Some("a:b"));
        assert_eq!(k.queue_name_from_key("other"), None);
        assert_eq!(k.worker_name_from_key("rq:worker:w1"), Some("w1"));
        assert_eq!(k.worker("w1"), "rq:worker:w1");
        assert_eq!(k.worker_commands("w1"), "rq:pubsub:w1");
        assert_eq!(k.clean_groups(), "rq:clean_groups");
    }

    #[test]
    fn a_custom_prefix_replaces_rq_everywhere() {
        let k = Keys::new("myapp");
        assert_eq!(k.job("1"), "myapp:job:1");
        assert_eq!(k.worker_executions("w"), "myapp:worker:w:executions");
        assert_eq!(k.suspended(), "myapp:suspended");
    }
}
