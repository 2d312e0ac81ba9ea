//! The two URLs of a tenant: the tenant URL (the token's `iss`) and this
//! hook's URL as configured on it (its `aud`, and where the journey is
//! mounted). Errors name `HOOK_ISSUER` or `HOOK_URL` and never quote the
//! value.

use url::Url;

use super::error::ConfigError;
use super::secrets::is_secret;

/// The tenant URL, as MATTR VII writes `iss`: an origin, no path. It is
/// kept as written: the layer compares it with `iss` as a URL, so
/// `https://Tenant.example:443/` matches a token from
/// `https://tenant.example`.
pub(crate) fn check_issuer(raw: &str) -> Result<(), ConfigError> {
    let invalid = |why: &str| ConfigError::new("HOOK_ISSUER", why);
    let url = parse(raw).map_err(|why| ConfigError::new("HOOK_ISSUER", why))?;
    if !(url.scheme() == "https" || url.scheme() == "http" && is_loopback(&url)) {
        return Err(invalid("must be https (http only for localhost)"));
    }
    refuse_credentials(&url).map_err(invalid)?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the tenant URL has no path, query or fragment"));
    }
    Ok(())
}

/// MATTR VII requires an https hook URL without a query. Its path is where
/// the journey is mounted: `/` for a bare URL such as
/// `https://abcd.ngrok.app`, as MATTR's tutorial configures it. http is
/// accepted for loopback.
pub(crate) fn parse_hook_url(raw: &str) -> Result<Url, ConfigError> {
    let invalid = |why: &str| ConfigError::new("HOOK_URL", why);
    let url = parse(raw).map_err(|why| ConfigError::new("HOOK_URL", why))?;
    if !(url.scheme() == "https" || url.scheme() == "http" && is_loopback(&url)) {
        return Err(invalid("must be https (http only for localhost)"));
    }
    refuse_credentials(&url).map_err(invalid)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let path = url.path();
    if path == "/" {
        return Ok(url);
    }
    if path.ends_with('/') {
        return Err(invalid("must not end with a slash, e.g. /interaction"));
    }
    // Routers read these as parameters or wildcards, not literal paths.
    if path
        .split('/')
        .any(|segment| segment.starts_with([':', '*', '{']))
    {
        return Err(invalid("has a path segment starting with ':', '*' or '{'"));
    }
    Ok(url)
}

/// An absolute URL; for a value that is a hook secret, says so (a secret in
/// the wrong setting is an easy slip, and it is named, never shown).
fn parse(raw: &str) -> Result<Url, &'static str> {
    Url::parse(raw).map_err(|_| {
        if is_secret(raw) {
            "not an absolute URL (it looks like a hook secret: check which setting holds what)"
        } else {
            "not an absolute URL"
        }
    })
}

/// A URL with a user name or password would put credentials in logs, in
/// the token's `aud` and in the redirect back.
fn refuse_credentials(url: &Url) -> Result<(), &'static str> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not hold credentials (a user name or password before the host)");
    }
    Ok(())
}

/// `localhost`, a name under it, or a loopback address.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.strip_suffix('.').unwrap_or(domain);
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";

    fn issuer(raw: &str) -> String {
        check_issuer(raw).unwrap_err().to_string()
    }

    fn hook_url(raw: &str) -> String {
        parse_hook_url(raw).unwrap_err().to_string()
    }

    #[test]
    fn issuers() {
        for good in [
            "https://t.vii.au01.mattr.global",
            "https://Tenant.vii.au01.mattr.global:443/",
            "http://localhost:3000",
            "http://127.0.0.1:3000",
            "http://[::1]:3000",
            "http://dev.localhost.",
        ] {
            assert!(check_issuer(good).is_ok(), "{good}");
        }
        assert_eq!(issuer("tenant"), "HOOK_ISSUER: not an absolute URL");
        assert!(issuer("http://t.example").starts_with("HOOK_ISSUER: must be https"));
        assert!(issuer("http://localhost.example").starts_with("HOOK_ISSUER: must be https"));
        assert!(
            issuer("https://t.example/v1").starts_with("HOOK_ISSUER: the tenant URL has no path")
        );
        assert!(
            issuer("https://t.example/?a").starts_with("HOOK_ISSUER: the tenant URL has no path")
        );
        assert!(
            issuer("https://t.example/#a").starts_with("HOOK_ISSUER: the tenant URL has no path")
        );
    }

    #[test]
    fn hook_urls() {
        for (good, path) in [
            ("https://h.example/interaction", "/interaction"),
            ("https://abcd.ngrok.app", "/"),
            ("https://abcd.ngrok.app/", "/"),
            ("https://H.example:443/a/b", "/a/b"),
            ("http://127.0.0.1:3000/interaction", "/interaction"),
        ] {
            assert_eq!(parse_hook_url(good).unwrap().path(), path, "{good}");
        }
        assert!(hook_url("http://h.example/i").starts_with("HOOK_URL: must be https"));
        assert!(hook_url("https://h.example/i?x=1").starts_with("HOOK_URL: must not have a query"));
        assert!(hook_url("https://h.example/i#x").starts_with("HOOK_URL: must not have a query"));
        assert!(hook_url("h.example/i").starts_with("HOOK_URL: not an absolute URL"));
        assert!(
            hook_url("https://h.example/interaction/")
                .starts_with("HOOK_URL: must not end with a slash")
        );
        // (`{` is percent-encoded by the URL parser, so `/{id}` is a literal.)
        for bad in ["https://h.example/:id", "https://h.example/a/*rest"] {
            assert!(
                hook_url(bad).starts_with("HOOK_URL: has a path segment"),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_are_refused_and_never_shown() {
        for (raw, password) in [
            ("https://user:hunter2pass@t.example", "hunter2pass"),
            ("https://hunter2pass@t.example", "hunter2pass"),
            ("https://:hunter2pass@t.example", "hunter2pass"),
        ] {
            for message in [issuer(raw), hook_url(&format!("{raw}/i"))] {
                assert!(message.contains("must not hold credentials"), "{message}");
                assert!(!message.contains(password), "{message}");
            }
        }
    }

    #[test]
    fn a_secret_in_a_url_setting_is_named_not_shown() {
        for message in [
            issuer(SECRET),
            hook_url(SECRET),
            issuer(&format!(" {SECRET}\n")),
        ] {
            assert!(message.contains("looks like a hook secret"), "{message}");
            assert!(
                !message.contains(SECRET) && !message.contains(&SECRET[..8]),
                "{message}"
            );
        }
    }
}
