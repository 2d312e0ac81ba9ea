//! One HTTP/1.1 request over one connection, with the response body read
//! up to a bound: all the HTTP client this server needs (a JWKS fetched,
//! in dev mode a webhook delivered to itself), on hyper's own client
//! connection rather than a general client with a pool, proxies and
//! redirects it would not use.

use std::fmt;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

/// Why an exchange failed. Says what went wrong, never what was sent or
/// received.
#[derive(Debug)]
pub enum ExchangeError {
    /// The connection failed, or the peer did not speak HTTP/1.1.
    Connection(hyper::Error),
    /// The response body was longer than the bound.
    TooLong,
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connection(error) => write!(f, "HTTP exchange failed: {error}"),
            Self::TooLong => f.write_str("the response body is longer than expected"),
        }
    }
}

impl std::error::Error for ExchangeError {}

/// Sends `request` over `io` and reads the response: its status and at
/// most `max_body` bytes of body (more is [`ExchangeError::TooLong`]).
/// The caller bounds the time.
pub async fn exchange<IO>(
    io: IO,
    request: Request<Vec<u8>>,
    max_body: usize,
) -> Result<(StatusCode, Vec<u8>), ExchangeError>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(ExchangeError::Connection)?;
    // The connection is driven beside the request, and ends with it.
    let driver = tokio::spawn(connection);
    let result = async {
        let response = sender
            .send_request(request.map(Full::<Bytes>::from))
            .await
            .map_err(ExchangeError::Connection)?;
        let status = response.status();
        let body = Limited::new(response.into_body(), max_body)
            .collect()
            .await
            .map_err(|error| match error.downcast::<hyper::Error>() {
                Ok(error) => ExchangeError::Connection(*error),
                Err(_) => ExchangeError::TooLong,
            })?;
        Ok((status, body.to_bytes().to_vec()))
    }
    .await;
    driver.abort();
    result
}
