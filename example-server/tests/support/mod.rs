//! The binary as a deployment runs it, for the tests beside this module:
//! one example-server process with a fixed secret and tenant, showing codes
//! on screen (`--dev-issuer`) so that a test can walk the whole journey.

#![allow(dead_code)] // Each test file uses its own share.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hook_layer::HookSecret;
use hook_layer::testing::{MockIssuer, Outcome};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

pub const BINARY: &str = env!("CARGO_BIN_EXE_example-server");
pub const SECRET: &[u8; 32] = b"replica tests share: 32-byte key";
pub const TENANT: &str = "http://127.0.0.1:9";
pub const HOOK_URL: &str = "http://127.0.0.1:9/interaction";

/// A MATTR VII stand-in for the servers' tenant.
pub fn issuer() -> MockIssuer {
    MockIssuer::new(HookSecret::from_bytes(SECRET).unwrap())
        .tenant(TENANT)
        .hook_url(HOOK_URL)
}

/// [`SECRET`] as `HOOK_SECRET` takes it.
pub fn secret_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(SECRET)
}

/// One example-server process, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the binary with the shared secret and tenant, `--dev-issuer`,
    /// `RUST_LOG=info` unless `env` says otherwise, and `env`; returns once
    /// it logs the address it listens on.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BINARY)
            .arg("--dev-issuer")
            .env_remove("HOOK_TENANTS")
            .env_remove("HOOK_REDIS_URL")
            .env_remove("HOOK_REDIS_CLUSTER_URLS")
            .env_remove("HOOK_METRICS_BIND")
            .env_remove("HOOK_LOG_FORMAT")
            .env_remove("HOOK_WEBHOOK_ID")
            .env_remove("HOOK_WEBHOOK_PATH")
            .env_remove("HOOK_WEBHOOK_URL")
            .env_remove("HOOK_WEBHOOK_JWKS_URL")
            .env("HOOK_SECRET", secret_base64())
            .env("HOOK_ISSUER", TENANT)
            .env("HOOK_URL", HOOK_URL)
            .env("HOOK_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut startup = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let base = loop {
            assert!(
                Instant::now() < deadline,
                "no listening line logged: {startup:?}"
            );
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the server stopped: {startup:?}"))
                .unwrap();
            let address = line
                .split("listening on ")
                .nth(1)
                .map(|rest| address(rest).to_owned());
            startup.push(line);
            if let Some(address) = address {
                break format!("http://{address}");
            }
        };
        // Keep reading the log, so the server never blocks on a full pipe.
        let log = Arc::new(Mutex::new(startup));
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, base, log }
    }

    /// Every line logged so far.
    pub fn lines(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to 5 s for a log line containing `text`.
    pub fn logged(&self, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.lines().iter().any(|line| line.contains(text)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server with SIGTERM and waits for it; everything it
    /// logged.
    pub fn stop(mut self) -> Vec<String> {
        let killed = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
        // The reader thread sees the end of the pipe once the process is
        // gone; give it a moment to take the last lines.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.lines().iter().any(|line| line.contains("stopped"))
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.lines()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address at the start of `text`, e.g. `127.0.0.1:3000` of
/// `127.0.0.1:3000","issuer":...`.
pub fn address(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')))
        .unwrap_or(text.len());
    &text[..end]
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The text between `before` and the next `"` or `<`.
pub fn after<'h>(html: &'h str, before: &str) -> &'h str {
    let start = html
        .find(before)
        .unwrap_or_else(|| panic!("{before} in {html}"))
        + before.len();
    let end = html[start..].find(['"', '<']).unwrap();
    &html[start..start + end]
}

/// A journey at its code step: the session token, the page's form action,
/// sealed progress and (dev mode) code.
pub struct CodeStep {
    pub token: String,
    pub action: String,
    pub progress: String,
    pub code: String,
}

/// Walks a new session to the code step, each page on the next of
/// `servers`.
pub async fn reach_code_step(http: &reqwest::Client, servers: &[&Server]) -> CodeStep {
    reach_code_step_with(http, servers, issuer().session().token()).await
}

/// Walks the session `token` to the code step, each page on the next of
/// `servers`.
pub async fn reach_code_step_with(
    http: &reqwest::Client,
    servers: &[&Server],
    token: String,
) -> CodeStep {
    let on = |i: usize, path: &str| servers[i % servers.len()].url(path);
    let welcome = http
        .get(on(0, &format!("/interaction?session_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(welcome.status(), StatusCode::OK);
    // Every step that succeeds redirects to the next page
    // (post/redirect/get), opened on the next server.
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
        token,
    }
}

/// Where a step's `303 See Other` leads: a page of the hook.
pub fn see_other(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.starts_with("/interaction/"), "{location}");
    location
}

/// The page at `url`, which must be there.
pub async fn page_at(http: &reqwest::Client, url: &str) -> String {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.text().await.unwrap()
}

/// Posts `code` to `server`; the status and the page or redirect.
pub async fn submit_code(
    http: &reqwest::Client,
    server: &Server,
    step: &CodeStep,
    code: &str,
) -> (StatusCode, String) {
    let response = http
        .post(server.url(&step.action))
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

/// Whether the redirect at `location` fails the issuance.
pub fn failed(location: &str) -> bool {
    matches!(
        issuer().read_redirect(location).unwrap().outcome,
        Outcome::Failed { .. }
    )
}

/// Whether the redirect at `location` completes the issuance.
pub fn completed(location: &str) -> bool {
    matches!(
        issuer().read_redirect(location).unwrap().outcome,
        Outcome::Completed { .. }
    )
}

/// A code other than `code`.
pub fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

/// What the metrics and log tests have the server do: the session `token`
/// walked to the code step, one wrong code, the right one (which
/// completes), then a forged token refused. Returns what must appear in no
/// log line and no metric.
pub async fn wrong_right_and_forged(server: &Server, token: String) -> Walked {
    let http = client();
    let step = reach_code_step_with(&http, &[server], token).await;
    let (status, location) = submit_code(&http, server, &step, wrong(&step.code)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("note=wrong-2"), "{location}");
    let (status, location) = submit_code(&http, server, &step, &step.code).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(completed(&location));
    let forged = issuer()
        .session()
        .signed_with(&HookSecret::from_bytes(&[3; 32]).unwrap())
        .token();
    let refused = http
        .get(server.url(&format!("/interaction?session_token={forged}")))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    Walked {
        code: step.code,
        tokens: [step.token, forged],
    }
}

/// What [`wrong_right_and_forged`] used.
pub struct Walked {
    /// The one-time code.
    pub code: String,
    /// The session token, and the forged one.
    pub tokens: [String; 2],
}
