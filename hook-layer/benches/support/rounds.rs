//! The round-robin harness behind the ratio benches: candidates run in
//! turn, each round timing a batch of every candidate, so that whatever
//! the neighbours do falls on all of them alike.

use std::time::Instant;

/// Calls of a candidate per round.
pub const BATCH: u32 = 200;

/// A named piece of work, run [`BATCH`] times per round.
pub struct Candidate<'a> {
    pub name: &'static str,
    run: Box<dyn FnMut() + 'a>,
}

pub fn candidate<'a>(name: &'static str, run: impl FnMut() + 'a) -> Candidate<'a> {
    Candidate {
        name,
        run: Box::new(run),
    }
}

/// Runs the candidates round-robin (after one warm-up call each) and
/// returns, for each, its time per call in nanoseconds in every round.
pub fn measure(candidates: &mut [Candidate<'_>], rounds: usize) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); candidates.len()];
    for candidate in candidates.iter_mut() {
        (candidate.run)();
    }
    for _ in 0..rounds {
        for (candidate, samples) in candidates.iter_mut().zip(&mut times) {
            let started = Instant::now();
            for _ in 0..BATCH {
                (candidate.run)();
            }
            samples.push(started.elapsed().as_nanos() as f64 / f64::from(BATCH));
        }
    }
    times
}

/// The median, and the 25th and 75th percentiles: the middle half.
pub fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let len = values.len();
    (values[len / 2], values[len / 4], values[len * 3 / 4])
}

pub fn format_ns(ns: f64) -> String {
    if ns.abs() >= 1000.0 {
        format!("{:.2} us", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}
