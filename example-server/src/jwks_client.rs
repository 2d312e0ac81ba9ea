//! The HTTP client that fetches the tenant's webhook keys
//! (`hook_layer::webhooks::FetchJwks`): one `GET` of a small JSON document
//! over https (rustls with *ring*, the system's root certificates), or
//! over http to a loopback address (a local MATTR VII simulator), bounded
//! in size and time.

use std::sync::Arc;
use std::time::Duration;

use hook_layer::webhooks::{FetchError, FetchFuture, FetchJwks, MAX_JWKS_LEN};
use http::header::{ACCEPT, HOST, USER_AGENT};
use http::{Request, StatusCode};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::{Host, Url};

use crate::http_client::exchange;

/// How long a fetch may take, connecting included: well within the 3 s
/// MATTR VII waits for the delivery that needs the keys.
pub const FETCH_WITHIN: Duration = Duration::from_secs(2);

/// Fetches JWKS documents; see the module's docs.
#[derive(Clone)]
pub struct JwksClient {
    /// `None` when no TLS configuration could be built: https fetches
    /// then fail (and deliveries are `503`, retried), rather than the
    /// server not starting over a key it may never need.
    tls: Option<TlsConnector>,
}

impl JwksClient {
    /// A client trusting the system's root certificates.
    pub fn new() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        // Certificates that cannot be read are skipped: the others serve.
        for certificate in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(certificate);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = match rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
        {
            Ok(builder) => Some(TlsConnector::from(Arc::new(
                builder.with_root_certificates(roots).with_no_client_auth(),
            ))),
            Err(error) => {
                tracing::error!(%error, "no TLS for fetching webhook keys");
                None
            }
        };
        Self { tls }
    }

    /// `GET url`: the body of a `200`, as text.
    pub async fn get(&self, url: &Url) -> Result<String, FetchError> {
        tokio::time::timeout(FETCH_WITHIN, self.get_now(url))
            .await
            .map_err(|_| FetchError::new("timed out"))?
    }

    async fn get_now(&self, url: &Url) -> Result<String, FetchError> {
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::new("no port"))?;
        let host = match url.host() {
            Some(Host::Domain(name)) => name.to_owned(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Err(FetchError::new("no host")),
        };
        let authority = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let target = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let request = Request::get(target)
            .header(HOST, authority)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, "example-server")
            .body(Vec::new())
            .map_err(FetchError::new)?;
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(FetchError::new)?;
        let (status, body) = match url.scheme() {
            "https" => {
                let tls = self
                    .tls
                    .as_ref()
                    .ok_or_else(|| FetchError::new("no TLS configuration"))?;
                let name = ServerName::try_from(host).map_err(FetchError::new)?;
                let stream = tls.connect(name, tcp).await.map_err(FetchError::new)?;
                exchange(stream, request, MAX_JWKS_LEN).await
            }
            // Plain http only where it never leaves this machine, whatever
            // the name resolved to.
            "http" if tcp.peer_addr().is_ok_and(|peer| peer.ip().is_loopback()) => {
                exchange(tcp, request, MAX_JWKS_LEN).await
            }
            _ => return Err(FetchError::new("not https, nor http on a loopback address")),
        }
        .map_err(FetchError::new)?;
        if status != StatusCode::OK {
            return Err(FetchError::new(format!("status {}", status.as_u16())));
        }
        String::from_utf8(body).map_err(|_| FetchError::new("not UTF-8"))
    }
}

impl Default for JwksClient {
    fn default() -> Self {
        Self::new()
    }
}

impl FetchJwks for JwksClient {
    fn fetch<'a>(&'a self, url: &'a Url) -> FetchFuture<'a> {
        Box::pin(self.get(url))
    }
}

impl std::fmt::Debug for JwksClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksClient")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use tokio::net::TcpListener;

    use super::*;

    async fn serve(router: Router) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn fetches_a_document_over_loopback_http_and_refuses_the_rest() {
        let long = "x".repeat(MAX_JWKS_LEN + 1);
        let base = serve(
            Router::new()
                .route("/jwks", get(|| async { r#"{"keys":[]}"# }))
                .route("/long", get(move || async move { long }))
                .route("/gone", get(|| async { (StatusCode::NOT_FOUND, "no") })),
        )
        .await;
        let client = JwksClient::new();
        let url = |path: &str| Url::parse(&format!("{base}{path}")).unwrap();
        assert_eq!(client.get(&url("/jwks")).await.unwrap(), r#"{"keys":[]}"#);
        let long = client.get(&url("/long")).await.unwrap_err().to_string();
        assert!(long.contains("longer than expected"), "{long}");
        let gone = client.get(&url("/gone")).await.unwrap_err().to_string();
        assert!(gone.ends_with("status 404"), "{gone}");
        let ftp = Url::parse("ftp://127.0.0.1:1/jwks").unwrap();
        assert!(client.get(&ftp).await.is_err());
    }
}
