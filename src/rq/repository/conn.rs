//! The connection to Redis: built on first use, shared, reconnecting by itself; behind Sentinel,
//! re-resolved after a failure. Every call goes through `guarded`, which bounds it
//! by `--redis-timeout` and turns failures into a typed [`RepoError`].

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Pipeline, Value};
use std::time::Duration;

use super::{sentinel::SentinelUrl, RepoError, Repository};

/// How to reach Redis.
pub(super) enum Target {
    /// A URL.
    Direct(redis::Client),
    /// Ask Redis Sentinel for the master.
    Sentinel(SentinelUrl),
}

impl Repository {
    fn classify(&self, e: redis::RedisError) -> RepoError {
        if e.is_timeout() {
            RepoError::Timeout(self.label.clone(), self.timeout.as_millis())
        } else if e.is_io_error() || e.is_connection_refusal() || e.is_connection_dropped() {
            RepoError::Unavailable(self.label.clone(), e.to_string())
        } else {
            RepoError::Redis(self.label.clone(), e.to_string())
        }
    }

    async fn client(&self) -> Result<redis::Client, redis::RedisError> {
        match &self.target {
            Target::Direct(c) => Ok(c.clone()),
            Target::Sentinel(s) => {
                let mut sentinel = redis::sentinel::Sentinel::build(s.sentinels.clone())?;
                let mut info = redis::RedisConnectionInfo::default().set_db(s.db);
                if let Some(u) = &s.username {
                    info = info.set_username(u);
                }
                if let Some(p) = &s.password {
                    info = info.set_password(p);
                }
                let node = redis::sentinel::SentinelNodeConnectionInfo::default()
                    .set_redis_connection_info(info);
                sentinel.async_master_for(&s.service, Some(&node)).await
            }
        }
    }

    /// Returns the shared connection manager, creating it on first use. Behind Sentinel, a
    /// connection that failed is dropped so that the next call asks the sentinels again and
    /// follows a failover.
    async fn connection(&self) -> Result<ConnectionManager, RepoError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let cfg = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let init = async {
            let client = self.client().await?;
            ConnectionManager::new_with_config(client, cfg).await
        };
        let c = match tokio::time::timeout(self.timeout, init).await {
            Ok(Ok(c)) => c,
            // Any failure to set up the connection (refused, TLS, authentication, no master)
            // means Redis is unavailable to us.
            Ok(Err(e)) if e.is_timeout() => return Err(self.classify(e)),
            Ok(Err(e)) => return Err(RepoError::Unavailable(self.label.clone(), e.to_string())),
            Err(_) => {
                return Err(RepoError::Timeout(
                    self.label.clone(),
                    self.timeout.as_millis(),
                ))
            }
        };
        *slot = Some(c.clone());
        Ok(c)
    }

    /// After a failed call: behind Sentinel, forget the connection so the master is looked up
    /// again (a failover may have moved it).
    async fn connection_failed(&self, e: &RepoError) {
        if matches!(self.target, Target::Sentinel(_))
            && matches!(
                e,
                RepoError::Unavailable(..) | RepoError::Timeout(..) | RepoError::Redis(..)
            )
        {
            *self.conn.lock().await = None;
        }
    }

    /// Awaits one Redis call under the timeout, classifying failures; behind Sentinel a failure
    /// drops the connection so the master is looked up again.
    pub(super) async fn guarded<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, RepoError> {
        let r = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.classify(e)),
            Err(_) => Err(RepoError::Timeout(
                self.label.clone(),
                self.timeout.as_millis(),
            )),
        };
        if let Err(e) = &r {
            self.connection_failed(e).await;
        }
        r
    }

    /// Runs a pipeline (errors of single commands come back as `Value::ServerError` in place).
    pub(super) async fn run(&self, pipe: &Pipeline) -> Result<Vec<Value>, RepoError> {
        if pipe.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.connection().await?;
        self.guarded(pipe.query_async::<Vec<Value>>(&mut conn))
            .await
    }

    /// Checks that Redis answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), RepoError> {
        let mut p = redis::pipe();
        p.cmd("PING");
        let v = self.run(&p).await?;
        match v.first() {
            Some(Value::ServerError(e)) => {
                Err(RepoError::Redis(self.label.clone(), format!("{e:?}")))
            }
            _ => Ok(()),
        }
    }

    /// Runs one invocation of a Lua script.
    pub(super) async fn invoke(
        &self,
        inv: &redis::ScriptInvocation<'_>,
    ) -> Result<Value, RepoError> {
        let mut conn = self.connection().await?;
        self.guarded(inv.invoke_async::<Value>(&mut conn)).await
    }
}
