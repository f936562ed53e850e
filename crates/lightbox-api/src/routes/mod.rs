//! One module per API resource. A handler parses and checks the request,
//! calls one core use-case, and shapes the answer.

pub mod archives;
pub mod auth;
pub mod docs;
pub mod downloads;
pub mod enrichment;
pub mod health;
pub mod images;
pub mod keywords;
pub mod me;
pub mod media;
pub mod operations;
pub mod service_tokens;
pub mod sets;
pub mod uploads;
pub mod webhooks;
pub mod websites;
