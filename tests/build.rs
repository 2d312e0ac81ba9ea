//! Decides, when the tests are built, which of them can run here: the
//! browser tests need Chromium, chromedriver and axe-core, the Redis test
//! `redis-server`. A test that cannot run is marked `ignored` in cargo's
//! summary (through the cfgs below) instead of passing without running;
//! `HOOK_REQUIRE_BROWSER=1` and `HOOK_REQUIRE_REDIS=1` turn a missing one
//! into a failing test.

use std::path::Path;

include!("../build-support/installed.rs");

fn main() {
    for cfg in ["browser_installed", "axe_installed", "redis_installed"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }

    // Debian's `chromium` and `chromium-driver`; the test runs the ones
    // found here.
    let chromium = installed(Path::new("chromium"));
    let chromedriver = installed(Path::new("chromedriver"));
    if let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) {
        println!("cargo::rustc-cfg=browser_installed");
        println!(
            "cargo::rustc-env=HOOK_TESTS_CHROMIUM={}",
            chromium.display()
        );
        println!(
            "cargo::rustc-env=HOOK_TESTS_CHROMEDRIVER={}",
            chromedriver.display()
        );
    }

    // axe-core, as `npm ci --prefix tests/browser` installs it. Watching
    // the folder notices `node_modules` appearing or changing.
    let browser = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser");
    println!("cargo::rerun-if-changed={}", browser.display());
    if browser.join("node_modules/axe-core/axe.min.js").is_file() {
        println!("cargo::rustc-cfg=axe_installed");
    }

    if redis_server_installed() {
        println!("cargo::rustc-cfg=redis_installed");
    }
}
