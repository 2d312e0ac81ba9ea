//! Where attempt counts live: this process's memory, one Redis server
//! (`HOOK_REDIS_URL`, `redis://` or `rediss://`), or a Redis Cluster
//! (`HOOK_REDIS_CLUSTER_URLS`), with a private certificate authority for
//! TLS (`HOOK_REDIS_CA_FILE`).
//!
//! Redis URLs may hold a password, and a value may be a secret set in the
//! wrong variable, so no message here ever shows one: the settings are
//! named, their values never quoted back (not even the CA file's path).

use std::path::Path;
use std::sync::Arc;

use hook_layer::attempts::{AttemptStore, RedisStore, StoreError};
use hook_layer::config::ConfigError;

use crate::args::Args;

/// What the Redis settings ask for, checked before anything connects.
enum Target<'a> {
    /// No Redis: counts in memory.
    Memory,
    /// One server, at this URL.
    Server(&'a str),
    /// A cluster, through these seed nodes.
    Cluster(Vec<&'a str>),
}

/// Connects to the Redis the settings name, if any: the store and its kind
/// for logs (`"redis"` or `"redis-cluster"`), or `None` to keep counts in
/// memory. A Redis that cannot be reached, or settings that contradict
/// each other, are configuration errors: the hook must not start with
/// limits it cannot keep.
pub(crate) async fn connect(
    args: &Args,
) -> Result<Option<(Arc<dyn AttemptStore>, &'static str)>, ConfigError> {
    let target = target(args)?;
    let root_ca = match &args.redis_ca_file {
        Some(path) => Some(read_root_ca(path)?),
        None => None,
    };
    let connected = match (target, root_ca) {
        (Target::Memory, None) => return Ok(None),
        (Target::Memory, Some(_)) => {
            return Err(ConfigError::new(
                "HOOK_REDIS_CA_FILE",
                "only used with HOOK_REDIS_URL or HOOK_REDIS_CLUSTER_URLS, and neither is set",
            ));
        }
        (Target::Server(url), root_ca) => {
            let setting = "HOOK_REDIS_URL";
            let store = match root_ca {
                Some(pem) => {
                    require_tls(setting, [url])?;
                    RedisStore::connect_with_root_ca(url, &pem).await
                }
                None => RedisStore::connect(url).await,
            };
            (
                store.map_err(|error| unusable(setting, "Redis", &error))?,
                "redis",
            )
        }
        (Target::Cluster(urls), root_ca) => {
            let setting = "HOOK_REDIS_CLUSTER_URLS";
            let store = match root_ca {
                Some(pem) => {
                    require_tls(setting, urls.iter().copied())?;
                    RedisStore::connect_cluster_with_root_ca(&urls, &pem).await
                }
                None => RedisStore::connect_cluster(&urls).await,
            };
            let store = store.map_err(|error| unusable(setting, "the Redis Cluster", &error))?;
            (store, "redis-cluster")
        }
    };
    let (store, kind) = connected;
    Ok(Some((Arc::new(store), kind)))
}

/// One server or a cluster, never both.
fn target(args: &Args) -> Result<Target<'_>, ConfigError> {
    match (&args.redis_url, &args.redis_cluster_urls) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            "HOOK_REDIS_CLUSTER_URLS",
            "not with HOOK_REDIS_URL: give one Redis server (HOOK_REDIS_URL) or the nodes of a \
             Redis Cluster (HOOK_REDIS_CLUSTER_URLS)",
        )),
        (Some(url), None) => Ok(Target::Server(url.trim())),
        (None, Some(urls)) => {
            let urls: Vec<&str> = urls
                .split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .collect();
            if urls.is_empty() {
                return Err(ConfigError::new(
                    "HOOK_REDIS_CLUSTER_URLS",
                    "no URL given: list some of the cluster's nodes, separated by commas",
                ));
            }
            Ok(Target::Cluster(urls))
        }
        (None, None) => Ok(Target::Memory),
    }
}

