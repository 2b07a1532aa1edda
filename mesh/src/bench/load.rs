//! The load generator: closed loop (N callers, each sends when its last call returned)
//! for peak throughput, or open loop (calls start on a fixed schedule whether or not the
//! previous ones returned, latency measured from the intended send time so queueing is
//! not hidden). Warm-up calls are made but not recorded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use hdrhistogram::Histogram;
use tokio::time::Instant;

/// One call of a scenario; `n` counts calls so scenarios can vary their input.
pub type CallFn = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<(), tonic::Code>> + Send + Sync>;

/// How load is offered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// `concurrency` callers in a loop.
    Closed { concurrency: usize },
    /// `rate` calls per second on a fixed schedule.
    Open { rate: f64 },
}

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    pub mode: Mode,
    pub warmup: Duration,
    pub duration: Duration,
    /// Print a progress line on stderr while running.
    pub progress: bool,
}

/// What one measured run produced.
#[derive(Debug)]
pub struct Measured {
    /// Latencies in microseconds of every recorded call (successful or not).
    pub histogram: Histogram<u64>,
    pub ok: u64,
    /// Failed calls by gRPC code name.
    pub errors: BTreeMap<String, u64>,
    /// Measured wall time (the recording window).
    pub elapsed: Duration,
}

impl Measured {
    pub fn total(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs .. 60 s with 3 significant digits; larger values saturate.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("static histogram bounds are valid")
}

#[derive(Debug)]
struct Recorder {
    histogram: Histogram<u64>,
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            histogram: new_histogram(),
            ok: 0,
            errors: BTreeMap::new(),
        }
    }

    fn record(&mut self, latency: Duration, outcome: Result<(), tonic::Code>) {
        self.histogram
            .saturating_record((latency.as_micros() as u64).max(1));
        match outcome {
            Ok(()) => self.ok += 1,
            Err(code) => *self.errors.entry(format!("{code:?}")).or_default() += 1,
        }
    }

    fn merge(&mut self, other: Recorder) {
        let _ = self.histogram.add(&other.histogram);
        self.ok += other.ok;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
    }
}

/// Shared counters for the progress line.
#[derive(Debug, Default)]
struct Progress {
    done: AtomicU64,
    failed: AtomicU64,
}

/// Runs `call` with `options` and returns what the recording window measured.
pub async fn run(label: &str, call: CallFn, options: LoadOptions) -> Measured {
    let progress = Arc::new(Progress::default());
    let stop = Arc::new(AtomicBool::new(false));
    let printer = options.progress.then(|| {
        tokio::spawn(print_progress(
            label.to_string(),
            progress.clone(),
            stop.clone(),
            options,
        ))
    });
    let start = Instant::now();
    let record_from = start + options.warmup;
    let end = record_from + options.duration;
    let recorder = match options.mode {
        Mode::Closed { concurrency } => {
            closed(call, concurrency.max(1), record_from, end, progress).await
        }
        Mode::Open { rate } => open(call, rate, start, record_from, end, progress).await,
    };
    stop.store(true, Ordering::Relaxed);
    if let Some(printer) = printer {
        let _ = printer.await;
    }
    Measured {
        histogram: recorder.histogram,
        ok: recorder.ok,
        errors: recorder.errors,
        elapsed: options.duration,
    }
}

async fn closed(
    call: CallFn,
    concurrency: usize,
    record_from: Instant,
    end: Instant,
    progress: Arc<Progress>,
) -> Recorder {
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let call = call.clone();
            let progress = progress.clone();
            tokio::spawn(async move {
                let mut recorder = Recorder::new();
                let mut n = w as u64;
                loop {
                    let sent = Instant::now();
                    if sent >= end {
                        break;
                    }
                    let outcome = call(n).await;
                    n += concurrency as u64;
                    if sent >= record_from {
                        recorder.record(sent.elapsed(), outcome);
                        progress.done.fetch_add(1, Ordering::Relaxed);
                        if outcome.is_err() {
                            progress.failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                recorder
            })
        })
        .collect();
    let mut total = Recorder::new();
    for worker in workers {
        if let Ok(recorder) = worker.await {
            total.merge(recorder);
        }
    }
    total
}

async fn open(
    call: CallFn,
    rate: f64,
    start: Instant,
    record_from: Instant,
    end: Instant,
    progress: Arc<Progress>,
) -> Recorder {
    let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let shared = Arc::new(Mutex::new(Recorder::new()));
    let mut tasks = tokio::task::JoinSet::new();
    let mut n: u64 = 0;
    loop {
        // The schedule, not the clock after the previous send: a slow server does not
        // slow the offered load down, its calls simply start late and count that.
        let intended = start + period.mul_f64(n as f64);
        if intended >= end {
            break;
        }
        tokio::time::sleep_until(intended).await;
        let call = call.clone();
        let shared = shared.clone();
        let progress = progress.clone();
        tasks.spawn(async move {
            let outcome = call(n).await;
            if intended >= record_from {
                let latency = intended.elapsed();
                if let Ok(mut recorder) = shared.lock() {
                    recorder.record(latency, outcome);
                }
                progress.done.fetch_add(1, Ordering::Relaxed);
                if outcome.is_err() {
                    progress.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        // Reap finished calls so the set does not grow for the whole run.
        while tasks.try_join_next().is_some() {}
        n += 1;
    }
    while tasks.join_next().await.is_some() {}
    match Arc::try_unwrap(shared) {
        Ok(mutex) => mutex.into_inner().unwrap_or_else(|e| e.into_inner()),
        Err(shared) => {
            let mut copy = Recorder::new();
            if let Ok(recorder) = shared.lock() {
                let _ = copy.histogram.add(&recorder.histogram);
                copy.ok = recorder.ok;
                copy.errors = recorder.errors.clone();
            }
            copy
        }
    }
}

async fn print_progress(
    label: String,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    options: LoadOptions,
) {
    use std::io::{IsTerminal as _, Write as _};
    // On a terminal the line is rewritten in place; in a log, one line every 2 s.
    let tty = std::io::stderr().is_terminal();
    let mut ticks = 0u64;
    let start = Instant::now();
    let total = options.warmup + options.duration;
    let mut last = 0u64;
    let mut last_at = start;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        ticks += 1;
        if !tty && !ticks.is_multiple_of(8) {
            continue;
        }
        let now = Instant::now();
        let done = progress.done.load(Ordering::Relaxed);
        let rate = (done - last) as f64 / now.duration_since(last_at).as_secs_f64().max(1e-3);
        (last, last_at) = (done, now);
        let elapsed = now.duration_since(start);
        let phase = if elapsed < options.warmup {
            "warm-up"
        } else {
            "measure"
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "{}    {label:<18} {phase} {:>5.1}/{:.0}s  {done:>8} calls  {rate:>9.0}/s  {} errors   {}",
            if tty { "\r" } else { "" },
            elapsed.as_secs_f64().min(total.as_secs_f64()),
            total.as_secs_f64(),
            progress.failed.load(Ordering::Relaxed),
            if tty { "" } else { "\n" },
        );
        let _ = err.flush();
    }
    if tty {
        eprint!("\r{:<100}\r", "");
    }
}
