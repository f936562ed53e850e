//! Lightbox media: where photographers' files live and how they are read
//! back. So far the blob store ([`blob`]); decoding, versions, metadata and
//! ZIP streaming build on it.
#![forbid(unsafe_code)]

pub mod blob;

pub use blob::{BlobError, BlobLocation, BlobStore, S3Connection, StoredOriginal};
