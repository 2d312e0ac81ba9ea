//! The dev journey in a real browser: headless Chromium, driven over
//! WebDriver, from the simulated MATTR VII's start page to its callback
//! page, on a desktop window and at a phone's viewport (390 x 844 CSS
//! pixels, Chromium's mobile emulation).
//!
//! Both journeys (completed, and declined at the terms) and the pages off
//! them: the page of an answered session, an expired session, the hook
//! without a token, an unknown address. On every page, at both sizes, it
//! checks that nothing scrolls sideways and runs axe-core with the WCAG 2.0
//! and 2.1 A and AA rules, failing on any violation and printing one
//! summary line per page. It also walks both journeys, at both sizes, with
//! the keyboard alone (Tab, Shift-Tab, Enter and typing; no clicks).
//!
//! Needs Debian's `chromium` and `chromium-driver` on the PATH, and
//! axe-core from npm (`npm ci --prefix tests/browser`), as found when the
//! tests are built (see build.rs). Without them the tests are `ignored` in
//! cargo's summary; with `HOOK_REQUIRE_BROWSER=1` (as `.ci/run` sets) that
//! fails instead. With `HOOK_SCREENSHOT_DIR=<dir>` it saves a screenshot of
//! each page there, desktop and phone (those in docs/screenshots come from
//! `HOOK_SCREENSHOT_DIR=docs/screenshots`).

use std::io::Write;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use hook_tests::TestServer;
use serde_json::{Value, json};

/// The programs build.rs found on the PATH.
const CHROMIUM: &str = match option_env!("HOOK_TESTS_CHROMIUM") {
    Some(path) => path,
    None => "chromium",
};
const CHROMEDRIVER: &str = match option_env!("HOOK_TESTS_CHROMEDRIVER") {
    Some(path) => path,
    None => "chromedriver",
};
/// axe-core as `npm ci --prefix tests/browser` installs it.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/browser/node_modules/axe-core/axe.min.js"
);
/// The axe-core rules checked: WCAG 2.0 and 2.1, levels A and AA.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// WebDriver key codes.
const TAB: char = '\u{e004}';
const ENTER: char = '\u{e007}';
const SHIFT: char = '\u{e008}';

/// Where a journey is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Device {
    /// A 1000 x 1100 window.
    Desktop,
    /// A 390 x 844 phone screen, through Chromium's mobile emulation.
    Phone,
}