/// The CA's certificate, PEM, from `path`. A file that holds no PEM
/// certificate is refused here, rather than as a TLS failure later.
fn read_root_ca(path: &Path) -> Result<Vec<u8>, ConfigError> {
    // The I/O error's text names no path.
    let pem = std::fs::read(path).map_err(|error| {
        ConfigError::new(
            "HOOK_REDIS_CA_FILE",
            format!("cannot read the file it names: {error}"),
        )
    })?;
    if !pem
        .windows(CERTIFICATE.len())
        .any(|window| window == CERTIFICATE)
    {
        return Err(ConfigError::new(
            "HOOK_REDIS_CA_FILE",
            "the file it names holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(pem)
}

const CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// A private CA is for TLS: with a plain `redis://` URL it would be
/// ignored, and the operator would believe the connection encrypted.
fn require_tls<'a>(
    setting: &'static str,
    urls: impl IntoIterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    for url in urls {
        let tls = url
            .get(..TLS_SCHEME.len())
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case(TLS_SCHEME));
        if !tls {
            return Err(ConfigError::new(
                setting,
                "HOOK_REDIS_CA_FILE is set, so every URL must be rediss:// (TLS)",
            ));
        }
    }
    Ok(())
}

const TLS_SCHEME: &str = "rediss://";

/// `error` names neither the URL nor its password (the library's errors
/// never include the URL).
fn unusable(setting: &'static str, what: &str, error: &StoreError) -> ConfigError {
    ConfigError::new(setting, format!("cannot use {what}: {error}"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("example-server").chain(list.iter().copied())).unwrap()
    }

    async fn error(list: &[&str]) -> String {
        match connect(&args(list)).await {
            Ok(_) => panic!("{list:?} connected"),
            Err(error) => error.to_string(),
        }
    }

    #[tokio::test]
    async fn without_redis_counts_stay_in_memory() {
        assert!(connect(&args(&[])).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn contradictions_are_named_before_connecting() {
        let both = error(&[
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1/",
            "--redis-cluster-urls",
            "redis://127.0.0.1:1/",
        ])
        .await;
        assert!(
            both.starts_with("HOOK_REDIS_CLUSTER_URLS: not with HOOK_REDIS_URL"),
            "{both}"
        );
        assert!(!both.contains("hunter2"), "{both}");
        let empty = error(&["--redis-cluster-urls", " , "]).await;
        assert!(
            empty.starts_with("HOOK_REDIS_CLUSTER_URLS: no URL given"),
            "{empty}"
        );
        let alone = error(&["--redis-ca-file", "/nonexistent/ca.pem"]).await;
        assert!(
            alone.starts_with("HOOK_REDIS_CA_FILE: cannot read the file it names: "),
            "{alone}"
        );
        assert!(!alone.contains("nonexistent"), "{alone}");
    }

    /// A file in a fresh temporary directory, removed on drop.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(text: &str) -> Self {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let name: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            let path = std::env::temp_dir().join(format!("hook-ca-{name}.pem"));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }

        fn path(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[tokio::test]
    async fn a_ca_file_must_hold_a_certificate_and_go_with_tls() {
        let junk = TempFile::new("not a certificate");
        let message = error(&[
            "--redis-url",
            "rediss://127.0.0.1:1/",
            "--redis-ca-file",
            junk.path(),
        ])
        .await;
        assert!(
            message.starts_with("HOOK_REDIS_CA_FILE: ") && message.contains("no PEM certificate"),
            "{message}"
        );

        let pem = TempFile::new("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        let alone = error(&["--redis-ca-file", pem.path()]).await;
        assert!(
            alone.starts_with("HOOK_REDIS_CA_FILE: only used with HOOK_REDIS_URL"),
            "{alone}"
        );
        let plain = error(&[
            "--redis-url",
            "redis://:hunter2@127.0.0.1:1/",
            "--redis-ca-file",
            pem.path(),
        ])
        .await;
        assert!(
            plain.starts_with(
                "HOOK_REDIS_URL: HOOK_REDIS_CA_FILE is set, so every URL must be rediss://"
            ),
            "{plain}"
        );
        assert!(!plain.contains("hunter2"), "{plain}");
        let mixed = error(&[
            "--redis-cluster-urls",
            "rediss://127.0.0.1:1/, redis://127.0.0.1:2/",
            "--redis-ca-file",
            pem.path(),
        ])
        .await;
        assert!(
            mixed.starts_with("HOOK_REDIS_CLUSTER_URLS: HOOK_REDIS_CA_FILE is set"),
            "{mixed}"
        );
    }

    /// Nothing listens on port 1: an error at once, naming the setting and
    /// never the password.
    #[tokio::test]
    async fn unreachable_redis_is_named_without_the_password() {
        let single = error(&["--redis-url", "redis://:hunter2@127.0.0.1:1/"]).await;
        assert!(
            single.starts_with("HOOK_REDIS_URL: cannot use Redis: "),
            "{single}"
        );
        let cluster = error(&[
            "--redis-cluster-urls",
            "redis://:hunter2@127.0.0.1:1/,redis://:hunter2@127.0.0.1:2/",
        ])
        .await;
        assert!(
            cluster.starts_with("HOOK_REDIS_CLUSTER_URLS: cannot use the Redis Cluster: "),
            "{cluster}"
        );
        for message in [single, cluster] {
            assert!(!message.contains("hunter2"), "{message}");
        }
    }
}
