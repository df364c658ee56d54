//! Errors at the HTTP boundary and the status code each maps to.
//!
//! [`AppError`] is what handlers fail with. Pages turn it into an HTML error page (with the
//! layout, see `routes`), JSON endpoints into `{"status": "error", "message": ...}`, and polled
//! fragments into a small alert; all with the same status code, chosen here.

use actix_web::http::StatusCode;

use crate::rq::RepoError;

/// Why a request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (job, queue, instance).
    #[error("{0}")]
    NotFound(String),
    /// The request is malformed (bad registry, order, page size, page).
    #[error("{0}")]
    BadRequest(String),
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
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Redis(RepoError::Timeout(..)) => StatusCode::GATEWAY_TIMEOUT,
            AppError::Redis(RepoError::Unavailable(..)) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Redis(RepoError::Redis(..)) => StatusCode::BAD_GATEWAY,
            AppError::Redis(RepoError::WrongType(..)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Returns a short title for error pages.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "Not found",
            AppError::BadRequest(_) => "Bad request",
            AppError::Redis(RepoError::Timeout(..)) => "Redis is too slow",
            AppError::Redis(RepoError::WrongType(..)) => "Not RQ's data",
            AppError::Redis(_) => "Redis is unavailable",
            AppError::Internal(_) => "Internal error",
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
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}
