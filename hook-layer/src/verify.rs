//! The verification policy: every rule a session token must pass, in one
//! place. The service only moves data in and out of here; the settings the
//! rules read are in `policy`.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use base64::Engine;
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess};
use serde_json::value::RawValue;
use url::{Host, Url};

use crate::base64url::BASE64URL;
use crate::expected::{Expected, NotAString};
use crate::jwt::{self, HS256_HEADER};
use crate::members::{Members, ObjectVisitor};
use crate::policy::Policy;
use crate::query;
use crate::rejection::{Rejection, malformed};
use crate::session::{HookSession, SessionCore};
use crate::tenant::Tenant;
use crate::token_source::{Bearer, TokenSource, bearer};
use crate::url_memo;
use crate::url_spelling::misleading_spelling;

/// 9999-12-31T23:59:59Z: later NumericDates are refused rather than
/// carried through time arithmetic.
const MAX_NUMERIC_DATE: u64 = 253_402_300_799;

impl Policy {
    /// Reads the token from a request URI's query and verifies it.
    pub(crate) fn verify_uri<C: DeserializeOwned>(
        self: &Arc<Self>,
        uri: &http::Uri,
    ) -> Result<HookSession<C>, Rejection> {
        self.verify_request(uri, &http::HeaderMap::new())
    }

    /// Reads the token from where the layer is configured to (the query,
    /// the `Authorization` header, or either) and verifies it.
    pub(crate) fn verify_request<C: DeserializeOwned>(
        self: &Arc<Self>,
        uri: &http::Uri,
        headers: &http::HeaderMap,
    ) -> Result<HookSession<C>, Rejection> {
        let result = self
            .token_from(uri.query().unwrap_or(""), headers)
            .and_then(|token| self.check_token(&token));
        self.count(&result);
        #[cfg(feature = "tracing")]
        if let Err(rejection) = &result {
            tracing::debug!(
                code = rejection.code(),
                reason = %rejection,
                path = uri.path(),
                "interaction hook refused a request"
            );
        }
        result
    }

    /// The token from the configured source. Bearer-only takes no token
    /// parameter in the query at all (its value is never read); with
    /// `QueryOrBearer`, a request with a token in both places must carry
    /// the same one in both.
    fn token_from<'r>(
        &self,
        query: &'r str,
        headers: &'r http::HeaderMap,
    ) -> Result<Cow<'r, str>, Rejection> {
        match self.source {
            TokenSource::Query => return self.token_from_query(query),
            TokenSource::Bearer if !matches!(query::find_raw(query, &self.param), Ok(None)) => {
                return Err(Rejection::TokenInQuery);
            }
            _ => {}
        }
        let header = match bearer(headers) {
            Bearer::Absent => None,
            Bearer::Token(token) => {
                self.check_length(token)?;
                Some(token)
            }
            Bearer::Duplicate => return Err(Rejection::DuplicateToken),
            Bearer::Malformed => {
                return Err(Rejection::MalformedToken(malformed::AUTHORIZATION));
            }
        };
        // Bearer-only has found no token parameter above.
        let in_query = match self.source {
            TokenSource::QueryOrBearer => match self.token_from_query(query) {
                Ok(token) => Some(token),
                Err(Rejection::MissingToken) => None,
                Err(other) => return Err(other),
            },
            _ => None,
        };
        match (header, in_query) {
            (Some(header), Some(query)) if header != query => Err(Rejection::ConflictingTokens),
            (Some(header), _) => Ok(Cow::Borrowed(header)),
            (None, Some(query)) => Ok(query),
            (None, None) => Err(Rejection::MissingToken),
        }
    }

    fn token_from_query<'q>(&self, query: &'q str) -> Result<Cow<'q, str>, Rejection> {
        let raw = match query::find_raw(query, &self.param) {
            Ok(Some(raw)) if !raw.is_empty() => raw,
            Ok(_) => return Err(Rejection::MissingToken),
            Err(query::Duplicate) => return Err(Rejection::DuplicateToken),
        };
        // The cap applies to the value as sent, before any decoding work.
        self.check_length(raw)?;
        query::decode_strict(raw).map_err(|_| Rejection::BadEncoding)
    }

    fn check_length(&self, token: &str) -> Result<(), Rejection> {
        if token.len() > self.max_token_len {
            return Err(Rejection::TokenTooLong {
                len: token.len(),
                max: self.max_token_len,
            });
        }
        Ok(())
    }

    /// Verifies a compact token, and counts the outcome.
    pub(crate) fn verify_token<C: DeserializeOwned>(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<HookSession<C>, Rejection> {
        let result = self.check_token(token);
        self.count(&result);
        result
    }

    /// Counts an accepted token by tenant, a refusal by reason (a no-op
    /// without the `metrics` feature).
    #[inline]
    fn count<C>(&self, result: &Result<HookSession<C>, Rejection>) {
        match result {
            Ok(session) => self
                .metrics
                .accepted(session.core().tenant, || self.tenant_labels()),
            Err(rejection) => crate::metrics::refused(rejection.code()),
        }
    }

    /// Verifies a compact token: shape, header, signature, then claims.
    fn check_token<C: DeserializeOwned>(
        self: &Arc<Self>,
        token: &str,
    ) -> Result<HookSession<C>, Rejection> {
        self.check_length(token)?;
        let (header, payload, signature) = segments(token).ok_or(Rejection::MalformedToken(
            "expected three dot-separated segments",
        ))?;
        check_header(header)?;
        let signing_input = &token.as_bytes()[..header.len() + 1 + payload.len()];
        let tag = jwt::decode_tag(signature).ok_or(Rejection::BadSignature)?;
        if self.tenants.is_single() {
            let tenant = &self.tenants.list[0];
            let secret = verify_signature(tenant, signing_input, &tag)?;
            // Only a token signed with a secret of the tenant gets this far.
            with_payload(payload, |json| {
                // The user claims straight into `C`, in the one pass over
                // the payload. If that fails, the payload is read again with
                // the claims kept raw, so that the refusal is the precise one.
                if let Ok(parsed) = parse_payload::<Option<C>>(json) {
                    let claims = Claims::Parsed(parsed.claims.flatten());
                    return self.check_claims(parsed.registered, claims, token, 0, secret);
                }
                let raw = parse_payload::<Option<&RawValue>>(json)?;
                let claims = Claims::Raw(raw.claims.flatten());
                self.check_claims(raw.registered, claims, token, 0, secret)
            })
        } else {
            // Several tenants: `iss` chooses whose secrets to try, and
            // grants nothing. An unknown issuer costs no HMAC.
            // The user claims are kept raw until the signature is checked:
            // nothing but `iss` is read from an unauthenticated payload.
            with_payload(payload, |json| {
                let raw = parse_payload::<Option<&RawValue>>(json)?;
                let issuer = required_str(raw.registered.iss, "iss")?;
                let position = self.tenants.find(&issuer).ok_or(Rejection::WrongIssuer)?;
                let secret = verify_signature(&self.tenants.list[position], signing_input, &tag)?;
                let claims = Claims::Raw(raw.claims.flatten());
                self.check_claims(raw.registered, claims, token, position, secret)
            })
        }
    }

    fn check_claims<C: DeserializeOwned>(
        self: &Arc<Self>,
        payload: Registered<'_>,
        claims: Claims<'_, C>,
        token: &str,
        tenant_index: usize,
        secret_index: usize,
    ) -> Result<HookSession<C>, Rejection> {
        let tenant = &self.tenants.list[tenant_index];
        let expires_at = numeric_date(payload.exp, "exp")?;
        let not_before = numeric_date(payload.nbf, "nbf")?;
        let issued_at = numeric_date(payload.iat, "iat")?;
        self.check_lifetime(expires_at, not_before, issued_at, self.now())?;

        let issuer = match (&tenant.issuer, payload.iss) {
            (Some(expected), Some(raw)) => match expected.find(raw) {
                Ok(Some(issuer)) => issuer,
                Ok(None) => return Err(Rejection::WrongIssuer),
                Err(NotAString) => return Err(Rejection::InvalidClaim("iss")),
            },
            (_, raw) => required_string(raw, "iss")?.into(),
        };
        let audience = check_audience(tenant.audience.as_ref(), payload.aud)?;
        let state = required_string(payload.state, "state")?;
        let redirect_url = required_str(payload.redirect_url, "redirectUrl")?;
        let redirect_url = self.check_redirect_url(&redirect_url)?;

        let claims = match claims {
            Claims::Parsed(Some(claims)) => Ok(claims),
            Claims::Raw(Some(raw)) => serde_json::from_str(raw.get()),
            Claims::Parsed(None) | Claims::Raw(None) => serde_json::from_str("{}"),
        }
        .map_err(|_| Rejection::ClaimsMismatch)?;

        let core = SessionCore {
            state,
            redirect_url,
            issuer,
            audience,
            issued_at,
            expires_at,
            token: token.into(),
            tenant: tenant_index,
            secret: secret_index,
            policy: Arc::clone(self),
        };
        Ok(HookSession::new(core, claims))
    }

    /// The lifetime rules. `exp`, when present, governs: the tenant's
    /// session timeout may be longer than any maximum age of ours, and a
    /// slow user must not be refused early. The maximum age bounds a token
    /// without `exp`; a token with neither cannot be bounded, and is
    /// refused unless the layer was told to accept such tokens.
    ///
    /// With leeway `L`, a token is valid at `now` when
    /// `now < exp + L`, `now + L >= nbf`, `now + L >= iat`, and (without
    /// `exp`) `now <= iat + max_age + L`.
    fn check_lifetime(
        &self,
        expires_at: Option<u64>,
        not_before: Option<u64>,
        issued_at: Option<u64>,
        now: u64,
    ) -> Result<(), Rejection> {
        let leeway = self.leeway;
        let started = |at: Option<u64>| at.is_none_or(|at| now.saturating_add(leeway) >= at);
        if !started(not_before) || !started(issued_at) {
            return Err(Rejection::NotYetValid);
        }
        let live = match (expires_at, issued_at) {
            (Some(exp), _) => now < exp.saturating_add(leeway),
            (None, Some(iat)) => now <= iat.saturating_add(self.max_age).saturating_add(leeway),
            (None, None) if self.allow_no_lifetime => true,
            (None, None) => return Err(Rejection::NoLifetime),
        };
        if live {
            Ok(())
        } else {
            Err(Rejection::Expired)
        }
    }
}

