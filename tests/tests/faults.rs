//! The example server when its attempt store loses replies: a write that
//! was made, but whose acknowledgement never came back, as with a Redis
//! that times out or fails over just after a write. The holder is told to
//! try again; no second response is ever signed, no session is left
//! without an answer, and no wrong code gets through.

use std::sync::Arc;

use hook_layer::testing::Outcome;
use hook_tests::{
    SwitchableStore, TestServer, client, element_text, location, offered_response, post_code,
    query_param, reach_code_step, response_token, start_issuance,
};
use reqwest::StatusCode;

/// A server on a [`SwitchableStore`], with a session at its code step:
/// the store, the server, the code page and the code sent.
async fn at_the_code_step() -> (Arc<SwitchableStore>, TestServer, String, String) {
    let store = Arc::new(SwitchableStore::default());
    let server = TestServer::start_with_store(store.clone()).await;
    // Begun at the simulated MATTR VII, which then takes the response.
    let welcome = start_issuance(&server).await;
    let token = query_param(&welcome, "session_token").unwrap();
    let page = reach_code_step(&server, &token).await;
    let code = element_text(&page, "dev-code").unwrap().to_owned();
    (store, server, page, code)
}

async fn assert_try_again(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(location(&response).is_none());
    let page = response.text().await.unwrap();
    assert!(page.contains("Please try again in a moment"), "{page}");
}

/// The completion was kept, but its reply lost: the holder is told to try
/// again, and the retry offers the very response that was kept, which
/// MATTR VII accepts.
#[tokio::test]
async fn a_lost_reply_to_the_answer_is_offered_on_retry() {
    let (store, server, page, code) = at_the_code_step().await;
    store.lose_answer_replies(true);
    assert_try_again(post_code(&server, &page, &code).await).await;
    store.lose_answer_replies(false);

    let retry = post_code(&server, &page, &code).await;
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let retry = retry.text().await.unwrap();
    assert!(
        retry.contains("This issuance has already been completed"),
        "{retry}"
    );
    let (url, token) = offered_response(&server.issuer(), &retry).expect("offered");
    assert!(matches!(
        server.issuer().read_redirect(&url).unwrap().outcome,
        Outcome::Completed { .. }
    ));
    // The simulated MATTR VII takes it: the holder finishes.
    let callback = client().get(&url).send().await.unwrap();
    assert_eq!(callback.status(), StatusCode::OK);
    // Every later page offers the same one.
    let again = post_code(&server, &page, &code).await;
    let (_, same) = offered_response(&server.issuer(), &again.text().await.unwrap()).unwrap();
    assert_eq!(same, token);
    server.stop().await;
}

/// Every code check was counted but its reply lost, so no code was ever
/// checked: once the store answers again, the next submission waits for
/// an answer that never comes, then signs the failure, which every later
/// page offers. The session is not left unanswered, and the right code,
/// never checked, completes nothing.
#[tokio::test]
async fn checks_lost_in_an_outage_end_the_issuance_once() {
    let (store, server, page, code) = at_the_code_step().await;
    store.lose_count_replies(true);
    for _ in 0..3 {
        assert_try_again(post_code(&server, &page, &code).await).await;
    }
    store.lose_count_replies(false);

    let ended = post_code(&server, &page, &code).await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    let url = location(&ended).unwrap();
    let Outcome::Failed { message } = server.issuer().read_redirect(&url).unwrap().outcome else {
        panic!("a completion without a checked code");
    };
    assert_eq!(message, "The one-time code could not be checked.");
    let again = post_code(&server, &page, &code).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let again = again.text().await.unwrap();
    assert!(again.contains("This issuance has already ended"), "{again}");
    let (_, offered) = offered_response(&server.issuer(), &again).unwrap();
    assert_eq!(offered, response_token(&url));
    server.stop().await;
}
