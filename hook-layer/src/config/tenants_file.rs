//! The tenants file (`HOOK_TENANTS`): one `[[tenant]]` per MATTR VII
//! tenant that uses the hook.
//!
//! ```toml
//! [[tenant]]
//! name = "staging"                                   # optional
//! issuer = "https://acme-staging.vii.au01.mattr.global"
//! hook_url = "https://hook.example.com/interaction"
//! # Names of environment variables holding the secrets, current first...
//! secret_env = ["STAGING_HOOK_SECRET", "STAGING_HOOK_SECRET_PREVIOUS"]
//!
//! [[tenant]]
//! issuer = "https://acme.vii.au01.mattr.global"
//! hook_url = "https://hook.example.com/interaction"
//! # ...or the secrets themselves (base64, as MATTR VII returned them).
//! secrets = ["<the secret MATTR VII returned for this tenant>"]
//! ```
//!
//! The file may hold secrets, so it is read by hand rather than derived:
//! serde's messages quote the values they refuse, the TOML parser's quote
//! the line. Errors here name a key path (`tenant 2: secrets`) and what was
//! expected, never a value; a key or variable name is shown only when it
//! is short and plain enough that it cannot be a secret.

use toml::{Table, Value};
use zeroize::{Zeroize, Zeroizing};

use super::TenantSettings;
use super::error::ConfigError;
use super::secrets::{could_be_secret, parse_secrets};

/// The setting every error here names.
const SETTING: &str = "HOOK_TENANTS";

/// What a tenant entry holds, for messages about unknown keys.
const TENANT_KEYS: &str = "a tenant has name, issuer, hook_url, and secrets or secret_env";

/// Longest word of a parser message shown as it is: long enough for the
/// parser's own words, far too short for a secret (43 characters).
const LONGEST_WORD: usize = 16;

/// The tenants in `text`, in order; `env` looks up the environment
/// variables that `secret_env` names.
pub(crate) fn parse(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<TenantSettings>, ConfigError> {
    let table: Table = text.parse().map_err(|error| syntax_error(text, &error))?;
    let table = Wiped(table);
    if let Some(key) = table.0.keys().find(|key| *key != "tenant") {
        return Err(unknown_key(
            SETTING,
            key,
            "the file holds [[tenant]] entries only",
        ));
    }
    let entries = match table.0.get("tenant") {
        None => &[][..],
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(ConfigError::new(
                format!("{SETTING}: tenant"),
                format!("expected [[tenant]] entries, found {}", kind(other)),
            ));
        }
    };
    if entries.is_empty() {
        return Err(ConfigError::new(SETTING, "no [[tenant]] in the file"));
    }
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let at = format!("{SETTING}: tenant {}", index + 1);
            match entry {
                Value::Table(entry) => tenant(entry, &at, env),
                other => Err(ConfigError::new(
                    at,
                    format!("expected a table ([[tenant]]), found {}", kind(other)),
                )),
            }
        })
        .collect()
}

