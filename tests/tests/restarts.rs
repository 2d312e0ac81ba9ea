//! A hook whose attempt counts and answers are kept in memory, restarted:
//! a session that began before the restart is neither answered a second
//! time nor given fresh attempts. Its holder is told to start again from
//! the wallet, and sessions begun after the restart go on as usual.

use std::sync::Arc;
use std::time::Duration;

use hook_layer::attempts::MemoryStore;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_tests::{
    TestServer, client, element_text, location, offered_response, post_code, reach_code_step,
    response_token,
};
use reqwest::StatusCode;

/// Ada's session token, minted by the simulated MATTR VII of the server
/// first started (a restarted one has the same tenant but another port).
fn session_token(issuer: &MockIssuer) -> String {
    issuer
        .session()
        .claim("given_name", "Ada")
        .claim("email", "ada@example.com")
        .token()
}

/// The hook restarts: a new process, a new store in memory, started more
/// than the store's one-second grace after the session's token was issued.
async fn restart(server: TestServer) -> TestServer {
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let restarted = server.replica(Arc::new(MemoryStore::default())).await;
    server.stop().await;
    restarted
}

/// The page a session from before the restart gets, signing nothing.
async fn assert_start_again(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::CONFLICT, "{what}");
    assert!(location(&response).is_none(), "{what}: a redirect");
    let page = response.text().await.unwrap();
    assert!(page.contains("Please start again"), "{what}: {page}");
    assert!(page.contains("restarted"), "{what}: {page}");
    assert!(
        !page.contains("session_token="),
        "{what}: a response: {page}"
    );
}

#[tokio::test]
async fn a_restart_signs_no_second_answer() {
    let server = TestServer::start().await;
    let issuer = server.issuer();
    let token = session_token(&issuer);
    let code_page = reach_code_step(&server, &token).await;
    let code = element_text(&code_page, "dev-code").unwrap().to_owned();

    let done = post_code(&server, &code_page, &code).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let first = location(&done).unwrap();
    assert!(matches!(
        issuer.read_redirect(&first).unwrap().outcome,
        Outcome::Completed { .. }
    ));
    // Before the restart, the same submission is offered the same response.
    let again = post_code(&server, &code_page, &code).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let (_, offered) = offered_response(&issuer, &again.text().await.unwrap()).unwrap();
    assert_eq!(offered, response_token(&first));

    let server = restart(server).await;
    let after = post_code(&server, &code_page, &code).await;
    assert_start_again(after, "the last step again").await;
    let welcome = server.url(&format!("{}?session_token={token}", server.step("")));
    assert_start_again(client().get(&welcome).send().await.unwrap(), "welcome").await;

    // A session begun after the restart goes on as usual.
    let fresh = session_token(&issuer);
    let page = reach_code_step(&server, &fresh).await;
    let code = element_text(&page, "dev-code").unwrap().to_owned();
    let done = post_code(&server, &page, &code).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    server.stop().await;
}

#[tokio::test]
async fn a_restart_gives_no_fresh_attempts() {
    let server = TestServer::start().await;
    let token = session_token(&server.issuer());
    let code_page = reach_code_step(&server, &token).await;
    let code = element_text(&code_page, "dev-code").unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for left in ["note=wrong-2", "note=wrong-1"] {
        let response = post_code(&server, &code_page, wrong).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(location(&response).unwrap().contains(left));
    }

    let server = restart(server).await;
    // Neither a wrong code nor the right one is checked: the two wrong
    // codes counted before the restart are forgotten, so no count is
    // trusted for this session.
    for (what, code) in [("a wrong code", wrong), ("the right code", code.as_str())] {
        let response = post_code(&server, &code_page, code).await;
        assert_start_again(response, what).await;
    }
    server.stop().await;
}
