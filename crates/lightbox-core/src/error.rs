//! The one error type of the domain. `kind` decides the wire `code` and the
//! HTTP status (the same for the API and the admin console); `message` is
//! for people; `field` names the offending input.

use lightbox_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Validation,
    Unauthorized,
    Forbidden,
    ApiNotEnabled,
    NotFound,
    ImageNotFound,
    SetNotFound,
    SnapshotNotFound,
    OperationNotFound,
    IdempotencyKeyConflict,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    RateLimited,
    Internal,
    /// The database (or another service a request needs) does not answer.
    Unavailable,
    /// PostgreSQL aborted the write because it crossed another one (a
    /// deadlock): nothing was applied. Writes retry it themselves
    /// ([`crate::writes::retrying`]); the client sees `503 unavailable` only
    /// when it kept happening.
    CrossedWrite,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::ApiNotEnabled => "api_not_enabled",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ImageNotFound => "image_not_found",
            ErrorKind::SetNotFound => "set_not_found",
            ErrorKind::SnapshotNotFound => "snapshot_not_found",
            ErrorKind::OperationNotFound => "operation_not_found",
            ErrorKind::IdempotencyKeyConflict => "idempotency_key_conflict",
            ErrorKind::Conflict => "conflict",
            ErrorKind::PayloadTooLarge => "payload_too_large",
            ErrorKind::UnsupportedMediaType => "unsupported_media_type",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Internal => "internal",
            ErrorKind::Unavailable | ErrorKind::CrossedWrite => "unavailable",
        }
    }

    /// The HTTP status this kind answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Validation => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden | ErrorKind::ApiNotEnabled => 403,
            ErrorKind::NotFound
            | ErrorKind::ImageNotFound
            | ErrorKind::SetNotFound
            | ErrorKind::SnapshotNotFound
            | ErrorKind::OperationNotFound => 404,
            ErrorKind::IdempotencyKeyConflict | ErrorKind::Conflict => 409,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::RateLimited => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Unavailable | ErrorKind::CrossedWrite => 503,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreError {
    pub kind: ErrorKind,
    pub message: String,
    pub detail: Option<String>,
    pub field: Option<String>,
    /// Seconds until a refused request may be retried (`429`).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for CoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.code(), self.message)
    }
}

impl std::error::Error for CoreError {}

impl CoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            kind,
            // Every validation error names its rule in `detail`, as the
            // hosted service's example does ("title must be at most 191
            // characters"); the message is that rule as a sentence.
            detail: (kind == ErrorKind::Validation)
                .then(|| message.trim_end_matches('.').to_owned()),
            message,
            field: None,
            retry_after: None,
        }
    }

    /// A bad input field: names the field and the rule it broke.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message).with_field(field)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    /// `429 rate_limited`, retry after exactly `secs` seconds.
    pub fn rate_limited(secs: u64, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::RateLimited, message);
        e.retry_after = Some(secs);
        e
    }

    /// `413`: a body (or an uploaded file) over the credential's or the
    /// server's size cap.
    pub fn payload_too_large() -> Self {
        Self::new(
            ErrorKind::PayloadTooLarge,
            "The request body is larger than this token or server accepts.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "Something went wrong on our side; it has been logged.",
        )
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        // Log the cause here, where it is known; the wire never sees it.
        if e.is_crossed_write() {
            tracing::warn!(error = %e, "write crossed another one");
        } else {
            tracing::error!(error = %e, "store error");
        }
        if e.is_unavailable() {
            // The database went away: say so, and when to try again; the
            // pool reconnects by itself when it is back.
            let mut unavailable = Self::new(
                ErrorKind::Unavailable,
                "The database is not answering; try again shortly.",
            );
            unavailable.retry_after = Some(UNAVAILABLE_RETRY_SECS);
            return unavailable;
        }
        if e.is_crossed_write() {
            let mut crossed = Self::new(
                ErrorKind::CrossedWrite,
                "This write crossed other writes to the same rows and nothing of it was applied; send it again.",
            );
            crossed.retry_after = Some(1);
            return crossed;
        }
        CoreError::internal()
    }
}

/// `Retry-After` of a `503 unavailable`.
const UNAVAILABLE_RETRY_SECS: u64 = 5;

impl CoreError {
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}
