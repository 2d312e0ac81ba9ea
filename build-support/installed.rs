// What the build scripts of `hook-layer`, `example-server` and `tests`
// share, pulled into each with `include!`: whether a program the tests
// run is installed, and when cargo should look again. Imports stay inside
// the functions, clear of the including file's own `use` lines.

/// Whether the `redis-server` that `testing::RedisServer` runs is
/// installed: `$REDIS_SERVER`, or `redis-server` on the PATH.
fn redis_server_installed() -> bool {
    println!("cargo::rerun-if-env-changed=REDIS_SERVER");
    let redis = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
    installed(std::path::Path::new(&redis)).is_some()
}

/// Where `program` is (a path, or a name looked up on the PATH), and when
/// cargo should look again: when that file changes or, while it is
/// missing, when the PATH or a directory on it does (an install adds an
/// entry to a directory, which changes the directory).
fn installed(program: &std::path::Path) -> Option<std::path::PathBuf> {
    use std::env;
    use std::path::{Path, PathBuf};

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
