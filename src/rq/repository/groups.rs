//! RQ's job groups (2.0+, `rq.group.Group`): `rq:groups` names them, `rq:group:<name>` holds the
//! ids of each. Ids whose job is gone are skipped, not removed (RQ's own cleanup is a write).

use chrono::{DateTime, Utc};
use redis::Value;
use std::collections::BTreeMap;

use super::resp::{int_of, items_of, text_of, texts_of};
use super::{RepoError, Repository};
use crate::rq::model::parse_timestamp;

/// The most group names the groups page and `groups.json` read: past it, the rest are not
/// listed and both say so (`truncated`).
pub const MAX_GROUPS: usize = 10_000;
/// Ids of each group read to order the groups newest first (the roll-up of a listed page reads
/// up to [`SCAN_COUNT`]).
pub const ORDER_SAMPLE: usize = 20;
/// The most ids of one group read for its status roll-up and its page.
pub const MAX_MEMBERS: usize = 10_000;
/// Ids asked per `SSCAN` call.
pub const SCAN_COUNT: usize = 1_000;

/// One group with the status of its jobs.
#[derive(Debug, Clone, Default)]
pub struct GroupSummary {
    /// Its name.
    pub name: String,
    /// Ids in its set (`SCARD`), expired ones included.
    pub count: u64,
    /// Jobs by status, over the ids read; `expired` counts ids whose hash is gone.
    pub statuses: BTreeMap<String, u64>,
    /// How many ids the roll-up read (fewer than `count` for very large groups).
    pub sampled: u64,
    /// When its newest job was created.
    pub newest: Option<DateTime<Utc>>,
}

/// One page of the groups ([`Repository::groups_page`]).
#[derive(Debug, Clone, Default)]
pub struct GroupList {
    /// The page's groups, newest first.
    pub groups: Vec<GroupSummary>,
    /// How many groups RQ lists (`SCARD rq:groups`).
    pub total: u64,
    /// How many of them were read and ordered (at most [`MAX_GROUPS`]); the rest cannot be
    /// paged to.
    pub listed: usize,
}

impl GroupList {
    /// Whether some groups were left out for the [`MAX_GROUPS`] cap.
    pub fn truncated(&self) -> bool {
        (self.listed as u64) < self.total
    }
}

