//! The figures at the end, and whether the run passed.

use std::time::{Duration, Instant};

use example_server::otp::MAX_FAILED_CODES;

use crate::journeys::{Failure, Tally};
use crate::outages::{Kind, Outage};
use crate::sessions::{Ending, Seen};

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// What the run gathered.
pub(crate) struct Report<'a> {
    pub(crate) tally: &'a Tally,
    pub(crate) seen: &'a [Seen],
    pub(crate) outages: &'a [Outage],
    pub(crate) seed: u64,
    pub(crate) started: Instant,
    /// From the start to the end of the last journey.
    pub(crate) elapsed: Duration,
    /// How long the return after the run took.
    pub(crate) returned: Duration,
    pub(crate) rss_start: &'a [Option<(u64, u64)>],
    pub(crate) rss_end: &'a [Option<(u64, u64)>],
}

/// How many sessions' traces are printed for each failing figure (one for
/// the others).
const SHOWN: usize = 3;

/// Prints the report; whether the run passed.
pub(crate) fn report(run: &Report<'_>) -> bool {
    let seen = run.seen;
    let count = |keep: &dyn Fn(&Seen) -> bool| seen.iter().filter(|seen| keep(seen)).count();
    let only = |ending: Ending| {
        move |seen: &Seen| {
            seen.responses.len() == 1 && seen.responses.values().all(|r| r.ending == ending)
        }
    };
    let unexpected: Vec<&Seen> = seen
        .iter()
        .filter(|seen| !seen.problems.is_empty())
        .collect();
    let journeys = seen.len();
    let seconds = run.elapsed.as_secs_f64();
    println!(
        "journeys: {journeys} run ({:.1}/s): {} completed, {} failed (too many wrong codes), \
         {} failed (codes unchecked after an outage), {} abandoned before the code page, \
         {} unexpected; {} given up after a minute of failures at one step",
        journeys as f64 / seconds,
        count(&only(Ending::Completed)),
        count(&only(Ending::TooManyWrongCodes)),
        count(&only(Ending::CodesUnchecked)),
        count(&|seen| seen.responses.is_empty() && seen.code_step.is_none()),
        unexpected.len(),
        count(&|seen| seen.abandoned),
    );
    for seen in unexpected.iter().take(5) {
        println!(
            "  unexpected: soak-{}: {}",
            seen.number,
            seen.problems.join("; ")
        );
    }
    println!(
        "requests: {} ({:.0}/s), {} code answers",
        run.tally.requests,
        run.tally.requests as f64 / seconds,
        run.tally.code_answers.len()
    );

    let twice: Vec<&Seen> = seen
        .iter()
        .filter(|seen| seen.responses.len() >= 2)
        .collect();
    println!(
        "sessions by distinct response tokens seen: {} with none, {} with one, {} with two or more",
        count(&|seen| seen.responses.is_empty()),
        count(&|seen| seen.responses.len() == 1),
        twice.len()
    );
    show(run, &twice, SHOWN);
    let read_completed: Vec<&Seen> = seen
        .iter()
        .filter(|seen| seen.read_completed && !seen.given_out(true))
        .collect();
    let read_ended: Vec<&Seen> = seen
        .iter()
        .filter(|seen| seen.read_ended && !seen.given_out(false))
        .collect();
    println!(
        "sessions that read \"completed\" without a completing response given out: {}; \
         \"ended\" without a failing one: {}",
        read_completed.len(),
        read_ended.len()
    );
    show(run, &read_completed, SHOWN);
    show(run, &read_ended, SHOWN);
    let stranded: Vec<&Seen> = seen
        .iter()
        .filter(|seen| !seen.answered() && seen.code_step.is_some())
        .collect();
    println!(
        "stranded (the code page reached, no response given out before it expired): {} ({} of \
         them offered an expired one); answered only on the return after the run: {}",
        stranded.len(),
        stranded
            .iter()
            .filter(|seen| !seen.responses.is_empty())
            .count(),
        count(&|seen| seen.finished_on_return)
    );
    show(run, &stranded, SHOWN);
    let on_return: Vec<&Seen> = seen.iter().filter(|seen| seen.finished_on_return).collect();
    show(run, &on_return, 1);
    println!(
        "responses offered again after they expired (MATTR VII would refuse them): {} times, in \
         {} sessions that had been given theirs in time; returns told to start again from the \
         wallet, their response expired: {}",
        seen.iter().map(|seen| seen.expired_offers).sum::<u64>(),
        count(&|seen| seen.expired_offers > 0 && seen.answered()),
        count(&|seen| seen.expired_on_return)
    );
    let over_limit: Vec<&Seen> = seen.iter().filter(|seen| seen.codes.over_limit).collect();
    println!(
        "sessions with more code checks than the limit ({MAX_FAILED_CODES}): {}",
        over_limit.len()
    );
    show(run, &over_limit, SHOWN);
    let unexplained: Vec<&Seen> = seen
        .iter()
        .filter(|seen| {
            seen.failed_requests == 0
                && seen
                    .responses
                    .values()
                    .any(|response| response.ending == Ending::CodesUnchecked)
        })
        .collect();
    println!(
        "failed as \"could not be checked\" with no failed request of their own: {}",
        unexplained.len()
    );
    show(run, &unexplained, SHOWN);
    // The answering request's reply was lost (a 5xx, the answer written
    // all the same), and a retry found the answer and offered it.
    let recovered: Vec<&Seen> = seen
        .iter()
        .filter(|seen| {
            seen.trace
                .iter()
                .find(|step| step.response.is_some())
                .is_some_and(|step| step.status == 409)
        })
        .collect();
    println!(
        "first response seen offered on an answered page (the answering reply lost in an \
         outage): {}",
        recovered.len()
    );
    show(run, &recovered, 1);
    println!(
        "ended before {MAX_FAILED_CODES} wrong codes were answered (checks used by requests lost in \
         an outage): {}",
        count(&|seen| seen.codes.ended_early)
    );

    let outside: Vec<&Failure> = run
        .tally
        .failures
        .iter()
        .filter(|failure| !run.outages.iter().any(|outage| outage.covers(failure)))
        .collect();
    println!(
        "5xx or failed requests: {} during outages, {} outside them",
        run.tally.failures.len() - outside.len(),
        outside.len()
    );
    for failure in outside.iter().take(5) {
        println!(
            "  at {:.3} s (to {:.3} s), soak-{}: {}",
            (failure.sent - run.started).as_secs_f64(),
            (failure.done - run.started).as_secs_f64(),
            failure.session,
            failure.what
        );
    }
    for (number, outage) in run.outages.iter().enumerate() {
        let since = |at: Instant| (at - outage.restored).as_secs_f64();
        let first_code = run
            .tally
            .code_answers
            .iter()
            .find(|at| **at > outage.restored)
            .map_or_else(|| "none".to_owned(), |at| format!("{:.2} s", since(*at)));
        let ready: Vec<String> = outage
            .ready
            .iter()
            .zip(["a", "b"])
            .map(|(at, name)| format!("replica {name} {:.2} s", since(*at)))
            .collect();
        let back = match outage.kind {
            Kind::Kill => "listened again",
            Kind::PauseWrites | Kind::PauseAll => "the pause ended",
        };
        println!(
            "outage {} at {:.1} s: Redis {} for {:.2} s; ready after {back}: {}, first code answered {first_code}",
            number + 1,
            (outage.start - run.started).as_secs_f64(),
            outage.kind,
            (outage.restored - outage.start).as_secs_f64(),
            ready.join(", ")
        );
    }
    println!(
        "return after the run: {} holders who reached the code page, in {:.1} s",
        count(&|seen| seen.code_step.is_some()),
        run.returned.as_secs_f64()
    );
    for (index, name) in ["a", "b"].into_iter().enumerate() {
        let show = |memory: Option<(u64, u64)>| memory.map_or("?".to_owned(), |(rss, _)| mib(rss));
        let peak = run.rss_end[index].map_or("?".to_owned(), |(_, hwm)| mib(hwm));
        println!(
            "replica {name} RSS: {} at start, {} at end (peak {peak})",
            show(run.rss_start[index]),
            show(run.rss_end[index])
        );
    }
    let passed = twice.is_empty()
        && read_completed.is_empty()
        && read_ended.is_empty()
        && stranded.is_empty()
        && over_limit.is_empty()
        && unexplained.is_empty()
        && outside.is_empty()
        && unexpected.is_empty()
        && journeys > 0;
    if passed {
        println!("PASS");
    } else {
        println!(
            "FAIL (seed {}: --seed, or SOAK_SEED, repeats the outages)",
            run.seed
        );
    }
    passed
}

/// The first few sessions' traces: each request's time from the start,
/// step, replica, status (0: failed), and the first characters of the
/// response token's signature it carried.
fn show(run: &Report<'_>, sessions: &[&Seen], limit: usize) {
    for seen in sessions.iter().take(limit) {
        let responses: Vec<String> = seen
            .responses
            .iter()
            .map(|(signature, response)| {
                let late = if response.usable {
                    ""
                } else {
                    ", only expired"
                };
                format!(
                    "{} {:?}{late}",
                    &signature[..signature.len().min(8)],
                    response.ending
                )
            })
            .collect();
        println!(
            "  soak-{}: responses [{}]{}",
            seen.number,
            responses.join(", "),
            if seen.problems.is_empty() {
                String::new()
            } else {
                format!("; {}", seen.problems.join("; "))
            }
        );
        for step in &seen.trace {
            println!(
                "    {:>9.3} s  {:<13} {}  {}{}",
                (step.at - run.started).as_secs_f64(),
                step.what,
                ["a", "b"].get(step.replica).unwrap_or(&"?"),
                step.status,
                step.response
                    .as_deref()
                    .map(|signature| format!("  response {signature}"))
                    .unwrap_or_default()
            );
        }
    }
}
