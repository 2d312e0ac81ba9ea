//! Tells the replica tests (`tests/replicas.rs`) whether `redis-server` is
//! installed: without it they are marked `ignored` in cargo's summary
//! instead of passing without running. The server itself needs no build
//! script: a copy without those tests can drop this file.

include!("../build-support/installed.rs");

fn main() {
    println!("cargo::rustc-check-cfg=cfg(redis_installed)");
    if redis_server_installed() {
        println!("cargo::rustc-cfg=redis_installed");
    }
}