/// One `[[tenant]]`, named `at` in errors.
fn tenant(
    entry: &Table,
    at: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TenantSettings, ConfigError> {
    let known = ["name", "issuer", "hook_url", "secrets", "secret_env"];
    if let Some(key) = entry.keys().find(|key| !known.contains(&key.as_str())) {
        return Err(unknown_key(at, key, TENANT_KEYS));
    }
    let name = match entry.get("name") {
        None => None,
        Some(value) => Some(string(value, at, "name", "a string")?.to_owned()),
    };
    let issuer = url(
        entry,
        at,
        "issuer",
        "the tenant URL, e.g. https://tenant.vii.au01.mattr.global",
    )?;
    let hook_url = url(
        entry,
        at,
        "hook_url",
        "this hook's URL as configured on the tenant, e.g. https://hook.example.com/interaction",
    )?;
    let secrets = strings(entry, at, "secrets", "a list of base64 strings")?;
    let names = strings(
        entry,
        at,
        "secret_env",
        "a list of environment variable names",
    )?;
    let secrets = match (secrets.is_empty(), names.is_empty()) {
        (false, true) => {
            parse_secrets(secrets).map_err(|why| ConfigError::new(format!("{at}: secrets"), why))?
        }
        (true, false) => {
            let values = from_environment(&names, at, env)?;
            parse_secrets(values.iter().map(|value| value.as_str()))
                .map_err(|why| ConfigError::new(format!("{at}: secret_env"), why))?
        }
        _ => {
            return Err(ConfigError::new(
                at.to_owned(),
                "give either `secrets` or `secret_env`, not both or neither",
            ));
        }
    };
    Ok(TenantSettings {
        name,
        issuer: issuer.trim().to_owned(),
        hook_url: hook_url.trim().to_owned(),
        secrets,
    })
}

/// The values of the environment variables `names`, in order.
fn from_environment(
    names: &[&str],
    at: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Zeroizing<String>>, ConfigError> {
    let setting = || format!("{at}: secret_env");
    let mut values = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let name = name.trim();
        if let Some(value) = env(name) {
            values.push(Zeroizing::new(value));
            continue;
        }
        let entry = index + 1;
        let why = if could_be_secret(name) {
            format!(
                "entry {entry} looks like a secret itself, not the name of an environment \
                 variable: put the secret in a variable and name that here"
            )
        } else if plain_name(name) {
            format!("the environment variable {name} is not set")
        } else {
            format!(
                "the environment variable of entry {entry} is not set (its name is not \
                 shown: it is not a plain variable name)"
            )
        };
        return Err(ConfigError::new(setting(), why));
    }
    Ok(values)
}

/// A string value; `expected` says what instead.
fn string<'v>(
    value: &'v Value,
    at: &str,
    key: &str,
    expected: &str,
) -> Result<&'v str, ConfigError> {
    value.as_str().ok_or_else(|| {
        ConfigError::new(
            format!("{at}: {key}"),
            format!("expected {expected}, found {}", kind(value)),
        )
    })
}

/// A required URL.
fn url<'v>(entry: &'v Table, at: &str, key: &str, what: &str) -> Result<&'v str, ConfigError> {
    match entry.get(key) {
        Some(value) => string(value, at, key, "a URL string"),
        None => Err(ConfigError::new(
            format!("{at}: {key}"),
            format!("missing: {what}"),
        )),
    }
}

/// A list of strings, or a single string as a list of one; empty when the
/// key is absent.
fn strings<'v>(
    entry: &'v Table,
    at: &str,
    key: &str,
    expected: &str,
) -> Result<Vec<&'v str>, ConfigError> {
    let setting = || format!("{at}: {key}");
    match entry.get(key) {
        None => Ok(Vec::new()),
        Some(Value::String(one)) => Ok(vec![one.as_str()]),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(index, value)| {
                value.as_str().ok_or_else(|| {
                    ConfigError::new(
                        setting(),
                        format!(
                            "entry {} is {}; expected {expected}",
                            index + 1,
                            kind(value)
                        ),
                    )
                })
            })
            .collect(),
        Some(other) => Err(ConfigError::new(
            setting(),
            format!("expected {expected}, found {}", kind(other)),
        )),
    }
}

/// An unknown key in `at`, by name only when the name cannot be a secret.
fn unknown_key(at: &str, key: &str, holds: &str) -> ConfigError {
    let key = if plain_name(key) && key.len() <= 24 {
        format!("`{key}`")
    } else {
        "(not shown: not a short plain name)".to_owned()
    };
    ConfigError::new(
        at.to_owned(),
        format!("unknown key {key}; not a valid tenants file key ({holds})"),
    )
}

/// `[A-Za-z_][A-Za-z0-9_]*`, and no key material in any base64 spelling:
/// a name that may be shown.
fn plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|rest| rest.is_ascii_alphanumeric() || rest == '_')
        && !could_be_secret(name)
}

/// "a string", "an integer" and so on: a value's kind, never the value.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// The parser's complaint, at a line and column, with any long word (which
/// could be a quoted secret) left out.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigError {
    let at = error
        .span()
        .map(|span| {
            let (line, column) = line_and_column(text, span.start);
            format!(" at line {line}, column {column}")
        })
        .unwrap_or_default();
    let message: Vec<&str> = error
        .message()
        .split_whitespace()
        .map(|word| {
            if word.chars().count() > LONGEST_WORD {
                "(...)"
            } else {
                word
            }
        })
        .collect();
    ConfigError::new(
        SETTING,
        format!("not a valid tenants file{at}: {}", message.join(" ")),
    )
}

/// Line and column (from 1, in characters) of the byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The parsed file, its strings (secrets among them) wiped when dropped.
struct Wiped(Table);

