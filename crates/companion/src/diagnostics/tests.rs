use std::io::Read;

use super::*;

const HOOK: &str = "hook-5f2c9a7e41d8b3c6";
const CLIENT_SECRET: &str = "client-secret-7Qm2vX9pLk";
const ACCESS: &str = "access-token-Zt81Hq3vNc";
const CRM_KEY: &str = "crm-api-key-9d8f7a6b";

fn settings_with_secret_parts() -> Settings {
    let mut settings = Settings::default();
    settings.account.client_id = Some("ccb350cc-6218-40b0-b134-3d290f00b9e7".into());
    settings.account.redirect_uri = Some(format!("https://relay.example.com:8443/{HOOK}"));
    settings.account.relay_url = Some("https://relay.example.com:8443".into());
    settings.crm_url_template = Some(format!(
        "https://crm.example.com/find?phone={{number}}&key={CRM_KEY}"
    ));
    settings
}

fn summary() -> Summary {
    Summary {
        app_version: "1.2.3".into(),
        mode: "account".into(),
        profile: "default".into(),
        system: system_description(),
        relay_url: Some("https://relay.example.com:8443".into()),
        signed_in: Some(true),
        access_expires_at: None,
        refresh_expires_at: None,
        link: Some("connected".into()),
        last_prune: None,
        made_at: Utc::now(),
    }
}

/// Every entry of the zip at `path`, by name, as text.
pub(crate) fn entries_of(path: &Path) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            (file.name().unwrap().into_owned(), text)
        })
        .collect()
}

#[test]
fn the_settings_lose_the_hook_path_and_keys_in_the_crm_address() {
    let text = redacted_settings(&settings_with_secret_parts()).unwrap();
    assert!(!text.contains(HOOK) && !text.contains(CRM_KEY), "{text}");
    assert!(
        text.contains("redirect_uri = \"https://relay.example.com:8443/[redacted]\""),
        "{text}"
    );
    assert!(text.contains("phone={number}&key=[redacted]"), "{text}");
    // The rest is the settings as they are.
    assert!(
        text.contains("ccb350cc-6218-40b0-b134-3d290f00b9e7"),
        "{text}"
    );
    assert!(
        text.contains("relay_url = \"https://relay.example.com:8443\""),
        "{text}"
    );
    // A password in an address goes; the address stays.
    let mut with_password = Settings::default();
    with_password.account.relay_url = Some("https://ops:pa55word-x@relay.example.com/".into());
    let text = redacted_settings(&with_password).unwrap();
    assert!(
        !text.contains("pa55word-x") && !text.contains("ops@"),
        "{text}"
    );
    assert!(text.contains("https://relay.example.com/"), "{text}");
    // A loopback Redirect URI keeps its address.
    let mut loopback = Settings::default();
    loopback.account.redirect_uri = Some("http://127.0.0.1:8765/".into());
    assert!(
        redacted_settings(&loopback)
            .unwrap()
            .contains("http://127.0.0.1:8765/")
    );
}

#[test]
fn the_zip_holds_the_summary_settings_and_logs_without_a_secret_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // Logs that (by some bug) printed secrets, and a file that is not a log.
    std::fs::write(
        logs.join("trubka.2026-12-02.log"),
        format!("INFO sign-in done with {ACCESS}\nposted to /{HOOK}\n"),
    )
    .unwrap();
    std::fs::write(
        logs.join("trubka.2026-12-03.log"),
        format!("WARN exchange failed: client_secret={CLIENT_SECRET}\n"),
    )
    .unwrap();
    std::fs::write(logs.join("calls.sqlite"), "not a log").unwrap();
    let input = DiagnosticsInput {
        summary: summary(),
        settings: settings_with_secret_parts(),
        log_dir: Some(logs),
        secrets: vec![CLIENT_SECRET.into(), ACCESS.into(), HOOK.into()],
    };
    let target = dir.path().join("trubka-diagnostics.zip");
    let zip = write_zip(&target, &input).unwrap();
    let entries = entries_of(&target);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "summary.txt",
            "settings.toml",
            "logs/trubka.2026-12-02.log",
            "logs/trubka.2026-12-03.log"
        ]
    );
    assert_eq!(zip.entries, names);
    for (name, text) in &entries {
        for secret in [HOOK, CLIENT_SECRET, ACCESS, CRM_KEY] {
            assert!(!text.contains(secret), "{name} holds {secret}: {text}");
        }
    }
    assert!(entries[2].1.contains("sign-in done with [redacted]"));
    let summary = &entries[0].1;
    for fact in [
        "app version: 1.2.3",
        "relay: https://relay.example.com:8443",
        "sign-in: signed in",
        std::env::consts::OS,
    ] {
        assert!(summary.contains(fact), "{fact}: {summary}");
    }
    // A second zip under the same name is refused and the first stays as it was.
    let before = std::fs::read(&target).unwrap();
    let refused = write_zip(&target, &input).unwrap_err();
    assert_eq!(refused.code(), crate::ErrorCode::SaveFailed);
    assert!(
        refused.to_string().contains("trubka-diagnostics.zip"),
        "{refused}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), before);
}

#[test]
fn without_log_files_the_zip_still_has_the_summary_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("d.zip");
    let input = DiagnosticsInput {
        summary: summary(),
        settings: Settings::default(),
        log_dir: Some(dir.path().join("no-such-folder")),
        secrets: Vec::new(),
    };
    write_zip(&target, &input).unwrap();
    let names: Vec<String> = entries_of(&target).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["summary.txt", "settings.toml"]);
}

#[test]
fn a_days_log_stops_at_its_cap_and_says_so_once() {
    use std::io::Write;
    use tracing_subscriber::fmt::writer::MakeWriter;
    let dir = tempfile::tempdir().unwrap();
    let log = CappedLog::open(dir.path(), 250).unwrap();
    for i in 0..10 {
        log.make_writer()
            .write_all(format!("line {i:02} {}\n", "x".repeat(40)).as_bytes())
            .unwrap();
    }
    let files = log_files(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[4].starts_with("line 04"), "{text}");
    assert!(lines[5].contains("today's log is full"), "{text}");
    // Another start the same day counts what is already there.
    let again = CappedLog::open(dir.path(), 250).unwrap();
    again.make_writer().write_all(b"one more\n").unwrap();
    let after = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(after.lines().count(), 7, "{after}");
    assert!(after.ends_with("today's log is full: later lines today go to stderr only --\n"));
}