/// `aud` may be a string or an array (RFC 7519 section 4.1.3). The
/// audience recorded is the token's spelling of the expected one, or, with
/// none expected, the token's first.
fn check_audience(
    expected_audience: Option<&Expected>,
    raw: Option<&RawValue>,
) -> Result<Arc<str>, Rejection> {
    let raw = raw.ok_or(Rejection::MissingClaim("aud"))?;
    if let Some(expected) = expected_audience
        && let Ok(Some(audience)) = expected.find(raw)
    {
        return Ok(audience);
    }
    let raw = raw.get();
    // Which shape it is shows in the first character; reading it as an
    // untagged enum instead would buffer the value first.
    let audiences = if raw.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<String>>(raw)
    } else {
        serde_json::from_str::<String>(raw).map(|one| vec![one])
    }
    .map_err(|_| Rejection::InvalidClaim("aud"))?;
    match (expected_audience, audiences.first()) {
        (_, None) => Err(Rejection::InvalidClaim("aud")),
        (Some(expected), _) => audiences
            .iter()
            .find_map(|audience| expected.find_text(audience))
            .ok_or(Rejection::WrongAudience),
        (None, Some(first)) if first.is_empty() => Err(Rejection::InvalidClaim("aud")),
        (None, Some(first)) => Ok(first.as_str().into()),
    }
}

/// Checks the tag against each of the tenant's secrets, the current one
/// first; returns which one matched.
fn verify_signature(
    tenant: &Tenant,
    signing_input: &[u8],
    tag: &[u8; jwt::TAG_LEN],
) -> Result<usize, Rejection> {
    for (index, secret) in tenant.secrets.iter().enumerate() {
        match secret.keys().verify_tag(signing_input, tag) {
            Ok(true) => return Ok(index),
            Ok(false) => {}
            Err(_) => return Err(Rejection::CryptoFailure),
        }
    }
    Err(Rejection::BadSignature)
}

/// Decodes the payload into this thread's scratch buffer and reads it.
///
/// A payload is read only while the session is built (the session owns
/// what it keeps), so one buffer per thread serves every request, and a
/// payload of a typical token, over a kilobyte, needs no fresh allocation
/// each time (with glibc's allocator, one that size takes its slower path).
/// A verification nested inside `read` (a claims type that verifies
/// another token while it is read) finds the slot empty and uses a buffer
/// of its own.
fn with_payload<R>(
    encoded: &str,
    read: impl FnOnce(&[u8]) -> Result<R, Rejection>,
) -> Result<R, Rejection> {
    let mut json = Scratch(SCRATCH.try_with(Cell::take).unwrap_or_default());
    json.0.clear();
    match BASE64URL.decode_vec(encoded, &mut json.0) {
        Ok(()) => read(&json.0),
        Err(_) => Err(Rejection::MalformedToken(malformed::PAYLOAD_BASE64)),
    }
}

