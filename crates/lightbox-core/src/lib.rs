//! Lightbox's domain: the types (ids, scopes, operations, sets) and the
//! use-cases that the API, the command line and the web console all call.
//!
//! No HTTP and no SQL live here. A use-case checks its input, asks
//! `lightbox-store` for rows inside one transaction, and returns domain
//! values or a [`CoreError`] whose `code` is the wire error code.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod auth;
pub mod clock;
pub mod error;
pub mod ids;
pub mod image_filters;
pub mod jobs;
pub mod limits;
pub mod mfa;
pub mod operations;
pub mod passwords;
pub mod scope;
pub mod sessions;
pub mod sets;
pub mod tokens;
pub mod users;
pub mod validate;
pub mod writes;

use std::sync::Arc;

pub use clock::{Clock, SystemClock};
pub use error::{CoreError, ErrorKind};
pub use lightbox_auth;
pub use lightbox_store;
pub use lightbox_store::{Engine, Store};
pub use scope::Scope;

/// Everything a use-case needs, cheap to clone.
#[derive(Clone)]
pub struct Core {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub auth: Arc<auth::Authenticator>,
    pub sessions: Arc<sessions::SessionService>,
}

impl Core {
    pub fn new(store: Store, clock: Arc<dyn Clock>, auth_settings: auth::AuthSettings) -> Self {
        let sessions = Arc::new(sessions::SessionService::new(
            auth_settings.sessions.clone(),
        ));
        let auth = Arc::new(auth::Authenticator::new(
            store.clone(),
            clock.clone(),
            auth_settings,
        ));
        Self {
            store,
            clock,
            auth,
            sessions,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now_micros()
    }
}
