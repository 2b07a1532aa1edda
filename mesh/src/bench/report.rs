//! Results of a bench run: the table printed at the end, the JSON file for comparing
//! runs, and an optional latency histogram as SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use super::load::Measured;

/// One scenario's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub scenario: String,
    /// "closed(c=16)" or "open(r=2000/s)".
    pub load: String,
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub seconds: f64,
    pub rps: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    pub mean_us: f64,
    /// rps / rps of the baseline measured in the same run.
    pub ratio: Option<f64>,
    /// p99 / p99 of the baseline: what to read in open loop, where every scenario that
    /// keeps up has the same req/s.
    pub p99_ratio: Option<f64>,
    /// (upper bound µs, count) buckets for the plot, log-spaced.
    #[serde(skip)]
    pub buckets: Vec<(u64, u64)>,
}

impl ScenarioResult {
    pub fn from_measured(scenario: &str, load: String, m: &Measured) -> Self {
        let h = &m.histogram;
        let requests = m.total();
        let seconds = m.elapsed.as_secs_f64();
        let q = |p: f64| {
            if h.is_empty() {
                0
            } else {
                h.value_at_quantile(p)
            }
        };
        let mut buckets = Vec::new();
        if !h.is_empty() {
            for v in h.iter_log(1, 1.25) {
                buckets.push((v.value_iterated_to(), v.count_since_last_iteration()));
            }
        }
        Self {
            scenario: scenario.to_string(),
            load,
            requests,
            ok: m.ok,
            errors: m.errors.clone(),
            seconds,
            rps: requests as f64 / seconds.max(1e-9),
            p50_us: q(0.50),
            p90_us: q(0.90),
            p99_us: q(0.99),
            max_us: h.max(),
            mean_us: if h.is_empty() { 0.0 } else { h.mean() },
            ratio: None,
            p99_ratio: None,
            buckets,
        }
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Everything one `tribe bench` invocation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// RFC 3339 start time.
    pub started_at: String,
    pub host_cores: usize,
    /// The scenario every ratio refers to.
    pub baseline: String,
    pub results: Vec<ScenarioResult>,
    /// Notes printed under the table (e.g. the argon2 cost of login).
    pub notes: Vec<String>,
    /// Measured argon2id verify cost, if login ran.
    pub argon2_verify_ms: Option<f64>,
}

impl Report {
    /// Fills in every ratio from the baseline row, if present.
    pub fn compute_ratios(&mut self) {
        let base = self
            .results
            .iter()
            .find(|r| r.scenario == self.baseline)
            .map(|r| (r.rps, r.p99_us));
        for r in &mut self.results {
            r.ratio = base.filter(|b| b.0 > 0.0).map(|b| r.rps / b.0);
            r.p99_ratio = base
                .filter(|b| b.1 > 0)
                .map(|b| r.p99_us as f64 / b.1 as f64);
        }
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<20} {:<16} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}  errors",
            "scenario",
            "load",
            "requests",
            "req/s",
            "p50",
            "p90",
            "p99",
            "max",
            "ratio",
            "p99/base"
        );
        for r in &self.results {
            let errors = if r.errors.is_empty() {
                "0".to_string()
            } else {
                r.errors
                    .iter()
                    .map(|(c, n)| format!("{c}={n}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let ratio = r
                .ratio
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "-".into());
            let p99_ratio = r
                .p99_ratio
                .map(|x| format!("{x:.1}x"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "{:<20} {:<16} {:>9} {:>10.0} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}  {}",
                r.scenario,
                r.load,
                r.requests,
                r.rps,
                fmt_us(r.p50_us),
                fmt_us(r.p90_us),
                fmt_us(r.p99_us),
                fmt_us(r.max_us),
                ratio,
                p99_ratio,
                errors
            );
        }
        let _ = writeln!(
            out,
            "ratio = req/s / req/s of {b} in this run (closed loop: share of the stack's limit); p99/base = p99 / p99 of {b} (open loop: added latency); {} cores",
            self.host_cores,
            b = self.baseline
        );
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        out
    }

    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json + "\n").with_context(|| format!("write {}", path.display()))
    }

    /// One line per scenario: share of calls per log-spaced latency bucket.
    pub fn write_svg(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, svg(self)).with_context(|| format!("write {}", path.display()))
    }
}

/// 850 µs, 12.3 ms, 1.20 s.
pub fn fmt_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}µs"),
        1_000..1_000_000 => format!("{:.2}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

const COLORS: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

fn svg(report: &Report) -> String {
    let (w, h, left, right, top, bottom) = (900.0, 480.0, 60.0, 220.0, 30.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let series: Vec<&ScenarioResult> = report
        .results
        .iter()
        .filter(|r| !r.buckets.is_empty())
        .collect();
    let min_us = series
        .iter()
        .filter_map(|r| r.buckets.iter().find(|b| b.1 > 0).map(|b| b.0))
        .min()
        .unwrap_or(1)
        .max(1);
    let max_us = series
        .iter()
        .map(|r| r.max_us)
        .max()
        .unwrap_or(10)
        .max(min_us * 10);
    let (lo, hi) = (
        (min_us as f64).log10().floor(),
        (max_us as f64).log10().ceil(),
    );
    let x = |us: u64| left + ((us.max(1) as f64).log10() - lo) / (hi - lo).max(1e-9) * pw;
    let share = |r: &ScenarioResult, c: u64| c as f64 / r.requests.max(1) as f64;
    let max_share = series
        .iter()
        .flat_map(|r| r.buckets.iter().map(move |b| share(r, b.1)))
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let y = |s: f64| top + ph - s / max_share * ph;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="18" font-size="14">tribe bench latency distribution ({}, {} cores)</text>"#,
        xml(&report.started_at),
        report.host_cores
    );
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        top + ph,
        left + pw,
        top + ph
    );
    let _ = writeln!(
        out,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        top + ph
    );
    let mut decade = lo as i32;
    while decade <= hi as i32 {
        let us = 10u64.pow(decade.max(0) as u32);
        let px = x(us);
        let _ = writeln!(
            out,
            r##"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{}" stroke="#ddd"/>"##,
            top + ph
        );
        let _ = writeln!(
            out,
            r#"<text x="{px:.1}" y="{}" text-anchor="middle">{}</text>"#,
            top + ph + 16.0,
            fmt_us(us)
        );
        decade += 1;
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">latency (log scale)</text>"#,
        left + pw / 2.0,
        h - 10.0
    );
    let _ = writeln!(
        out,
        r#"<text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">share of calls</text>"#,
        top + ph / 2.0,
        top + ph / 2.0
    );
    for (i, r) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let points: Vec<String> = r
            .buckets
            .iter()
            .map(|(us, c)| format!("{:.1},{:.1}", x(*us), y(share(r, *c))))
            .collect();
        let _ = writeln!(
            out,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
            points.join(" ")
        );
        let ly = top + 14.0 + i as f64 * 18.0;
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{color}"/>"#,
            left + pw + 12.0,
            ly - 10.0
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{ly}">{} (p99 {})</text>"#,
            left + pw + 30.0,
            xml(&r.scenario),
            fmt_us(r.p99_us)
        );
    }
    out.push_str("</svg>\n");
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