thread_local! {
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The payload buffer while it is in use. However its use ends (a result,
/// a refusal or a panic), it is zeroed, so that no user's claims linger in
/// it, and handed back to the thread unless it grew over
/// [`MAX_KEPT_PAYLOAD`]. Each use zeroes what it wrote, and decoding writes
/// nothing past the decoded length, so the spare capacity stays zero too.
struct Scratch(Vec<u8>);

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut json = std::mem::take(&mut self.0);
        json.fill(0);
        if json.capacity() <= MAX_KEPT_PAYLOAD {
            // Fails only while the thread is exiting; the buffer is freed then.
            let _ = SCRATCH.try_with(|scratch| scratch.set(json));
        }
    }
}

/// The largest payload buffer a thread keeps between requests: that of a
/// token at the default length cap, with room to spare.
const MAX_KEPT_PAYLOAD: usize = 8 * 1024;

fn parse_payload<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<Payload<'a, T>, Rejection> {
    json_object(json, malformed::PAYLOAD_UTF8, malformed::PAYLOAD_OBJECT)
}

impl Policy {
    /// The redirect policy. The token is signed, so this is defence in
    /// depth: the browser must only ever be sent to a plain https address
    /// (of an allowed origin, when a list is set), never to a script, a data
    /// URL, an address that parses differently than it reads, or this
    /// machine (unless loopback redirects are allowed, for development).
    fn check_redirect_url(&self, raw: &str) -> Result<Arc<Url>, Rejection> {
        let refuse = |why| Err(Rejection::InvalidRedirectUrl(why));
        if let Some(why) = misleading_spelling(raw) {
            return refuse(why);
        }
        let Ok(url) = url_memo::parse(raw) else {
            return refuse("it is not an absolute URL");
        };
        let loopback = match url.host() {
            Some(Host::Domain(domain)) => is_localhost(domain),
            Some(Host::Ipv4(ip)) if ip.is_loopback() => true,
            Some(Host::Ipv6(ip)) if ip.is_loopback() => true,
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
                return refuse("it names an IP address instead of a host");
            }
            None => return refuse("it has no host"),
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return refuse("http is allowed only for loopback hosts in development"),
            _ => return refuse("its scheme is not https"),
        }
        if loopback && !self.allow_loopback {
            return refuse("it points at this machine, which is allowed only in development");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("it carries user information");
        }
        if !self.redirect_origins.is_empty() && !self.redirect_origins.contains(&url.origin()) {
            return refuse("its origin is not in the allowed list");
        }
        Ok(url)
    }
}

/// `localhost` and every name under it, with or without the final dot:
/// RFC 6761 section 6.3 reserves them all for this machine, and resolvers
/// answer them with loopback addresses.
fn is_localhost(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    domain == "localhost" || domain.ends_with(".localhost")
}

/// The JOSE header: only what is checked. Unknown parameters (`typ`, `kid`,
/// `jku`, ...) are ignored: the key is fixed, nothing in the header can
/// choose another. A repeated name makes the header malformed.
#[derive(Default)]
struct Header<'a> {
    alg: Option<&'a RawValue>,
    /// Whether `crit` is there at all, whatever its value (even `null`).
    crit: bool,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor::new())
    }
}

impl<'de> Members<'de> for Header<'de> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        name: &str,
        map: &mut A,
    ) -> Result<Option<u32>, A::Error> {
        match name {
            "alg" => {
                self.alg = map.next_value()?;
                Ok(Some(0))
            }
            "crit" => {
                map.next_value::<IgnoredAny>()?;
                self.crit = true;
                Ok(Some(1))
            }
            _ => Ok(None),
        }
    }
}

/// Reads a decoded segment as a JSON object. serde reads a struct from a
/// JSON array too (by position); a JWS header and claims set must be
/// objects (RFC 7515 section 4, RFC 7519 section 7.2), so arrays are
/// refused here first. JSON text is UTF-8 (RFC 8259 section 8.1), which
/// serde_json checks only in the strings it reads, not in members it skips.
fn json_object<'a, T: Deserialize<'a>>(
    json: &'a [u8],
    not_utf8: &'static str,
    not_object: &'static str,
) -> Result<T, Rejection> {
    let text = std::str::from_utf8(json).map_err(|_| Rejection::MalformedToken(not_utf8))?;
    if !text.trim_start().starts_with('{') {
        return Err(Rejection::MalformedToken(not_object));
    }
    serde_json::from_str(text).map_err(|_| Rejection::MalformedToken(not_object))
}

fn check_header(encoded: &str) -> Result<(), Rejection> {
    // MATTR VII always sends this exact header; recognising it skips the
    // decoding. Any other spelling takes the full path below.
    if encoded == HS256_HEADER {
        return Ok(());
    }
    let json = BASE64URL
        .decode(encoded)
        .map_err(|_| Rejection::MalformedToken("the header is not base64url"))?;
    let header: Header<'_> = json_object(
        &json,
        "the header is not UTF-8",
        "the header is not a JSON object with unique names",
    )?;
    if header.crit {
        return Err(Rejection::CriticalHeader);
    }
    // Exactly the JSON text "HS256": no other algorithm, spelling or escape.
    match header.alg {
        Some(alg) if alg.get() == r#""HS256""# => Ok(()),
        _ => Err(Rejection::WrongAlgorithm),
    }
}

/// The registered and MATTR claims, captured unparsed so that each can be
/// checked with its own precise refusal.
#[derive(Default)]
struct Registered<'a> {
    iss: Option<&'a RawValue>,
    aud: Option<&'a RawValue>,
    exp: Option<&'a RawValue>,
    nbf: Option<&'a RawValue>,
    iat: Option<&'a RawValue>,
    state: Option<&'a RawValue>,
    redirect_url: Option<&'a RawValue>,
}

/// The payload: the registered claims, and the user claims as `T` (raw, or
/// already in the layer's claims type). Unknown claims are skipped; a
/// repeated name, known or not, makes the payload malformed.
struct Payload<'a, T> {
    registered: Registered<'a>,
    claims: Option<T>,
}

impl<T> Default for Payload<'_, T> {
    fn default() -> Self {
        Self {
            registered: Registered::default(),
            claims: None,
        }
    }
}

/// The user claims, as the payload gave them.
enum Claims<'a, C> {
    /// Already read into the claims type (`None`: absent or `null`).
    Parsed(Option<C>),
    /// Kept raw, to be read once everything else passed.
    Raw(Option<&'a RawValue>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Payload<'de, T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor::new())
    }
}

