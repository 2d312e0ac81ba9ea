//! The examples in `hook-layer/examples`, each run as its own process in
//! demo mode (no tenant configured) and walked over a real socket as a
//! browser would: from the URL it prints, through its pages, to the
//! demo's `/callback`, which reads the response as MATTR VII would. And
//! with a tenant's settings, read as the `config` feature reads them: the
//! hook at `HOOK_URL`'s path, a rotation's older secret still accepted.
//!
//! The examples are built with `cargo build --examples` (through the
//! `CARGO` that runs the tests) into the tests' own target directory, so a
//! changed example is rebuilt before it runs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use hook_layer::HookSecret;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_tests::{client, element_text, form_actions, input_value};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

/// One example, listening on a free port, killed on drop.
struct Example {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    base: String,
    /// The URL it printed: MATTR VII sending the browser to the hook (in
    /// demo mode; empty with a tenant's settings).
    start: String,
}

impl Example {
    /// In demo mode, whatever the environment of the tests.
    fn start(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    /// With the settings in `env` (or none: demo mode).
    fn start_with(name: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(example_binary(name));
        command.env("PORT", "0");
        for setting in ["HOOK_SECRET", "HOOK_ISSUER", "HOOK_URL", "HOOK_TENANTS"] {
            command.env_remove(setting);
        }
        let mut child = command
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("the {name} example starts: {error}"));
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (base, start) = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the {name} example exited before printing a URL"))
                .expect("a line of output");
            if let Some(url) = line.strip_prefix("open this in a browser: ") {
                let base = url.split("/interaction?").next().expect("a URL");
                break (base.to_owned(), url.to_owned());
            }
            if let Some(rest) = line.strip_prefix("listening on ") {
                let base = rest.split(';').next().expect("an address");
                break (base.to_owned(), String::new());
            }
        };
        // Keep reading, so that the example never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Self { child, base, start }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The example's binary, built (once per test run) if missing or stale.
fn example_binary(name: &str) -> PathBuf {
    // This test runs as <target>/<profile>/deps/examples-<hash>.
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("<target>/<profile>");
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| build_examples(profile_dir));
    let binary = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.exists(), "{} was not built", binary.display());
    binary
}

/// `cargo build --examples` for the workspace, into this test's target
/// directory and profile. Without `CARGO` (the test run by hand, not by
/// cargo), the binaries already there are used.
fn build_examples(profile_dir: &std::path::Path) {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let target_dir = profile_dir.parent().expect("<target>");
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args(["build", "--workspace", "--examples", "--target-dir"])
        .arg(target_dir);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "cargo build --examples failed: {status}");
}

/// The session token from a URL that carries one.
fn token(url: &str) -> &str {
    url.split("session_token=").nth(1).expect("a session token")
}

/// Follows a redirect back to the demo's MATTR VII and returns what it
/// read there.
async fn callback(example: &Example, response: reqwest::Response) -> Value {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&example.url("/callback?session_token=")),
        "{location}"
    );
    let read = client().get(&location).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    serde_json::from_str(&read.text().await.unwrap()).expect("JSON")
}

