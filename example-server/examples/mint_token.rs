//! Prints a session token as MATTR VII would send it to a hook configured
//! with `HOOK_ISSUER=https://tenant.vii.au01.mattr.global` and
//! `HOOK_URL=https://hook.example.com/interaction`, for the sample user
//! (Ada), valid for 20 minutes. For trying a production-mode server with
//! curl, and for `scripts/load.sh`.
//!
//! ```sh
//! cargo run -p example-server --example mint_token -- "$HOOK_SECRET"
//! ```

use std::process::ExitCode;

use hook_layer::HookSecret;
use hook_layer::testing::MockIssuer;

fn main() -> ExitCode {
    let Some(encoded) = std::env::args().nth(1) else {
        eprintln!("usage: mint_token <hook secret, base64>");
        return ExitCode::from(2);
    };
    let secret = match HookSecret::from_base64(&encoded) {
        Ok(secret) => secret,
        Err(error) => {
            eprintln!("HOOK_SECRET: {error}");
            return ExitCode::from(2);
        }
    };
    let token = MockIssuer::new(secret)
        .session()
        .claim("given_name", "Ada")
        .claim("email", "ada@example.com")
        .token();
    println!("{token}");
    ExitCode::SUCCESS
}
