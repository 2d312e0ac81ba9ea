//! Two example-server processes behind one hook URL, sharing one Redis, as
//! replicas behind a load balancer: attempt limits hold across them and
//! across a restart, and a Redis outage checks no code.
//!
//! Needs Debian's `redis-server`; without it (as found when the tests are
//! built, see build.rs) those tests are `ignored`, and
//! `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) makes that a failure.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hook_layer::HookSecret;
use hook_layer::testing::{MockIssuer, Outcome, RedisServer};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

const BINARY: &str = env!("CARGO_BIN_EXE_example-server");
const SECRET: &[u8; 32] = b"replica tests share this secret!";
const TENANT: &str = "http://127.0.0.1:9";
const HOOK_URL: &str = "http://127.0.0.1:9/interaction";

fn issuer() -> MockIssuer {
    MockIssuer::new(HookSecret::from_bytes(SECRET).unwrap())
        .tenant(TENANT)
        .hook_url(HOOK_URL)
}

/// One example-server process with the shared secret and Redis, showing
/// codes on screen (`--dev-issuer`) so the test can read them.
struct Replica {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Replica {
    fn start(redis_url: &str) -> Self {
        let mut child = Command::new(BINARY)
            .arg("--dev-issuer")
            .env(
                "HOOK_SECRET",
                base64::engine::general_purpose::STANDARD.encode(SECRET),
            )
            .env("HOOK_ISSUER", TENANT)
            .env("HOOK_URL", HOOK_URL)
            .env("HOOK_BIND", "127.0.0.1:0")
            .env("HOOK_REDIS_URL", redis_url)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(20);
        let base = loop {
            assert!(Instant::now() < deadline, "no listening line logged");
            let line = lines.next().expect("the server logs").unwrap();
            if let Some(address) = line.split("listening on ").nth(1) {
                assert!(line.contains("attempts=\"redis\""), "{line}");
                let address = address.split_whitespace().next().unwrap();
                break format!("http://{address}");
            }
        };
        // Keep reading the log, so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, base, log }
    }

    /// Waits up to 5 s for a log line containing `text`.
    fn logged(&self, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains(text))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The text between `before` and the next `"` or `<`.
fn after<'h>(html: &'h str, before: &str) -> &'h str {
    let start = html
        .find(before)
        .unwrap_or_else(|| panic!("{before} in {html}"))
        + before.len();
    let end = html[start..].find(['"', '<']).unwrap();
    &html[start..start + end]
}

/// A journey at its code step: the page's form action, sealed progress and
/// (dev mode) code.
struct CodeStep {
    action: String,
    progress: String,
    code: String,
}

