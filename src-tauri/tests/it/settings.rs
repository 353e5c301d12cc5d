//! The Settings screen and the first-run welcome as the window invokes them: saving
//! preferences (and refusing wrong ones with the field), choosing my workplace, and connecting a
//! real account to the default profile without its secrets ever reaching a file.

use std::sync::Arc;

use companion::settings::DEFAULT_PROFILE;
use companion::{MemoryVault, Profile, ProfileSecrets};
use serde_json::{Value, json};
use tauri::Manager;
use trubka_app::{AccountHome, Mode};

use crate::harness::TestApp;

/// The app with a default profile (in `dir`) and a keyring in memory for real accounts.
struct WithHome {
    app: TestApp,
    profile: Profile,
    vault: Arc<MemoryVault>,
    _dir: tempfile::TempDir,
}

fn with_home(mode: Mode) -> WithHome {
    let app = TestApp::new();
    let dir = tempfile::tempdir().unwrap();
    let profile = Profile::under(
        DEFAULT_PROFILE,
        &dir.path().join("config"),
        &dir.path().join("data"),
    )
    .unwrap();
    let vault = Arc::new(MemoryVault::default());
    assert!(app.window.manage(AccountHome::new(
        mode,
        profile.clone(),
        Arc::clone(&vault) as Arc<dyn companion::SecretVault>,
    )));
    WithHome {
        app,
        profile,
        vault,
        _dir: dir,
    }
}

fn preferences(app: &TestApp) -> Value {
    app.invoke("settings", json!({})).unwrap()
}

#[test]
fn saved_preferences_are_kept_and_read_back() {
    let app = TestApp::new();
    let mut prefs = preferences(&app);
    assert_eq!(prefs["hotkey"], "Ctrl+Alt+D");
    assert_eq!(prefs["theme"], "system");
    prefs["hotkey"] = json!("alt+ctrl+k");
    prefs["theme"] = json!("dark");
    prefs["language"] = json!("ru");
    prefs["popupWhose"] = json!("allIncoming");
    prefs["linkAction"] = json!("fill");
    prefs["notifyMissed"] = json!(false);
    prefs["autostart"] = json!(true);
    prefs["crmUrlTemplate"] = json!("https://crm.example.com/find?phone={number}");
    assert_eq!(
        (&prefs["keepCallsDays"], &prefs["keepRawEventsDays"]),
        (&json!(1095), &json!(90)),
        "three years of calls, 90 days of raw events unless chosen"
    );
    prefs["keepCallsDays"] = json!(null);
    prefs["keepRawEventsDays"] = json!(30);
    let saved = app
        .invoke("save_settings", json!({"preferences": prefs}))
        .unwrap();
    assert_eq!(saved["hotkey"], "Ctrl+Alt+K", "kept in one spelling");
    assert_eq!(preferences(&app), saved);
    let on_disk = app.companion.profile().load_settings().unwrap();
    assert!(on_disk.autostart && !on_disk.notifications.missed);
    assert_eq!(on_disk.hotkey, "Ctrl+Alt+K");
    assert_eq!(
        on_disk.retention,
        companion::retention::RetentionSettings {
            calls: companion::retention::KeepFor::Forever,
            raw_events: companion::retention::KeepFor::Days(30),
        }
    );
}

#[test]
fn each_wrong_preference_is_refused_naming_its_field() {
    let app = TestApp::new();
    for (field, value, named) in [
        ("hotkey", "D", "hotkey"),
        ("hotkey", "Ctrl+Alt", "hotkey"),
        ("hotkey", "Ctrl+Alt+Ы", "hotkey"),
        (
            "crmUrlTemplate",
            "https://crm.example.com/find",
            "crm_url_template",
        ),
        (
            "crmUrlTemplate",
            "javascript:alert({number})",
            "crm_url_template",
        ),
        (
            "crmUrlTemplate",
            "ftp://crm.example.com/{number}",
            "crm_url_template",
        ),
    ] {
        let mut prefs = preferences(&app);
        prefs[field] = json!(value);
        refused(&app, prefs, field, named);
    }
    for (field, days, named) in [
        ("keepCallsDays", 0, "retention.calls"),
        ("keepRawEventsDays", 36_501, "retention.raw_events"),
    ] {
        let mut prefs = preferences(&app);
        prefs[field] = json!(days);
        refused(&app, prefs, field, named);
    }
    assert_eq!(
        preferences(&app)["hotkey"],
        "Ctrl+Alt+D",
        "nothing was saved"
    );
}

