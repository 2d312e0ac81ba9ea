//! Shared pieces of the cross-crate tests: the example server on a real
//! socket, and small readers for the pages it serves.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use example_server::Config;
use hook_layer::attempts::{
    AttemptStore, MemoryStore, ReadyFuture, ReserveFuture, StoreError, ValueFuture,
};
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

/// An attempt store that can be taken down and brought back: a
/// [`MemoryStore`] that fails every call while it is down, as a Redis
/// outage does; or that makes its writes but loses their replies, as a
/// Redis whose acknowledgements time out does.
#[derive(Default)]
pub struct SwitchableStore {
    inner: MemoryStore,
    down: AtomicBool,
    /// Counts are made, but their replies lost.
    losing_counts: AtomicBool,
    /// Answers are kept, but their replies lost.
    losing_answers: AtomicBool,
}

impl SwitchableStore {
    /// Takes the store down (`true`) or brings it back (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Loses (`true`) or delivers the replies to attempt counts, which are
    /// made either way.
    pub fn lose_count_replies(&self, losing: bool) {
        self.losing_counts.store(losing, Ordering::SeqCst);
    }

    /// Loses (`true`) or delivers the replies to answers being kept, which
    /// are kept either way.
    pub fn lose_answer_replies(&self, losing: bool) {
        self.losing_answers.store(losing, Ordering::SeqCst);
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    fn outage() -> StoreError {
        StoreError::unavailable("connection refused")
    }

    /// `made`, with its reply replaced by a timeout when `losing` is set.
    fn lost_if<'a, T: Send + 'a>(
        losing: &AtomicBool,
        made: std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send + 'a>,
        >,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send + 'a>>
    {
        if !losing.load(Ordering::SeqCst) {
            return made;
        }
        Box::pin(async move {
            let _ = made.await;
            Err(StoreError::Timeout {
                after: std::time::Duration::from_secs(2),
            })
        })
    }
}

impl AttemptStore for SwitchableStore {
    fn reserve<'a>(&'a self, key: &'a str, now: u64, expires_at: u64) -> ReserveFuture<'a> {
        if self.is_down() {
            return Box::pin(std::future::ready(Err(Self::outage())));
        }
        Self::lost_if(
            &self.losing_counts,
            self.inner.reserve(key, now, expires_at),
        )
    }

    fn put_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        now: u64,
        expires_at: u64,
    ) -> ValueFuture<'a> {
        if self.is_down() {
            return Box::pin(std::future::ready(Err(Self::outage())));
        }
        Self::lost_if(
            &self.losing_answers,
            self.inner.put_if_absent(key, value, now, expires_at),
        )
    }

    fn get<'a>(&'a self, key: &'a str, now: u64) -> ValueFuture<'a> {
        if self.is_down() {
            return Box::pin(std::future::ready(Err(Self::outage())));
        }
        self.inner.get(key, now)
    }

    fn remembers_for(&self) -> Option<std::time::Duration> {
        self.inner.remembers_for()
    }

    fn ready(&self) -> ReadyFuture<'_> {
        let ready = if self.is_down() {
            Err(Self::outage())
        } else {
            Ok(())
        };
        Box::pin(std::future::ready(ready))
    }
}

/// Starts an issuance for Ada at the simulated MATTR VII, as its start
/// page does, and returns where it sends the holder: the hook URL with a
/// session token, checked to be `server`'s.
pub async fn start_issuance(server: &TestServer) -> String {
    let response = client()
        .post(server.url("/dev/start"))
        .form(&[("given_name", "Ada"), ("email", "ada@example.com")])
        .send()
        .await
        .expect("the simulated MATTR VII answers");
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
    let link = location(&response).expect("a redirect to the hook");
    let expected = server.url(&format!("{}?session_token=", server.step("")));
    assert!(link.starts_with(&expected), "{link}");
    link
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

/// The `Location` of a redirect, if the response is one.
pub fn location(response: &reqwest::Response) -> Option<String> {
    let location = response.headers().get(reqwest::header::LOCATION)?;
    Some(location.to_str().ok()?.to_owned())
}

/// The value of the query parameter `name` in `url` (a path with a query
/// will do), percent-decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Walks the session `token` to the code step on `server` (terms accepted,
/// details given, each step's redirect followed); the code page.
pub async fn reach_code_step(server: &TestServer, token: &str) -> String {
    let http = client();
    let follow = |response: reqwest::Response, what: &str| {
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER, "{what}");
        server.url(&location(&response).expect("a redirect"))
    };
    let terms = server.url(&format!("{}?session_token={token}", server.step("/terms")));
    let accepted = http
        .post(terms)
        .form(&[("decision", "accept")])
        .send()
        .await
        .expect("terms");
    let details = http
        .get(follow(accepted, "terms"))
        .send()
        .await
        .expect("the details page")
        .text()
        .await
        .expect("the details page");
    let given = http
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
    let response = http
        .get(follow(given, "details"))
        .send()
        .await
        .expect("the code page");
    assert_eq!(response.status(), reqwest::StatusCode::OK, "the code page");
    response.text().await.expect("the code page")
}

