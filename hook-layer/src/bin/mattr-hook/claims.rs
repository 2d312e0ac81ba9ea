//! The user claims the simulated tenant sends: `--claim KEY=VALUE` and a
//! `--claims-file` holding a JSON object.

use std::path::PathBuf;

use clap::Args;
use hook_layer::ClaimsMap;
use serde_json::Value;

use crate::usage::UsageError;

/// The claims options, shared by `issuer` and `mint`.
#[derive(Args)]
pub struct ClaimArgs {
    /// A user claim, KEY=VALUE; VALUE is read as JSON when it is JSON
    /// (true, 42, {"a":1}, "quoted"), as a string otherwise. Repeatable;
    /// these win over --claims-file.
    #[arg(long = "claim", value_name = "KEY=VALUE")]
    claim: Vec<String>,
    /// A JSON object of user claims.
    #[arg(long, value_name = "FILE.json")]
    claims_file: Option<PathBuf>,
}

impl ClaimArgs {
    /// The claims, the file's first, then each `--claim`.
    pub fn read(&self) -> Result<ClaimsMap, UsageError> {
        let mut claims = match &self.claims_file {
            Some(path) => read_file(path)?,
            None => ClaimsMap::new(),
        };
        for pair in &self.claim {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(UsageError::new(
                    "--claim",
                    format!(
                        "expected KEY=VALUE, got {:?}",
                        crate::explain::shorten(pair)
                    ),
                ));
            };
            if key.is_empty() {
                return Err(UsageError::new("--claim", "the claim's name is empty"));
            }
            let value =
                serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
            claims.insert(key.to_owned(), value);
        }
        Ok(claims)
    }
}

fn read_file(path: &PathBuf) -> Result<ClaimsMap, UsageError> {
    let setting = format!("--claims-file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|error| UsageError::new(&setting, error))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(claims)) => Ok(claims),
        Ok(_) => Err(UsageError::new(&setting, "not a JSON object")),
        Err(error) => Err(UsageError::new(&setting, format!("not JSON ({error})"))),
    }
}
