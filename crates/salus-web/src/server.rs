//! The HTTP(S) server: one code path for plain HTTP and TLS (rustls, ring provider), with
//! a graceful shutdown: on the shutdown signal the listener stops accepting, requests in
//! flight get up to `grace` to finish, then the remaining connections are closed.

use std::future::Future;
use std::io::BufReader;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

/// A TLS configuration read from PEM files, or the reason it could not be.
pub fn load_tls(cert: &Path, key: &Path) -> Result<RustlsConfig, String> {
    let read = |p: &Path| {
        std::fs::File::open(p).map(BufReader::new).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let certs = rustls_pemfile::certs(&mut read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{} is not a PEM certificate: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key_der = rustls_pemfile::private_key(&mut read(key)?)
        .map_err(|e| format!("{} is not a PEM private key: {e}", key.display()))?
        .ok_or_else(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| format!("the TLS key does not fit the certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

/// Serves `router` on `listener` until `shutdown` completes, then drains for at most
/// `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<RustlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let handle = Handle::new();
    let on_signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        tracing::info!(grace_secs = grace.as_secs_f64(), "shutting down: finishing requests in flight");
        on_signal.graceful_shutdown(Some(grace));
    });
    let app = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(config) => axum_server::from_tcp_rustls(listener, config).handle(handle).serve(app).await,
        None => axum_server::from_tcp(listener).handle(handle).serve(app).await,
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled, so a signal that arrives right after the
/// server says it is ready is never lost to the default action (which would kill the
/// process without draining). Call it inside the runtime, before announcing readiness.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
