//! Password hashing off the async runtime, on a bounded pool.
//!
//! Argon2id costs tens of milliseconds of CPU and 19 MiB per hash. Run on
//! the runtime's threads, a sign-in flood would stall every other request;
//! so hashes run on blocking threads, at most `concurrency` at once, and at
//! most `max_waiting` callers queue for a slot — beyond that the caller is
//! told to retry shortly (`429`), which keeps memory and latency bounded
//! whatever arrives.
//!
//! Each run hashes in one of at most `concurrency` Argon2 memory buffers,
//! kept and reused, rather than memory allocated and freed per hash:
//! glibc keeps freed blocks of that size in its heaps, so fresh ones per
//! hash made the process grow with every sign-in flood.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use lightbox_auth::password::{self, HashMemory, PasswordParams};
use tokio::sync::Semaphore;

use crate::error::CoreError;

#[derive(Debug, Clone)]
pub struct HashingSettings {
    pub params: PasswordParams,
    /// Hashes running at once (default: one less than the CPU count, at least 1).
    pub concurrency: usize,
    /// Callers allowed to wait for a slot before new ones are turned away.
    pub max_waiting: usize,
}

impl Default for HashingSettings {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            params: PasswordParams::default(),
            concurrency: cpus.saturating_sub(1).max(1),
            max_waiting: 64,
        }
    }
}

pub struct PasswordHasher {
    settings: HashingSettings,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// A hash of a random password with the current parameters: verifying
    /// against it costs what verifying a real user's hash costs. Made on
    /// first need ([`Self::warm_up`] makes it at start-up).
    dummy: Arc<OnceLock<String>>,
    /// Argon2 memory not in use. A run takes one (or makes one when none
    /// is free) and puts it back before giving up its slot, so there are
    /// never more than `concurrency`. Locked only to take or put back.
    memory: Arc<Mutex<Vec<HashMemory>>>,
}

impl PasswordHasher {
    pub fn new(settings: HashingSettings) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            dummy: Arc::new(OnceLock::new()),
            memory: Arc::new(Mutex::new(Vec::with_capacity(settings.concurrency.max(1)))),
            settings,
        }
    }

    /// Makes the dummy hash now, so the first unknown login costs no more
    /// than any other.
    pub async fn warm_up(&self) -> Result<(), CoreError> {
        let dummy = self.dummy.clone();
        let params = self.settings.params;
        self.run(move |memory| dummy_of(&dummy, &params, memory).map(|_| ()))
            .await?
    }

    pub fn params(&self) -> &PasswordParams {
        &self.settings.params
    }

    /// Runs `work` on a blocking thread once a slot is free, with Argon2
    /// memory from the pool. Each run is one Argon2 computation, counted in
    /// `lightbox_password_hashes_total`.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        // Released on drop: a caller that goes away (client disconnect drops
        // the request future) still gives its place back.
        let place = Place::take(&self.waiting);
        if place.ahead >= self.settings.max_waiting + self.settings.concurrency {
            return Err(CoreError::rate_limited(
                1,
                "Too many sign-ins are being checked right now; retry in a second.",
            )
            .with_detail("busy"));
        }
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CoreError::internal())?;
        let pool = self.memory.clone();
        let params = self.settings.params;
        let result = tokio::task::spawn_blocking(move || {
            // None free only while fewer than `concurrency` exist: every
            // run holding a slot holds at most one, and puts it back
            // before the slot is released.
            let taken = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut memory = taken.unwrap_or_else(|| HashMemory::new(&params));
            let out = work(&mut memory);
            pool.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(memory);
            drop(permit);
            out
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing task failed");
            CoreError::internal()
        });
        metrics::counter!("lightbox_password_hashes_total").increment(1);
        drop(place);
        result
    }

    /// Callers waiting for or holding a slot (for tests and metrics).
    pub fn in_line(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Checks a new password's rules (length; zxcvbn, which takes
    /// milliseconds on long input, so off the runtime threads). A broken
    /// rule is `400 validation` naming `field`.
    pub async fn check_rules(
        &self,
        plain: &str,
        user_inputs: &[&str],
        field: &str,
    ) -> Result<(), CoreError> {
        let plain = plain.to_owned();
        let inputs: Vec<String> = user_inputs.iter().map(|s| (*s).to_owned()).collect();
        let verdict = tokio::task::spawn_blocking(move || {
            let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            password::check_new_password(&plain, &inputs)
        })
        .await
        .map_err(|_| CoreError::internal())?;
        verdict.map_err(|rule| CoreError::validation(field, rule.to_string()))
    }

    /// A PHC string for a new password.
    pub async fn hash(&self, plain: &str) -> Result<String, CoreError> {
        let plain = plain.to_owned();
        let params = self.settings.params;
        self.run(move |memory| password::hash_password_with(&plain, &params, memory))
            .await?
            .map_err(|e| {
                tracing::error!(error = %e, "password hashing failed");
                CoreError::internal()
            })
    }

    /// Checks `plain` against `stored`; with no stored hash (unknown login,
    /// no password set) it spends the same work on the dummy and answers
    /// false, so the answer's timing does not tell the two apart.
    pub async fn verify(&self, plain: &str, stored: Option<&str>) -> Result<bool, CoreError> {
        let plain = plain.to_owned();
        let stored = stored.map(str::to_owned);
        let dummy = self.dummy.clone();
        let params = self.settings.params;
        self.run(move |memory| {
            let (phc, real) = match stored {
                Some(phc) => (phc, true),
                None => (dummy_of(&dummy, &params, memory)?, false),
            };
            let ok = password::verify_password_with(&plain, &phc, memory).unwrap_or_else(|e| {
                tracing::error!(error = %e, "a stored password hash is unreadable");
                false
            });
            Ok(ok && real)
        })
        .await?
    }

    pub fn needs_rehash(&self, stored: &str) -> bool {
        password::needs_rehash(stored, &self.settings.params)
    }
}