/// Walks one session to the code step, each request on the next replica:
/// every step that succeeds redirects to the next page (post/redirect/get),
/// opened on another replica.
async fn reach_code_step(http: &reqwest::Client, replicas: &[&Replica]) -> CodeStep {
    let token = issuer().session().token();
    let on = |i: usize, path: &str| replicas[i % replicas.len()].url(path);
    let welcome = http
        .get(on(0, &format!("/interaction?session_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(welcome.status(), StatusCode::OK);
    let terms = format!("/interaction/terms?session_token={token}");
    let accepted = http
        .post(on(1, &terms))
        .form(&[("decision", "accept")])
        .send()
        .await
        .unwrap();
    let details = page_at(http, &on(2, &see_other(&accepted))).await;
    let given = http
        .post(on(
            3,
            &format!("/interaction/details?session_token={token}"),
        ))
        .form(&[
            ("progress", after(&details, r#"name="progress" value=""#)),
            ("preferred_name", "Ada"),
            ("date_of_birth", "1990-04-21"),
        ])
        .send()
        .await
        .unwrap();
    let code_page = page_at(http, &on(4, &see_other(&given))).await;
    CodeStep {
        action: format!("/interaction/verify?session_token={token}"),
        progress: after(&code_page, r#"name="progress" value=""#).to_owned(),
        code: after(&code_page, r#"id="dev-code">"#).to_owned(),
    }
}

/// Where a step's `303 See Other` leads: a page of the hook.
fn see_other(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/interaction/"), "{location}");
    location
}

/// The page at `url`, which must be there.
async fn page_at(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.unwrap()
}

/// Posts `code` to `replica`; the status and the page or redirect.
async fn submit_code(
    http: &reqwest::Client,
    replica: &Replica,
    step: &CodeStep,
    code: &str,
) -> (StatusCode, String) {
    let response = http
        .post(replica.url(&step.action))
        .form(&[("progress", step.progress.as_str()), ("code", code)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    match response.headers().get(LOCATION) {
        Some(location) => (status, location.to_str().unwrap().to_owned()),
        None => (status, response.text().await.unwrap()),
    }
}

fn failed(location: &str) -> bool {
    matches!(
        issuer().read_redirect(location).unwrap().outcome,
        Outcome::Failed { .. }
    )
}

fn redis_server() -> RedisServer {
    RedisServer::start().unwrap_or_else(|error| panic!("redis-server did not start: {error}"))
}

/// The tests that need Redis are ignored when redis-server is missing; with
/// `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) that fails here instead.
#[test]
fn redis_server_is_installed_where_required() {
    RedisServer::assert_installed_where_required(cfg!(redis_installed));
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn wrong_codes_count_across_replicas_and_restarts() {
    let redis = redis_server();
    let a = Replica::start(&redis.url());
    let mut b = Replica::start(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&a, &b]).await;

    // Each wrong code leads back to the code page, opened on the other
    // replica, which says how many attempts are left.
    let (status, location) = submit_code(&http, &a, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&http, &b.url(&location)).await;
    assert!(page.contains("2 attempts left"), "{page}");
    let (status, location) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_at(&http, &a.url(&location)).await;
    assert!(page.contains("1 attempt left"), "{page}");

    // A restart keeps the count: it lives in Redis.
    drop(b);
    b = Replica::start(&redis.url());
    let (status, location) = submit_code(&http, &b, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(failed(&location), "the third wrong code fails the issuance");

    // The right code, after the limit, on either replica, never succeeds:
    // the session was answered, and both replicas know it.
    for replica in [&a, &b] {
        let (status, page) = submit_code(&http, replica, &step, &step.code).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains("This issuance has already ended"), "{page}");
    }
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn parallel_wrong_codes_on_two_replicas_check_at_most_the_limit() {
    let redis = redis_server();
    let replicas = [Replica::start(&redis.url()), Replica::start(&redis.url())];
    let http = client();
    let step = reach_code_step(&http, &[&replicas[0], &replicas[1]]).await;
    let bad = wrong(&step.code);
    let requests: Vec<_> = (0..40)
        .map(|i| {
            let request = http
                .post(replicas[i % 2].url(&step.action))
                .form(&[("progress", step.progress.as_str()), ("code", bad)]);
            tokio::spawn(request.send())
        })
        .collect();
    // Three codes are checked: two lead back to the code page as wrong,
    // the third fails the issuance. The others check nothing: the page says
    // the issuance has ended, at once or on the code page they lead to.
    let (mut try_again, mut failures, mut refused) = (0, 0, 0);
    for request in requests {
        let response = request.await.unwrap().unwrap();
        let status = response.status();
        match response.headers().get(LOCATION) {
            Some(location) if location.to_str().unwrap().contains("note=wrong-") => {
                try_again += 1;
            }
            Some(location) if location.to_str().unwrap().starts_with('/') => {
                assert!(location.to_str().unwrap().contains("note=no-attempts"));
                refused += 1;
            }
            Some(location) => {
                assert!(failed(location.to_str().unwrap()));
                failures += 1;
            }
            None => {
                assert_eq!(status, StatusCode::CONFLICT);
                refused += 1;
            }
        }
    }
    assert_eq!((try_again, failures, refused), (2, 1, 37));
}

#[tokio::test]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn a_redis_outage_checks_no_code() {
    let redis = redis_server();
    let replica = Replica::start(&redis.url());
    let http = client();
    let step = reach_code_step(&http, &[&replica]).await;
    drop(redis);
    // Even the right code is not checked without a count.
    let started = Instant::now();
    let (status, page) = submit_code(&http, &replica, &step, &step.code).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("Please try again in a moment"), "{page}");
    assert!(page.contains("Nothing was checked"), "{page}");
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert!(replica.logged("attempt store unavailable; no code sent or checked"));
}

#[test]
fn an_unreachable_redis_stops_startup_with_status_2() {
    // Nothing listens on port 1.
    let output = Command::new(BINARY)
        .env_remove("HOOK_SECRET")
        .env("HOOK_BIND", "127.0.0.1:0")
        .env("HOOK_REDIS_URL", "redis://:hunter2@127.0.0.1:1/")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("HOOK_REDIS_URL: cannot use Redis"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password was printed: {text}"
    );
    let _ = std::io::stderr().flush();
}