/// Saving `prefs` is refused with code `invalid`, naming the form's `field` and the setting.
fn refused(app: &TestApp, prefs: Value, field: &str, named: &str) {
    let value = prefs[field].clone();
    let err = app
        .invoke("save_settings", json!({"preferences": prefs}))
        .unwrap_err();
    assert_eq!(err["code"], "invalid", "{field}={value}: {err}");
    assert_eq!(err["field"], field, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains(named),
        "{field}={value}: {err}"
    );
}

#[test]
fn my_workplace_must_be_a_sip_id_and_is_kept_once_chosen() {
    let home = with_home(Mode::Account);
    let app = &home.app;
    let err = app
        .invoke("set_workplace", json!({"workplace": "reception"}))
        .unwrap_err();
    assert_ne!(err["code"], "", "{err}");
    assert!(app.companion.settings().workplace.is_none());
    app.invoke("set_workplace", json!({"workplace": " 883140582526566 "}))
        .unwrap();
    assert_eq!(
        app.companion.settings().workplace.as_deref(),
        Some("883140582526566")
    );
    let state = app.invoke("account", json!({})).unwrap();
    assert_eq!(state["workplace"], "883140582526566");
}

#[test]
fn a_first_start_in_demo_mode_offers_the_welcome_until_it_is_answered() {
    let home = with_home(Mode::Demo);
    let state = home.app.invoke("account", json!({})).unwrap();
    assert_eq!(state["mode"], "demo");
    assert_eq!(state["welcome"], true);
    home.app.invoke("dismiss_welcome", json!({})).unwrap();
    assert_eq!(
        home.app.invoke("account", json!({})).unwrap()["welcome"],
        false
    );
    assert!(home.profile.load_settings().unwrap().welcomed);

    let account = with_home(Mode::Account);
    let state = account.app.invoke("account", json!({})).unwrap();
    assert_eq!(state["welcome"], false, "{state}");
    assert_eq!(state["signedIn"], false);
}

fn form(redirect: &str, secret: &str) -> Value {
    json!({"form": {
        "clientId": "ccb350cc-6218-40b0-b134-3d290f00b9e7",
        "clientSecret": secret,
        "redirectUri": redirect,
    }})
}

#[test]
fn an_account_with_a_wrong_redirect_uri_or_no_secret_is_refused_by_field() {
    let home = with_home(Mode::Demo);
    for (args, field) in [
        (form("relay.example.com/hook", "s3cret"), "redirectUri"),
        (form("http://example.com/hook", "s3cret"), "redirectUri"),
        (form("https://relay.example.com/hook", "s3cret"), "relayUrl"),
        (form("http://127.0.0.1:8765/cb", "   "), "clientSecret"),
    ] {
        let err = home.app.invoke("save_account", args.clone()).unwrap_err();
        assert_eq!(err["code"], "invalid", "{args}: {err}");
        assert_eq!(err["field"], field, "{args}: {err}");
    }
    assert!(!home.profile.settings_path().exists(), "nothing was saved");
    assert!(home.vault.is_empty());
}

#[test]
fn a_saved_account_goes_to_the_default_profile_with_its_secrets_in_the_keyring() {
    let home = with_home(Mode::Demo);
    let mut args = form("https://relay.example.com/hook", "s3cret");
    args["form"]["relayUrl"] = json!("https://relay.example.com");
    args["form"]["relayKey"] = json!("relay-k3y");
    home.app.invoke("save_account", args).unwrap();
    let settings = home.profile.load_settings().unwrap();
    assert_eq!(
        settings.account.redirect_uri.as_deref(),
        Some("https://relay.example.com/hook")
    );
    assert!(settings.welcomed);
    let file = std::fs::read_to_string(home.profile.settings_path()).unwrap();
    assert!(
        !file.contains("s3cret") && !file.contains("relay-k3y"),
        "{file}"
    );
    let secrets = ProfileSecrets::new(home.vault.clone(), DEFAULT_PROFILE);
    assert_eq!(secrets.client_secret().unwrap().unwrap().expose(), "s3cret");
    assert_eq!(secrets.relay_key().unwrap().unwrap().expose(), "relay-k3y");
    assert!(
        home.app.companion.settings().account.client_id.is_none(),
        "the running (demo) profile is not touched"
    );
    assert_eq!(
        home.app.invoke("account", json!({})).unwrap()["welcome"],
        false
    );
}

