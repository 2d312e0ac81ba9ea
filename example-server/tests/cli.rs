//! The binary as a user runs it: dev mode logs the URL to open and serves
//! it, SIGTERM shuts it down cleanly, bad settings exit with a message
//! naming them. Built without the `dev` feature, a missing secret is such a
//! setting.

use std::process::Command;

const BINARY: &str = env!("CARGO_BIN_EXE_example-server");

fn run_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(BINARY)
        .args(args)
        .env_remove("HOOK_SECRET")
        .env_remove("HOOK_ISSUER")
        .env_remove("HOOK_URL")
        .env("HOOK_BIND", "127.0.0.1:0")
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
    const SECRET: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
    let mut cases: Vec<(&[(&str, &str)], &str)> = vec![
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
        (&[("HOOK_BIND", "not-an-address")], "--bind"),
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

    let mut child = Command::new(BINARY)
        .env_remove("HOOK_SECRET")
        .env("HOOK_BIND", "127.0.0.1:0")
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
