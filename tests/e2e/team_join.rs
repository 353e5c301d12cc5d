//! Team mode, issue #15: a `trubka://join` invite link opened while the app runs reaches the
//! first instance (through the single-instance hand-over, like a `tel:` link), which shows
//! Settings' Team section and asks to join the server's host — Cancel focused, since a link can
//! come from anyone — and nothing is joined or sent until the operator says yes.
//!
//! Saying yes joins a real relay (in this process): the default profile becomes the seat, its
//! credential in the session's Secret Service. Calling through the team server needs the
//! relay's seat API (another branch), so no call is made here yet.

use std::time::Duration;

use crate::app::{App, alive, run_env, wait_for_within};
use crate::restart::apps_under;

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

/// A real relay in this process with a seat for `workplace` and its invite link.
fn relay_with_invite(
    runtime: &tokio::runtime::Runtime,
    dir: &tempfile::TempDir,
    workplace: &str,
) -> (relay::RelayHandle, String) {
    runtime.block_on(async {
        let config = relay::RelayConfig::new(
            relay::HookPath::generate(),
            dir.path().join("relay.sqlite3"),
        );
        let relay = relay::Relay::start(config).await.unwrap();
        let seat = relay
            .state()
            .team
            .add_seat(relay::store::team::NewSeat {
                name: "Anna".into(),
                workplace: workplace.into(),
                role: team_api::Role::Operator,
            })
            .await
            .unwrap()
            .profile
            .id;
        let code = relay::seats::InviteCode::generate().unwrap();
        relay
            .state()
            .team
            .add_invite(
                relay::store::team::SeatRef::Id(seat),
                code.hash(),
                chrono::Utc::now() + chrono::TimeDelta::hours(1),
            )
            .await
            .unwrap();
        let link = team_api::JoinLink::new(
            &format!("http://{}", relay.local_addr()),
            &code.expose_secret(),
        )
        .unwrap()
        .to_string();
        (relay, link)
    })
}

#[test]
#[ignore = "needs the desktop session that tests/e2e/run sets up"]
fn a_join_link_confirmed_joins_the_team_and_keeps_the_seat_in_the_keyring() {
    let app = App::start("team_join_yes");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let relay_dir = tempfile::tempdir().unwrap();
    let (relay, link) = relay_with_invite(&runtime, &relay_dir, &app.workplace());
    let old = app.pid().expect("the launcher wrote the app's pid");
    let home = app.home_dir().to_path_buf();

    let (status, stderr) = app.second_instance(&link);
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
    assert!(title.as_str().unwrap().contains("127.0.0.1"), "{title}");
    // Yes: the app joins (the default profile, not the demo's), then restarts.
    let _ = app.wd.execute(
        "document.getElementById('team-confirm-yes').click(); return true;",
        vec![],
    );
    let settings = home.join(".config/trubka/profiles/default/settings.toml");
    let text = wait_for_within(
        "the default profile to join",
        Duration::from_secs(20),
        || {
            let text = std::fs::read_to_string(&settings).map_err(|e| e.to_string())?;
            if text.contains("[team") {
                Ok(text)
            } else {
                Err(text)
            }
        },
    );
    assert!(text.contains("name = \"Anna\""), "{text}");
    assert!(text.contains("router = false"), "{text}");
    assert!(
        !text.contains("tks_"),
        "a credential in the settings file:\n{text}"
    );
    // The invite was spent by this join (and the credential kept: the settings say joined only
    // after the keyring took it).
    let invite = team_api::JoinLink::parse(&link).unwrap();
    let again = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{}/team/join", invite.server))
        .json(&serde_json::json!({ "code": invite.code }))
        .send()
        .unwrap();
    assert_eq!(again.status().as_u16() / 100, 4, "the invite works once");
    drop(relay);
    // The app restarts (into demo mode again, since this test started it with --demo); the
    // restarted process is stopped here.
    wait_for_within("the old process to exit", Duration::from_secs(15), || {
        if alive(old) {
            Err("still running".to_owned())
        } else {
            Ok(())
        }
    });
    if let Ok(pids) = wait_for_within_ok(&home, old) {
        for pid in pids {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
    }
}

/// The restarted app's processes, if any came up.
fn wait_for_within_ok(home: &std::path::Path, old: u32) -> Result<Vec<u32>, String> {
    let mut found = Vec::new();
    for _ in 0..50 {
        found = apps_under(home, old);
        if !found.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    if let Some(pids) = &run_env().pids_file {
        let mut list = std::fs::read_to_string(pids).unwrap_or_default();
        for pid in &found {
            list.push_str(&format!("{pid}\n"));
        }
        std::fs::write(pids, list).map_err(|e| e.to_string())?;
    }
    Ok(found)
}