impl Device {
    fn name(self) -> &'static str {
        match self {
            Self::Desktop => "desktop",
            Self::Phone => "phone",
        }
    }

    /// Screenshot names: `3-terms.png` on the desktop, `phone-3-terms.png`
    /// on the phone.
    fn screenshot_prefix(self) -> &'static str {
        match self {
            Self::Desktop => "",
            Self::Phone => "phone-",
        }
    }
}

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

    /// A browser session as `device`, with its own profile.
    async fn client(&self, device: Device) -> Client {
        let profile = self.profile.join(device.name());
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            "--lang=en-US".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut options = json!({ "binary": CHROMIUM });
        match device {
            Device::Desktop => args.push("--window-size=1000,1100".to_owned()),
            Device::Phone => {
                args.push("--window-size=390,844".to_owned());
                options["mobileEmulation"] = json!({
                    "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true },
                });
            }
        }
        options["args"] = json!(args);
        let capabilities = json!({ "goog:chromeOptions": options });
        let Value::Object(capabilities) = capabilities else {
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

/// The tests above are ignored when the browser or axe-core is missing;
/// with `HOOK_REQUIRE_BROWSER=1` (as `.ci/run` sets) that fails here
/// instead.
#[test]
fn the_browser_is_installed_where_required() {
    let required = std::env::var("HOOK_REQUIRE_BROWSER").is_ok_and(|value| value == "1");
    assert!(
        cfg!(browser_installed) || !required,
        "HOOK_REQUIRE_BROWSER=1, but chromium or chromedriver was not on the PATH when the \
         tests were built: install Debian's chromium and chromium-driver"
    );
    assert!(
        cfg!(axe_installed) || !required,
        "HOOK_REQUIRE_BROWSER=1, but axe-core was not installed when the tests were built \
         ({AXE}): run `npm ci --prefix tests/browser`"
    );
}

/// Writes a line where `cargo test` shows it, passing or not (the harness
/// captures `println!`, not the process's standard error).
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A browser session as one device, checking every page it is shown.
struct Browser<'a> {
    client: Client,
    device: Device,
    axe: &'a str,
    /// What went wrong on any page, reported together at the end.
    failures: Vec<String>,
}

impl Browser<'_> {
    /// Checks the page now shown, called `page` in the report: no sideways
    /// scrolling, no axe-core violation. Saves a screenshot as `screenshot`
    /// (when `HOOK_SCREENSHOT_DIR` is set).
    async fn check(&mut self, page: &str, screenshot: Option<&str>) {
        let device = self.device.name();
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth, window.innerHeight];",
                vec![],
            )
            .await
            .unwrap();
        let [scroll_width, inner_width, inner_height] =
            [0, 1, 2].map(|i| widths[i].as_u64().unwrap());
        if self.device == Device::Phone {
            assert_eq!(
                (inner_width, inner_height),
                (390, 844),
                "the phone viewport"
            );
        }
        if scroll_width > inner_width {
            self.failures.push(format!(
                "{page} ({device}): scrolls sideways, {scroll_width} px of content in {inner_width} px"
            ));
        }

        let result = self.axe().await;
        if let Some(error) = result.get("error") {
            panic!("axe-core failed on {page} ({device}): {error}");
        }
        let violations = result["violations"].as_array().unwrap();
        say(&format!(
            "axe: {page:<28} {device:<7} {inner_width:>4}x{inner_height:<4}  {:>2} rules passed, {} violations, {} to review",
            result["passes"],
            violations.len(),
            result["incomplete"],
        ));
        for violation in violations {
            self.failures.push(format!(
                "{page} ({device}): axe {} ({}): {} at {}",
                violation["id"], violation["impact"], violation["help"], violation["nodes"]
            ));
        }

        if let Some(name) = screenshot {
            self.screenshot(name).await;
        }
    }

    /// Injects axe-core into the page and runs the WCAG A and AA rules:
    /// the counts of rules passed and to review, and each violation.
    async fn axe(&self) -> Value {
        self.client.execute(self.axe, vec![]).await.unwrap();
        self.client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {
                    runOnly: { type: "tag", values: arguments[0] },
                    resultTypes: ["violations"],
                }).then(
                    (r) => done({
                        passes: r.passes.length,
                        incomplete: r.incomplete.length,
                        violations: r.violations.map((v) => ({
                            id: v.id,
                            impact: v.impact,
                            help: v.help,
                            nodes: v.nodes.map((n) => n.target.join(" ")),
                        })),
                    }),
                    (e) => done({ error: String(e) }),
                );"#,
                vec![json!(AXE_TAGS)],
            )
            .await
            .unwrap()
    }

    /// Makes sure the check can fail: an image without a text alternative,
    /// planted in the page, is a violation axe-core reports.
    async fn axe_finds_a_planted_violation(&self) {
        self.client
            .execute(
                "const img = document.createElement('img');
                 img.src = '/assets/none.png';
                 document.querySelector('main').append(img);",
                vec![],
            )
            .await
            .unwrap();
        let result = self.axe().await;
        let ids: Vec<&Value> = result["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|violation| &violation["id"])
            .collect();
        assert!(ids.contains(&&json!("image-alt")), "{result}");
        self.client.refresh().await.unwrap();
    }

    /// Saves a screenshot when `HOOK_SCREENSHOT_DIR` is set.
    async fn screenshot(&self, name: &str) {
        let Ok(dir) = std::env::var("HOOK_SCREENSHOT_DIR") else {
            return;
        };
        // Relative to the workspace root, not to this package.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        let file = format!("{}{name}.png", self.device.screenshot_prefix());
        std::fs::write(dir.join(file), png).unwrap();
    }
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
#[cfg_attr(
    not(browser_installed),
    ignore = "Chromium and chromedriver are not installed"
)]
#[cfg_attr(
    all(browser_installed, not(axe_installed)),
    ignore = "axe-core is not installed: npm ci --prefix tests/browser"
)]
async fn the_dev_journey_in_a_browser() {
    let axe =
        std::fs::read_to_string(AXE).unwrap_or_else(|error| panic!("axe-core ({AXE}): {error}"));
    let server = TestServer::start().await;
    let driver = Driver::start();
    let mut failures = Vec::new();
    for device in [Device::Desktop, Device::Phone] {
        let mut browser = Browser {
            client: driver.client(device).await,
            device,
            axe: &axe,
            failures: Vec::new(),
        };
        complete_journey(&mut browser, &server).await;
        decline_journey(&mut browser, &server).await;
        dead_ends(&mut browser, &server).await;
        failures.append(&mut browser.failures);
        browser.client.close().await.unwrap();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn complete_journey(browser: &mut Browser<'_>, server: &TestServer) {
    let client = browser.client.clone();
    client.goto(&server.url("/")).await.unwrap();
    expect_heading(&client, "Simulated MATTR VII").await;
    browser
        .check("simulated MATTR VII start", Some("1-simulated-mattr-start"))
        .await;
    browser.axe_finds_a_planted_violation().await;
    expect_heading(&client, "Simulated MATTR VII").await;
    click(&client, "form button[type=submit]").await;

    expect_heading(&client, "Hello, Ada").await;
    let claims = text(&client, "dl.claims").await;
    assert!(claims.contains("ada@example.com"), "{claims}");
    assert!(claims.contains("Given name"), "readable labels: {claims}");
    let url = client.current_url().await.unwrap();
    assert_eq!(url.path(), "/interaction");
    browser.check("welcome", Some("2-welcome")).await;
    click(&client, "form button[type=submit]").await;

    expect_heading(&client, "Terms of service").await;
    browser.check("terms", Some("3-terms")).await;
    click(&client, "button[value=accept]").await;

    expect_heading(&client, "A few details").await;
    // Each step that succeeds lands on the next step's own address.
    assert_eq!(path(&client).await, "/interaction/details");
    // A bad date first, to see the errors on the form.
    set_date(&client, "2999-01-01").await;
    click(&client, "form button[type=submit]").await;
    assert!(
        text(&client, "#date_of_birth-error")
            .await
            .contains("must be in the past")
    );
    assert!(
        text(&client, "#preferred_name-error")
            .await
            .contains("Enter the name")
    );
    browser
        .check("details with errors", Some("4-details-with-errors"))
        .await;

    client
        .find(Locator::Id("preferred_name"))
        .await
        .unwrap()
        .send_keys("Ada")
        .await
        .unwrap();
    set_date(&client, "1990-04-21").await;
    browser.check("details", Some("5-details")).await;
    click(&client, "form button[type=submit]").await;

    expect_heading(&client, "Enter your one-time code").await;
    assert_eq!(path(&client).await, "/interaction/verify");
    let code_page = client.current_url().await.unwrap();
    let code = text(&client, "#dev-code").await;
    assert_eq!(code.len(), 6);
    type_code(&client, &code).await;
    browser
        .check("one-time code", Some("6-one-time-code"))
        .await;
    // A wrong code first, to see the error.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_code(&client, wrong).await;
    click(&client, "form button[type=submit]").await;
    assert!(
        text(&client, "#code-error")
            .await
            .contains("That code is not right")
    );
    browser.check("one-time code, wrong code", None).await;
    // Reloading the page checks nothing and sends nothing.
    client.refresh().await.unwrap();
    expect_heading(&client, "Enter your one-time code").await;
    assert!(
        text(&client, "#code-error")
            .await
            .contains("2 attempts left")
    );
    assert_eq!(text(&client, "#dev-code").await, code);
    type_code(&client, &code).await;
    click(&client, "form button[type=submit]").await;

    expect_heading(&client, "Issuance continues").await;
    assert_eq!(client.current_url().await.unwrap().path(), "/dev/callback");
    let claims = text(&client, "dl.claims").await;
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
    browser
        .check("outcome: issuance continues", Some("7-issuance-continues"))
        .await;

    // Reloading the outcome answers the same issuance twice: a dead end
    // that leads back to the start page.
    client.refresh().await.unwrap();
    expect_heading(&client, "Unknown issuance").await;
    browser.check("outcome: unknown issuance", None).await;
    click(&client, "a.button").await;
    expect_heading(&client, "Simulated MATTR VII").await;

    // Back to the code page of the answered session: it says so, and
    // leads on to the simulated MATTR VII.
    client.goto(code_page.as_str()).await.unwrap();
    expect_heading(&client, "This issuance has already been completed").await;
    assert!(client.find(Locator::Css("form")).await.is_err(), "no form");
    browser
        .check("already completed", Some("9-already-completed"))
        .await;
    click(&client, "a.button[href='/dev']").await;
    expect_heading(&client, "Simulated MATTR VII").await;
}

/// The path of the page shown.
async fn path(client: &Client) -> String {
    client.current_url().await.unwrap().path().to_owned()
}

/// Replaces the code field's contents with `code`.
async fn type_code(client: &Client, code: &str) {
    let input = client.find(Locator::Id("code")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(code).await.unwrap();
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

async fn decline_journey(browser: &mut Browser<'_>, server: &TestServer) {
    let client = browser.client.clone();
    client.goto(&server.url("/")).await.unwrap();
    click(&client, "form button[type=submit]").await;
    expect_heading(&client, "Hello, Ada").await;
    click(&client, "form button[type=submit]").await;
    expect_heading(&client, "Terms of service").await;
    let decline = text(&client, "button[value=decline]").await;
    assert_eq!(decline, "Decline and end issuance");
    click(&client, "button[value=decline]").await;

    expect_heading(&client, "Issuance failed").await;
    assert_eq!(
        text(&client, "#failure").await,
        "The holder declined the terms of service."
    );
    browser
        .check("outcome: issuance failed", Some("8-issuance-failed"))
        .await;
}

/// The pages off the journey: an expired session, the hook without a
/// token, and a path that leads nowhere. In dev mode they lead back to the
/// simulated start page.
async fn dead_ends(browser: &mut Browser<'_>, server: &TestServer) {
    let client = browser.client.clone();
    let expired = server.issuer().session().expired().uri("/interaction");
    client.goto(&server.url(&expired)).await.unwrap();
    expect_heading(&client, "This session has expired").await;
    browser
        .check("rejection: expired session", Some("10-session-expired"))
        .await;
    click(&client, "a.button[href='/dev']").await;
    expect_heading(&client, "Simulated MATTR VII").await;

    client.goto(&server.url("/interaction")).await.unwrap();
    expect_heading(&client, "Start from your wallet").await;
    browser.check("rejection: no token", None).await;
    click(&client, "a.button[href='/dev']").await;
    expect_heading(&client, "Simulated MATTR VII").await;

    client.goto(&server.url("/no/such/page")).await.unwrap();
    expect_heading(&client, "Page not found").await;
    browser.check("404", None).await;
}

/// Both journeys with the keyboard alone, at both sizes: from the start
/// page to the success outcome, and to the declined one, with Tab,
/// Shift-Tab, Enter and typing, as WebDriver key actions on whatever has
/// focus. No element is clicked or sent keys directly; reading the page
/// (the dev code, where focus is) is allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(browser_installed),
    ignore = "Chromium and chromedriver are not installed"
)]
async fn the_keyboard_alone_completes_and_declines_the_journey() {
    let server = TestServer::start().await;
    let driver = Driver::start();
    for device in [Device::Desktop, Device::Phone] {
        let client = driver.client(device).await;
        keyboard_journey(&client, &server).await;
        keyboard_decline(&client, &server).await;
        client.close().await.unwrap();
    }
}

/// Declining the terms with the keyboard alone.
async fn keyboard_decline(client: &Client, server: &TestServer) {
    client.goto(&server.url("/dev")).await.unwrap();
    expect_heading(client, "Simulated MATTR VII").await;
    tab_to(client, "button[type=submit]").await;
    keys(client, &[ENTER]).await;
    expect_heading(client, "Hello, Ada").await;
    tab_to(client, "button[type=submit]").await;
    keys(client, &[ENTER]).await;
    expect_heading(client, "Terms of service").await;
    tab_to(client, "button[value=decline]").await;
    keys(client, &[ENTER]).await;
    expect_heading(client, "Issuance failed").await;
}

async fn keyboard_journey(client: &Client, server: &TestServer) {
    client.goto(&server.url("/dev")).await.unwrap();
    expect_heading(client, "Simulated MATTR VII").await;
    tab_to(client, "button[type=submit]").await;
    keys(client, &[ENTER]).await;

    expect_heading(client, "Hello, Ada").await;
    tab_to(client, "button[type=submit]").await;
    keys(client, &[ENTER]).await;

    expect_heading(client, "Terms of service").await;
    // The terms scroll, so they take focus on the way.
    tab_to(client, ".terms").await;
    tab_to(client, "button[value=decline]").await;
    // Back one, to Accept.
    shift_tab(client).await;
    assert_focus(client, "button[value=accept]").await;
    keys(client, &[ENTER]).await;

    expect_heading(client, "A few details").await;
    tab_to(client, "#preferred_name").await;
    type_text(client, "Ada").await;
    tab_to(client, "#date_of_birth").await;
    // Chromium's en-US date field: month, day, year, moving on by itself.
    type_text(client, "04211990").await;
    let date = client
        .execute(
            "return document.getElementById('date_of_birth').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(date, "1990-04-21", "the date typed into the date field");
    tab_to(client, "button[type=submit]").await;
    keys(client, &[ENTER]).await;

    expect_heading(client, "Enter your one-time code").await;
    assert_eq!(path(client).await, "/interaction/verify");
    let code = text(client, "#dev-code").await;
    tab_to(client, "#code").await;
    type_text(client, &code).await;
    // Enter in the field submits its form.
    keys(client, &[ENTER]).await;

    expect_heading(client, "Issuance continues").await;
    let claims = text(client, "dl.claims").await;
    assert!(claims.contains("1990-04-21"), "{claims}");
}

/// Presses and releases `sequence` key by key.
async fn keys(client: &Client, sequence: &[char]) {
    let mut actions = KeyActions::new("keyboard".to_owned());
    for &key in sequence {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    client.perform_actions(actions).await.unwrap();
}

async fn type_text(client: &Client, text: &str) {
    let sequence: Vec<char> = text.chars().collect();
    keys(client, &sequence).await;
}

async fn shift_tab(client: &Client) {
    let actions = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: SHIFT })
        .then(KeyAction::Down { value: TAB })
        .then(KeyAction::Up { value: TAB })
        .then(KeyAction::Up { value: SHIFT });
    client.perform_actions(actions).await.unwrap();
}

/// What has focus, for messages: `button[name=decision] Accept and continue`.
async fn focused(client: &Client) -> String {
    let described = client
        .execute(
            "const e = document.activeElement;
             if (!e || e === document.body) return 'the page';
             const name = e.getAttribute('name');
             return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
               + (name ? '[name=' + name + ']' : '') + ' ' + (e.innerText || '').trim().slice(0, 40);",
            vec![],
        )
        .await
        .unwrap();
    described.as_str().unwrap_or_default().to_owned()
}

/// Whether the focused element matches `css` and shows that it has focus.
async fn focus_is(client: &Client, css: &str) -> (bool, bool) {
    let state = client
        .execute(
            "const e = document.activeElement;
             if (!e || !e.matches(arguments[0])) return [false, false];
             const style = getComputedStyle(e);
             return [true, style.outlineStyle !== 'none' && style.outlineWidth !== '0px'];",
            vec![json!(css)],
        )
        .await
        .unwrap();
    (state[0] == true, state[1] == true)
}

async fn assert_focus(client: &Client, css: &str) {
    let (matches, visible) = focus_is(client, css).await;
    assert!(matches, "focus on {css}, not on {}", focused(client).await);
    assert!(visible, "{css} has focus but shows no focus outline");
}

/// Presses Tab until `css` has focus, at most 12 times.
async fn tab_to(client: &Client, css: &str) {
    let mut path = Vec::new();
    for _ in 0..12 {
        keys(client, &[TAB]).await;
        if focus_is(client, css).await.0 {
            return assert_focus(client, css).await;
        }
        path.push(focused(client).await);
    }
    panic!("Tab never reached {css}; focus went through {path:?}");
}