impl<'de, T: Deserialize<'de>> Members<'de> for Payload<'de, T> {
    fn member<A: MapAccess<'de>>(
        &mut self,
        name: &str,
        map: &mut A,
    ) -> Result<Option<u32>, A::Error> {
        let registered = &mut self.registered;
        let (slot, index) = match name {
            "iss" => (&mut registered.iss, 0),
            "aud" => (&mut registered.aud, 1),
            "exp" => (&mut registered.exp, 2),
            "nbf" => (&mut registered.nbf, 3),
            "iat" => (&mut registered.iat, 4),
            "state" => (&mut registered.state, 5),
            "redirectUrl" => (&mut registered.redirect_url, 6),
            "claims" => {
                self.claims = Some(map.next_value()?);
                return Ok(Some(7));
            }
            _ => return Ok(None),
        };
        *slot = map.next_value()?;
        Ok(Some(index))
    }
}

/// The three segments of a compact JWS, found with memchr (a token is
/// mostly one long run without dots).
fn segments(token: &str) -> Option<(&str, &str, &str)> {
    let first = memchr::memchr(b'.', token.as_bytes())?;
    let (header, rest) = (&token[..first], &token[first + 1..]);
    let second = memchr::memchr(b'.', rest.as_bytes())?;
    let (payload, signature) = (&rest[..second], &rest[second + 1..]);
    if memchr::memchr(b'.', signature.as_bytes()).is_some() {
        return None;
    }
    Some((header, payload, signature))
}

/// A NumericDate (RFC 7519 section 2): a non-negative JSON number of
/// seconds. Fractions are allowed and rounded down.
fn numeric_date(raw: Option<&RawValue>, claim: &'static str) -> Result<Option<u64>, Rejection> {
    let Some(raw) = raw else { return Ok(None) };
    let seconds = match raw.get().parse::<u64>() {
        Ok(seconds) => seconds,
        Err(_) => match serde_json::from_str::<f64>(raw.get()) {
            Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => seconds as u64,
            _ => return Err(Rejection::InvalidClaim(claim)),
        },
    };
    if seconds > MAX_NUMERIC_DATE {
        return Err(Rejection::InvalidClaim(claim));
    }
    Ok(Some(seconds))
}

fn required_string(raw: Option<&RawValue>, claim: &'static str) -> Result<String, Rejection> {
    required_str(raw, claim).map(Cow::into_owned)
}

