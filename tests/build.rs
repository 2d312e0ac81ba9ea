//! Decides, when the tests are built, which of them can run here: the
//! browser tests need Chromium, chromedriver and axe-core, the Redis test
//! `redis-server`. A test that cannot run is marked `ignored` in cargo's
//! summary (through the cfgs below) instead of passing without running;
//! `HOOK_REQUIRE_BROWSER=1` and `HOOK_REQUIRE_REDIS=1` turn a missing one
//! into a failing test.

use std::env;
use std::path::{Path, PathBuf};

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

    // The binary `testing::RedisServer` runs: `$REDIS_SERVER`, or
    // `redis-server` on the PATH.
    println!("cargo::rerun-if-env-changed=REDIS_SERVER");
    let redis = env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
    if installed(Path::new(&redis)).is_some() {
        println!("cargo::rustc-cfg=redis_installed");
    }
}

/// Where `program` is (a path, or a name looked up on the PATH), and when
/// cargo should look again: when that file changes or, while it is
/// missing, when the PATH or a directory on it does (an install adds an
/// entry to a directory, which changes the directory).
fn installed(program: &Path) -> Option<PathBuf> {
    println!("cargo::rerun-if-env-changed=PATH");
    let dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| {
            env::split_paths(&path)
                .filter(|dir| dir.is_absolute())
                .collect()
        })
        .unwrap_or_default();
    let (found, watch) = if program.components().count() > 1 {
        let parent = program.parent().map(Path::to_path_buf);
        let found = Some(program.to_path_buf()).filter(|path| path.is_file());
        (found, parent.into_iter().collect())
    } else {
        let found = dirs
            .iter()
            .map(|dir| dir.join(program))
            .find(|path| path.is_file());
        (found, dirs)
    };
    match &found {
        Some(path) => println!("cargo::rerun-if-changed={}", path.display()),
        None => {
            for dir in watch.iter().filter(|dir| dir.is_dir()) {
                println!("cargo::rerun-if-changed={}", dir.display());
            }
        }
    }
    found
}
