//! One module per console area.

pub mod account;
pub mod bulk;
pub mod edit;
pub mod keywords;
pub mod library;
pub mod metadata_profiles;
pub mod operations;
pub mod press;
pub mod sets;
pub mod settings;
pub mod sign_in;
pub mod tokens;
pub mod upload;
pub mod users;
pub mod webhooks;
pub mod websites;
