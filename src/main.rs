//! The `siphon` command: `siphon run [--config connectors.toml]` and
//! `siphon validate --config connectors.toml`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod probe;

use clap::{Parser, Subcommand, ValueEnum};
use tracing::{error, info};

use siphon::api::AppState;
use siphon::config::{Config, ConfigErrors, FileConfig, LogFormat};
use siphon::runtime::Runtime;

// mimalloc instead of glibc's malloc: the hot path allocates per event and value (decoded
// rows, Avro values, records), and glibc's allocator took about a fifth of the CPU in the
// catch-up benchmark and kept freed memory in per-thread arenas (issue #7).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (the Rust bindings do not name it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the OS at once instead of after mimalloc's default second: records
/// are built on the encoding threads and freed on the producing one, and with the delay the
/// catch-up benchmark's RSS was 40% higher for no measurable speed.
fn tune_allocator() {
    // SAFETY: sets a process-wide allocator option; mimalloc documents it as callable at
    // any time.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

#[derive(Parser)]
#[command(
    name = "siphon",
    version,
    about = "Change data capture into Kafka, Debezium format, exactly once"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: the connectors of the config file (if any) and the REST API.
    Run {
        /// Service settings and connectors to start at boot.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Log format; overrides SIPHON_LOG_FORMAT and the config file.
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
    },
    /// Check a config file and print every problem; exits 1 if there is any.
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Exit 0 when a running service's REST API answers (for container healthchecks).
    Health {
        /// The API's address; defaults to SIPHON_API_BIND, else 127.0.0.1:8083.
        #[arg(long)]
        url: Option<String>,
        /// PEM CA the HTTPS API's certificate must chain to (checked with the host name);
        /// without it an https:// probe accepts any certificate (it sends no credentials).
        #[arg(long, env = "SIPHON_HEALTH_CA")]
        ca: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormatArg {
    Text,
    Json,
}

fn main() -> ExitCode {
    tune_allocator();
    // Before any TLS client or server is built (several crates would otherwise each need one).
    siphon::tls::install_crypto_provider();
    let cli = Cli::parse();
    match cli.command {
        Command::Validate { config } => validate(&config),
        Command::Run { config, log_format } => run(config.as_deref(), log_format),
        Command::Health { url, ca } => health(url, ca.as_deref()),
    }
}

fn health(url: Option<String>, ca: Option<&Path>) -> ExitCode {
    let url = url
        .or_else(|| std::env::var("SIPHON_API_BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8083".into());
    // The service serves HTTPS when it has a certificate; a bare host:port follows it.
    let https = std::env::var_os("SIPHON_API_TLS_CERT").is_some_and(|v| !v.is_empty());
    match probe::target(&url, https).and_then(|t| probe::check(&t, ca)) {
        Ok(status) => {
            println!("{status}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("siphon: unhealthy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// File (or defaults) → `${env:…}` references → SIPHON_* overrides → validation.
fn load(path: Option<&Path>) -> Result<Config, ConfigErrors> {
    let mut file = match path {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let env = |k: &str| std::env::var(k).ok();
    let mut problems = ConfigErrors::default();
    if let Err(e) = file.resolve_env(env) {
        problems.extend(e);
    }
    if let Err(e) = file.service.apply_env(env) {
        problems.extend(e);
    }
    problems.into_result()?;
    file.validate()
}

fn validate(path: &Path) -> ExitCode {
    match load(Some(path)) {
        Ok(cfg) => {
            println!(
                "{}: valid ({} connector{})",
                path.display(),
                cfg.connectors.len(),
                if cfg.connectors.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{}: {} problem(s)", path.display(), errors.0.len());
            for p in &errors.0 {
                eprintln!("  {p}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(path: Option<&Path>, log_format: Option<LogFormatArg>) -> ExitCode {
    let mut cfg = match load(path) {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!(
                "siphon: the configuration has {} problem(s):",
                errors.0.len()
            );
            for p in &errors.0 {
                eprintln!("  {p}");
            }
            return ExitCode::FAILURE;
        }
    };
    if let Some(f) = log_format {
        cfg.service.log_format = match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    if let Err(e) = siphon::telemetry::init(&cfg.service.log, cfg.service.log_format) {
        eprintln!("siphon: {e}");
        return ExitCode::FAILURE;
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let shutdown = shutdown_signal();
        info!(
            version = env!("CARGO_PKG_VERSION"),
            sink = if cfg.service.kafka.is_some() { "kafka" } else { "embedded" },
            data_dir = %cfg.service.data_dir.display(),
            "siphon starting"
        );
        // Validated with the rest of the configuration.
        let addr = match cfg.service.api_addr() {
            Ok(a) => a,
            Err(e) => {
                error!(error = %e, "bad API address");
                return ExitCode::FAILURE;
            }
        };
        // Bind first: a taken port is a start-up error, as in Kafka Connect, before any
        // connector starts.
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                error!(address = %addr, error = %e, "the REST API cannot listen (set service.api_bind or SIPHON_API_BIND)");
                return ExitCode::FAILURE;
            }
        };
        // Read again (validation read it too) so a file changed since is caught here.
        let api_tls = match (&cfg.service.api_tls_cert, &cfg.service.api_tls_key) {
            (Some(cert), Some(key)) => match siphon::tls::server_config(cert, key) {
                Ok(c) => Some(c),
                Err(e) => {
                    error!(error = %e, "the REST API cannot serve HTTPS (service.api_tls_cert / service.api_tls_key)");
                    return ExitCode::FAILURE;
                }
            },
            _ => None,
        };
        let runtime = match Runtime::boot(cfg.service, cfg.connectors).await {
            Ok(rt) => Arc::new(rt),
            Err(e) => {
                error!(error = %e, "cannot load the connectors");
                return ExitCode::FAILURE;
            }
        };
        let (stop_api, mut api_stopping) = tokio::sync::watch::channel(false);
        let api = tokio::spawn(siphon::api::serve(
            listener,
            api_tls,
            AppState::new(Arc::clone(&runtime)),
            async move {
                let _ = api_stopping.wait_for(|stop| *stop).await;
            },
        ));
        // The API stops taking requests first; then the connectors commit and stop.
        runtime
            .run_until(async {
                shutdown.await;
                let _ = stop_api.send(true);
            })
            .await;
        let abort = api.abort_handle();
        if tokio::time::timeout(Duration::from_secs(10), api)
            .await
            .is_err()
        {
            abort.abort();
        }
        info!("siphon stopped");
        ExitCode::SUCCESS
    })
}

/// Registers the SIGINT and SIGTERM handlers now, so a signal that arrives while the
/// connectors are still loading is not lost, and returns a future that resolves on either.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| {
        let registered = signal(kind);
        async move {
            match registered {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(e) => {
                    error!(error = %e, "cannot listen for {name}");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    let int = listen(SignalKind::interrupt(), "SIGINT");
    let term = listen(SignalKind::terminate(), "SIGTERM");
    async move {
        tokio::select! {
            _ = int => info!("SIGINT received"),
            _ = term => info!("SIGTERM received"),
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
        info!("SIGINT received");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is mimalloc's purge delay: its default, 1000 ms, unless the
    /// environment overrides it.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reads a process-wide allocator option.
            let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
            assert_eq!(delay, 1000);
        }
    }
}
