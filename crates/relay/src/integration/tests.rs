use super::*;
use crate::store::NoSink;
use crate::store::sqlite::{SqliteOptions, SqliteStore};

fn integration(dir: &tempfile::TempDir) -> Integration {
    let config = RelayConfig::new(
        crate::config::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    let store =
        SqliteStore::open(&config.database, SqliteOptions::default(), Arc::new(NoSink)).unwrap();
    Integration::new(
        Arc::new(store),
        None,
        Arc::new(config),
        Arc::new(Metrics::default()),
    )
}

fn tokens(refresh_lapses_in: TimeDelta) -> mtt_api::SessionStatus {
    mtt_api::SessionStatus {
        signed_in: true,
        access_expires_at: Some(Utc::now() + TimeDelta::hours(2)),
        refresh_expires_at: Some(Utc::now() + refresh_lapses_in),
    }
}

#[tokio::test]
async fn a_refresh_token_that_does_not_rotate_is_warned_about_a_day_before_it_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let integration = integration(&dir);
    integration.set_connected(&tokens(TimeDelta::days(2)), Some(false));
    let status = integration.status();
    assert_eq!(status.integration, IntegrationState::Connected);
    assert_eq!(status.refresh_rotates, Some(false));
    assert!(!status.lapse_warning);
    integration.set_connected(&tokens(TimeDelta::hours(23)), None);
    assert!(integration.status().lapse_warning);
    // Rotating tokens never lapse while refreshed: no warning.
    integration.set_connected(&tokens(TimeDelta::hours(23)), Some(true));
    assert!(!integration.status().lapse_warning);
}

#[tokio::test]
async fn a_refusal_stays_reported_until_the_integration_is_connected_again() {
    let dir = tempfile::tempdir().unwrap();
    let integration = integration(&dir);
    integration.set_failing("МТТ refused the refresh: invalid_grant".into(), true);
    let status = integration.status();
    assert_eq!(status.integration, IntegrationState::RefreshFailing);
    assert!(status.team_mode);
    // A later look that still has tokens does not hide the failure.
    integration.set_connected(&tokens(TimeDelta::days(2)), None);
    assert_eq!(
        integration.status().integration,
        IntegrationState::RefreshFailing
    );
    // A refresh that works clears it.
    integration.set_connected(&tokens(TimeDelta::days(3)), Some(true));
    let status = integration.status();
    assert_eq!(status.integration, IntegrationState::Connected);
    assert!(status.last_error.is_none());
}

#[tokio::test]
async fn connecting_again_after_a_refusal_is_reported_connected_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let integration = integration(&dir);
    integration.set_failing("МТТ refused the refresh: invalid_grant".into(), true);
    integration.note_connected();
    // The refresher's next look, with the new tokens, before any refresh is due.
    integration.set_connected(&tokens(TimeDelta::days(3)), None);
    let status = integration.status();
    assert_eq!(status.integration, IntegrationState::Connected);
    assert!(status.last_error.is_none());
}
