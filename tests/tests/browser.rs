//! The dev journey in a real browser: headless Chromium, driven over
//! WebDriver, clicks from the simulated MATTR VII's start page to its
//! callback page.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test
//! says loudly that it was skipped; with `HOOK_REQUIRE_BROWSER=1` (as
//! `.ci/run` sets) it fails instead. With `HOOK_SCREENSHOT_DIR=<dir>` it
//! saves a screenshot of each page there (README's come from
//! `HOOK_SCREENSHOT_DIR=docs/screenshots`).

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hook_tests::TestServer;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Driver {
    fn start() -> Self {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile =
            std::env::temp_dir().join(format!("hook-tests-chromium-{}-{port}", std::process::id()));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        }
    }

    async fn client(&self) -> Client {
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--lang=en-US", "--window-size=1000,1100",
                    format!("--user-data-dir={}", self.profile.display()),
                ],
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&self.url)
                .await
            {
                Ok(client) => return client,
                Err(error) if Instant::now() > deadline => panic!("no WebDriver session: {error}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Whether the browser is there; if not, skips loudly or fails when required.
fn browser_available() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let required = std::env::var("HOOK_REQUIRE_BROWSER").is_ok_and(|value| value == "1");
    assert!(
        !required,
        "HOOK_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing"
    );
    hook_tests::skip_loudly(&format!(
        "browser journey test: {CHROMIUM} and {CHROMEDRIVER} are not installed; \
         install Debian's chromium and chromium-driver (or run .ci/run) to run it"
    ));
    false
}

/// Saves a screenshot when `HOOK_SCREENSHOT_DIR` is set.
async fn screenshot(client: &Client, name: &str) {
    let Ok(dir) = std::env::var("HOOK_SCREENSHOT_DIR") else {
        return;
    };
    // Relative to the workspace root, not to this package.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).unwrap();
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn text(client: &Client, css: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits for the page whose heading is `expected`: after a click, the old
/// page can still be there for a moment.
async fn expect_heading(client: &Client, expected: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let heading = match client.find(Locator::Css("h1")).await {
            Ok(h1) => h1.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if heading == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected the page {expected:?}, still on {heading:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dev_journey_in_a_browser() {
    if !browser_available() {
        return;
    }
    let server = TestServer::start().await;
    let driver = Driver::start();
    let client = driver.client().await;
    let result = run_journeys(&client, &server).await;
    client.close().await.unwrap();
    result.unwrap();
}

/// Both journeys, so the browser is closed however they end.
async fn run_journeys(client: &Client, server: &TestServer) -> Result<(), String> {
    complete_journey(client, server).await;
    decline_journey(client, server).await;
    Ok(())
}

async fn complete_journey(client: &Client, server: &TestServer) {
    client.goto(&server.url("/")).await.unwrap();
    expect_heading(client, "Simulated MATTR VII").await;
    screenshot(client, "1-simulated-mattr-start").await;
    click(client, "form button[type=submit]").await;

    expect_heading(client, "Hello, Ada").await;
    assert!(text(client, "dl.claims").await.contains("ada@example.com"));
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/interaction");
    screenshot(client, "2-welcome").await;
    click(client, "form button[type=submit]").await;

    expect_heading(client, "Terms of service").await;
    screenshot(client, "3-terms").await;
    click(client, "button[value=accept]").await;

    expect_heading(client, "A few details").await;
    // A bad date first, to see the errors on the form.
    set_date(client, "2999-01-01").await;
    click(client, "form button[type=submit]").await;
    assert!(
        text(client, "#date_of_birth-error")
            .await
            .contains("must be in the past")
    );
    assert!(
        text(client, "#preferred_name-error")
            .await
            .contains("Enter the name")
    );
    screenshot(client, "4-details-with-errors").await;

    client
        .find(Locator::Id("preferred_name"))
        .await
        .unwrap()
        .send_keys("Ada")
        .await
        .unwrap();
    set_date(client, "1990-04-21").await;
    screenshot(client, "5-details").await;
    click(client, "form button[type=submit]").await;

    expect_heading(client, "Enter your one-time code").await;
    let code = text(client, "#dev-code").await;
    assert_eq!(code.len(), 6);
    client
        .find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys(&code)
        .await
        .unwrap();
    screenshot(client, "6-one-time-code").await;
    click(client, "form button[type=submit]").await;

    expect_heading(client, "Issuance continues").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/dev/callback");
    let claims = text(client, "dl.claims").await;
    for expected in [
        "preferredName",
        "Ada",
        "dateOfBirth",
        "1990-04-21",
        "termsAccepted",
        "true",
    ] {
        assert!(claims.contains(expected), "{expected} in {claims}");
    }
    screenshot(client, "7-issuance-continues").await;
}

/// Date inputs take typed text in the browser's locale; setting the value
/// is the same in every locale.
async fn set_date(client: &Client, date: &str) {
    let input = client.find(Locator::Id("date_of_birth")).await.unwrap();
    let element = serde_json::to_value(&input).unwrap();
    client
        .execute(
            "arguments[0].value = arguments[1];",
            vec![element, json!(date)],
        )
        .await
        .unwrap();
}

async fn decline_journey(client: &Client, server: &TestServer) {
    client.goto(&server.url("/")).await.unwrap();
    click(client, "form button[type=submit]").await;
    expect_heading(client, "Hello, Ada").await;
    click(client, "form button[type=submit]").await;
    expect_heading(client, "Terms of service").await;
    click(client, "button[value=decline]").await;

    expect_heading(client, "Issuance failed").await;
    assert_eq!(
        text(client, "#failure").await,
        "The holder declined the terms of service"
    );
    screenshot(client, "8-issuance-failed").await;
}