impl Drop for Wiped {
    fn drop(&mut self) {
        wipe_table(std::mem::take(&mut self.0));
    }
}

fn wipe_table(table: Table) {
    for (mut key, mut value) in table {
        key.zeroize();
        wipe(&mut value);
    }
}

fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(list) => list.iter_mut().for_each(wipe),
        Value::Table(table) => wipe_table(std::mem::take(table)),
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 32 random bytes, base64.
    const ONE: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    const TWO: &str = "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn error(text: &str) -> String {
        match parse(text, &no_env) {
            Ok(_) => panic!("accepted: {text}"),
            Err(error) => error.to_string(),
        }
    }

    /// Neither [`ONE`] nor its first eight characters are in `message`.
    #[track_caller]
    fn assert_no_secret(message: &str) {
        assert!(
            !message.contains(ONE) && !message.contains(&ONE[..8]),
            "a secret was shown: {message}"
        );
    }

    /// A tenant with both URLs and `rest`.
    fn with(rest: &str) -> String {
        format!(
            "[[tenant]]\nissuer = \"https://t.example\"\nhook_url = \"https://h.example/i\"\n{rest}\n"
        )
    }

    #[test]
    fn a_file_with_values_and_environment_names() {
        let text = format!(
            r#"
[[tenant]]
name = "staging"
issuer = "https://s.vii.au01.mattr.global"
hook_url = "https://hook.example.com/interaction"
secret_env = ["S_NEW", "S_OLD"]

[[tenant]]
issuer = "https://p.vii.au01.mattr.global"
hook_url = "https://hook.example.com/interaction"
secrets = ["{ONE}"]
"#
        );
        let env = |name: &str| match name {
            "S_NEW" => Some(TWO.to_owned()),
            "S_OLD" => Some(ONE.to_owned()),
            _ => None,
        };
        let tenants = parse(&text, &env).unwrap();
        assert_eq!(tenants.len(), 2);
        assert_eq!(tenants[0].name.as_deref(), Some("staging"));
        assert_eq!(tenants[0].secrets.len(), 2);
        assert_eq!(tenants[1].secrets.len(), 1);
        assert!(!format!("{tenants:?}").contains("7cUZ"));
    }

    #[test]
    fn a_single_string_is_a_list_of_one() {
        let env = |name: &str| (name == "S").then(|| TWO.to_owned());
        for rest in [
            format!("secrets = \"{ONE}\""),
            "secret_env = \"S\"".to_owned(),
        ] {
            let tenants = parse(&with(&rest), &env).unwrap();
            assert_eq!(tenants[0].secrets.len(), 1, "{rest}");
        }
    }

    #[test]
    fn urls_are_trimmed() {
        let text = format!(
            "[[tenant]]\nissuer = \" https://t.example\\r\"\nhook_url = \"https://h.example/i \"\nsecrets = \"{ONE}\"\n"
        );
        let tenants = parse(&text, &no_env).unwrap();
        assert_eq!(tenants[0].issuer, "https://t.example");
        assert_eq!(tenants[0].hook_url, "https://h.example/i");
    }

    #[test]
    fn bad_files_say_what_is_wrong_without_secrets() {
        let cases = [
            ("", "no [[tenant]]"),
            (
                "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\n",
                "either `secrets` or `secret_env`",
            ),
            (
                "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\nsecret_env = [\"MISSING\"]\n",
                "MISSING is not set",
            ),
            (
                &format!(
                    "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\nsecrets = [\"{ONE}\", \"x{ONE}\"]\n"
                ),
                "not standard base64 (secret 2)",
            ),
            (
                &format!(
                    "[[tenant]]\nissuer = \"https://t\"\nsecrets = [\"{ONE}\"]\nsecret = \"{ONE}\"\n"
                ),
                "not a valid tenants file",
            ),
        ];
        for (text, expected) in cases {
            let message = error(text);
            assert!(message.contains(expected), "{text}: {message}");
            assert!(!message.contains("7cUZ"), "a secret was shown: {message}");
        }
    }

    #[test]
    fn errors_name_the_key_and_what_was_expected() {
        let cases = [
            (
                with("secrets = 5"),
                "HOOK_TENANTS: tenant 1: secrets: expected a list of base64 strings, found an integer",
            ),
            (
                with("secrets = [5]"),
                "HOOK_TENANTS: tenant 1: secrets: entry 1 is an integer; expected a list of base64 strings",
            ),
            (
                with("secret_env = true"),
                "HOOK_TENANTS: tenant 1: secret_env: expected a list of environment variable names, found a boolean",
            ),
            (
                with("secrets = []\nsecret_env = \"NOT-A NAME\""),
                "HOOK_TENANTS: tenant 1: secret_env: the environment variable of entry 1 is not set (its name is not shown",
            ),
            (
                format!("[[tenant]]\nissuer = \"https://t.example\"\nsecrets = \"{ONE}\"\n"),
                "HOOK_TENANTS: tenant 1: hook_url: missing: this hook's URL",
            ),
            (
                format!("[[tenant]]\nhook_url = \"https://h.example/i\"\nsecrets = \"{ONE}\"\n"),
                "HOOK_TENANTS: tenant 1: issuer: missing: the tenant URL",
            ),
            (
                with(&format!("name = 7\nsecrets = \"{ONE}\"")),
                "HOOK_TENANTS: tenant 1: name: expected a string, found an integer",
            ),
            (
                with(&format!("secrets = \"{ONE}\"\nsecret_env = \"S\"")),
                "HOOK_TENANTS: tenant 1: give either `secrets` or `secret_env`, not both or neither",
            ),
            (
                format!("{}[tenant.extra]\n", with(&format!("secrets = \"{ONE}\""))),
                "HOOK_TENANTS: tenant 1: unknown key `extra`; not a valid tenants file key",
            ),
            (
                "tenants = []\n".to_owned(),
                "HOOK_TENANTS: unknown key `tenants`; not a valid tenants file key (the file holds [[tenant]] entries only)",
            ),
            (
                "tenant = []\n".to_owned(),
                "HOOK_TENANTS: no [[tenant]] in the file",
            ),
            (
                "[tenant]\nissuer = \"https://t.example\"\n".to_owned(),
                "HOOK_TENANTS: tenant: expected [[tenant]] entries, found a table",
            ),
            (
                "tenant = [1]\n".to_owned(),
                "HOOK_TENANTS: tenant 1: expected a table ([[tenant]]), found an integer",
            ),
            (
                "[[tenant]]\nissuer = \"https://t.example\"\nissuer = \"https://u.example\"\n"
                    .to_owned(),
                "HOOK_TENANTS: not a valid tenants file at line 3, column 1: duplicate key",
            ),
        ];
        for (text, expected) in cases {
            let message = error(&text);
            assert!(message.starts_with(expected), "{text}\n{message}");
        }
    }

    /// Every slip that puts a secret somewhere it does not belong: the
    /// message names the place and never the secret.
    #[test]
    fn no_slip_shows_a_secret() {
        let slips = [
            // A wrong type, for every key.
            with(&format!("secrets = {{ current = \"{ONE}\" }}")),
            with(&format!("secrets = [[\"{ONE}\"]]")),
            with(&format!("secrets = [\"{ONE}\", 5]")),
            with(&format!("secret_env = {{ name = \"{ONE}\" }}")),
            with(&format!("secret_env = [[\"{ONE}\"]]")),
            with(&format!("name = [\"{ONE}\"]\nsecrets = \"{ONE}\"")),
            format!(
                "[[tenant]]\nissuer = [\"{ONE}\"]\nhook_url = \"https://h.example/i\"\nsecrets = \"{ONE}\"\n"
            ),
            format!(
                "[[tenant]]\nissuer = \"https://t.example\"\nhook_url = {{ u = \"{ONE}\" }}\nsecrets = \"{ONE}\"\n"
            ),
            format!("tenant = \"{ONE}\"\n"),
            format!("tenant = [\"{ONE}\"]\n"),
            // An unknown key next to a secret, or holding one.
            with(&format!("secrets = \"{ONE}\"\nsecret = \"{ONE}\"")),
            with(&format!("secret = \"{ONE}\"")),
            format!(
                "secret = \"{ONE}\"\n{}",
                with(&format!("secrets = \"{ONE}\""))
            ),
            // A secret as a quoted key, in a tenant or at the top.
            with(&format!("\"{ONE}\" = 1")),
            format!("\"{ONE}\" = 1\n"),
            format!("'{ONE}' = \"x\"\n"),
            // A duplicate key.
            with(&format!("secrets = [\"{ONE}\"]\nsecrets = [\"{ONE}\"]")),
            with(&format!("\"{ONE}\" = 1\n\"{ONE}\" = 2")),
            // Bad base64, or a secret cut short.
            with(&format!("secrets = \"{ONE}!\"")),
            with(&format!("secrets = \"{}\"", &ONE[..40])),
            with(&format!(
                "secrets = [\"{TWO}\", \"{}\"]",
                ONE.replace('/', "_")
            )),
            // A secret pasted into `secret_env`, padded or not.
            with(&format!("secret_env = [\"{ONE}\"]")),
            with(&format!("secret_env = \"{}\"", ONE.trim_end_matches('='))),
            with(&format!(
                "secret_env = \"{}\"",
                ONE.replace('/', "_").trim_end_matches('=')
            )),
            // A secret given as a URL.
            format!(
                "[[tenant]]\nissuer = \"{ONE}\"\nhook_url = \"https://h.example/i\"\nsecrets = \"{TWO}\"\n"
            ),
            format!(
                "[[tenant]]\nissuer = \"https://t.example\"\nhook_url = \"{ONE}\"\nsecrets = \"{TWO}\"\n"
            ),
            // Not TOML at all, around a secret.
            with(&format!("secrets = [{ONE}]")),
            with(&format!("secrets = [\"{ONE}\"")),
            with(&format!("secrets = \"{ONE}")),
            with(&format!("secrets = '''{ONE}")),
            with(&format!("secrets = {ONE}")),
            with(ONE),
            format!("[{ONE}]\n"),
            format!("[[tenant]]\nsecrets = \"{ONE}\" x\n"),
            format!("secrets = \"\\u{ONE}\"\n"),
        ];
        for text in slips {
            // URLs are checked after the file is read.
            let message =
                match parse(&text, &no_env).and_then(super::super::HookSettings::from_tenants) {
                    Ok(_) => panic!("accepted: {text}"),
                    Err(error) => error.to_string(),
                };
            assert_no_secret(&message);
            assert!(message.starts_with("HOOK_TENANTS"), "{message}");
        }
    }

    #[test]
    fn a_secret_in_secret_env_is_named_as_one() {
        let env = |name: &str| (name == "STAGING").then(|| TWO.to_owned());
        for name in [ONE, ONE.trim_end_matches('=')] {
            let text = with(&format!("secret_env = [\"STAGING\", \"{name}\"]"));
            let message = parse(&text, &env).unwrap_err().to_string();
            assert!(
                message.starts_with(
                    "HOOK_TENANTS: tenant 1: secret_env: entry 2 looks like a secret itself"
                ),
                "{message}"
            );
            assert_no_secret(&message);
        }
        // An entry that happens to hold a secret's first characters is a
        // plain name, shown.
        let message = error(&with("secret_env = \"dGtUrijB\""));
        assert!(
            message.ends_with("the environment variable dGtUrijB is not set"),
            "{message}"
        );
    }

    #[test]
    fn long_or_odd_keys_are_not_shown() {
        for key in [
            "a_rather_long_key_name_that_goes_on",
            "\"with space\"",
            "\"x=y\"",
        ] {
            let message = error(&with(&format!("{key} = 1")));
            assert!(message.contains("unknown key (not shown"), "{message}");
        }
    }

    #[test]
    fn syntax_errors_give_a_line_and_column() {
        let message = error(&format!("\n\n[[tenant]]\nsecrets = [{ONE}]\n"));
        assert!(
            message.starts_with("HOOK_TENANTS: not a valid tenants file at line 4, column "),
            "{message}"
        );
        assert!(!message.contains("byte"), "{message}");
        assert_no_secret(&message);
        assert_eq!(line_and_column("ab\ncdé\nf", 7), (2, 4));
        assert_eq!(line_and_column("é", 1), (1, 1));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }

    #[test]
    fn the_parsed_file_is_wiped() {
        let mut value = Value::Array(vec![
            Value::String(ONE.to_owned()),
            Value::Table(Table::from_iter([(
                "k".to_owned(),
                Value::String(ONE.to_owned()),
            )])),
        ]);
        wipe(&mut value);
        let Value::Array(list) = &value else {
            panic!("{value:?}")
        };
        assert_eq!(list[0].as_str(), Some(""));
        assert_eq!(list[1].as_table().map(Table::len), Some(0));
    }
}
