//! A bound on what a multipart parser may hold that is not a part's data.
//!
//! The parser (multer) buffers a part's headers until their blank line, and
//! whatever comes before the first boundary, without a limit of its own: a
//! client could send a gigabyte of "headers" and the server would hold it
//! all, before any ticket or session is checked. [`MultipartBudget::guard`]
//! wraps the request body; every byte the handler then reads as data
//! ([`MultipartBudget::counted`], [`MultipartBudget::read`]) is paid back. A
//! body more than [`OVERHEAD_MAX`] ahead of what was read is cut off, and
//! the parser answers an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// Bytes a body may be ahead of what its handler read: the parts' headers
/// and boundaries, and the chunks in flight (a few hundred KiB at most).
pub const OVERHEAD_MAX: i64 = 4 << 20;

#[derive(Clone, Default)]
pub struct MultipartBudget {
    unread: Arc<AtomicI64>,
}

impl MultipartBudget {
    pub fn new() -> Self {
        Self::default()
    }

    /// The request body, cut off once it is [`OVERHEAD_MAX`] ahead.
    pub fn guard<S, E>(
        &self,
        body: S,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let unread = self.unread.clone();
        body.map(move |chunk| {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
            let len = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
            if unread.fetch_add(len, Ordering::Relaxed).saturating_add(len) > OVERHEAD_MAX {
                return Err(std::io::Error::other(
                    "the form's part headers are too long (or the body is not multipart)",
                ));
            }
            Ok(chunk)
        })
    }

    /// Whether the body was cut off (the parser's error then means this).
    pub fn exceeded(&self) -> bool {
        self.unread.load(Ordering::Relaxed) > OVERHEAD_MAX
    }

    /// The refusal to answer when [`MultipartBudget::exceeded`].
    pub fn refusal() -> crate::CoreError {
        crate::CoreError::validation(
            "file",
            "The form's part headers are too long (over 4 MiB before any data): send multipart/form-data with short part headers.",
        )
    }

    /// Pays back `bytes` the handler read as a part's data.
    pub fn read(&self, bytes: usize) {
        let len = i64::try_from(bytes).unwrap_or(i64::MAX);
        self.unread.fetch_sub(len, Ordering::Relaxed);
    }

    /// A part's data stream that pays back every chunk it yields.
    pub fn counted<S, E>(&self, part: S) -> impl Stream<Item = Result<Bytes, E>> + Unpin
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let budget = self.clone();
        part.map(move |chunk| {
            if let Ok(bytes) = &chunk {
                budget.read(bytes.len());
            }
            chunk
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: Vec<usize>) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::iter(
            chunks
                .into_iter()
                .map(|n| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; n]))),
        )
    }

    #[tokio::test]
    async fn a_body_far_ahead_of_what_was_read_is_cut_off() {
        let budget = MultipartBudget::new();
        let mut guarded = Box::pin(budget.guard(body(vec![1 << 20; 8])));
        let mut passed = 0;
        while let Some(chunk) = guarded.next().await {
            match chunk {
                Ok(_) => passed += 1,
                Err(e) => {
                    assert!(e.to_string().contains("too long"), "{e}");
                    assert!(budget.exceeded());
                    break;
                }
            }
        }
        assert_eq!(
            passed, 4,
            "4 MiB of unread bytes pass, the fifth MiB does not"
        );
    }

    #[tokio::test]
    async fn data_the_handler_reads_is_paid_back() {
        let budget = MultipartBudget::new();
        let mut guarded = Box::pin(budget.guard(body(vec![1 << 20; 64])));
        let mut seen = 0;
        while let Some(chunk) = guarded.next().await {
            let Ok(chunk) = chunk else {
                panic!("read as it arrives, the body is never cut off");
            };
            budget.read(chunk.len());
            seen += chunk.len();
        }
        assert_eq!(seen, 64 << 20);
    }
}
