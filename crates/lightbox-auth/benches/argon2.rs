//! Time of one Argon2id password hash and one verification with the
//! server's parameters (`PasswordParams::default()`: 19 MiB, 2 passes,
//! 1 lane), on one thread. Plain `harness = false` bench, no dependency:
//!
//! ```sh
//! cargo bench -p lightbox-auth --bench argon2
//! ARGON2_BENCH_RUNS=50 cargo bench -p lightbox-auth --bench argon2
//! ```
//!
//! One hash is what a sign-in costs the server's hashing pool, so
//! `1000 / median ms` is the sign-ins per second one core can check.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lightbox_auth::password::{PasswordParams, hash_password, verify_password};

const PASSWORD: &str = "tangerine-bicycle-Orbit-42";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // one run of each is enough to prove the bench still works.
    let benching = std::env::args().any(|a| a == "--bench");
    let runs: usize = match std::env::var("ARGON2_BENCH_RUNS") {
        Ok(v) => v.parse()?,
        Err(_) if benching => 30,
        Err(_) => 1,
    };
    let runs = runs.max(1);
    let params = PasswordParams::default();
    println!(
        "argon2id m={} KiB t={} p={}, {runs} runs each, one thread",
        params.memory_kib, params.iterations, params.parallelism
    );

    // Warm-up: page in the 19 MiB and settle the CPU frequency.
    let phc = hash_password(PASSWORD, &params)?;
    if !verify_password(PASSWORD, &phc)? || verify_password("wrong-password-1", &phc)? {
        return Err("verify_password gave a wrong answer".into());
    }

    let load_before = Load::read();
    let mut hash_times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let out = hash_password(black_box(PASSWORD), black_box(&params))?;
        hash_times.push(start.elapsed());
        black_box(out);
    }

    let mut verify_ok = Vec::with_capacity(runs);
    let mut verify_wrong = Vec::with_capacity(runs);
    for i in 0..runs * 2 {
        // Alternate right and wrong passwords: a sign-in flood is mostly
        // wrong ones, and both must cost the same.
        let (pw, times, want) = if i % 2 == 0 {
            (PASSWORD, &mut verify_ok, true)
        } else {
            ("wrong-password-1", &mut verify_wrong, false)
        };
        let start = Instant::now();
        let ok = verify_password(black_box(pw), black_box(&phc))?;
        times.push(start.elapsed());
        if ok != want {
            return Err("verify_password gave a wrong answer".into());
        }
    }

    let other = Load::read()
        .zip(load_before)
        .map(|(after, before)| after.other_pct(&before));
    report("hash_password", &mut hash_times);
    report("verify_password (right)", &mut verify_ok);
    report("verify_password (wrong)", &mut verify_wrong);
    let mut all_verify: Vec<Duration> = verify_ok.iter().chain(&verify_wrong).copied().collect();
    all_verify.sort_unstable();
    let median = percentile(&all_verify, 50.0);
    println!(
        "=> one core checks ≈ {:.1} sign-ins/s (1 s / median verify {:.2} ms)",
        1.0 / median.as_secs_f64(),
        ms(median)
    );
    match other {
        Some(pct) => println!(
            "other load during the runs: {pct:.0}% of the machine (CPU used by other processes; \
             above a few % the figures are noise)"
        ),
        None => println!("other load during the runs: unknown (no /proc)"),
    }
    Ok(())
}

/// Busy CPU of the whole machine and of this process, in clock ticks, from
/// `/proc` (Linux only): the difference over the runs is the "other load",
/// as the bench scripts report it.
struct Load {
    machine_busy: u64,
    machine_total: u64,
    own: u64,
}

impl Load {
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // user nice system idle iowait irq softirq steal
        let field = |i: usize| cpu.get(i).copied().unwrap_or(0);
        let machine_busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
        let machine_total = machine_busy + field(3) + field(4);
        let own_stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
        let rest = own_stat.rsplit_once(')')?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let own = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        Some(Self {
            machine_busy,
            machine_total,
            own,
        })
    }

    fn other_pct(&self, before: &Self) -> f64 {
        let total = self
            .machine_total
            .saturating_sub(before.machine_total)
            .max(1);
        let busy = self.machine_busy.saturating_sub(before.machine_busy);
        let own = self.own.saturating_sub(before.own);
        busy.saturating_sub(own) as f64 * 100.0 / total as f64
    }
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort_unstable();
    let (Some(min), Some(max)) = (times.first(), times.last()) else {
        return;
    };
    println!(
        "{label:<24} median {:>7.2} ms   p90 {:>7.2} ms   min {:>7.2} ms   max {:>7.2} ms   (n={})",
        ms(percentile(times, 50.0)),
        ms(percentile(times, 90.0)),
        ms(*min),
        ms(*max),
        times.len()
    );
}

/// Nearest-rank percentile of sorted `times` (not empty).
fn percentile(times: &[Duration], p: f64) -> Duration {
    let n = times.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    times[rank.clamp(1, n) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
