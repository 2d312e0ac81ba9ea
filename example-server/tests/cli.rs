//! The binary as a user runs it: dev mode logs the URL to open and serves
//! it, SIGTERM shuts it down cleanly, bad settings exit with a message
//! naming them. Built without the `dev` feature, a missing secret is such a
//! setting.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_example-server");

/// The binary with none of the environment's `HOOK_*` settings (so that
/// the machine's own cannot leak into a case), on a free loopback port.
fn server() -> Command {
    let mut command = Command::new(BINARY);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HOOK_") {
            command.env_remove(name);
        }
    }
    command.env("HOOK_BIND", "127.0.0.1:0");
    command
}

fn run_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = server()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn bad_settings_exit_with_status_2_naming_the_setting() {
    // A constant, so that the slices below are too.
    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    // A whole production configuration, so that a build without dev mode
    // gets as far as the setting under test.
    const HOOK: [(&str, &str); 3] = [
        ("HOOK_SECRET", SECRET),
        ("HOOK_ISSUER", "https://t.example"),
        ("HOOK_URL", "https://h.example/interaction"),
    ];
    const BOTH: [(&str, &str); 5] = [
        HOOK[0],
        HOOK[1],
        HOOK[2],
        ("HOOK_REDIS_URL", "redis://:hunter2@127.0.0.1:1/"),
        ("HOOK_REDIS_CLUSTER_URLS", "redis://:hunter2@127.0.0.1:1/"),
    ];
    // Nothing listens on ports 1 and 2.
    const CLUSTER: [(&str, &str); 4] = [
        HOOK[0],
        HOOK[1],
        HOOK[2],
        (
            "HOOK_REDIS_CLUSTER_URLS",
            "redis://:hunter2@127.0.0.1:1/, redis://:hunter2@127.0.0.1:2/",
        ),
    ];
    const CA: [(&str, &str); 5] = [
        HOOK[0],
        HOOK[1],
        HOOK[2],
        ("HOOK_REDIS_URL", "rediss://:hunter2@127.0.0.1:1/"),
        ("HOOK_REDIS_CA_FILE", "/nonexistent/ca.pem"),
    ];
    const KEYS_WITHOUT_ID: [(&str, &str); 4] = [
        HOOK[0],
        HOOK[1],
        HOOK[2],
        (
            "HOOK_WEBHOOK_JWKS_URL",
            "https://t.example/v1/webhooks/jwks",
        ),
    ];
    const WEBHOOK_IN_JOURNEY: [(&str, &str); 5] = [
        HOOK[0],
        HOOK[1],
        HOOK[2],
        ("HOOK_WEBHOOK_ID", "w-1"),
        ("HOOK_WEBHOOK_PATH", "/interaction/webhooks"),
    ];
    let mut cases: Vec<(&[(&str, &str)], &str)> = vec![
        (
            &[("HOOK_LOG_FORMAT", "xml")],
            "HOOK_LOG_FORMAT (--log-format): expected one of: text, json",
        ),
        (
            &[("HOOK_METRICS_BIND", "nowhere")],
            "HOOK_METRICS_BIND (--metrics-bind): expected an IP address",
        ),
        (&BOTH, "HOOK_REDIS_CLUSTER_URLS: not with HOOK_REDIS_URL"),
        (
            &CLUSTER,
            "HOOK_REDIS_CLUSTER_URLS: cannot use the Redis Cluster",
        ),
        (&CA, "HOOK_REDIS_CA_FILE: cannot read the file it names"),
        (
            &KEYS_WITHOUT_ID,
            "HOOK_WEBHOOK_ID: required with HOOK_WEBHOOK_URL or HOOK_WEBHOOK_JWKS_URL",
        ),
        (
            &WEBHOOK_IN_JOURNEY,
            "HOOK_WEBHOOK_PATH: collides with the server's own /interaction",
        ),
        (
            &[("HOOK_SECRET", "not base64!")],
            "HOOK_SECRET: not standard base64",
        ),
        (
            &[("HOOK_SECRET", SECRET)],
            "HOOK_ISSUER: required with HOOK_SECRET",
        ),
        (
            &[
                ("HOOK_SECRET", SECRET),
                ("HOOK_ISSUER", "https://t.example"),
                ("HOOK_URL", "http://h.example/i"),
            ],
            "HOOK_URL: must be https",
        ),
        (
            &[("HOOK_BIND", "not-an-address")],
            "HOOK_BIND (--bind): expected an IP address",
        ),
    ];
    #[cfg(feature = "dev")]
    cases.extend([
        // Dev mode's simulated MATTR VII mints tokens for anyone: it must
        // not listen beyond this machine.
        (&[("HOOK_BIND", "0.0.0.0:0")][..], "HOOK_BIND: dev mode"),
        (&[("HOOK_BIND", "[::]:0")], "HOOK_BIND: dev mode"),
    ]);
    // Without the `dev` feature there is no dev mode to fall back on.
    #[cfg(not(feature = "dev"))]
    cases.push((&[], "HOOK_SECRET: required: this build has no dev mode"));
    for (env, expected) in cases {
        let (code, output) = run_with(&[], env);
        assert_eq!(code, 2, "{expected}: {output}");
        assert!(output.contains(expected), "{expected}: {output}");
        assert!(!output.contains("panicked"), "{output}");
        assert!(
            !output.contains(&SECRET[..12]),
            "the secret was printed: {output}"
        );
        assert!(
            !output.contains("hunter2"),
            "a Redis password was printed: {output}"
        );
    }
}

