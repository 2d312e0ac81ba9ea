//! Plaintext that sealing and opening handle never reaches the allocator
//! unwiped: every heap block freed while a value is sealed or opened is
//! searched for the value, through a global allocator that watches frees.
//! (One test in this binary, so no other test's frees are watched.)

#![cfg(all(feature = "seal", feature = "test-util"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use serde::{Deserialize, Serialize};

/// A value that must not linger: nothing else in this process holds it.
const MARKER: &str = "one-time-code-739184";

static WATCHING: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, but every block starts zeroed (so reading a whole
/// block before it is freed reads only initialised bytes), and a block
/// freed while watching is searched for [`MARKER`].
struct Watch;

// SAFETY: every call is passed on to `System` with the same arguments;
// `dealloc` only reads the block it is about to free, all of which was
// initialised by `alloc_zeroed` (or written since).
unsafe impl GlobalAlloc for Watch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if WATCHING.load(Ordering::SeqCst) {
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if block
                .windows(MARKER.len())
                .any(|window| window == MARKER.as_bytes())
            {
                FOUND.fetch_add(1, Ordering::SeqCst);
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watch = Watch;

/// Journey progress: the code first, then enough text that the plaintext
/// outgrows the sealing buffer's first block after the code is written.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Progress {
    code: String,
    notes: String,
}

/// Runs `f` while watching frees, and returns how many freed blocks held
/// the marker.
fn watched<T>(f: impl FnOnce() -> T) -> (T, usize) {
    FOUND.store(0, Ordering::SeqCst);
    WATCHING.store(true, Ordering::SeqCst);
    let result = f();
    WATCHING.store(false, Ordering::SeqCst);
    (result, FOUND.load(Ordering::SeqCst))
}

#[test]
fn sealed_and_opened_plaintext_is_wiped_before_it_is_freed() {
    let secret = HookSecret::from_bytes(&[7; 32]).unwrap();
    let layer = InteractionHookLayer::new(secret.clone());
    let session: HookSession = layer
        .verify_token(&MockIssuer::new(secret).session().token())
        .unwrap();
    let progress = Progress {
        code: MARKER.to_owned(),
        notes: "n".repeat(300),
    };

    let (sealed, found) = watched(|| session.seal_for("code", &progress).unwrap());
    assert_eq!(found, 0, "sealing freed a block holding the plaintext");
    assert!(!sealed.contains(MARKER));

    let (opened, found) = watched(|| session.open_for::<Progress>("code", &sealed).unwrap());
    assert_eq!(found, 0, "opening freed a block holding the plaintext");
    assert_eq!(opened, progress);

    // The watch works: a plain Vec holding the marker, freed, is found.
    let (_, found) = watched(|| drop(MARKER.as_bytes().to_vec()));
    assert_eq!(found, 1);
}