fn dummy_of(
    cell: &OnceLock<String>,
    params: &PasswordParams,
    memory: &mut HashMemory,
) -> Result<String, CoreError> {
    if let Some(d) = cell.get() {
        return Ok(d.clone());
    }
    let made = password::dummy_hash_with(params, memory).map_err(|e| {
        tracing::error!(error = %e, "cannot make the dummy password hash");
        CoreError::internal()
    })?;
    Ok(cell.get_or_init(|| made).clone())
}

/// A place in the hashing line, given back when dropped.
struct Place<'a> {
    line: &'a AtomicUsize,
    /// How many were in line before this one.
    ahead: usize,
}

impl<'a> Place<'a> {
    fn take(line: &'a AtomicUsize) -> Self {
        let ahead = line.fetch_add(1, Ordering::AcqRel);
        Self { line, ahead }
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.line.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A strong random password easy to type: three recovery-code-shaped groups
/// joined by `-` (~150 random bits), for the demo's administrator.
pub fn random_password() -> Result<String, CoreError> {
    lightbox_auth::recovery::generate_codes(3)
        .map(|groups| groups.join("-"))
        .map_err(|e| {
            tracing::error!(error = %e, "no randomness");
            CoreError::internal()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const PASSWORD: &str = "tangerine-bicycle-Orbit-42";
    const FLOODS: usize = 3;
    const PER_FLOOD: usize = 300;

    /// `VmRSS` and `VmHWM` from /proc/self/status, in MiB (Linux only).
    fn rss() -> String {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or_else(|| "?".to_owned(), |kib| format!("{} MiB", kib / 1024))
        };
        format!("VmRSS {}, VmHWM {}", field("VmRSS:"), field("VmHWM:"))
    }

    /// Memory held through sign-in floods of `PER_FLOOD` verifications from
    /// as many tasks, concurrency 1, with the pooled memory. Run alone, in
    /// its own process (the heap is per process):
    /// `cargo test -p lightbox-core --lib -- --ignored --exact --nocapture
    /// passwords::tests::rss_through_floods_pooled`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "memory report, not a check"]
    async fn rss_through_floods_pooled() -> TestResult {
        println!("start: {}", rss());
        let hasher = Arc::new(PasswordHasher::new(HashingSettings {
            params: PasswordParams::default(),
            concurrency: 1,
            max_waiting: PER_FLOOD,
        }));
        let phc = hasher.hash(PASSWORD).await?;
        println!("after one hash: {}", rss());
        for flood in 1..=FLOODS {
            let started = std::time::Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..PER_FLOOD {
                let (hasher, phc) = (hasher.clone(), phc.clone());
                tasks.push(tokio::spawn(async move {
                    hasher.verify(PASSWORD, Some(&phc)).await
                }));
            }
            for task in tasks {
                assert!(matches!(task.await?, Ok(true)));
            }
            println!(
                "pooled, after flood {flood} ({:?}): {}",
                started.elapsed(),
                rss()
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        println!("pooled, idle: {}", rss());
        Ok(())
    }

    /// The same floods the way [`PasswordHasher::run`] ran them before the
    /// pool: one slot, each verification on a blocking thread with
    /// `password::verify_password` allocating its own memory.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[ignore = "memory report, not a check"]
    async fn rss_through_floods_per_call_memory() -> TestResult {
        println!("start: {}", rss());
        let params = PasswordParams::default();
        let phc = password::hash_password(PASSWORD, &params)?;
        println!("after one hash: {}", rss());
        let slots = Arc::new(Semaphore::new(1));
        for flood in 1..=FLOODS {
            let started = std::time::Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..PER_FLOOD {
                let (slots, phc) = (slots.clone(), phc.clone());
                tasks.push(tokio::spawn(async move {
                    let permit = slots.acquire_owned().await?;
                    let ok = tokio::task::spawn_blocking(move || {
                        let ok = password::verify_password(PASSWORD, &phc);
                        drop(permit);
                        ok
                    })
                    .await?;
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(ok?)
                }));
            }
            for task in tasks {
                assert!(matches!(task.await?, Ok(true)));
            }
            println!(
                "per call, after flood {flood} ({:?}): {}",
                started.elapsed(),
                rss()
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        println!("per call, idle: {}", rss());
        Ok(())
    }
}