/// A secret pasted into the wrong place: every setting that refuses it
/// names itself and what it expects, and never shows the value (nor its
/// first characters), on standard output or standard error.
#[test]
fn no_startup_error_shows_the_value_given() {
    // 32 random bytes, base64: what a hook secret looks like.
    const PASTED: &str = "q3Lx0vN8d2Rk+T7yWmB1sZpE5uHcJ9aYfGi4oK6lQeU=";
    const HOOK: [(&str, &str); 3] = [
        (
            "HOOK_SECRET",
            "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=",
        ),
        ("HOOK_ISSUER", "https://t.example"),
        ("HOOK_URL", "https://h.example/interaction"),
    ];
    let with_hook = |setting: &'static str| -> Vec<(&'static str, &'static str)> {
        let mut env = HOOK.to_vec();
        env.retain(|(name, _)| *name != setting);
        env.push((setting, PASTED));
        env
    };
    // The arguments, the environment, and the start of the message.
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], vec![("HOOK_BIND", PASTED)], "HOOK_BIND (--bind): "),
        (vec!["--bind", PASTED], vec![], "HOOK_BIND (--bind): "),
        (
            vec![],
            vec![("HOOK_METRICS_BIND", PASTED)],
            "HOOK_METRICS_BIND (--metrics-bind): ",
        ),
        (
            vec![],
            vec![("HOOK_LOG_FORMAT", PASTED)],
            "HOOK_LOG_FORMAT (--log-format): ",
        ),
        (
            vec![PASTED],
            vec![],
            "command line: unexpected argument (argument 1)",
        ),
        (
            vec!["--log-format", "json", PASTED],
            vec![],
            "command line: unexpected argument (argument 3)",
        ),
        (vec![], with_hook("HOOK_ISSUER"), "HOOK_ISSUER: "),
        (vec![], with_hook("HOOK_URL"), "HOOK_URL: "),
        (vec![], vec![("HOOK_TENANTS", PASTED)], "HOOK_TENANTS: "),
        (
            vec![],
            [HOOK.to_vec(), vec![("HOOK_REDIS_URL", PASTED)]].concat(),
            "HOOK_REDIS_URL: ",
        ),
        (
            vec![],
            [HOOK.to_vec(), vec![("HOOK_REDIS_CLUSTER_URLS", PASTED)]].concat(),
            "HOOK_REDIS_CLUSTER_URLS: ",
        ),
        (
            vec![],
            [
                HOOK.to_vec(),
                vec![
                    ("HOOK_REDIS_URL", "rediss://127.0.0.1:1/"),
                    ("HOOK_REDIS_CA_FILE", PASTED),
                ],
            ]
            .concat(),
            "HOOK_REDIS_CA_FILE: ",
        ),
        (
            vec![],
            [HOOK.to_vec(), vec![("HOOK_WEBHOOK_ID", "has space")]].concat(),
            "HOOK_WEBHOOK_ID: ",
        ),
        (
            vec![],
            [
                HOOK.to_vec(),
                vec![("HOOK_WEBHOOK_ID", "w-1"), ("HOOK_WEBHOOK_PATH", PASTED)],
            ]
            .concat(),
            "HOOK_WEBHOOK_PATH: ",
        ),
        (
            vec![],
            [
                HOOK.to_vec(),
                vec![("HOOK_WEBHOOK_ID", "w-1"), ("HOOK_WEBHOOK_URL", PASTED)],
            ]
            .concat(),
            "HOOK_WEBHOOK_URL: ",
        ),
        (
            vec![],
            [
                HOOK.to_vec(),
                vec![
                    ("HOOK_WEBHOOK_ID", "w-1"),
                    ("HOOK_WEBHOOK_JWKS_URL", PASTED),
                ],
            ]
            .concat(),
            "HOOK_WEBHOOK_JWKS_URL: ",
        ),
    ];
    for (args, env, expected) in cases {
        let (code, output) = run_with(&args, &env);
        assert_eq!(code, 2, "{args:?} {env:?}: {output}");
        assert!(
            output.contains(&format!("configuration error: {expected}")),
            "{expected}: {output}"
        );
        assert!(
            !output.contains(PASTED) && !output.contains(&PASTED[..8]),
            "the value was shown: {output}"
        );
    }
}

