//! The one error type of the HTTP boundary, and the status code and title of each failure.
//!
//! Handlers, extractors and actions all fail with [`AppError`]; [`crate::http::respond`] renders
//! it the same way everywhere (a page with the layout, a polled fragment's alert, JSON, or an
//! action's answer), always with the status chosen here.

use actix_web::http::StatusCode;

use crate::rq::RepoError;

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (job, queue, worker, task, instance, page).
    #[error("{1}")]
    NotFound(Missing, String),
    /// The request is malformed (bad registry, order, page size, page, form).
    #[error("{0}")]
    BadRequest(String),
    /// A request refused as cross-site or carrying a stale security token.
    #[error("{0}")]
    Forbidden(String),
    /// An action this dashboard or this user may not do (`--read-only`, `--disable-delete`,
    /// the read-only credential).
    #[error("{0}")]
    Disabled(String),
    /// The job, queue or worker is not in a state the action applies to.
    #[error("{0}")]
    Conflict(String),
    /// Redis could not answer.
    #[error("{0}")]
    Redis(#[from] RepoError),
    /// A bug: a template failed to render.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// Returns the HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(..) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) | AppError::Disabled(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Redis(RepoError::Timeout(..)) => StatusCode::GATEWAY_TIMEOUT,
            AppError::Redis(RepoError::Unavailable(..)) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Redis(RepoError::Redis(..)) => StatusCode::BAD_GATEWAY,
            AppError::Redis(RepoError::WrongType(..)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Returns a short title for error pages and alerts.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(..) => "Not found",
            AppError::BadRequest(_) => "Bad request",
            AppError::Forbidden(_) => "Refused",
            AppError::Disabled(_) => "Action disabled",
            AppError::Conflict(_) => "Not possible now",
            AppError::Redis(RepoError::Timeout(..)) => "Redis is too slow",
            AppError::Redis(RepoError::WrongType(..)) => "Not RQ's data",
            AppError::Redis(RepoError::Redis(..)) => "Redis answered with an error",
            AppError::Redis(RepoError::Unavailable(..)) => "Redis is unavailable",
            AppError::Internal(_) => "Internal error",
        }
    }

    /// The `error` field of a JSON error: a stable machine code (`job_not_found`, `bad_request`,
    /// `redis_unavailable`, …) that scripts can match on; the sentence goes in `message`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(what, _) => what.code(),
            AppError::BadRequest(_) => "bad_request",
            AppError::Forbidden(_) => "forbidden",
            AppError::Disabled(_) => "action_disabled",
            AppError::Conflict(_) => "conflict",
            AppError::Redis(RepoError::Timeout(..)) => "redis_timeout",
            AppError::Redis(RepoError::WrongType(..)) => "not_rq_data",
            AppError::Redis(RepoError::Redis(..)) => "redis_error",
            AppError::Redis(RepoError::Unavailable(..)) => "redis_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// The `status` field of a JSON error: rq-dashboard's `DISABLED` for refused actions.
    pub fn json_status(&self) -> &'static str {
        match self {
            AppError::Disabled(_) => "DISABLED",
            _ => "error",
        }
    }

    /// Logs server-side failures once (client errors are not worth a log line).
    pub fn log(&self) {
        match self {
            AppError::Redis(e) => tracing::warn!(error = %e, "redis request failed"),
            AppError::Internal(e) => tracing::error!(error = %e, "internal error"),
            _ => {}
        }
    }

    /// The error for an unknown job id.
    pub fn job_not_found(id: &str) -> AppError {
        AppError::NotFound(
            Missing::Job,
            format!(
            "no job with id “{id}”: it may have expired (RQ deletes finished jobs after their result TTL) or been deleted"
        ),
        )
    }

    /// The error for a queue RQ does not know.
    pub fn queue_not_found(queue: &str) -> AppError {
        AppError::NotFound(Missing::Queue, format!("no queue named “{queue}”"))
    }
}

/// What a `404` could not find; each has its own machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A job id.
    Job,
    /// A queue name.
    Queue,
    /// A worker name.
    Worker,
    /// An RQ group.
    Group,
    /// A failure group (jobs failing the same way).
    FailureGroup,
    /// An RQ rate limit key.
    RateLimit,
    /// A bulk task of this dashboard.
    Task,
    /// A Redis instance number.
    Instance,
    /// A page number or path.
    Page,
    /// An action verb the route does not know.
    Action,
}

impl Missing {
    /// The machine code: `job_not_found`, `queue_not_found`, ….
    pub fn code(self) -> &'static str {
        match self {
            Missing::Job => "job_not_found",
            Missing::Queue => "queue_not_found",
            Missing::Worker => "worker_not_found",
            Missing::Group => "group_not_found",
            Missing::FailureGroup => "failure_group_not_found",
            Missing::RateLimit => "rate_limit_not_found",
            Missing::Task => "task_not_found",
            Missing::Instance => "instance_not_found",
            Missing::Page => "page_not_found",
            Missing::Action => "unknown_action",
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_keeps_its_own_code_and_title() {
        let cases = [
            (AppError::Forbidden("x".into()), 403, "Refused"),
            (AppError::Disabled("x".into()), 403, "Action disabled"),
            (AppError::Conflict("x".into()), 409, "Not possible now"),
            (
                AppError::Redis(RepoError::Unavailable("r".into(), "down".into())),
                503,
                "Redis is unavailable",
            ),
            (
                AppError::Redis(RepoError::Timeout("r".into(), 5)),
                504,
                "Redis is too slow",
            ),
        ];
        for (e, code, title) in cases {
            assert_eq!((e.status().as_u16(), e.title()), (code, title), "{e:?}");
        }
    }

    #[test]
    fn every_failure_has_a_distinct_machine_code() {
        let errors = [
            AppError::job_not_found("j"),
            AppError::queue_not_found("q"),
            AppError::NotFound(Missing::Worker, "w".into()),
            AppError::NotFound(Missing::Group, "g".into()),
            AppError::NotFound(Missing::FailureGroup, "f".into()),
            AppError::NotFound(Missing::RateLimit, "r".into()),
            AppError::NotFound(Missing::Task, "t".into()),
            AppError::NotFound(Missing::Instance, "i".into()),
            AppError::NotFound(Missing::Page, "p".into()),
            AppError::NotFound(Missing::Action, "a".into()),
            AppError::BadRequest("x".into()),
            AppError::Forbidden("x".into()),
            AppError::Disabled("x".into()),
            AppError::Conflict("x".into()),
            AppError::Redis(RepoError::Timeout("r".into(), 5)),
            AppError::Redis(RepoError::Unavailable("r".into(), "down".into())),
            AppError::Internal("x".into()),
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(AppError::code).collect();
        assert_eq!(codes.len(), errors.len());
        assert_eq!(AppError::job_not_found("j").code(), "job_not_found");
        assert!(codes
            .iter()
            .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
    }
}
