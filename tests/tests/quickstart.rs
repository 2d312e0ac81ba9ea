//! The crate README's quick start, compiled as it is written there (the
//! build script copies it out of `hook-layer/README.md`) and run against
//! `MockIssuer` as a tenant configured the way the README says: with the
//! hook's claims from its `"claims": [...]`. The welcome page, "continue"
//! and "decline" each reach their handler, and the last two redirect back
//! with a signed response that MATTR VII would accept.

mod quick_start {
    // Its `main` serves on a socket; these tests call `app`.
    #![allow(dead_code)]

    include!(concat!(env!("OUT_DIR"), "/readme_quick_start.rs"));

    mod tests {
        use axum::body::Body;
        use axum::http::{Request, StatusCode, header};
        use hook_layer::HookSecret;
        use hook_layer::testing::{MockIssuer, Outcome};
        use http_body_util::BodyExt;
        use serde_json::json;
        use tower::ServiceExt;

        use super::{HOOK_URL, TENANT, app};

        const README: &str = include_str!("../../hook-layer/README.md");

        /// The claim names of the README's hook configuration, which it
        /// gives wherever it shows one (`"claims": ["given_name"]`).
        fn configured_claims() -> Vec<String> {
            let mut found: Vec<Vec<String>> = README
                .split("\"claims\":")
                .skip(1)
                .map(|rest| {
                    let list = rest.trim_start().strip_prefix('[').expect("a list");
                    let list = &list[..list.find(']').expect("a closed list")];
                    list.split(',')
                        .map(|name| name.trim().trim_matches('"').to_owned())
                        .filter(|name| !name.is_empty())
                        .collect()
                })
                .collect();
            found.dedup();
            assert_eq!(
                found.len(),
                1,
                "the README configures different claims: {found:?}"
            );
            found.remove(0)
        }

        struct Tenant {
            mattr: MockIssuer,
            app: axum::Router,
        }

        fn tenant() -> Tenant {
            let secret = HookSecret::from_bytes(&[0x42; 32]).unwrap();
            Tenant {
                mattr: MockIssuer::new(secret.clone())
                    .tenant(TENANT)
                    .hook_url(HOOK_URL),
                app: app(secret),
            }
        }

        /// A session token as MATTR VII sends it for a holder whose
        /// provider knows every configured claim.
        fn token(mattr: &MockIssuer) -> String {
            let mut session = mattr.session();
            for name in configured_claims() {
                session = session.claim(&name, "Ada");
            }
            session.token()
        }

        async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, String, String) {
            let response = app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get(header::LOCATION)
                .map(|location| location.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, location, String::from_utf8(body.to_vec()).unwrap())
        }

        fn get(uri: &str) -> Request<Body> {
            Request::get(uri).body(Body::empty()).unwrap()
        }

        fn post(uri: &str, form: &str) -> Request<Body> {
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned()))
                .unwrap()
        }

        #[test]
        fn the_readme_configures_the_claims_the_quick_start_reads() {
            assert_eq!(configured_claims(), ["given_name"]);
        }

        #[tokio::test]
        async fn welcome_finish_and_decline_reach_their_handlers() {
            let Tenant { mattr, app } = tenant();
            let token = token(&mattr);

            let (status, _, page) =
                send(&app, get(&format!("/interaction?session_token={token}"))).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert!(page.contains("<h1>Hello, Ada</h1>"), "{page}");
            let actions = hook_tests::form_actions(&page);
            assert_eq!(
                actions,
                [
                    format!("/interaction/finish?session_token={token}"),
                    format!("/interaction/decline?session_token={token}"),
                ]
            );

            // "Accept the terms and continue", through the form's action.
            let (status, location, _) =
                send(&app, post(&actions[0], "preferred_name=+Ada+L+")).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let read = mattr
                .read_redirect(&location)
                .expect("a response MATTR VII accepts");
            let Outcome::Completed {
                claims,
                claims_to_persist,
            } = read.outcome
            else {
                panic!("{:?}", read.outcome);
            };
            assert_eq!(
                serde_json::Value::Object(claims),
                json!({ "preferredName": "Ada L", "termsAccepted": true })
            );
            assert_eq!(claims_to_persist, ["preferredName"]);

            // "Decline": the issuance fails.
            let (status, location, _) = send(&app, post(&actions[1], "")).await;
            assert_eq!(status, StatusCode::SEE_OTHER);
            let read = mattr
                .read_redirect(&location)
                .expect("a response MATTR VII accepts");
            assert_eq!(
                read.outcome,
                Outcome::Failed {
                    message: "The holder declined the terms of service.".to_owned()
                }
            );
        }

        #[tokio::test]
        async fn a_holder_without_the_claims_is_greeted_too_and_escaped_ones_stay_text() {
            let Tenant { mattr, app } = tenant();
            // The provider knows no name: the token's claims are empty.
            let token = mattr.session().token();
            let (status, _, page) =
                send(&app, get(&format!("/interaction?session_token={token}"))).await;
            assert_eq!(status, StatusCode::OK);
            assert!(page.contains("<h1>Hello, there</h1>"), "{page}");

            let token = mattr.session().claim("given_name", "<b>Ada</b>").token();
            let (_, _, page) =
                send(&app, get(&format!("/interaction?session_token={token}"))).await;
            assert!(
                page.contains("<h1>Hello, &lt;b&gt;Ada&lt;/b&gt;</h1>"),
                "{page}"
            );
        }

        #[tokio::test]
        async fn without_a_valid_token_no_handler_is_reached() {
            let Tenant { mattr, app } = tenant();
            let (status, _, _) = send(&app, get("/interaction")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            let forged = mattr
                .session()
                .signed_with(&HookSecret::from_bytes(&[0x24; 32]).unwrap())
                .token();
            let action = format!("/interaction/finish?session_token={forged}");
            let (status, location, _) = send(&app, post(&action, "preferred_name=Ada")).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            assert!(location.is_empty());
            // Another hook's token: the audience is this hook's URL.
            let elsewhere = mattr
                .session()
                .audience("https://other.example.com/hook")
                .token();
            let (status, _, _) = send(
                &app,
                get(&format!("/interaction?session_token={elsewhere}")),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED);
        }
    }
}
