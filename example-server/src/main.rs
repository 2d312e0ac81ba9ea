//! `cargo run -p example-server`: see `--help`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;

use example_server::args::ArgsError;
use example_server::{Args, Config, LogFormat, prometheus};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // A bad setting (HOOK_LOG_FORMAT included) is reported before any
    // logging is set up, by name and never by value.
    let args = match Args::read() {
        Ok(args) => args,
        Err(ArgsError::Shown(help)) => {
            let _ = help.print();
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(error)) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(args.log_format);
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
    // Before anything is served: hook-layer registers its counters with the
    // recorder on their first use.
    let metrics = match args.metrics_bind {
        Some(address) => match start_metrics(address).await {
            Ok(metrics) => Some(metrics),
            Err(code) => return code,
        },
        None => None,
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

    if let Some((listener, handle)) = metrics {
        let address = listener
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |address| address.to_string());
        tracing::info!("metrics at http://{address}/metrics");
        // Served until the process exits, so that the last scrape can
        // still see a graceful shutdown's final counts.
        tokio::spawn(async move {
            let until_exit = std::future::pending();
            if let Err(error) = prometheus::serve(listener, handle, until_exit).await {
                tracing::error!("metrics server error: {error}");
            }
        });
    }
    warn_about_production(&config, args.metrics_bind);
    tracing::info!(
        issuer = config.tenant().issuer,
        hook_url = config.tenant().hook_url,
        tenants = config.settings.tenants().len(),
        attempts = config.attempts_kind,
        "interaction hook listening on {local}"
    );
    if let Some(webhook) = &config.webhook {
        tracing::info!(
            webhook_id = webhook.id,
            public_url = webhook.public_url,
            jwks_url = webhook.jwks_url,
            "receiving MATTR VII webhooks at {}",
            webhook.path
        );
    }
    #[cfg(feature = "dev")]
    log_dev_mode(&config);

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

/// Logs to standard output, as text (coloured on a terminal) or as one
/// JSON object per line; `RUST_LOG` filters, default
/// `info,hook_layer=debug`. Both formats write the same events with the
/// same fields, so what is kept out of one (tokens, secrets, codes, claim
/// values) is kept out of the other.
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,hook_layer=debug"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

/// Listens on `address` for `/metrics` and installs the Prometheus
/// recorder; exit status 2 if the address is unusable.
async fn start_metrics(
    address: SocketAddr,
) -> Result<(TcpListener, metrics_exporter_prometheus::PrometheusHandle), ExitCode> {
    let listener = TcpListener::bind(address).await.map_err(|error| {
        eprintln!("HOOK_METRICS_BIND: cannot listen on {address}: {error}");
        ExitCode::from(2)
    })?;
    let handle = prometheus::install_recorder().map_err(|error| {
        eprintln!("HOOK_METRICS_BIND: cannot record metrics: {error}");
        ExitCode::FAILURE
    })?;
    Ok((listener, handle))
}

/// What an operator must know before the hook serves anyone: settings
/// that work, but not as a production deployment needs.
fn warn_about_production(config: &Config, metrics_bind: Option<SocketAddr>) {
    if let Some(address) = metrics_bind.filter(|address| !address.ip().is_loopback()) {
        tracing::warn!(
            "HOOK_METRICS_BIND is {address}, not a loopback address: /metrics answers anyone who \
             reaches it, without authentication, and its labels name the tenants. Serve it where \
             only the scraper reaches it (a private network, a firewall), or on 127.0.0.1"
        );
    }
    if config.keeps_real_counts_in_memory() {
        tracing::warn!(
            "attempt counts and answers are kept in this process's memory (neither \
             HOOK_REDIS_URL nor HOOK_REDIS_CLUSTER_URLS is set): they are lost on restart (a \
             journey begun before it must start again from the wallet) and not shared between \
             replicas. Use Redis for more than one replica, and for journeys that outlive a \
             restart"
        );
    }
}

/// Says that dev mode is on and, last, which URL to open.
#[cfg(feature = "dev")]
fn log_dev_mode(config: &Config) {
    use example_server::{CALLBACK_PATH, START_PATH};
    // HOOK_SECRET or a tenants file: either way, a secret a real tenant
    // signs with.
    if config.dev_issuer_uses_configured_secret() {
        tracing::warn!(
            "DANGER: --dev-issuer is on with a REAL hook secret: the simulated MATTR VII under \
             /dev mints session tokens signed with it for anyone who asks, and one-time codes are \
             shown on screen. For development on this machine only; never run this in production"
        );
    }
    if config.dev_issuer {
        if !config.dev_issuer_uses_configured_secret() {
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
