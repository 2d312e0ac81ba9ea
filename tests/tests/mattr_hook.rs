//! `mattr-hook issuer`, the built command, end to end: against the example
//! server as the hook, and against a hook written in Python's standard
//! library; both complete and fail issuances, and a hook that answers
//! wrongly (another secret, `iss`/`aud` not swapped, `state` changed,
//! answered twice) is refused for that reason.

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hook_tests::{
    SECRET, TestServer, client, element_text, form_action, input_value, location, reach_code_step,
};
use serde_json::Value;

/// The built `mattr-hook`: built here (with the `cli` feature) into this
/// test's own target directory, since a binary of another package is not
/// built for this one's tests.
fn mattr_hook() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    // <target>/<profile>/deps/<test>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the profile directory");
    let target_dir = profile_dir.parent().expect("the target directory");
    let mut build = Command::new(env!("CARGO"));
    build.args([
        "build",
        "-q",
        "-p",
        "hook-layer",
        "--features",
        "cli",
        "--bin",
        "mattr-hook",
    ]);
    build.arg("--target-dir").arg(target_dir);
    if profile_dir
        .file_name()
        .is_some_and(|name| name == "release")
    {
        build.arg("--release");
    }
    let status = build.status().expect("cargo runs");
    assert!(status.success(), "mattr-hook builds");
    profile_dir.join(format!("mattr-hook{}", std::env::consts::EXE_SUFFIX))
}

fn secret_base64() -> String {
    STANDARD.encode(SECRET)
}

/// A running `mattr-hook issuer`, killed when dropped.
struct Issuer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    start: String,
}

impl Issuer {
    fn spawn(secret: &str, issuer: &str, hook_url: &str) -> Self {
        let mut child = Command::new(mattr_hook())
            .args([
                "issuer",
                "--port",
                "0",
                "--issuer",
                issuer,
                "--hook-url",
                hook_url,
            ])
            .args([
                "--claim",
                "given_name=Ada",
                "--claim",
                "email=ada@example.com",
            ])
            .env("HOOK_SECRET", secret)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mattr-hook starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let start = lines.next().expect("a first line").expect("UTF-8");
        assert!(
            start.starts_with("http://127.0.0.1:") && start.ends_with("/start"),
            "{start}"
        );
        Self {
            child,
            lines,
            start,
        }
    }

