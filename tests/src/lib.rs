//! Shared pieces of the cross-crate tests: the example server on a real
//! socket, and small readers for the pages it serves.

use std::net::SocketAddr;
use std::sync::Arc;

use example_server::Config;
use hook_layer::attempts::AttemptStore;
use hook_layer::testing::MockIssuer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod redis_fixtures;

/// A fixed secret, so tests can mint tokens the server accepts.
pub const SECRET: &[u8; 32] = b"end-to-end tests' 32-byte secret";

/// The example server, listening on `127.0.0.1:0` in dev mode (simulated
/// MATTR VII on), stopped gracefully when dropped.
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's configuration.
    pub config: Config,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts the server with [`SECRET`], in dev mode.
    pub async fn start() -> Self {
        Self::start_with(true).await
    }

    /// Starts the server with [`SECRET`], with or without the simulated
    /// MATTR VII (production mode).
    pub async fn start_with(dev_issuer: bool) -> Self {
        Self::start_at("/interaction", dev_issuer).await
    }

    /// Starts the server with [`SECRET`] and the hook URL's path `hook_path`
    /// (`""` for a hook URL without a path, mounted at the root).
    pub async fn start_at(hook_path: &str, dev_issuer: bool) -> Self {
        Self::start_configured(hook_path, dev_issuer, |config| config).await
    }

    /// Starts the server in dev mode with attempt counts in `store`, e.g.
    /// a `RedisStore`.
    pub async fn start_with_store(store: Arc<dyn AttemptStore>) -> Self {
        Self::start_configured("/interaction", true, |config| {
            config.with_attempt_store(store, "test")
        })
        .await
    }

    /// Starts the server with the hook at `hook_path`, dev mode or not, and
    /// the configuration changed by `change` (more secrets, tenants).
    pub async fn start_configured(
        hook_path: &str,
        dev_issuer: bool,
        change: impl FnOnce(Config) -> Config,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let local: SocketAddr = listener.local_addr().expect("local address");
        let base = format!("http://{local}");
        let config = Config::new(SECRET, &base, &format!("{base}{hook_path}"), dev_issuer)
            .map(change)
            .expect("test config");
        Self::serve(listener, base, config)
    }

    /// Another server with this one's configuration (tenant, hook URL,
    /// secret) but attempt counts in `store`, on a port of its own: a
    /// replica of the same hook, as behind a load balancer. Tokens minted
    /// by this server's [`issuer`](Self::issuer) are the replica's too.
    pub async fn replica(&self, store: Arc<dyn AttemptStore>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let local: SocketAddr = listener.local_addr().expect("local address");
        let config = self.config.clone().with_attempt_store(store, "test");
        Self::serve(listener, format!("http://{local}"), config)
    }

    fn serve(listener: TcpListener, base: String, config: Config) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let served = config.clone();
        let task = tokio::spawn(async move {
            example_server::serve(listener, &served, async {
                let _ = stopped.await;
            })
            .await
        });
        Self {
            base,
            config,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// The path of a journey step, e.g. `step("/terms")`, wherever the
    /// journey is mounted.
    pub fn step(&self, step: &str) -> String {
        let base = self.config.hook_path().trim_end_matches('/');
        match (base, step) {
            ("", "") => "/".to_owned(),
            _ => format!("{base}{step}"),
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A MATTR VII stand-in configured like the server's own dev issuer.
    pub fn issuer(&self) -> MockIssuer {
        let secret = hook_layer::HookSecret::from_bytes(SECRET).expect("test secret");
        MockIssuer::new(secret)
            .tenant(self.base.clone())
            .hook_url(self.config.tenant().hook_url.clone())
            .redirect_url(self.url(example_server::CALLBACK_PATH))
    }

    /// Stops the server and waits until it has shut down.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server exited cleanly");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP client that does not follow redirects, so each hop is checked.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The `value` of the input named `name` in `html`.
pub fn input_value<'h>(html: &'h str, name: &str) -> Option<&'h str> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(&html[start..start + end])
}

/// The text of the element with `id` (no nested markup).
pub fn element_text<'h>(html: &'h str, id: &str) -> Option<&'h str> {
    let marker = format!(r#"id="{id}""#);
    let open = html.find(&marker)?;
    let start = open + html[open..].find('>')? + 1;
    let end = html[start..].find('<')?;
    Some(&html[start..start + end])
}