/// A secret that MATTR VII cannot have generated does not start a
/// production server: 32 zero bytes, or the example secret that MATTR
/// VII's documentation and this project's show.
#[test]
fn placeholder_and_example_secrets_are_refused() {
    let cases = [
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "HOOK_SECRET: the hook secret holds fewer than 16 distinct byte values",
        ),
        (
            "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=",
            "HOOK_SECRET: the hook secret is an example from documentation",
        ),
    ];
    for (secret, expected) in cases {
        let (code, output) = run_with(
            &[],
            &[
                ("HOOK_SECRET", secret),
                ("HOOK_ISSUER", "https://tenant.vii.au01.mattr.global"),
                ("HOOK_URL", "https://hook.example.com/interaction"),
            ],
        );
        assert_eq!(code, 2, "{output}");
        assert!(output.contains(expected), "{output}");
        assert!(!output.contains(&secret[..8]), "{output}");
    }
}

/// What the binary logs with `env` up to the line saying where it
/// listens; then it is stopped. Standard error is appended, in case it
/// stopped before.
fn startup_log(env: &[(&str, &str)]) -> Vec<String> {
    startup_until(&[], env, "listening on")
}

/// What the binary logs with `args` and `env`, up to the first line that
/// holds `last` (or its end); then it is stopped, and its standard error
/// appended.
fn startup_until(args: &[&str], env: &[(&str, &str)], last: &str) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let mut child = server()
        .args(args)
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut startup = Vec::new();
    while !startup.iter().any(|line: &String| line.contains(last)) {
        match lines.next() {
            Some(line) => startup.push(line.unwrap()),
            None => break,
        }
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    startup.push(String::from_utf8_lossy(&output.stderr).into_owned());
    startup
}

/// A production configuration, as a build without dev mode needs one.
const PRODUCTION: [(&str, &str); 3] = [
    (
        "HOOK_SECRET",
        "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=",
    ),
    ("HOOK_ISSUER", "https://tenant.vii.au01.mattr.global"),
    ("HOOK_URL", "https://hook.example.com/interaction"),
];

/// `/metrics` has no authentication and names the tenants: served on an
/// address other than loopback, the server says so at startup.
#[test]
fn metrics_beyond_loopback_are_warned_about() {
    let warning = |bind: &str| {
        let env = [PRODUCTION.to_vec(), vec![("HOOK_METRICS_BIND", bind)]].concat();
        let startup = startup_log(&env);
        assert!(
            startup.iter().any(|line| line.contains("listening on")),
            "{startup:?}"
        );
        startup
            .into_iter()
            .find(|line| line.contains("HOOK_METRICS_BIND"))
    };
    let line = warning("0.0.0.0:0").expect("a warning");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("not a loopback address"), "{line}");
    assert!(line.contains("labels name the tenants"), "{line}");
    assert_eq!(warning("127.0.0.1:0"), None);
}

