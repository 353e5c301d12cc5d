//! Team mode, issue #15: a `trubka://join` invite link opened while the app runs reaches the
//! first instance (through the single-instance hand-over, like a `tel:` link), which shows
//! Settings' Team section and asks to join the server's host — Cancel focused, since a link can
//! come from anyone — and nothing is joined or sent until the operator says yes.
//!
//! Joining for real and then calling through the team server needs the relay's seat API and a
//! Secret Service in the test session (the seat's credential lives in the keyring); this test
//! stops at the confirmation.

use std::time::Duration;

use crate::app::App;

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_join_link_asks_to_confirm_the_servers_host_and_cancel_joins_nothing() {
    let app = App::start("team_join");
    let link = "trubka://join?server=https%3A%2F%2Fteam.example.ru&code=ABCD-EFGH-JKLM";
    let (status, stderr) = app.second_instance(link);
    assert!(
        status.success(),
        "the second instance failed: {status}\n{stderr}"
    );

    app.to_main();
    let title = app.wait_js(
        "the join confirmation, open",
        "const d = document.getElementById('team-confirm');
         const t = document.getElementById('team-confirm-title');
         return d && d.open && t ? t.textContent : null",
        vec![],
    );
    app.shot("team-join-confirm");
    assert!(
        title.as_str().unwrap().contains("team.example.ru"),
        "the confirmation names the server's host: {title}"
    );
    let focused = app.js(
        "return document.activeElement ? document.activeElement.id : ''",
        vec![],
    );
    assert_eq!(
        focused, "team-confirm-no",
        "the confirmation must focus Cancel, not Join"
    );
    // The Settings screen is behind it, the invite filled in.
    let invite = app.js(
        "const i = document.getElementById('settings-invite-invite'); return i ? i.value : null",
        vec![],
    );
    assert_eq!(invite, link);

    app.click("#team-confirm-no");
    app.wait_js(
        "the confirmation closed",
        "const d = document.getElementById('team-confirm'); return d && !d.open ? true : null",
        vec![],
    );
    std::thread::sleep(Duration::from_millis(1000));
    let settings = app
        .home_dir()
        .join(".config/trubka/profiles/default/settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap_or_default();
    assert!(
        !text.contains("[team]"),
        "cancelled, yet the default profile joined:\n{text}"
    );
    let state = app.js(
        "const s = document.getElementById('settings-invite-status'); return s ? s.textContent : ''",
        vec![],
    );
    assert_eq!(state, "", "nothing was attempted");
}