impl Repository {
    /// Up to `limit` members of a set, scanning in bounded steps.
    pub(super) async fn scan_set(&self, key: &str, limit: usize) -> Result<Vec<String>, RepoError> {
        let mut out = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let mut p = redis::pipe();
            p.cmd("SSCAN")
                .arg(key)
                .arg(&cursor)
                .arg("COUNT")
                .arg(SCAN_COUNT);
            let v = self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil);
            let mut parts = items_of(v).into_iter();
            cursor = parts.next().and_then(text_of).unwrap_or_else(|| "0".into());
            out.extend(parts.next().map(texts_of).unwrap_or_default());
            if cursor == "0" || out.len() >= limit {
                out.truncate(limit);
                out.sort();
                out.dedup();
                return Ok(out);
            }
        }
    }

    /// The names of every group (up to [`MAX_GROUPS`]).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn group_names(&self) -> Result<Vec<String>, RepoError> {
        self.scan_set(&self.keys.groups(), MAX_GROUPS).await
    }

    /// The ids of group `name` (up to `limit`).
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn group_ids(&self, name: &str, limit: usize) -> Result<Vec<String>, RepoError> {
        self.scan_set(&self.keys.group(name), limit).await
    }

    /// One page of the groups, newest first, each with the status roll-up of its jobs.
    ///
    /// Every name is read (up to [`MAX_GROUPS`]) and ordered by the newest of its first
    /// [`ORDER_SAMPLE`] ids: two pipelines whatever the number of groups. Only the page's
    /// groups get the full roll-up ([`SCAN_COUNT`] ids each). `page` is 1-based; past the last
    /// page, the page is empty.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn groups_page(&self, page: usize, per_page: usize) -> Result<GroupList, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SCARD").arg(self.keys.groups());
        let total = int_of(&self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil));
        let names = self.group_names().await?;
        let listed = names.len();
        let mut order = self.sample(&names, ORDER_SAMPLE).await?;
        order.sort_by(|a, b| b.newest.cmp(&a.newest).then(a.name.cmp(&b.name)));
        let on_page: Vec<String> = order
            .into_iter()
            .skip(page.saturating_sub(1) * per_page)
            .take(per_page)
            .map(|g| g.name)
            .collect();
        let mut groups = self.sample(&on_page, SCAN_COUNT).await?;
        groups.sort_by(|a, b| b.newest.cmp(&a.newest).then(a.name.cmp(&b.name)));
        Ok(GroupList {
            groups,
            total: total.max(listed as u64),
            listed,
        })
    }

    /// Group `name` with the roll-up of its jobs, or `None` when RQ does not list it.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn group(&self, name: &str) -> Result<Option<GroupSummary>, RepoError> {
        let mut p = redis::pipe();
        p.cmd("SISMEMBER").arg(self.keys.groups()).arg(name);
        let known = int_of(&self.run(&p).await?.into_iter().next().unwrap_or(Value::Nil)) == 1;
        if !known {
            return Ok(None);
        }
        Ok(self.sample(&[name.to_string()], SCAN_COUNT).await?.pop())
    }

    /// Groups `names`, each with its size and the statuses and newest creation time of up to
    /// `ids` of its jobs: one pipeline of sizes and ids, one of the jobs' fields.
    async fn sample(&self, names: &[String], ids: usize) -> Result<Vec<GroupSummary>, RepoError> {
        let mut p = redis::pipe();
        p.ignore_errors();
        for name in names {
            let key = self.keys.group(name);
            p.cmd("SCARD").arg(&key);
            p.cmd("SSCAN").arg(&key).arg(0).arg("COUNT").arg(ids);
        }
        let mut r = self.run(&p).await?.into_iter();
        let mut groups = Vec::with_capacity(names.len());
        let mut members = Vec::with_capacity(names.len());
        for name in names {
            let count = int_of(&r.next().unwrap_or(Value::Nil));
            let mut parts = items_of(r.next().unwrap_or(Value::Nil)).into_iter();
            let _cursor = parts.next();
            let mut ids = parts.next().map(texts_of).unwrap_or_default();
            ids.sort();
            ids.dedup();
            groups.push(GroupSummary {
                name: name.clone(),
                count,
                sampled: ids.len() as u64,
                ..GroupSummary::default()
            });
            members.push(ids);
        }
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in members.iter().flatten() {
            p.cmd("HMGET")
                .arg(self.keys.job(id))
                .arg("status")
                .arg("created_at");
        }
        let mut r = self.run(&p).await?.into_iter();
        for (g, ids) in groups.iter_mut().zip(&members) {
            for _ in ids {
                let mut f = items_of(r.next().unwrap_or(Value::Nil)).into_iter();
                let status = f.next().and_then(text_of);
                let created = f.next().and_then(text_of).and_then(|t| parse_timestamp(&t));
                *g.statuses
                    .entry(status.unwrap_or_else(|| "expired".into()))
                    .or_default() += 1;
                g.newest = g.newest.max(created);
            }
        }
        Ok(groups)
    }

    /// The ids of group `name` ordered newest first (by `created_at`), up to [`MAX_MEMBERS`].
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn group_ids_newest_first(&self, name: &str) -> Result<Vec<String>, RepoError> {
        let ids = self.group_ids(name, MAX_MEMBERS).await?;
        let mut p = redis::pipe();
        p.ignore_errors();
        for id in &ids {
            p.cmd("HGET").arg(self.keys.job(id)).arg("created_at");
        }
        let created = self.run(&p).await?;
        let mut rows: Vec<(Option<DateTime<Utc>>, String)> = ids
            .into_iter()
            .zip(created)
            .map(|(id, c)| (text_of(c).and_then(|t| parse_timestamp(&t)), id))
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        Ok(rows.into_iter().map(|(_, id)| id).collect())
    }
}