#[tokio::test]
async fn quickstart_completes_and_fails() {
    let example = Example::start("quickstart");
    let http = client();

    let page = http.get(&example.start).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Hello, Ada</h1>"), "{page}");
    let [finish, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();
    assert!(finish.starts_with("/interaction/finish?session_token="));

    let done = http
        .post(example.url(&finish))
        .form(&[("preferred_name", " Ada L ")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        callback(&example, done).await,
        json!({
            "outcome": "completed",
            "claims": { "preferredName": "Ada L" },
            "claimsToPersist": ["preferredName"],
        })
    );

    let declined = http.post(example.url(&decline)).send().await.unwrap();
    assert_eq!(
        callback(&example, declined).await,
        json!({ "outcome": "failed", "message": "The holder declined" })
    );

    // Without a valid token the handlers are never reached.
    let forged = http
        .get(example.url("/interaction?session_token=forged.token.here"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hyper_completes_and_fails() {
    let example = Example::start("hyper");
    let http = client();

    let page = http.get(&example.start).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Hello, Ada</h1>"), "{page}");
    let [accept, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();

    let accepted = http.post(example.url(&accept)).send().await.unwrap();
    assert_eq!(
        callback(&example, accepted).await,
        json!({
            "outcome": "completed",
            "claims": { "termsAccepted": true },
            "claimsToPersist": [],
        })
    );
    let declined = http.post(example.url(&decline)).send().await.unwrap();
    assert_eq!(
        callback(&example, declined).await,
        json!({ "outcome": "failed", "message": "The holder declined the terms" })
    );

    let missing = http.get(example.url("/interaction")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
}

/// Page one filled in: the code page, its form's action, the sealed
/// answers and the code it shows.
struct CodePage {
    action: String,
    sent: String,
    code: String,
}

async fn reach_code_page(example: &Example, start: &str) -> CodePage {
    let http = client();
    let page = http.get(start).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Hello, Ada</h1>"), "{page}");
    assert!(page.contains(r#"value="ada@example.com""#), "{page}");
    let email_action = form_actions(&page).remove(0);
    assert_eq!(
        email_action,
        format!("/interaction/email?session_token={}", token(start))
    );

    // The terms are not optional.
    let unticked = http
        .post(example.url(&email_action))
        .form(&[("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(unticked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unticked.text().await.unwrap().contains("Accept the terms"));

    let page = http
        .post(example.url(&email_action))
        .form(&[("email", "ada@example.com"), ("terms", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let code = element_text(&page, "demo-code").expect("the code, on screen");
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    CodePage {
        action: form_actions(&page).remove(0),
        sent: input_value(&page, "sent")
            .expect("sealed answers")
            .to_owned(),
        code: code.to_owned(),
    }
}

/// A code that is not `code`.
fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

async fn submit(example: &Example, page: &CodePage, sent: &str, code: &str) -> reqwest::Response {
    client()
        .post(example.url(&page.action))
        .form(&[("sent", sent), ("code", code)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn journey_completes_after_a_wrong_code() {
    let example = Example::start("journey");
    let page = reach_code_page(&example, &example.start).await;

    // Nothing entered: not an attempt.
    let empty = submit(&example, &page, &page.sent, " ").await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().await.unwrap().contains("Enter the code."));

    let wrong = submit(&example, &page, &page.sent, wrong(&page.code)).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    assert!(
        wrong.contains("That code is not right. 2 attempts left."),
        "{wrong}"
    );
    // The page after a wrong code carries the same answers, sealed anew.
    let again = input_value(&wrong, "sent").expect("sealed answers");
    assert_ne!(again, page.sent);
    assert_eq!(element_text(&wrong, "demo-code"), Some(page.code.as_str()));

    let right = submit(&example, &page, again, &page.code).await;
    assert_eq!(
        callback(&example, right).await,
        json!({
            "outcome": "completed",
            "claims": {
                "email": "ada@example.com",
                "emailVerified": true,
                "termsAccepted": true,
            },
            "claimsToPersist": ["email"],
        })
    );
}

#[tokio::test]
async fn journey_fails_after_the_last_wrong_code() {
    let example = Example::start("journey");
    // `/` starts another issuance, as the demo's MATTR VII.
    let started = client().get(example.url("/")).send().await.unwrap();
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let start = example.url(started.headers()[LOCATION].to_str().unwrap());
    let page = reach_code_page(&example, &start).await;
    let wrong = wrong(&page.code);

    for left in ["2 attempts left", "1 attempt left"] {
        let response = submit(&example, &page, &page.sent, wrong).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.text().await.unwrap().contains(left));
    }
    // The third wrong code was the last: the issuance fails at once.
    let last = submit(&example, &page, &page.sent, wrong).await;
    let failed = json!({ "outcome": "failed", "message": "The one-time code was wrong 3 times" });
    assert_eq!(callback(&example, last).await, failed);

    // Coming back (another tab, the back button): no attempt is left, so
    // even the right code is not checked, and nothing more is signed.
    let late = submit(&example, &page, &page.sent, &page.code).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert!(late.headers().get(LOCATION).is_none());
    assert!(late.text().await.unwrap().contains("No attempts left"));
}

#[tokio::test]
async fn journey_answers_a_session_once() {
    let example = Example::start("journey");
    let page = reach_code_page(&example, &example.start).await;
    let done = submit(&example, &page, &page.sent, &page.code).await;
    assert_eq!(callback(&example, done).await["outcome"], "completed");
    // The last step again (a reload, a double tap): nothing more is signed.
    let again = submit(&example, &page, &page.sent, &page.code).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.headers().get(LOCATION).is_none());
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("already been completed")
    );
}

#[tokio::test]
async fn journey_refuses_answers_sealed_in_another_session() {
    let example = Example::start("journey");
    let first = reach_code_page(&example, &example.start).await;
    let started = client().get(example.url("/")).send().await.unwrap();
    let start = example.url(started.headers()[LOCATION].to_str().unwrap());
    let second = reach_code_page(&example, &start).await;

    // The second session's form, with the first session's sealed answers.
    let moved = submit(&example, &second, &first.sent, &first.code).await;
    assert_eq!(moved.status(), StatusCode::BAD_REQUEST);
    assert!(
        moved
            .text()
            .await
            .unwrap()
            .contains("belongs to another session")
    );
    // And a sealed value that was changed.
    let mut changed = second.sent.clone();
    changed.replace_range(10..11, if &changed[10..11] == "A" { "B" } else { "A" });
    let changed = submit(&example, &second, &changed, &second.code).await;
    assert_eq!(changed.status(), StatusCode::BAD_REQUEST);
}

/// The hook secret, and an older one still accepted during a rotation, as
/// `HOOK_SECRET` holds them (random-looking: configured secrets must be).
const CURRENT: &str = "082MajLllCJrud93C0BujT7cqbaZw1f9STZZUZBahW0=";
const PREVIOUS: &str = "iiu/Qi472yvG+pBcg6FE2FSGZMpDclVyEU+BCHHbOaw=";

/// Starts `name` with a tenant's settings, `HOOK_URL` set to `hook_url`.
fn with_tenant(name: &str, hook_url: &str) -> Example {
    let secrets = format!("{CURRENT},{PREVIOUS}");
    Example::start_with(
        name,
        &[
            ("HOOK_SECRET", &secrets),
            ("HOOK_ISSUER", MockIssuer::TENANT),
            ("HOOK_URL", hook_url),
        ],
    )
}

/// The tenant, signing with `secret`, for the hook at `hook_url`.
fn tenant(secret: &str, hook_url: &str) -> MockIssuer {
    MockIssuer::new(secret.parse::<HookSecret>().unwrap()).hook_url(hook_url)
}

/// Reads a redirect back to the tenant as MATTR VII would.
fn read_back(mattr: &MockIssuer, response: &reqwest::Response) -> Outcome {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap();
    mattr
        .read_redirect(location)
        .expect("a response MATTR VII accepts")
        .outcome
}

#[tokio::test]
async fn quickstart_serves_a_tenant_at_its_hook_urls_path() {
    let hook_url = "https://hook.example.com/onboarding/step";
    let example = with_tenant("quickstart", hook_url);
    // A journey begun before the rotation: its token is under the older secret.
    let mattr = tenant(PREVIOUS, hook_url);
    let http = client();

    let start = mattr
        .session()
        .claim("given_name", "Ada")
        .uri("/onboarding/step");
    let page = http.get(example.url(&start)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let [finish, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();
    assert!(
        finish.starts_with("/onboarding/step/finish?session_token="),
        "{finish}"
    );
    assert!(
        decline.starts_with("/onboarding/step/decline?session_token="),
        "{decline}"
    );

    let done = http
        .post(example.url(&finish))
        .form(&[("preferred_name", "Ada")])
        .send()
        .await
        .unwrap();
    assert!(matches!(
        read_back(&mattr, &done),
        Outcome::Completed { .. }
    ));

    // Nothing is served where the demo mounts the hook.
    let token = mattr.session().token();
    let elsewhere = http
        .get(example.url(&format!("/interaction?session_token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hyper_serves_a_hook_url_without_a_path_at_the_root() {
    let hook_url = "https://abcd.ngrok.app";
    let example = with_tenant("hyper", hook_url);
    let mattr = tenant(CURRENT, hook_url);
    let http = client();

    let page = http
        .get(example.url(&mattr.session().uri("/")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let [accept, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();
    assert!(accept.starts_with("/finish?session_token="), "{accept}");
    let declined = http.post(example.url(&decline)).send().await.unwrap();
    assert!(matches!(
        read_back(&mattr, &declined),
        Outcome::Failed { .. }
    ));
}

#[tokio::test]
async fn journey_serves_a_tenant_at_its_hook_urls_path() {
    let hook_url = "https://hook.example.com/verify";
    let example = with_tenant("journey", hook_url);
    let mattr = tenant(CURRENT, hook_url);
    let start = mattr
        .session()
        .claim("email", "ada@example.com")
        .uri("/verify");
    let page = client().get(example.url(&start)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let [email, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();
    assert!(email.starts_with("/verify/email?session_token="), "{email}");
    assert!(
        decline.starts_with("/verify/decline?session_token="),
        "{decline}"
    );
}