/// A required, non-empty string claim, borrowed from the payload unless it
/// has escapes: for claims that are only looked at, never kept.
fn required_str<'a>(
    raw: Option<&'a RawValue>,
    claim: &'static str,
) -> Result<Cow<'a, str>, Rejection> {
    let raw = raw.ok_or(Rejection::MissingClaim(claim))?;
    // serde reads a `Cow<str>` as owned whatever the text; `&str` borrows,
    // and fails only on escapes, which then take the owned path.
    let value = match serde_json::from_str::<&'a str>(raw.get()) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => serde_json::from_str::<String>(raw.get())
            .map(Cow::Owned)
            .map_err(|_| Rejection::InvalidClaim(claim))?,
    };
    if value.is_empty() {
        return Err(Rejection::InvalidClaim(claim));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::fixtures::{NOW, at, issuer, layer_at, secret};
    use crate::testing::MockIssuer;
    use crate::{HookSecret, InteractionHookLayer};

    fn verify_at(now: u64, token: &str) -> Result<HookSession, Rejection> {
        layer_at(now).verify_token(token)
    }

    fn verify(token: &str) -> Result<HookSession, Rejection> {
        verify_at(NOW, token)
    }

    #[test]
    fn accepts_a_token_shaped_like_mattrs() {
        let token = issuer()
            .session()
            .state("af0ifjsldkj")
            .claim("email", "ada@example.com")
            .claim("given_name", "Ada")
            .token();
        let session = verify(&token).unwrap();
        assert_eq!(session.state(), "af0ifjsldkj");
        assert_eq!(session.issuer(), MockIssuer::TENANT);
        assert_eq!(session.audience(), MockIssuer::HOOK_URL);
        assert_eq!(session.redirect_url().as_str(), MockIssuer::REDIRECT_URL);
        assert_eq!(session.claims()["given_name"], "Ada");
        assert_eq!(
            session.issued_at(),
            Some(UNIX_EPOCH + Duration::from_secs(NOW))
        );
        assert_eq!(
            session.expires_at(),
            Some(UNIX_EPOCH + Duration::from_secs(NOW + 1200))
        );
        assert_eq!(session.token(), token);
    }

    /// The checks run in `Check::ALL`'s order, which is what lets an
    /// explanation mark every check before the refusing one as passed: a
    /// token broken at every step from the header on is refused at the
    /// first step still broken, as the faults are mended one by one.
    #[test]
    fn checks_run_in_the_documented_order() {
        use crate::Check;
        let other = HookSecret::from_bytes(&[0x5a; 32]).unwrap();
        let faults = [
            Check::Header,
            Check::Signature,
            Check::Lifetime,
            Check::Issuer,
            Check::Audience,
            Check::State,
            Check::RedirectUrl,
            Check::Claims,
        ];
        assert!(faults.is_sorted() && Check::ALL.is_sorted());
        for (first, expected) in faults.iter().enumerate() {
            let broken = |check: Check| faults[first..].contains(&check);
            let mut payload = issuer().session().payload().clone();
            let mut set = |check: Check, name: &str, value: serde_json::Value| {
                if broken(check) {
                    payload.insert(name.to_owned(), value);
                }
            };
            set(Check::Lifetime, "exp", json!(NOW - 3600));
            set(Check::Issuer, "iss", json!("https://other.example"));
            set(Check::Audience, "aud", json!("https://other.example/hook"));
            set(Check::State, "state", json!(5));
            set(
                Check::RedirectUrl,
                "redirectUrl",
                json!("javascript:alert(1)"),
            );
            set(Check::Claims, "claims", json!(7));
            let header: &[u8] = if broken(Check::Header) {
                br#"{"alg":"HS512"}"#
            } else {
                br#"{"alg":"HS256"}"#
            };
            let key = if broken(Check::Signature) {
                other.clone()
            } else {
                secret()
            };
            let token = key
                .keys()
                .sign_raw(header, &serde_json::to_vec(&payload).unwrap())
                .unwrap();
            assert_eq!(verify(&token).unwrap_err().check(), *expected);
        }
    }

    /// Each lifetime rule, one second either side of its edge, with the
    /// default 30 s leeway and 1200 s maximum age.
    #[test]
    fn lifetime_edges_to_the_second() {
        let mock = issuer();
        let with_exp = mock.session().set("iat", NOW).set("exp", NOW + 100).token();
        assert!(verify_at(NOW + 129, &with_exp).is_ok());
        assert_eq!(
            verify_at(NOW + 130, &with_exp).unwrap_err(),
            Rejection::Expired
        );

        // `exp` governs even past the maximum age.
        let long = mock
            .session()
            .set("iat", NOW)
            .set("exp", NOW + 5000)
            .token();
        assert!(verify_at(NOW + 5029, &long).is_ok());
        assert_eq!(
            verify_at(NOW + 5030, &long).unwrap_err(),
            Rejection::Expired
        );

        // Without `exp`, the maximum age from `iat` bounds the token.
        let no_exp = mock.session().set("iat", NOW).remove("exp").token();
        assert!(verify_at(NOW + 1230, &no_exp).is_ok());
        assert_eq!(
            verify_at(NOW + 1231, &no_exp).unwrap_err(),
            Rejection::Expired
        );

        // `iat` in the future, beyond the leeway.
        let future = mock
            .session()
            .set("iat", NOW + 31)
            .set("exp", NOW + 1000)
            .token();
        assert_eq!(verify_at(NOW, &future).unwrap_err(), Rejection::NotYetValid);
        assert!(verify_at(NOW + 1, &future).is_ok());

        // `nbf`, the same way.
        let nbf = mock.session().set("nbf", NOW + 30).token();
        assert_eq!(
            verify_at(NOW - 1, &nbf).unwrap_err(),
            Rejection::NotYetValid
        );
        assert!(verify_at(NOW, &nbf).is_ok());

        let neither = mock.session().remove("iat").remove("exp").token();
        assert_eq!(verify(&neither).unwrap_err(), Rejection::NoLifetime);
        assert!(
            Rejection::NoLifetime
                .to_string()
                .contains("allow_tokens_without_lifetime"),
            "the refusal names the way out"
        );
        let exp_only = mock.session().remove("iat").set("exp", NOW + 10).token();
        assert!(verify(&exp_only).is_ok());
    }

    #[test]
    fn tokens_without_lifetime_only_when_allowed() {
        let mock = issuer();
        let neither = mock.session().remove("iat").remove("exp").token();
        let lenient = layer_at(NOW).allow_tokens_without_lifetime();
        let session = lenient.verify_token(&neither).unwrap();
        assert_eq!((session.issued_at(), session.expires_at()), (None, None));
        // Still accepted much later: nothing bounds it, as documented.
        let later = lenient.clone().clock(at(NOW + 10 * 365 * 86_400));
        assert!(later.verify_token(&neither).is_ok());
        // A token that has a lifetime is still held to it.
        let expired = mock.session().set("exp", NOW - 31).token();
        assert_eq!(
            lenient.verify_token(&expired).unwrap_err(),
            Rejection::Expired
        );
        let old = mock.session().set("iat", NOW - 1231).remove("exp").token();
        assert_eq!(lenient.verify_token(&old).unwrap_err(), Rejection::Expired);
        let future = mock.session().remove("exp").set("nbf", NOW + 31).token();
        assert_eq!(
            lenient.verify_token(&future).unwrap_err(),
            Rejection::NotYetValid
        );
    }

    #[test]
    fn leeway_and_max_age_are_configurable() {
        let mock = issuer();
        let token = mock.session().set("iat", NOW).set("exp", NOW + 100).token();
        let strict = layer_at(NOW + 100).leeway(Duration::ZERO);
        assert_eq!(strict.verify_token(&token).unwrap_err(), Rejection::Expired);
        assert!(
            strict
                .clone()
                .clock(at(NOW + 99))
                .verify_token(&token)
                .is_ok()
        );

        let no_exp = mock.session().set("iat", NOW).remove("exp").token();
        let short = layer_at(NOW + 71).max_age(Duration::from_secs(40));
        assert_eq!(short.verify_token(&no_exp).unwrap_err(), Rejection::Expired);
        assert!(short.clock(at(NOW + 70)).verify_token(&no_exp).is_ok());
    }

    #[test]
    fn numeric_dates_must_be_non_negative_numbers() {
        let mock = issuer();
        let fractional = mock.session().set("exp", (NOW + 10) as f64 + 0.9).token();
        assert!(verify(&fractional).is_ok());
        for (claim, value) in [
            ("exp", json!("1764422460")),
            ("exp", json!(-1)),
            ("exp", json!(1e300)),
            ("exp", json!(u64::MAX)),
            ("exp", json!(MAX_NUMERIC_DATE + 1)),
            ("iat", json!(true)),
            ("nbf", json!({"at": 1})),
        ] {
            let token = mock.session().set(claim, value.clone()).token();
            assert_eq!(
                verify(&token).unwrap_err(),
                Rejection::InvalidClaim(claim),
                "{claim}: {value}"
            );
        }
    }

    #[test]
    fn checks_issuer_and_audience_when_configured() {
        let mock = issuer();
        let other_tenant = mock
            .session()
            .issuer("https://other.vii.au01.mattr.global")
            .token();
        assert_eq!(verify(&other_tenant).unwrap_err(), Rejection::WrongIssuer);
        let other_hook = mock
            .session()
            .audience("https://evil.example/interaction")
            .token();
        assert_eq!(verify(&other_hook).unwrap_err(), Rejection::WrongAudience);

        let listed = mock
            .session()
            .audience(["https://x.example", MockIssuer::HOOK_URL])
            .token();
        assert_eq!(verify(&listed).unwrap().audience(), MockIssuer::HOOK_URL);
        let unlisted = mock.session().audience(["https://x.example"]).token();
        assert_eq!(verify(&unlisted).unwrap_err(), Rejection::WrongAudience);
        let empty = mock.session().audience(Vec::<String>::new()).token();
        assert_eq!(verify(&empty).unwrap_err(), Rejection::InvalidClaim("aud"));
        let number = mock.session().audience(5).token();
        assert_eq!(verify(&number).unwrap_err(), Rejection::InvalidClaim("aud"));

        // Unconfigured, any issuer and audience pass, and the token's are kept.
        let open = InteractionHookLayer::new(secret()).clock(at(NOW));
        let session: HookSession = open.verify_token(&other_tenant).unwrap();
        assert_eq!(session.issuer(), "https://other.vii.au01.mattr.global");
        let session: HookSession = open.verify_token(&listed).unwrap();
        assert_eq!(session.audience(), "https://x.example");
    }

    /// MATTR's sample mounts the hook at the root of a tunnel URL and uses
    /// the bare URL as the audience; users type it with or without `/`.
    #[test]
    fn a_hook_url_without_a_path_is_an_audience() {
        let mock = issuer();
        for (configured, sent) in [
            ("https://abcd.ngrok.app", "https://abcd.ngrok.app"),
            ("https://abcd.ngrok.app", "https://abcd.ngrok.app/"),
            ("https://abcd.ngrok.app/", "https://abcd.ngrok.app"),
            ("https://abcd.ngrok.app/", "https://abcd.ngrok.app/"),
            ("https://ABCD.ngrok.app:443", "https://abcd.ngrok.app"),
        ] {
            let layer = layer_at(NOW).audience(configured);
            let token = mock.session().audience(sent).token();
            let session = layer.verify_token(&token).unwrap();
            // The response's `iss` echoes the tenant's spelling.
            assert_eq!(session.audience(), sent, "{configured} / {sent}");
            let listed = mock.session().audience(["https://x.example", sent]).token();
            assert_eq!(layer.verify_token(&listed).unwrap().audience(), sent);
        }
        let root = layer_at(NOW).audience("https://abcd.ngrok.app");
        for other in [
            "https://abcd.ngrok.app/interaction",
            "https://abcd.ngrok.app:8443",
            "http://abcd.ngrok.app",
            "https://abcd.ngrok.app.evil.example",
            "https://abcd.ngrok.app/?x=1",
            "abcd.ngrok.app",
        ] {
            let token = mock.session().audience(other).token();
            assert_eq!(
                root.verify_token(&token).unwrap_err(),
                Rejection::WrongAudience,
                "{other}"
            );
        }
        // After a path, a trailing slash is a different URL.
        let token = mock
            .session()
            .audience("https://hook.example.com/interaction/")
            .token();
        assert_eq!(verify(&token).unwrap_err(), Rejection::WrongAudience);
    }

    #[test]
    fn issuer_spellings_compare_as_urls() {
        let mock = issuer();
        for configured in [
            "https://Tenant.VII.au01.mattr.global",
            "HTTPS://tenant.vii.au01.mattr.global",
            "https://tenant.vii.au01.mattr.global:443",
            "https://tenant.vii.au01.mattr.global/",
        ] {
            let layer = layer_at(NOW).issuer(configured);
            let session = layer.verify_token(&mock.session().token()).unwrap();
            // The session, and so the response's `aud`, keeps the tenant's
            // own spelling.
            assert_eq!(session.issuer(), MockIssuer::TENANT, "{configured}");
        }
        let layer = layer_at(NOW);
        for other in [
            // Spellings a URL parser would quietly read as the tenant's URL.
            "https:\\\\tenant.vii.au01.mattr.global",
            "https:tenant.vii.au01.mattr.global",
            "https:///tenant.vii.au01.mattr.global",
            "https://ten\ttant.vii.au01.mattr.global",
            " https://tenant.vii.au01.mattr.global",
            "https://tenant.vii.au01.mattr.global/x/..",
            "https://tenant.vii.au01.mattr.global/%2e",
            "https://%74enant.vii.au01.mattr.global",
            "https://ｔｅｎａｎｔ.vii.au01.mattr.global",
            "https://tenant.vii.au01.mattr.global:8443",
            "https://tenant.vii.au01.mattr.global/v1",
            "https://tenant.vii.au01.mattr.global.",
            "https://other.vii.au01.mattr.global",
            "tenant.vii.au01.mattr.global",
        ] {
            let token = mock.session().issuer(other).token();
            assert_eq!(
                layer.verify_token(&token).unwrap_err(),
                Rejection::WrongIssuer,
                "{other}"
            );
        }
        // A configured value that is not a URL is compared exactly.
        let opaque = layer_at(NOW).issuer("tenant-a");
        let token = mock.session().issuer("tenant-a").token();
        assert_eq!(opaque.verify_token(&token).unwrap().issuer(), "tenant-a");
        let token = mock.session().issuer("Tenant-A").token();
        assert_eq!(
            opaque.verify_token(&token).unwrap_err(),
            Rejection::WrongIssuer
        );
    }

    #[test]
    fn requires_the_protocol_claims() {
        let mock = issuer();
        for claim in ["iss", "aud", "state", "redirectUrl"] {
            let token = mock.session().remove(claim).token();
            assert_eq!(
                verify(&token).unwrap_err(),
                Rejection::MissingClaim(claim),
                "{claim}"
            );
            let null = mock.session().set(claim, json!(null)).token();
            assert_eq!(
                verify(&null).unwrap_err(),
                Rejection::MissingClaim(claim),
                "{claim}"
            );
            let empty = mock.session().set(claim, "").token();
            assert!(verify(&empty).is_err(), "{claim}");
            let number = mock.session().set(claim, 7).token();
            assert!(verify(&number).is_err(), "{claim}");
        }
        let no_claims = mock.session().remove("claims").token();
        assert!(verify(&no_claims).unwrap().claims().is_empty());
    }

    #[test]
    fn each_payload_is_read_alone_on_a_thread_that_read_others() {
        // The payload buffer is kept per thread: nothing of a longer
        // payload may show through a shorter one, nor redeem a bad one.
        let long = issuer().session().claim("note", "n".repeat(2000)).token();
        let short = issuer().session().claim("given_name", "Ada").token();
        for _ in 0..2 {
            let session = verify(&long).unwrap();
            assert_eq!(session.claims()["note"].as_str().unwrap().len(), 2000);
            let session = verify(&short).unwrap();
            assert_eq!(session.claims().len(), 1, "{:?}", session.claims());
            assert_eq!(session.claims()["given_name"], "Ada");
        }
        let not_json = issuer().sign_raw(br#"{"alg":"HS256","typ":"JWT"}"#, b"{\"state\":");
        assert!(matches!(
            verify(&not_json),
            Err(Rejection::MalformedToken(_))
        ));
        assert_eq!(verify(&short).unwrap().claims()["given_name"], "Ada");
    }

    #[test]
    fn the_payload_buffer_is_zeroed_however_its_use_ends() {
        /// Claims whose reading panics halfway through the payload.
        struct Boom;
        impl<'de> Deserialize<'de> for Boom {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("a claims type that panics")
            }
        }
        let kept = || {
            SCRATCH.with(|scratch| {
                let buffer = scratch.take();
                let copy = buffer.clone();
                scratch.set(buffer);
                copy
            })
        };
        let token = issuer().session().claim("given_name", "Ada").token();
        verify(&token).unwrap();
        let after_use = kept();
        assert!(!after_use.is_empty() && after_use.iter().all(|&b| b == 0));

        let layer = layer_at(NOW).claims::<Boom>();
        let panicked =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| layer.verify_token(&token)));
        assert!(panicked.is_err());
        let after_panic = kept();
        assert!(!after_panic.is_empty() && after_panic.iter().all(|&b| b == 0));
        assert!(verify(&token).is_ok());
    }

    #[test]
    fn tolerates_unknown_claims() {
        let token = issuer()
            .session()
            .set("sub", "user-1")
            .set("jti", "abc")
            .set("nonce", 5)
            .token();
        assert!(verify(&token).is_ok());
    }

    #[test]
    fn redirect_url_policy() {
        let mock = issuer();
        let check = |url: &str| verify(&mock.session().redirect_url(url).token());
        assert!(check("https://tenant.vii.au01.mattr.global/callback?x=1#y").is_ok());
        // Names that merely contain "localhost" are not this machine.
        assert!(check("https://localhost.example/cb").is_ok());
        assert!(check("https://mylocalhost/cb").is_ok());
        let development = layer_at(NOW).allow_loopback_redirects();
        for loopback in [
            "https://localhost./cb",
            "https://app.localhost/cb",
            "https://app.localhost./cb",
            "https://LOCALHOST/cb",
            "http://a.b.localhost:8080/cb",
            "http://localhost:3000/dev/callback",
            "http://127.0.0.1:3000/dev/callback",
            "http://[::1]/cb",
            "https://127.0.0.1/cb",
            "https://localhost/cb",
        ] {
            let token = mock.session().redirect_url(loopback).token();
            assert!(development.verify_token(&token).is_ok(), "{loopback}");
            assert!(
                matches!(check(loopback), Err(Rejection::InvalidRedirectUrl(_))),
                "{loopback}"
            );
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "http://tenant.example/callback",
            "https://user:pass@tenant.example/cb",
            "https://user@tenant.example/cb",
            "https://203.0.113.9/cb",
            "https://[2001:db8::1]/cb",
            "https://tenant.example/c b",
            "https://tenant.example/cb\n",
            " https://tenant.example/cb",
            "https://tenant\t.example/cb",
            "/relative/callback",
            "ftp://tenant.example/cb",
            "https:tenant.example",
            "https:/tenant.example/cb",
            "https://tenant.example\\@evil.example/",
            "https://evil.example\\tenant.example/",
            "https:///tenant.example/cb",
            "https:////tenant.example/cb",
            "https:///",
            "https://",
            "://tenant.example/cb",
        ] {
            assert!(
                matches!(check(bad), Err(Rejection::InvalidRedirectUrl(_))),
                "{bad:?}: {:?}",
                check(bad)
            );
        }
    }

    #[test]
    fn redirect_origins_allow_list() {
        let mock = issuer();
        let layer = layer_at(NOW)
            .allow_redirect_origin(&Url::parse("https://tenant.vii.au01.mattr.global").unwrap())
            .allow_redirect_origin(&Url::parse("https://other.example:8443/ignored/path").unwrap());
        let check = |url: &str| layer.verify_token(&mock.session().redirect_url(url).token());
        assert!(check("https://tenant.vii.au01.mattr.global/cb").is_ok());
        assert!(check("https://tenant.vii.au01.mattr.global:443/cb").is_ok());
        assert!(check("https://other.example:8443/cb").is_ok());
        for bad in [
            "https://other.example/cb",
            "https://evil.vii.au01.mattr.global/cb",
            "https://tenant.vii.au01.mattr.global.evil.example/cb",
        ] {
            assert_eq!(
                check(bad).unwrap_err(),
                Rejection::InvalidRedirectUrl("its origin is not in the allowed list"),
                "{bad}"
            );
        }
    }

    #[test]
    fn pins_the_algorithm() {
        let mock = issuer();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"None"}"#,
            r#"{"alg":"HS384"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"RS256"}"#,
            r#"{"alg":"hs256"}"#,
            r#"{"alg":"HS\u0032\u0035\u0036"}"#,
            r#"{"alg":["HS256"]}"#,
            r#"{"typ":"JWT"}"#,
        ] {
            let token = mock.session().header(header).token();
            assert_eq!(
                verify(&token).unwrap_err(),
                Rejection::WrongAlgorithm,
                "{header}"
            );
        }
        let critical = mock
            .session()
            .header(r#"{"alg":"HS256","crit":["exp"],"exp":1}"#)
            .token();
        assert_eq!(verify(&critical).unwrap_err(), Rejection::CriticalHeader);
        let duplicate = mock
            .session()
            .header(r#"{"alg":"none","alg":"HS256"}"#)
            .token();
        assert!(matches!(
            verify(&duplicate).unwrap_err(),
            Rejection::MalformedToken(_)
        ));
        let extra = mock
            .session()
            .header(r#"{"alg":"HS256","kid":"k1","jku":"https://evil.example/jwks"}"#);
        assert!(
            verify(&extra.token()).is_ok(),
            "kid and jku cannot choose a key, so they are ignored"
        );
    }

    #[test]
    fn refuses_forgeries_and_malformed_tokens() {
        let mock = issuer();
        let other = HookSecret::from_bytes(b"another secret, also of 32 bytes").unwrap();
        let forged = mock.session().signed_with(&other).token();
        assert_eq!(verify(&forged).unwrap_err(), Rejection::BadSignature);

        let token = mock.session().token();
        let (input, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            verify(&format!("{input}.")).unwrap_err(),
            Rejection::BadSignature
        );
        for malformed in [
            "",
            "abc",
            "a.b",
            "a.b.c.d",
            &format!("{token}.x"),
            &format!("!{token}"),
        ] {
            assert!(
                matches!(verify(malformed).unwrap_err(), Rejection::MalformedToken(_)),
                "{malformed}"
            );
        }
    }

    /// Found by fuzzing: bytes that are not UTF-8 inside a member the
    /// parser skips (an unknown header parameter or claim) went unnoticed.
    #[test]
    fn json_that_is_not_utf8_is_malformed() {
        let mock = issuer();
        let payload = serde_json::to_vec(mock.session().payload()).unwrap();
        let bad_header = mock.sign_raw(b"{\"alg\":\"HS256\",\"typ\":\"JW\xb5\"}", &payload);
        assert_eq!(
            verify(&bad_header).unwrap_err(),
            Rejection::MalformedToken("the header is not UTF-8")
        );
        let mut bad_payload = payload[..payload.len() - 1].to_vec();
        bad_payload.extend_from_slice(b",\"note\":\"\xff\"}");
        let token = mock.sign_raw(br#"{"alg":"HS256"}"#, &bad_payload);
        assert_eq!(
            verify(&token).unwrap_err(),
            Rejection::MalformedToken("the payload is not UTF-8")
        );
    }

    /// RFC 7515 and 7519 require unique names in the header and the claims
    /// set: a repeated name is refused whether the layer reads it or not.
    #[test]
    fn repeated_names_are_malformed() {
        let mock = issuer();
        let payload = serde_json::to_string(mock.session().payload()).unwrap();
        let body = &payload[1..payload.len() - 1];
        for header in [
            r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
            r#"{"alg":"HS256","kid":"a","kid":"b"}"#,
            r#"{"alg":"HS256","alg":"HS256"}"#,
        ] {
            let token = mock.sign_raw(header.as_bytes(), payload.as_bytes());
            assert!(
                matches!(verify(&token).unwrap_err(), Rejection::MalformedToken(_)),
                "{header}"
            );
        }
        for extra in [
            r#""sub":"a","sub":"b""#,
            r#""state":"again""#,
            r#""iss":null"#,
            r#""jti":1,"nonce":2,"jti":1"#,
            r#""s\u0075b":1,"sub":2"#,
        ] {
            let twice = format!("{{{body},{extra}}}");
            let token = mock.sign_raw(br#"{"alg":"HS256","typ":"JWT"}"#, twice.as_bytes());
            assert_eq!(
                verify(&token).unwrap_err(),
                Rejection::MalformedToken(
                    "the payload is not a JSON object with unique claim names"
                ),
                "{extra}"
            );
        }
        let distinct =
            format!(r#"{{{body},"sub":"a","jti":"b","nested":{{"x":1,"y":{{"x":2}}}}}}"#);
        let token = mock.sign_raw(br#"{"alg":"HS256","typ":"JWT"}"#, distinct.as_bytes());
        assert!(verify(&token).is_ok());
    }

    /// serde reads structs from arrays by position; a header or payload
    /// written as an array is not a JWS, whatever it would read as.
    #[test]
    fn arrays_are_not_objects() {
        let mock = issuer();
        let payload = serde_json::to_vec(mock.session().payload()).unwrap();
        let array_header = mock.sign_raw(br#"["HS256",null]"#, &payload);
        assert!(matches!(
            verify(&array_header).unwrap_err(),
            Rejection::MalformedToken(_)
        ));
        let p = mock.session().payload().clone();
        let array_payload = serde_json::to_vec(&serde_json::json!([
            p["iss"],
            p["aud"],
            p["exp"],
            null,
            p["iat"],
            p["state"],
            p["redirectUrl"],
            {}
        ]))
        .unwrap();
        let token = mock.sign_raw(br#"{"alg":"HS256"}"#, &array_payload);
        assert!(matches!(
            verify(&token).unwrap_err(),
            Rejection::MalformedToken(_)
        ));
        let null_crit = mock.sign_raw(br#"{"alg":"HS256","crit":null}"#, &payload);
        assert_eq!(verify(&null_crit).unwrap_err(), Rejection::CriticalHeader);
    }

    /// Found by fuzzing: floats in claims must read back exactly, so the
    /// hook sees and can return precisely what MATTR VII sent.
    #[test]
    fn float_claims_are_read_exactly() {
        let value = 7.291_138_598_603_497e-304_f64;
        let token = issuer().session().claim("score", value).token();
        assert_eq!(
            verify(&token).unwrap().claims()["score"].as_f64(),
            Some(value)
        );
    }

    #[test]
    fn typed_claims_must_fit() {
        #[derive(Deserialize)]
        struct Profile {
            #[allow(dead_code)]
            email: String,
        }
        let mock = issuer();
        let layer = layer_at(NOW).claims::<Profile>();
        let good = mock.session().claim("email", "ada@example.com").token();
        assert!(layer.verify_token(&good).is_ok());
        let wrong_type = mock.session().claim("email", 42).token();
        assert_eq!(
            layer.verify_token(&wrong_type).unwrap_err(),
            Rejection::ClaimsMismatch
        );
        let missing = mock.session().token();
        assert_eq!(
            layer.verify_token(&missing).unwrap_err(),
            Rejection::ClaimsMismatch
        );
        let not_object = mock.session().claims("ada").token();
        assert_eq!(verify(&not_object).unwrap_err(), Rejection::ClaimsMismatch);
    }

    #[test]
    fn query_handling() {
        let mock = issuer();
        let layer = layer_at(NOW);
        let token = mock.session().token();
        let verify_query = |query: &str| -> Result<HookSession, Rejection> {
            layer.verify(&format!("/interaction?{query}").parse().unwrap())
        };
        assert!(verify_query(&format!("lang=en&session_token={token}")).is_ok());
        assert!(verify_query(&format!("session_token={}", token.replace('.', "%2E"))).is_ok());
        assert_eq!(
            verify_query("lang=en").unwrap_err(),
            Rejection::MissingToken
        );
        assert_eq!(
            verify_query("session_token=").unwrap_err(),
            Rejection::MissingToken
        );
        assert_eq!(
            verify_query(&format!("session_token={token}&session_token={token}")).unwrap_err(),
            Rejection::DuplicateToken
        );
        assert_eq!(
            verify_query(&format!("session_token={token}%")).unwrap_err(),
            Rejection::BadEncoding
        );
        assert_eq!(
            verify_query("session_token=%FF%FE").unwrap_err(),
            Rejection::BadEncoding
        );
        let no_query: Result<HookSession, _> = layer.verify(&"/interaction".parse().unwrap());
        assert_eq!(no_query.unwrap_err(), Rejection::MissingToken);
    }

    #[test]
    fn caps_the_token_length_before_decoding() {
        let layer = layer_at(NOW).max_token_length(64);
        let long = "%".repeat(65);
        let result: Result<HookSession, _> =
            layer.verify(&format!("/i?session_token={long}").parse().unwrap());
        assert_eq!(
            result.unwrap_err(),
            Rejection::TokenTooLong { len: 65, max: 64 }
        );
        let at_limit = "a".repeat(64);
        let result: Result<HookSession, _> =
            layer.verify(&format!("/i?session_token={at_limit}").parse().unwrap());
        assert!(matches!(result.unwrap_err(), Rejection::MalformedToken(_)));
    }

    #[test]
    fn the_query_parameter_name_is_configurable() {
        let token = issuer().session().token();
        let layer = layer_at(NOW).query_param("hook_token");
        let result: Result<HookSession, _> =
            layer.verify(&format!("/i?hook_token={token}").parse().unwrap());
        assert!(result.is_ok());
        let result: Result<HookSession, _> =
            layer.verify(&format!("/i?session_token={token}").parse().unwrap());
        assert_eq!(result.unwrap_err(), Rejection::MissingToken);
    }
}
