//! Redis killed and started again, or paused, at random; and the
//! replicas' way back.

use std::fmt;
use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::journeys::{Failure, Run};
use crate::lock;
use crate::processes::Redis;

/// What an outage does to Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// SIGKILL, then started again on the same data.
    Kill,
    /// `CLIENT PAUSE ms WRITE`: reads are answered, writes (every count,
    /// every answer put) wait until the pause ends; a hook's store call
    /// gives up first if the pause is long, and the write is made later
    /// anyway: the lost reply.
    PauseWrites,
    /// `CLIENT PAUSE ms ALL`: every command waits.
    PauseAll,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Kill => "killed",
            Self::PauseWrites => "writes paused",
            Self::PauseAll => "paused (all commands)",
        })
    }
}

/// One outage and the replicas' way back.
pub(crate) struct Outage {
    pub(crate) kind: Kind,
    pub(crate) start: Instant,
    /// Redis accepts connections again, or its pause is over.
    pub(crate) restored: Instant,
    /// Each replica's `/readyz` is 200 again.
    pub(crate) ready: Vec<Instant>,
}

impl Outage {
    /// Requests in flight at any moment between the start of the outage
    /// and the last replica being ready again may fail: killed, Redis
    /// refuses connections; paused, a store call outlasts its timeout, so
    /// the request is answered "try again" (or, had it waited longer,
    /// would be).
    pub(crate) fn covers(&self, failure: &Failure) -> bool {
        failure.done >= self.start && failure.sent <= self.end()
    }

    pub(crate) fn end(&self) -> Instant {
        self.ready.iter().max().copied().unwrap_or(self.restored)
    }
}

/// SplitMix64: a small seeded generator, so that a run's outages (kinds,
/// lengths, gaps) come again with its seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    fn between(&mut self, low: f64, high: f64) -> f64 {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        low + unit * (high - low)
    }

    /// The three kinds in a random order.
    fn kinds(&mut self) -> Vec<Kind> {
        let mut kinds = vec![Kind::Kill, Kind::PauseWrites, Kind::PauseAll];
        for index in (1..kinds.len()).rev() {
            let other = (self.next() % (index as u64 + 1)) as usize;
            kinds.swap(index, other);
        }
        kinds
    }
}

/// The shortest outage, and the gaps between outages.
const SHORTEST: f64 = 0.2;
const GAPS: (f64, f64) = (1.0, 5.0);

/// Outages from `started` until `duration` is nearly over: each after a
/// random gap of traffic (1 to 5 s after the replicas were ready again),
/// lasting a random 0.2 s to `longest`, of a kind drawn in rounds of the
/// three (so that each round of three has a kill and both pauses). The
/// last one ends at least a second before the traffic does.
pub(crate) async fn outages(
    run: &Run,
    redis: &Mutex<Redis>,
    rng: &mut Rng,
    started: Instant,
    duration: Duration,
    longest: Duration,
) -> io::Result<Vec<Outage>> {
    let until = started + duration;
    let mut outages = Vec::new();
    let mut kinds = Vec::new();
    loop {
        if kinds.is_empty() {
            kinds = rng.kinds();
        }
        let kind = kinds.pop().unwrap_or(Kind::Kill);
        let gap = Duration::from_secs_f64(rng.between(GAPS.0, GAPS.1));
        let length =
            Duration::from_secs_f64(rng.between(SHORTEST, longest.as_secs_f64().max(SHORTEST)));
        let at = Instant::now() + gap;
        if at + length + Duration::from_secs(1) > until {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let start = Instant::now();
        match kind {
            Kind::Kill => {
                lock(redis).kill();
                tokio::time::sleep(length).await;
                lock(redis).start()?;
            }
            Kind::PauseWrites | Kind::PauseAll => {
                let port = lock(redis).port;
                let all = kind == Kind::PauseAll;
                crate::processes::pause(port, length, all).await?;
                tokio::time::sleep_until((start + length).into()).await;
            }
        }
        let restored = Instant::now();
        let mut ready = Vec::new();
        for base in &run.bases {
            let give_up = Instant::now() + Duration::from_secs(60);
            loop {
                let answer = run.http.get(format!("{base}/readyz")).send().await;
                if answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
                    break;
                }
                if Instant::now() > give_up {
                    return Err(io::Error::other(format!(
                        "{base} not ready a minute after Redis came back"
                    )));
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ready.push(Instant::now());
        }
        outages.push(Outage {
            kind,
            start,
            restored,
            ready,
        });
    }
    Ok(outages)
}