/// What came back from a burst of code submissions.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CodeTally {
    /// Redirects back to the code page saying the code was wrong.
    pub try_again: usize,
    /// Redirects back to MATTR VII that fail the issuance.
    pub failed: usize,
    /// Redirects that complete it.
    pub completed: usize,
    /// The page saying the issuance has already been completed (409),
    /// at once or on the code page a refused submission was sent to.
    pub already_completed: usize,
    /// The page saying the issuance has already ended (409), likewise.
    pub already_ended: usize,
    /// Anything else (an error page, say).
    pub other: usize,
    /// Every response token any submission was given, checked as MATTR VII
    /// would: in a redirect, or offered again on an answered page. A
    /// session answered once has exactly one.
    pub responses: std::collections::BTreeSet<String>,
}

impl CodeTally {
    /// Every answer that signed nothing and says the session was answered.
    pub fn already_answered(&self) -> usize {
        self.already_completed + self.already_ended
    }
}

/// Posts `code` `count` times at once to the code form on `page` (all
/// requests in flight together) and tallies the answers, reading each
/// redirect as MATTR VII would.
pub async fn fire_codes(server: &TestServer, page: &str, code: &str, count: usize) -> CodeTally {
    fire_codes_at(&[&server.base], &server.issuer(), page, code, count).await
}

/// As [`fire_codes`], alternating the requests over several servers (the
/// replicas of one hook) at `bases`.
///
/// A submission that found every check used is sent back to the code page;
/// those redirects are followed once every answer is in, when the page
/// shows how the session was answered.
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
    let mut to_follow = Vec::new();
    for (i, response) in responses.into_iter().enumerate() {
        let response = response.await.expect("task").expect("response");
        let status = response.status().as_u16();
        match (status, location(&response)) {
            (303, Some(location)) if location.starts_with('/') => {
                let note = query_param(&location, "note").unwrap_or_default();
                if note.starts_with("wrong-") {
                    tally.try_again += 1;
                } else {
                    to_follow.push(format!("{}{location}", bases[i % bases.len()]));
                }
            }
            (303, Some(location)) => {
                let read = issuer.read_redirect(&location).expect("a valid response");
                match read.outcome {
                    hook_layer::testing::Outcome::Failed { .. } => tally.failed += 1,
                    hook_layer::testing::Outcome::Completed { .. } => tally.completed += 1,
                }
                tally.responses.insert(response_token(&location));
            }
            (status, _) => {
                let text = response.text().await.unwrap_or_default();
                tally.count_page(issuer, status, &text);
            }
        }
    }
    for url in to_follow {
        let response = http.get(url).send().await.expect("response");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        tally.count_page(issuer, status, &text);
    }
    tally
}

/// Posts `code` to the code form on `page` (the code page of a session)
/// at `server`, with the page's sealed progress; the response, unfollowed.
pub async fn post_code(server: &TestServer, page: &str, code: &str) -> reqwest::Response {
    client()
        .post(server.url(&form_action(page).expect("the code form")))
        .form(&[
            ("progress", input_value(page, "progress").expect("progress")),
            ("code", code),
        ])
        .send()
        .await
        .expect("a response")
}

/// The response token in a redirect back to MATTR VII.
pub fn response_token(url: &str) -> String {
    query_param(url, "session_token").expect("a response token")
}

/// The response an answered page offers again ("Continue to your
/// wallet"), checked as MATTR VII would: its URL and token.
pub fn offered_response(issuer: &MockIssuer, page: &str) -> Option<(String, String)> {
    page.split(r#"<a class="button" href=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .find(|href| href.contains("session_token="))
        .map(|url| {
            issuer
                .read_redirect(&url)
                .expect("the offered response is valid");
            let token = response_token(&url);
            (url, token)
        })
}

impl CodeTally {
    fn count_page(&mut self, issuer: &MockIssuer, status: u16, text: &str) {
        if let Some((_, token)) = offered_response(issuer, text) {
            self.responses.insert(token);
        }
        match status {
            409 if text.contains("This issuance has already been completed") => {
                self.already_completed += 1;
            }
            409 if text.contains("This issuance has already ended") => self.already_ended += 1,
            _ => self.other += 1,
        }
    }
}
