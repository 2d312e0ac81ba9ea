//! The figures at the end, and whether the run passed.

use std::time::{Duration, Instant};

use example_server::otp::MAX_FAILED_CODES;

use crate::journeys::{Failure, Tally};
use crate::outages::Outage;

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Prints the report; whether the run passed.
pub(crate) fn report(
    tally: &Tally,
    outages: &[Outage],
    started: Instant,
    elapsed: Duration,
    rss_start: &[Option<(u64, u64)>],
    rss_end: &[Option<(u64, u64)>],
) -> bool {
    let journeys = tally.completed + tally.failed + tally.abandoned + tally.unexpected.len() as u64;
    let seconds = elapsed.as_secs_f64();
    println!(
        "journeys: {journeys} run ({:.1}/s): {} completed, {} failed (too many wrong codes), {} abandoned, {} unexpected",
        journeys as f64 / seconds,
        tally.completed,
        tally.failed,
        tally.abandoned,
        tally.unexpected.len()
    );
    for unexpected in tally.unexpected.iter().take(5) {
        println!("  unexpected: {unexpected}");
    }
    println!(
        "requests: {} ({:.0}/s), {} code answers",
        tally.requests,
        tally.requests as f64 / seconds,
        tally.code_answers.len()
    );
    println!(
        "sessions with more code checks than the limit ({MAX_FAILED_CODES}): {}",
        tally.over_limit
    );
    println!(
        "right codes refused before the limit was reached: {}",
        tally.refused_early
    );
    let outside: Vec<&Failure> = tally
        .failures
        .iter()
        .filter(|failure| !outages.iter().any(|outage| outage.covers(failure)))
        .collect();
    println!(
        "5xx or failed requests: {} during outages, {} outside them",
        tally.failures.len() - outside.len(),
        outside.len()
    );
    for failure in outside.iter().take(5) {
        println!(
            "  at {:.1} s: {}",
            (failure.sent - started).as_secs_f64(),
            failure.what
        );
    }
    for (number, outage) in outages.iter().enumerate() {
        let since = |at: Instant| (at - outage.listening).as_secs_f64();
        let first_code = tally
            .code_answers
            .iter()
            .find(|at| **at > outage.listening)
            .map_or_else(|| "none".to_owned(), |at| format!("{:.2} s", since(*at)));
        let ready: Vec<String> = outage
            .ready
            .iter()
            .zip(["a", "b"])
            .map(|(at, name)| format!("replica {name} {:.2} s", since(*at)))
            .collect();
        println!(
            "restart {} at {:.0} s: Redis down {:.1} s; after it listened again: {}, first code answered {first_code}",
            number + 1,
            (outage.killed - started).as_secs_f64(),
            (outage.listening - outage.killed).as_secs_f64(),
            ready.join(", ")
        );
    }
    for (index, name) in ["a", "b"].into_iter().enumerate() {
        let show = |memory: Option<(u64, u64)>| memory.map_or("?".to_owned(), |(rss, _)| mib(rss));
        let peak = rss_end[index].map_or("?".to_owned(), |(_, hwm)| mib(hwm));
        println!(
            "replica {name} RSS: {} at start, {} at end (peak {peak})",
            show(rss_start[index]),
            show(rss_end[index])
        );
    }
    let passed =
        tally.over_limit == 0 && outside.is_empty() && tally.unexpected.is_empty() && journeys > 0;
    println!("{}", if passed { "PASS" } else { "FAIL" });
    passed
}
