//! Decides, when the tests are built, which of them can run here: the
//! browser tests need Chromium, chromedriver and axe-core, the Redis test
//! `redis-server`. A test that cannot run is marked `ignored` in cargo's
//! summary (through the cfgs below) instead of passing without running;
//! `HOOK_REQUIRE_BROWSER=1` and `HOOK_REQUIRE_REDIS=1` turn a missing one
//! into a failing test.

use std::path::Path;

include!("../build-support/installed.rs");

fn main() {
    for cfg in [
        "browser_installed",
        "axe_installed",
        "redis_installed",
        "mattr_signatures_installed",
    ] {
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

    // MATTR's HTTP message signatures library, as `npm ci --prefix
    // tests/http-signatures` installs it, and node to run it, for the
    // webhook cross-check.
    let signatures = Path::new(env!("CARGO_MANIFEST_DIR")).join("http-signatures");
    println!("cargo::rerun-if-changed={}", signatures.display());
    let library = signatures.join("node_modules/@mattrglobal/http-signatures/package.json");
    if let (Some(node), true) = (installed(Path::new("node")), library.is_file()) {
        println!("cargo::rustc-cfg=mattr_signatures_installed");
        println!("cargo::rustc-env=HOOK_TESTS_NODE={}", node.display());
    }

    if redis_server_installed() {
        println!("cargo::rustc-cfg=redis_installed");
    }

    // The crate README's quick start, as written there, for
    // tests/quickstart.rs to compile and run and tests/scratch_crate.rs to
    // build as a new user would.
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hook-layer/README.md");
    println!("cargo::rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("hook-layer/README.md");
    let code =
        quick_start(&text).expect("a Rust block under `## Quick start` in hook-layer/README.md");
    let out =
        Path::new(&std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("readme_quick_start.rs");
    std::fs::write(out, code).expect("the quick start written to OUT_DIR");
}

/// The first Rust code block of the README's `## Quick start` section,
/// with rustdoc's hidden lines (`# ...`) kept as code, as rustdoc compiles
/// them.
fn quick_start(readme: &str) -> Option<String> {
    let section = readme.split("\n## Quick start\n").nth(1)?;
    let section = section.split("\n## ").next()?;
    let (_, block) = section.split_once("\n```rust")?;
    let (_, block) = block.split_once('\n')?;
    let (code, _) = block.split_once("\n```")?;
    let mut out = String::new();
    for line in code.lines() {
        let trimmed = line.trim_start();
        let line = if trimmed == "#" {
            ""
        } else if let Some(rest) = trimmed.strip_prefix("# ") {
            rest
        } else {
            line
        };
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}
