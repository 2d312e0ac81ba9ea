//! The crate as a new user meets it: a crate of its own outside the
//! workspace, made from the crate README alone (its Installation commands,
//! with `--path` standing in for crates.io, and its quick start as
//! `src/main.rs`), built, started as the README says, and walked through by
//! `MockIssuer` playing the tenant the README configures.
//!
//! It builds offline, from a copy of the workspace's `Cargo.lock`, into
//! this test's own target directory, so it reuses what the workspace has
//! built: only the new crate and what the README's features add are
//! compiled.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hook_layer::HookSecret;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_tests::{client, form_actions};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

const README: &str = include_str!("../../hook-layer/README.md");
const QUICK_START: &str = include_str!(concat!(env!("OUT_DIR"), "/readme_quick_start.rs"));
/// What `HOOK_SECRET` holds: base64, as the tenant gave it.
const SECRET: &str = "082MajLllCJrud93C0BujT7cqbaZw1f9STZZUZBahW0=";

#[tokio::test]
async fn a_crate_made_from_the_readme_serves_a_hook_that_completes() {
    let Some(cargo) = std::env::var_os("CARGO") else {
        panic!("run by cargo, which says where it is in CARGO");
    };
    let scratch = Scratch::new();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::write(
        scratch.0.join("Cargo.toml"),
        "[package]\nname = \"my-hook\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::create_dir(scratch.0.join("src")).unwrap();
    std::fs::write(scratch.0.join("src/main.rs"), QUICK_START).unwrap();
    // The versions the workspace was built with, so its build is reused.
    std::fs::copy(workspace.join("Cargo.lock"), scratch.0.join("Cargo.lock")).unwrap();

    let library = workspace.join("hook-layer").canonicalize().unwrap();
    let installation = installation_commands();
    assert!(
        installation.iter().any(|args| args == &["hook-layer"]),
        "{installation:?}"
    );
    for args in installation {
        let args = args.iter().map(|arg| match arg.as_str() {
            "hook-layer" => format!("--path={}", library.display()),
            _ => arg.clone(),
        });
        run(Command::new(&cargo)
            .current_dir(&scratch.0)
            .args(["add", "--offline", "--quiet"])
            .args(args));
    }

    let target = target_dir();
    let mut build = Command::new(&cargo);
    build
        .current_dir(&scratch.0)
        .args(["build", "--offline", "--quiet", "--target-dir"])
        .arg(&target.0);
    if target.1 == "release" {
        build.arg("--release");
    }
    run(&mut build);

    // Run as the README says: HOOK_SECRET set, HOOK_BIND to move it.
    let binary = target
        .0
        .join(&target.1)
        .join(format!("my-hook{}", std::env::consts::EXE_SUFFIX));
    let mut hook = Hook(
        Command::new(&binary)
            .env("HOOK_SECRET", SECRET)
            .env("HOOK_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("{} starts: {error}", binary.display())),
    );
    let mut stdout = BufReader::new(hook.0.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("it says where it listens: {line:?}"))
        .to_owned();

    // MATTR VII: the quick start's tenant and hook URL, the README's claims.
    let mattr = MockIssuer::new(SECRET.parse::<HookSecret>().unwrap())
        .tenant(constant("TENANT"))
        .hook_url(constant("HOOK_URL"));
    let http = client();
    let start = mattr
        .session()
        .claim("given_name", "Ada")
        .uri("/interaction");
    let page = http.get(format!("{base}{start}")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("Hello, Ada"), "{page}");
    let [finish, decline] = <[String; 2]>::try_from(form_actions(&page)).unwrap();

    let done = http
        .post(format!("{base}{finish}"))
        .form(&[("preferred_name", "Ada")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let read = mattr
        .read_redirect(done.headers()[LOCATION].to_str().unwrap())
        .expect("a response MATTR VII accepts");
    assert!(
        matches!(&read.outcome, Outcome::Completed { claims, .. } if claims["preferredName"] == "Ada"),
        "{:?}",
        read.outcome
    );

    let declined = http.post(format!("{base}{decline}")).send().await.unwrap();
    assert_eq!(declined.status(), StatusCode::SEE_OTHER);
    let read = mattr
        .read_redirect(declined.headers()[LOCATION].to_str().unwrap())
        .expect("a response MATTR VII accepts");
    assert!(matches!(read.outcome, Outcome::Failed { .. }));
}

/// The arguments of each `cargo add` in the README's Installation block.
fn installation_commands() -> Vec<Vec<String>> {
    let section = README
        .split("\n## Installation\n")
        .nth(1)
        .expect("an Installation section");
    let (_, block) = section.split_once("```sh\n").expect("a shell block");
    let (block, _) = block.split_once("```").expect("a closed block");
    block
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .filter_map(|line| line.trim().strip_prefix("cargo add "))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// A `&str` constant of the quick start.
fn constant(name: &str) -> String {
    let declaration = format!("const {name}: &str = \"");
    let (_, rest) = QUICK_START
        .split_once(&declaration)
        .unwrap_or_else(|| panic!("the quick start declares {name}"));
    rest[..rest.find('"').unwrap()].to_owned()
}

/// This test's target directory and profile (`<target>/<profile>/deps/`
/// holds the test binary).
fn target_dir() -> (PathBuf, String) {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let name = profile.file_name().unwrap().to_string_lossy().into_owned();
    (profile.parent().unwrap().to_owned(), name)
}

fn run(command: &mut Command) {
    let status = command.status().expect("cargo runs");
    assert!(status.success(), "{command:?}: {status}");
}

/// A fresh directory outside the workspace, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("hook-layer-readme-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The hook's process, stopped on drop.
struct Hook(Child);

impl Drop for Hook {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