#[test]
fn the_demo_cannot_be_signed_in_or_out() {
    let home = with_home(Mode::Demo);
    let err = home.app.invoke("sign_in", json!({})).unwrap_err();
    assert_eq!(err["code"], "demo", "{err}");
    let err = home.app.invoke("sign_out", json!({})).unwrap_err();
    assert_eq!(err["code"], "demo", "{err}");
}

#[test]
fn routing_starts_empty_and_the_router_flag_and_rules_are_kept_or_refused() {
    let app = TestApp::new();
    let view = app.invoke("routing", json!({})).unwrap();
    assert_eq!(view["isRouter"], false);
    assert_eq!(view["numbers"], json!([]));
    assert_eq!(view["decisions"], json!([]));
    assert_eq!(view["shareInTime"], Value::Null);
    let rules = view["rules"].as_str().unwrap().to_owned();
    let view = app.invoke("set_router", json!({"on": true})).unwrap();
    assert_eq!(view["isRouter"], true);
    assert!(app.companion.settings().router);
    let err = app
        .invoke(
            "save_routing_rules",
            json!({"rules": "[routing]\nrules = 7"}),
        )
        .unwrap_err();
    assert_eq!(err["code"], "invalid_input", "{err}");
    let view = app
        .invoke("save_routing_rules", json!({"rules": rules}))
        .unwrap();
    assert_eq!(view["rules"], json!(rules), "the rules read back as saved");
    let err = app
        .invoke("set_parking", json!({"number": "74950000000", "on": true}))
        .unwrap_err();
    assert_eq!(err["code"], "not_configured", "{err}");
}

/// A real relay with a seat and its invite link, as an admin makes them.
fn team_invite(dir: &tempfile::TempDir) -> (relay::RelayHandle, String) {
    tauri::async_runtime::block_on(async {
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
                workplace: "883140582526566".into(),
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
fn an_invite_is_read_for_its_host_then_joins_the_default_profile_and_leaving_clears_it() {
    let home = with_home(Mode::Demo);
    let relay_dir = tempfile::tempdir().unwrap();
    let (relay, link) = team_invite(&relay_dir);
    assert_eq!(home.app.invoke("team", json!({})).unwrap()["state"], "none");
    let bad = home
        .app
        .invoke("read_invite", json!({"invite": "ABCD", "server": null}))
        .unwrap_err();
    assert_eq!(bad["code"], "invalid_input");
    let invite = home
        .app
        .invoke("read_invite", json!({"invite": link, "server": null}))
        .unwrap();
    // The host with its port: which server it is.
    assert_eq!(invite["host"], relay.local_addr().to_string());
    let joined = home
        .app
        .invoke("join_team", json!({"invite": link, "server": null}))
        .unwrap();
    assert_eq!(joined["seat"], "Anna");
    assert_eq!(joined["role"], "operator");
    // The default profile joined, not the demo's; its credential is in the keyring only.
    let settings = home.profile.load_settings().unwrap();
    assert_eq!(settings.team.as_ref().unwrap().seat.name, "Anna");
    let secrets = ProfileSecrets::new(
        Arc::clone(&home.vault) as Arc<dyn companion::SecretVault>,
        home.profile.name(),
    );
    let credential = secrets.seat_credential().unwrap().unwrap();
    let file = std::fs::read_to_string(home.profile.settings_path()).unwrap();
    assert!(!file.contains(credential.expose_secret()));
    assert!(home.app.companion.settings().team.is_none());
    let view = home.app.invoke("team", json!({})).unwrap();
    assert_eq!(
        (&view["state"], &view["seat"], &view["workplace"]),
        (&json!("joined"), &json!("Anna"), &json!("883140582526566"))
    );
    let left = home
        .app
        .invoke("leave_team", json!({"deleteHistory": true}))
        .unwrap();
    assert_eq!(left["deletedCalls"], 0);
    assert!(home.profile.load_settings().unwrap().team.is_none());
    assert!(secrets.seat_credential().unwrap().is_none());
}