/// With a configured secret and no Redis, counts and answers live in one
/// process's memory: the server says what that costs.
#[test]
fn a_production_server_on_the_memory_store_warns() {
    let startup = startup_log(&PRODUCTION);
    let line = startup
        .iter()
        .find(|line| line.contains("kept in this process's memory"))
        .unwrap_or_else(|| panic!("no warning: {startup:?}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("lost on restart"), "{line}");
    assert!(line.contains("not shared between replicas"), "{line}");
    assert!(
        line.contains("Use Redis for more than one replica"),
        "{line}"
    );
    // Dev mode's secret is generated for this process alone: nothing is
    // lost that was ever real.
    #[cfg(feature = "dev")]
    {
        let dev = startup_log(&[]);
        assert!(
            dev.iter().any(|line| line.contains("listening on")),
            "{dev:?}"
        );
        assert!(
            !dev.iter().any(|line| line.contains("process's memory")),
            "{dev:?}"
        );
    }
}

/// `HOOK_METRICS_BIND` on an address already in use: exit status 2 before
/// anything is served.
#[test]
fn a_metrics_address_in_use_exits_with_status_2() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, output) = run_with(&[], &[("HOOK_METRICS_BIND", &address)]);
    assert_eq!(code, 2, "{output}");
    assert!(
        output.contains(&format!("HOOK_METRICS_BIND: cannot listen on {address}")),
        "{output}"
    );
}

/// `--dev-issuer` with a real secret: the simulated MATTR VII would mint
/// tokens signed with it for anyone who reaches the server, so it must not
/// listen beyond this machine.
#[cfg(feature = "dev")]
#[test]
fn the_dev_issuer_with_a_real_secret_refuses_to_listen_beyond_loopback() {
    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let (code, output) = run_with(
            &["--dev-issuer"],
            &[
                ("HOOK_BIND", bind),
                ("HOOK_SECRET", SECRET),
                ("HOOK_ISSUER", "https://t.example"),
                ("HOOK_URL", "https://h.example/interaction"),
                // A Redis that is not there: a server that got past the
                // address check would stop here (exit status 2, naming
                // HOOK_REDIS_URL) rather than run until killed.
                ("HOOK_REDIS_URL", "redis://127.0.0.1:1/"),
            ],
        );
        assert_eq!(code, 2, "{output}");
        assert!(output.contains("HOOK_BIND: --dev-issuer"), "{output}");
        assert!(
            !output.contains(&SECRET[..8]),
            "the secret was printed: {output}"
        );
    }
}

/// On loopback it starts, and says loudly that a real secret is minting
/// tokens, whether the secret comes from HOOK_SECRET or a tenants file.
#[cfg(feature = "dev")]
#[test]
fn the_dev_issuer_with_a_real_secret_warns_at_startup() {
    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    let file = std::env::temp_dir().join(format!("cli-tenants-{}.toml", std::process::id()));
    std::fs::write(
        &file,
        "[[tenant]]\nissuer = \"http://127.0.0.1:9\"\nhook_url = \"http://127.0.0.1:9/interaction\"\nsecret_env = \"CLI_TEST_SECRET\"\n",
    )
    .unwrap();
    let single = [
        ("HOOK_SECRET", SECRET),
        ("HOOK_ISSUER", "http://127.0.0.1:9"),
        ("HOOK_URL", "http://127.0.0.1:9/interaction"),
    ];
    let tenants = [
        ("HOOK_TENANTS", file.to_str().unwrap()),
        ("CLI_TEST_SECRET", SECRET),
    ];
    // With --dev-issuer, up to the URL to open, the last line of its start-up.
    let startups =
        [&single[..], &tenants[..]].map(|env| startup_until(&["--dev-issuer"], env, "open "));
    let _ = std::fs::remove_file(&file);
    for startup in startups {
        let warning = startup
            .iter()
            .find(|line| line.contains("REAL hook secret"))
            .unwrap_or_else(|| panic!("no warning: {startup:?}"));
        assert!(warning.contains("WARN"), "{warning}");
        assert!(warning.contains("--dev-issuer"), "{warning}");
        assert!(!warning.contains(&SECRET[..8]), "{warning}");
    }
}

/// Built without the `dev` feature, the binary has no `--dev-issuer`.
#[cfg(not(feature = "dev"))]
#[test]
fn without_the_dev_feature_there_is_no_dev_issuer_flag() {
    let (code, output) = run_with(&["--dev-issuer"], &[]);
    assert_eq!(code, 2, "{output}");
    assert!(output.contains("--dev-issuer"), "{output}");
}

#[cfg(feature = "dev")]
#[test]
fn dev_mode_logs_the_url_serves_it_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mut child = server()
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        assert!(Instant::now() < deadline, "no URL logged");
        let line = lines.next().expect("the server logs").unwrap();
        if let Some(rest) = line.split("open ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/dev"),
        "{url}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let page = runtime.block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(page.contains("Simulated MATTR VII"));

    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|line| line.contains("stopped")), "{rest:?}");
}
