//! The relay holds the integration for days, on the simulator's scaled clock (a simulated day
//! every two real seconds), with the relay's session following that clock
//! (`Integration::use_clock`): with rotating refresh tokens it keeps the integration alive for
//! ten simulated days; without rotation the refresh token's three days cannot be extended, and
//! it warns the admins (a `team` event on their streams, `/readyz`) a day before the lapse.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use relay::team_clock::TeamClock;
use serde_json::{Value, json};
use team_api::Role;

use crate::team_integration::{Team, connect, readyz};
use crate::util::{SseReader, start_prepared};

/// A simulated day every two real seconds.
const SCALE: f64 = 43_200.0;
/// Far beyond the twenty real seconds ten simulated days take; only a stuck run reaches it.
const CEILING: Duration = Duration::from_secs(300);

/// The simulator's clock as the relay's integration takes one.
#[derive(Debug)]
struct SimTime(Arc<dyn mtt_sim::Clock>);

impl TeamClock for SimTime {
    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let at = self.0.now() + TimeDelta::from_std(duration).unwrap_or(TimeDelta::days(365));
        self.0.sleep_until(at)
    }
}

/// A simulator on the scaled clock (access tokens of 12 simulated hours, refresh tokens of
/// three days) and a relay that refreshes 6 simulated hours ahead, on the same clock.
async fn team_on_sim_time(rotate: bool) -> Team {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = relay::HookPath::generate();
    let redirect_uri = format!("http://127.0.0.1:{port}/{}", hook.expose_secret());
    let mut config = mtt_sim::SimConfig {
        auto_approve: true,
        clock_scale: SCALE,
        ..Default::default()
    };
    config.client.redirect_uris = vec![redirect_uri.clone()];
    config.webhook_url = Some(redirect_uri);
    config.tokens.access_lifetime_ms = 12 * 3_600_000;
    // A sign-in's code lives ten simulated minutes by default: 14 real milliseconds here.
    config.tokens.code_lifetime_ms = 30 * 24 * 3_600_000;
    config.tokens.rotate_refresh_tokens = rotate;
    let client_secret = config.client.client_secret.expose().to_owned();
    let sim = mtt_sim::Sim::start(config).await.unwrap();
    let (oauth, api) = (sim.oauth_url().to_owned(), sim.api_url().to_owned());
    let clock = Arc::clone(sim.state().clock());
    let relay = start_prepared(
        move |config| {
            config.hook = hook;
            config.listen = ([127, 0, 0, 1], port).into();
            config.mtt_oauth_url = oauth;
            config.mtt_api_url = api;
            config.refresh_margin = Duration::from_secs(6 * 3600);
            relay::sealing::ensure_key_file(&config.key_file).unwrap();
        },
        move |state| assert!(state.integration.use_clock(Arc::new(SimTime(clock)))),
    )
    .await;
    Team {
        relay,
        sim,
        client_secret,
    }
}

async fn joined(team: &Team, name: &str, workplace: &str, role: Role) -> String {
    let relay = &team.relay;
    let state = relay.handle.state();
    let seat = state
        .team
        .add_seat(relay::store::team::NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role,
        })
        .await
        .unwrap();
    let code = relay::seats::InviteCode::generate().unwrap();
    state
        .team
        .add_invite(
            relay::store::team::SeatRef::Id(seat.profile.id),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let answer: Value = relay
        .http
        .post(format!("{}/team/join", relay.base))
        .json(&json!({ "code": code.expose_secret() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["credential"].as_str().unwrap().to_owned()
}

async fn stream(team: &Team, credential: &str) -> SseReader {
    SseReader::new(
        team.relay
            .http
            .get(format!("{}/events/stream", team.relay.base))
            .bearer_auth(credential)
            .send()
            .await
            .unwrap(),
    )
}

async fn refreshes(team: &Team) -> Value {
    let answer: Value = team
        .relay
        .http
        .get(format!("{}/oauth", team.sim.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["refreshes"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_rotation_the_relay_keeps_the_integration_alive_for_ten_simulated_days() {
    let team = team_on_sim_time(true).await;
    connect(&team).await;
    let admin = joined(&team, "Админ", "883140777551401", Role::Admin).await;
    let clock = Arc::clone(team.sim.state().clock());
    let start = clock.now();
    let ten_days = async {
        while clock.now() < start + TimeDelta::days(10) {
            let (status, ready) = readyz(&team.relay).await;
            assert_eq!(
                (status, ready["integration"].as_str()),
                (200, Some("connected")),
                "lost after {} simulated hours: {ready}",
                (clock.now() - start).num_hours()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(CEILING, ten_days)
        .await
        .expect("ten simulated days pass well within the ceiling");
    let counts = refreshes(&team).await;
    // More refreshes than three-day lifetimes in ten days: it lived by rotation.
    assert!(counts["served"].as_u64().unwrap() > 3, "{counts}");
    assert_eq!(counts["refused"], 0, "{counts}");
    let (_, ready) = readyz(&team.relay).await;
    assert_eq!(ready["refreshRotates"], true, "{ready}");
    assert_eq!(ready["lapseWarning"], false, "{ready}");
    // And the PBX still answers through the relay.
    let directory = team
        .relay
        .http
        .get(format!("{}/team/directory", team.relay.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(directory.status(), 200);
    let directory: Value = directory.json().await.unwrap();
    assert!(!directory["workplaces"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rotation_the_relay_warns_the_admins_a_day_before_the_lapse() {
    let team = team_on_sim_time(false).await;
    connect(&team).await;
    let admin = joined(&team, "Админ", "883140777551401", Role::Admin).await;
    let operator = joined(&team, "Анна", "883140582526566", Role::Operator).await;
    let mut admin_stream = stream(&team, &admin).await;
    let mut operator_stream = stream(&team, &operator).await;
    let clock = Arc::clone(team.sim.state().clock());
    let warning = tokio::time::timeout(CEILING, async {
        loop {
            let frame = admin_stream
                .next_event(Duration::from_secs(10))
                .await
                .expect("the admin's stream stays open");
            if frame.event.as_deref() == Some("team")
                && frame.json()["body"]["notice"] == "lapse_warning"
            {
                return (frame.json()["body"].clone(), clock.now());
            }
        }
    })
    .await
    .expect("a lapse warning within the ceiling");
    let (body, seen_at) = warning;
    let lapse: DateTime<Utc> = body["status"]["refreshExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = lapse - seen_at;
    assert!(
        left > TimeDelta::zero() && left <= TimeDelta::days(1),
        "warned {} simulated hours before the lapse: {body}",
        left.num_hours()
    );
    assert_eq!(body["status"]["refreshRotates"], false, "{body}");
    let (_, ready) = readyz(&team.relay).await;
    assert_eq!(ready["lapseWarning"], true, "{ready}");
    // The warning is for admins: an operator's stream never carries it.
    while let Some(frame) = operator_stream.next_event(Duration::from_millis(500)).await {
        assert_ne!(frame.event.as_deref(), Some("team"), "{:?}", frame.data);
    }
}
