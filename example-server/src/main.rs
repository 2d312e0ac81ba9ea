//! `cargo run -p example-server`: see `--help`.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use example_server::{Args, Config};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,hook_layer=debug")),
        )
        .init();
    let args = Args::parse();
    // Startup errors go straight to standard error, whatever RUST_LOG says.

    let listener = match TcpListener::bind(args.bind).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("HOOK_BIND: cannot listen on {}: {error}", args.bind);
            return ExitCode::from(2);
        }
    };
    let local = match listener.local_addr() {
        Ok(local) => local,
        Err(error) => {
            eprintln!("HOOK_BIND: {error}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_args(&args, local) {
        Ok(config) => config.connect_store(&args).await,
        Err(error) => Err(error),
    };
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };

    tracing::info!(
        issuer = config.issuer,
        hook_url = %config.hook_url,
        attempts = config.attempts_kind,
        "interaction hook listening on {local}"
    );
    #[cfg(feature = "dev")]
    log_dev_mode(&args, &config);

    match example_server::serve(listener, &config, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Says that dev mode is on and, last, which URL to open.
#[cfg(feature = "dev")]
fn log_dev_mode(args: &Args, config: &Config) {
    use example_server::{CALLBACK_PATH, START_PATH};
    if args.secret.is_some() && config.dev_issuer {
        tracing::warn!(
            "--dev-issuer with a real HOOK_SECRET: the simulated MATTR VII mints tokens with the real \
             secret and one-time codes are shown on screen; never expose this server"
        );
    }
    if config.dev_issuer {
        if args.secret.is_none() {
            tracing::info!(
                "dev mode: no HOOK_SECRET, so a random secret and a simulated MATTR VII are in use"
            );
        }
        // Last, so that this is the URL people open.
        let base = config.base_url();
        tracing::info!(
            "open {base}{START_PATH} in a browser to start a simulated issuance (MATTR VII's callback: {base}{CALLBACK_PATH})"
        );
    }
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!("cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
