//! The Calls screen's live list keeps the keyboard's place while calls ring and change (issue
//! #14 item 13: every call event rebuilt the list, so a focused Hang up was thrown away).

use serde_json::{Value, json};

use crate::app::App;
use crate::sim::is_ringing;

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn focus_on_hang_up_stays_while_calls_ring_and_change() {
    let app = App::start("live_list");
    let me = app.workplace();
    let first = app
        .sim()
        .incoming("79031112233", None, json!({"manual": true}));
    app.sim()
        .wait_call("the first call to ring me", first.key, |c| {
            is_ringing(c, &me)
        });

    app.to_main();
    // The operator tabs to the ringing call's Hang up (the element is kept to compare with).
    let leg = app.wait_js(
        "the first call's Hang up to take the focus",
        "const b = document.querySelector('ul.live-calls > li.live-call.ringing[data-leg] button.danger');
         if (!b || b.disabled) return null;
         b.focus();
         window.focusedForTest = b;
         return document.activeElement === b ? b.closest('li').dataset.leg : null;",
        vec![],
    );

    // Another call starts and rings, and the first one is answered.
    let second = app
        .sim()
        .incoming("79161234567", None, json!({"manual": true}));
    app.sim()
        .wait_call("the second call to ring me", second.key, |c| {
            is_ringing(c, &me)
        });
    app.sim().answer(&first.leg_id, &me);
    app.to_main();
    let seen = app.wait_js(
        "the second call's row and the first call connected",
        "const rows = document.querySelectorAll('ul.live-calls > li.live-call');
         const first = document.querySelector(`ul.live-calls > li[data-leg=\"${arguments[0]}\"]`);
         if (rows.length < 2 || !first || !first.classList.contains('connected')) return null;
         const b = window.focusedForTest;
         const a = document.activeElement;
         return { same: a === b, onPage: b.isConnected,
                  active: a ? `${a.tagName}.${a.className} in ${a.closest('li') ? a.closest('li').dataset.leg : 'no row'}` : 'nothing' };",
        vec![leg.clone()],
    );
    app.shot("live-list-focus");
    assert_eq!(
        seen["onPage"],
        Value::Bool(true),
        "the focused Hang up is still on the page: {seen}"
    );
    assert_eq!(
        seen["same"],
        Value::Bool(true),
        "the focus stayed on the first call's Hang up ({leg}): {seen}"
    );
}
