//! Redis killed and started again, and the replicas' way back.

use std::io;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::journeys::{Failure, Run};
use crate::lock;
use crate::processes::Redis;

/// One restart of Redis and the replicas' way back.
pub(crate) struct Outage {
    pub(crate) killed: Instant,
    /// Redis accepts connections again.
    pub(crate) listening: Instant,
    /// Each replica's `/readyz` is 200 again.
    pub(crate) ready: Vec<Instant>,
}

impl Outage {
    /// Requests in flight between the kill and the last replica being
    /// ready again may fail.
    pub(crate) fn covers(&self, failure: &Failure) -> bool {
        let end = self.ready.iter().max().copied().unwrap_or(self.listening);
        failure.done >= self.killed && failure.sent <= end
    }
}

/// Kills Redis `restarts` times, evenly spaced over `duration` from
/// `started`, starts it again after `down`, and waits for both replicas to
/// be ready.
pub(crate) async fn outages(
    run: &Run,
    redis: &Mutex<Redis>,
    started: Instant,
    duration: Duration,
    restarts: u32,
    down: Duration,
) -> io::Result<Vec<Outage>> {
    let mut outages = Vec::new();
    for restart in 1..=restarts {
        let at = started + duration * restart / (restarts + 1);
        tokio::time::sleep_until(at.into()).await;
        let killed = Instant::now();
        lock(redis).kill();
        tokio::time::sleep(down).await;
        lock(redis).start()?;
        let listening = Instant::now();
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
            killed,
            listening,
            ready,
        });
    }
    Ok(outages)
}