/// The `action` of the first form in `html`, un-escaped.
pub fn form_action(html: &str) -> Option<String> {
    let marker = r#"<form method="post" action=""#;
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    // askama writes `&` as `&#38;`; other escapers as `&amp;`.
    Some(
        html[start..start + end]
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

/// The actions of every `post` form on a page, in order.
pub fn form_actions(html: &str) -> Vec<String> {
    let marker = r#"<form method="post" action=""#;
    html.match_indices(marker)
        .filter_map(|(at, _)| form_action(&html[at..]))
        .collect()
}

/// Walks the session `token` to the code step on `server` (terms accepted,
/// details given); the code page.
pub async fn reach_code_step(server: &TestServer, token: &str) -> String {
    let http = client();
    let terms = server.url(&format!("{}?session_token={token}", server.step("/terms")));
    let details = http
        .post(terms)
        .form(&[("decision", "accept")])
        .send()
        .await
        .expect("terms")
        .text()
        .await
        .expect("the details page");
    let response = http
        .post(server.url(&form_action(&details).expect("the details form")))
        .form(&[
            (
                "progress",
                input_value(&details, "progress").expect("progress"),
            ),
            ("preferred_name", "Ada"),
            ("date_of_birth", "1990-04-21"),
        ])
        .send()
        .await
        .expect("details");
    assert_eq!(response.status(), reqwest::StatusCode::OK, "the code page");
    response.text().await.expect("the code page")
}

/// What came back from a burst of code submissions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CodeTally {
    /// "That code is not right" pages.
    pub try_again: usize,
    /// Redirects back to MATTR VII that fail the issuance.
    pub failed: usize,
    /// Redirects that complete it.
    pub completed: usize,
    /// Anything else (an error page, say).
    pub other: usize,
}

/// Posts `code` `count` times at once to the code form on `page` (all
/// requests in flight together) and tallies the answers, reading each
/// redirect as MATTR VII would.
pub async fn fire_codes(server: &TestServer, page: &str, code: &str, count: usize) -> CodeTally {
    fire_codes_at(&[&server.base], &server.issuer(), page, code, count).await
}

/// As [`fire_codes`], alternating the requests over several servers (the
/// replicas of one hook) at `bases`.
pub async fn fire_codes_at(
    bases: &[&str],
    issuer: &MockIssuer,
    page: &str,
    code: &str,
    count: usize,
) -> CodeTally {
    let action = form_action(page).expect("the code form");
    let progress = input_value(page, "progress")
        .expect("sealed progress")
        .to_owned();
    let http = client();
    let requests = (0..count).map(|i| {
        let request = http
            .post(format!("{}{action}", bases[i % bases.len()]))
            .form(&[("progress", progress.as_str()), ("code", code)]);
        tokio::spawn(request.send())
    });
    let responses: Vec<_> = requests.collect();
    let mut tally = CodeTally::default();
    for response in responses {
        let response = response.await.expect("task").expect("response");
        let status = response.status();
        let location = response.headers().get(reqwest::header::LOCATION).cloned();
        let text = response.text().await.unwrap_or_default();
        match (status.as_u16(), location) {
            (422, _) if text.contains("That code is not right") => tally.try_again += 1,
            (303, Some(location)) => {
                let read = issuer
                    .read_redirect(location.to_str().unwrap())
                    .expect("a valid response");
                match read.outcome {
                    hook_layer::testing::Outcome::Failed { .. } => tally.failed += 1,
                    hook_layer::testing::Outcome::Completed { .. } => tally.completed += 1,
                }
            }
            _ => tally.other += 1,
        }
    }
    tally
}

/// Says that a test was skipped, where `cargo test` shows it: written to the
/// process's standard error directly, since the test harness captures (and,
/// for a passing test, hides) what `eprintln!` prints.
pub fn skip_loudly(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why}\n");
}
