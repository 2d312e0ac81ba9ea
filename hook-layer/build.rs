//! Tells this repository's Redis tests (`tests/redis_store.rs`) whether
//! `redis-server` is installed: without it they are marked `ignored` in
//! cargo's summary instead of passing without running. Not published (see
//! `exclude` in Cargo.toml): the library itself needs no build script.

include!("../build-support/installed.rs");

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_installed)");
    if redis_server_installed() {
        println!("cargo::rustc-cfg=redis_installed");
    }
}
