//! `mattr-hook`: a MATTR VII on this machine for any interaction hook, a
//! session token explainer, and a token minter.
//!
//! The hook secret comes from `HOOK_SECRET` only (standard base64, as MATTR
//! VII returns it; a comma list during a rotation, the current one first),
//! never from an argument, and is never printed. Exit status: 0 for
//! success (an accepted token), 1 for a refused token, 2 for bad usage.

#![forbid(unsafe_code)]

mod claims;
mod explain;
mod issuer;
mod secret;
mod usage;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hook_layer::testing::MockIssuer;

use crate::usage::UsageError;

/// A MATTR VII on this machine for any interaction hook, and a session
/// token doctor.
///
/// The hook secret is read from HOOK_SECRET (standard base64, as MATTR VII
/// returns it; a comma list, the current one first, during a rotation) and
/// never printed.
/// Exit status: 0 success or accepted, 1 refused, 2 bad usage.
#[derive(Parser)]
#[command(name = "mattr-hook", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a simulated MATTR VII for the hook at --hook-url.
    ///
    /// GET /start (or the start page, /) begins an issuance: a 303 to the
    /// hook with a session token as MATTR VII mints it. GET /callback checks
    /// the hook's answer as MATTR VII would, shows the outcome (200 for a
    /// valid answer, 400 naming the failed check otherwise) and prints one
    /// JSON line to standard output: state, outcome (completed, failed,
    /// rejected), the claims or the check and reason. The first line printed
    /// is the start URL. It listens on 127.0.0.1 only; its callback is an
    /// http loopback address, which a hook built on hook-layer accepts with
    /// allow_loopback_redirects().
    Issuer {
        /// The hook's URL: where the browser is sent, and the tokens' aud.
        #[arg(long, value_name = "URL")]
        hook_url: String,
        /// The tenant URL: the tokens' iss.
        #[arg(long, value_name = "URL", default_value = MockIssuer::TENANT)]
        issuer: String,
        /// The port to listen on, on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        #[command(flatten)]
        claims: claims::ClaimArgs,
    },
    /// Explain a session token as the layer would judge it.
    ///
    /// Shows its header and payload (values shortened), then each check the
    /// layer makes, passed or failed, and the layer's verdict. Exit 0 when
    /// the layer would accept it, 1 when it would refuse it. With
    /// --response, checks a response to MATTR VII instead, as `mattr-hook
    /// issuer`'s callback does.
    Check {
        /// The token, or the whole address (with session_token in its
        /// query) from the browser.
        #[arg(value_name = "TOKEN_OR_URL")]
        input: String,
        /// The tenant URL the hook expects as iss.
        #[arg(long, value_name = "URL")]
        issuer: String,
        /// The hook URL the hook expects as aud.
        #[arg(long, value_name = "URL")]
        hook_url: String,
        /// Check a response from the hook to MATTR VII instead.
        #[arg(long)]
        response: bool,
        /// Accept a redirectUrl on this machine (http://127.0.0.1:...), as a
        /// hook in development does.
        #[arg(long)]
        allow_loopback: bool,
        /// Judge as at this time (Unix seconds) instead of now.
        #[arg(long, value_name = "UNIX_SECONDS")]
        at: Option<u64>,
    },
    /// Print a session token as MATTR VII would mint it, for curl and load
    /// tests.
    Mint {
        #[command(flatten)]
        claims: claims::ClaimArgs,
        /// How long the token lives, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = MockIssuer::SESSION_TIMEOUT.as_secs())]
        lifetime: u64,
        /// The tenant URL: the token's iss.
        #[arg(long, value_name = "URL", default_value = MockIssuer::TENANT)]
        issuer: String,
        /// The hook URL: the token's aud.
        #[arg(long, value_name = "URL", default_value = MockIssuer::HOOK_URL)]
        hook_url: String,
        /// Where the hook must send its response (redirectUrl).
        #[arg(long, value_name = "URL", default_value = MockIssuer::REDIRECT_URL)]
        redirect_url: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mattr-hook: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, UsageError> {
    match command {
        Command::Issuer {
            hook_url,
            issuer,
            port,
            claims,
        } => {
            let secrets = secret::from_env()?;
            let claims = claims.read()?;
            let hook_url = usage::absolute_url("--hook-url", &hook_url)?;
            let issuer = usage::absolute_url("--issuer", &issuer)?;
            issuer::serve(secrets, issuer, hook_url, port, claims)
        }
        Command::Check {
            input,
            issuer,
            hook_url,
            response,
            allow_loopback,
            at,
        } => {
            let secrets = secret::from_env()?;
            let settings = explain::Settings {
                issuer: usage::absolute_url("--issuer", &issuer)?,
                hook_url: usage::absolute_url("--hook-url", &hook_url)?,
                allow_loopback,
                at,
            };
            let input = explain::Input::read(&input)?;
            let accepted = if response {
                explain::response(&secrets, &settings, &input)
            } else {
                explain::session_token(secrets, &settings, &input)
            };
            Ok(if accepted {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Mint {
            claims,
            lifetime,
            issuer,
            hook_url,
            redirect_url,
        } => {
            let secrets = secret::from_env()?;
            let claims = claims.read()?;
            let issuer = usage::absolute_url("--issuer", &issuer)?;
            let hook_url = usage::absolute_url("--hook-url", &hook_url)?;
            let redirect_url = usage::absolute_url("--redirect-url", &redirect_url)?;
            let mock = MockIssuer::new(secrets.current())
                .tenant(issuer)
                .hook_url(hook_url)
                .redirect_url(redirect_url);
            let token = mock
                .session()
                .claims(&claims)
                .expires_in(std::time::Duration::from_secs(lifetime))
                .token();
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
