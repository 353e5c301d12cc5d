//! Scenario 6: a `tel:` link opened while the app runs starts a second process, which hands the
//! link to the first one and exits; the number lands in the first one's dialer, waiting for the
//! operator to confirm (nothing is dialled by itself, nor by a stray Enter: Cancel has the focus).

use std::time::{Duration, Instant};

use crate::app::{App, digits};

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_tel_link_given_to_a_second_instance_reaches_the_first_ones_dialer() {
    let app = App::start("tel_link");
    let first_pid = app.pid();

    let started = Instant::now();
    let (status, stderr) = app.second_instance("tel:+79219462761");
    let took = started.elapsed();
    assert!(
        status.success(),
        "the second instance failed: {status}\n{stderr}"
    );
    eprintln!("the second instance handed the link over and exited in {took:?}");
    assert_eq!(
        app.pid(),
        first_pid,
        "the first instance is still the one running"
    );

    app.to_main();
    let value = app.wait_js(
        "the number in the first instance's dialer",
        "const d = document.getElementById('dialer');
         return d && d.value.replace(/\\D/g, '').includes('9219462761') ? d.value : null",
        vec![],
    );
    app.shot("tel-link");
    assert!(digits(value.as_str().unwrap()).ends_with("9219462761"));

    // The confirmation comes up with Cancel focused: a stray Enter or Space typed into another
    // program as the window comes up must not dial.
    let focused = app.wait_js(
        "the dial confirmation, open",
        "const d = document.getElementById('dial-confirm');
         return d && d.open ? (document.activeElement ? document.activeElement.id : '') : null",
        vec![],
    );
    assert_eq!(
        focused, "dial-confirm-no",
        "the confirmation must focus Cancel, not Call"
    );
    app.type_into("#dial-confirm-no", "\u{E007}");
    app.wait_js(
        "the confirmation closed by the stray Enter",
        "const d = document.getElementById('dial-confirm'); return d && !d.open ? true : null",
        vec![],
    );

    // Nothing is dialled until the operator confirms.
    std::thread::sleep(Duration::from_millis(1500));
    let outgoing: Vec<_> = app
        .sim()
        .calls(true)
        .into_iter()
        .filter(|c| c["direction"] == "outgoing")
        .collect();
    assert!(
        outgoing.is_empty(),
        "the link dialled by itself: {outgoing:?}"
    );
}
