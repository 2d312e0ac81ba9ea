//! Tells the replica tests (`tests/replicas.rs`) whether `redis-server` is
//! installed: without it they are marked `ignored` in cargo's summary
//! instead of passing without running. The server itself needs no build
//! script: a copy without those tests can drop this file.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_installed)");
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
