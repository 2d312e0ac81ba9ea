//! Heap allocations per request through the layer, counted by a global
//! allocator that tallies every call: an accepted request (typical token,
//! the session dropped after the handler) and refused ones (a forged
//! signature, a malformed token, no token).
//!
//! `cargo bench -p hook-layer --features test-util --bench allocations`.
//! Results are in BENCHMARKS.md.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, UNIX_EPOCH};

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, InteractionHook, InteractionHookLayer};
use http::{Request, Response};
use serde_json::{Map, Value};
use support::{KEY, claims_of};
use tower::{Layer, Service, service_fn};

/// The system allocator, counting allocations (reallocations included).
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed straight to `System`, which upholds the
// `GlobalAlloc` contract; the counter only adds a relaxed increment. A
// counting allocator is the only way to see allocations per request.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's obligations are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Handler = fn(Request<()>) -> Ready<Result<Response<String>, Infallible>>;
type Hook = InteractionHook<
    tower::util::ServiceFn<Handler>,
    Map<String, Value>,
    hook_layer::DefaultOnRejection,
>;

/// Allocations made while `service` handles one request (building the
/// request is not counted; the response and the session are, until they
/// are dropped).
fn allocations(service: &mut Hook, uri: &str) -> (usize, u16) {
    let request = Request::get(uri).body(()).unwrap();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut context = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut context).is_ready());
    let status = match pin!(service.call(request)).poll(&mut context) {
        Poll::Ready(Ok(response)) => response.status().as_u16(),
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => unreachable!("the no-op service is always ready"),
    };
    (ALLOCATIONS.load(Ordering::Relaxed) - before, status)
}

fn main() {
    let clock = || UNIX_EPOCH + Duration::from_secs(1_764_422_400);
    let secret = HookSecret::from_bytes(KEY).unwrap();
    let inner: Handler = |_| ready(Ok(Response::new(String::new())));
    let mut service = InteractionHookLayer::new(secret.clone())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(clock)
        .layer(service_fn(inner));
    let token = MockIssuer::new(secret)
        .clock(clock)
        .session()
        .claims(claims_of(1000))
        .token();
    let mut forged = token.clone();
    forged.truncate(forged.len() - 2);
    forged.push_str("AA");
    let cases = [
        (
            "accepted (typical token, 1 KB of claims)",
            format!("/interaction?session_token={token}"),
            200,
        ),
        (
            "refused: forged signature",
            format!("/interaction?session_token={forged}"),
            401,
        ),
        (
            "refused: malformed token",
            "/interaction?session_token=not.a-token".to_owned(),
            401,
        ),
        ("refused: no token", "/interaction".to_owned(), 401),
    ];
    println!("| request | allocations |");
    println!("|---|---|");
    for (name, uri, expected) in cases {
        allocations(&mut service, &uri); // warm up
        let (count, status) = allocations(&mut service, &uri);
        assert_eq!(status, expected, "{name}");
        println!("| {name} | {count} |");
    }
}