    /// The next JSON line: what the callback made of an answer.
    fn next_outcome(&mut self) -> Value {
        let line = self.lines.next().expect("a line").expect("UTF-8");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"))
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET /start`: the hook's address with a session token.
async fn begin(issuer: &Issuer) -> String {
    let response = client().get(&issuer.start).send().await.expect("start");
    assert_eq!(response.status(), 303);
    location(&response).expect("a redirect to the hook")
}

/// Follows a redirect back to the issuer's callback; its status and page.
async fn answer(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.expect("the callback");
    let status = response.status().as_u16();
    (status, response.text().await.expect("a page"))
}

#[tokio::test]
async fn the_example_server_completes_and_fails_issuances() {
    let server = TestServer::start().await;
    let hook_url = server.config.tenant().hook_url.clone();
    let mut issuer = Issuer::spawn(&secret_base64(), &server.base, &hook_url);

    // Completed: terms, details, the code shown in dev mode.
    let link = begin(&issuer).await;
    assert!(
        link.starts_with(&format!("{hook_url}?session_token=")),
        "{link}"
    );
    let token = hook_tests::query_param(&link, "session_token").unwrap();
    let page = reach_code_step(&server, &token).await;
    let code = element_text(&page, "dev-code").expect("the code on screen");
    let finished = client()
        .post(server.url(&form_action(&page).unwrap()))
        .form(&[
            ("progress", input_value(&page, "progress").unwrap()),
            ("code", code),
        ])
        .send()
        .await
        .unwrap();
    let back = location(&finished).expect("a redirect to the issuer");
    let (status, page) = answer(&back).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Issuance completed"), "{page}");
    let outcome = issuer.next_outcome();
    assert_eq!(outcome["outcome"], "completed", "{outcome}");
    assert_eq!(outcome["claims"]["preferredName"], "Ada", "{outcome}");
    // Answered twice: the reload MATTR VII refuses.
    let (status, page) = answer(&back).await;
    assert_eq!(status, 400, "{page}");
    let again = issuer.next_outcome();
    assert_eq!(again["outcome"], "rejected");
    assert_eq!(again["check"], "state");
    assert_eq!(again["state"], outcome["state"]);

    // Failed: the holder declines the terms.
    let link = begin(&issuer).await;
    let token = hook_tests::query_param(&link, "session_token").unwrap();
    let declined = client()
        .post(server.url(&format!("{}?session_token={token}", server.step("/terms"))))
        .form(&[("decision", "decline")])
        .send()
        .await
        .unwrap();
    let back = location(&declined).expect("a redirect to the issuer");
    let (status, page) = answer(&back).await;
    assert_eq!(status, 200, "{page}");
    let outcome = issuer.next_outcome();
    assert_eq!(outcome["outcome"], "failed", "{outcome}");
    assert_eq!(
        outcome["message"], "The holder declined the terms of service.",
        "{outcome}"
    );
    drop(issuer);
    server.stop().await;
}

/// The Python hook, listening on a free loopback port; killed when
/// dropped.
struct PythonHook {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl PythonHook {
    fn spawn(secret: &str, issuer: &str) -> Self {
        let dir = TempDir::new();
        let script = dir.0.join("hook.py");
        std::fs::write(&script, include_str!("mattr_hook/hook.py")).expect("write hook.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .env("HOOK_SECRET", secret)
            .env("HOOK_ISSUER", issuer)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first.trim().parse().expect("the hook's port");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    fn url(&self, mode: &str) -> String {
        format!("http://127.0.0.1:{}/{mode}", self.port)
    }
}

impl Drop for PythonHook {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory of its own under the system's temporary directory, removed
/// when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let mut name = [0u8; 8];
        getrandom::fill(&mut name).unwrap();
        let name: String = name.iter().map(|byte| format!("{byte:02x}")).collect();
        let path = std::env::temp_dir().join(format!("mattr-hook-test-{name}"));
        std::fs::create_dir(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One issuance through the Python hook in `mode`: the issuer's page
/// status and JSON line, and the callback URL it was sent to.
async fn through_python(hook: &PythonHook, tenant: &str, mode: &str) -> (u16, Value, String) {
    let mut issuer = Issuer::spawn(&secret_base64(), tenant, &hook.url(mode));
    let link = begin(&issuer).await;
    let hooked = client().get(&link).send().await.expect("the hook answers");
    assert_eq!(hooked.status(), 302, "{mode}");
    let back = location(&hooked).expect("a redirect back");
    assert!(back.starts_with(issuer.start.trim_end_matches("/start")));
    let (status, _) = answer(&back).await;
    let outcome = issuer.next_outcome();
    (status, outcome, back)
}

#[tokio::test]
async fn a_python_hook_completes_and_fails_issuances() {
    let tenant = "https://tenant.vii.au01.mattr.global";
    let hook = PythonHook::spawn(&secret_base64(), tenant);

    let (status, outcome, _) = through_python(&hook, tenant, "complete").await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["outcome"], "completed");
    assert_eq!(outcome["claims"]["preferredName"], "Ada");
    // The claims the issuer sent reached the hook, and came back.
    assert_eq!(outcome["claims"]["given"]["given_name"], "Ada");
    assert_eq!(
        outcome["claimsToPersist"],
        serde_json::json!(["preferredName"])
    );

    let (status, outcome, _) = through_python(&hook, tenant, "fail").await;
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["outcome"], "failed");
    assert_eq!(outcome["message"], "Insufficient identity assurance level");
}

#[tokio::test]
async fn a_broken_hook_is_refused_for_its_fault() {
    let tenant = "https://tenant.vii.au01.mattr.global";
    let hook = PythonHook::spawn(&secret_base64(), tenant);
    for (mode, check) in [
        ("wrong-secret", "signature"),
        ("not-swapped", "iss"),
        ("state-changed", "state"),
    ] {
        let (status, outcome, _) = through_python(&hook, tenant, mode).await;
        assert_eq!(status, 400, "{mode}: {outcome}");
        assert_eq!(outcome["outcome"], "rejected", "{mode}");
        assert_eq!(outcome["check"], check, "{mode}: {outcome}");
        assert!(outcome["reason"].is_string(), "{mode}");
    }

    // Answered twice: the same valid answer, sent again.
    let mut issuer = Issuer::spawn(&secret_base64(), tenant, &hook.url("complete"));
    let link = begin(&issuer).await;
    let hooked = client().get(&link).send().await.unwrap();
    let back = location(&hooked).unwrap();
    assert_eq!(answer(&back).await.0, 200);
    assert_eq!(issuer.next_outcome()["outcome"], "completed");
    let (status, page) = answer(&back).await;
    assert_eq!(status, 400);
    assert!(page.contains("already answered"), "{page}");
    let twice = issuer.next_outcome();
    assert_eq!(twice["outcome"], "rejected");
    assert_eq!(twice["check"], "state");
}
