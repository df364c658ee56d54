//! [`Failure`]: why a sign-in failed, and what the page says about it.

use actix_web::http::StatusCode;

use crate::i18n;

/// Why a sign-in failed. Each is answered with a page that says so ([`Failure::message`]) and
/// [`Failure::status`], never a 500.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The callback came without this browser's sign-in in progress: it expired, it was started
    /// in another browser, or it was already used.
    #[error("no sign-in in progress")]
    NoLogin,
    /// The state was already used once (a replayed callback).
    #[error("state already used")]
    Replayed,
    /// The state the provider sent back is not the one sent.
    #[error("state mismatch")]
    StateMismatch,
    /// The provider answered with an error (`error=` on the callback).
    #[error("provider error: {0}")]
    Provider(String),
    /// The provider could not be reached, or its metadata could not be read.
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider refused to exchange the code.
    #[error("code refused: {0}")]
    Refused(String),
    /// The ID token failed a check: signature, issuer, audience, expiry or nonce.
    #[error("ID token refused: {0}")]
    BadToken(String),
}

impl Failure {
    /// The status the failure is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::Unreachable(_) => StatusCode::BAD_GATEWAY,
            Failure::BadToken(_) | Failure::Refused(_) | Failure::Provider(_) => {
                StatusCode::UNAUTHORIZED
            }
            Failure::NoLogin | Failure::Replayed | Failure::StateMismatch => {
                StatusCode::BAD_REQUEST
            }
        }
    }

    /// What happened, for a person, in the current language.
    pub fn message(&self) -> String {
        let detail =
            |d: &String| crate::config::access::log_safe(&crate::rq::decode::truncate(d, 300));
        match self {
            Failure::NoLogin => i18n::t("auth.no_login").to_string(),
            Failure::Replayed => i18n::t("auth.replayed").to_string(),
            Failure::StateMismatch => i18n::t("auth.state_mismatch").to_string(),
            Failure::Provider(d) => i18n::tf("auth.provider_error", &[("error", &detail(d))]),
            Failure::Unreachable(d) => i18n::tf("auth.unreachable", &[("error", &detail(d))]),
            Failure::Refused(d) => i18n::tf("auth.refused", &[("error", &detail(d))]),
            Failure::BadToken(d) => i18n::tf("auth.bad_token", &[("error", &detail(d))]),
        }
    }
}
