//! What the team tests share: a real relay on loopback, and seats with their invites as
//! `trubka-relay seats add` and `seats invite` make them.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use relay::seats::InviteCode;
use relay::store::team::{NewSeat, SeatRef};
use team_api::Role;

/// A relay on loopback with its store in `dir`, quick to notice a dropped stream.
pub async fn real_relay(dir: &tempfile::TempDir) -> relay::RelayHandle {
    let mut config = relay::RelayConfig::new(
        relay::HookPath::generate(),
        dir.path().join("relay.sqlite3"),
    );
    config.heartbeat = Duration::from_millis(200);
    config.retry = Duration::from_millis(100);
    relay::Relay::start(config).await.unwrap()
}

/// A seat and its one-time invite.
pub struct Invited {
    pub seat: i64,
    /// The `trubka://join` link.
    pub link: String,
    /// The invite's code alone.
    pub code: String,
}

/// Adds a seat and invites it (valid for an hour).
pub async fn invite(
    relay: &relay::RelayHandle,
    name: &str,
    workplace: &str,
    role: Role,
) -> Invited {
    let seat = relay
        .state()
        .team
        .add_seat(NewSeat {
            name: name.into(),
            workplace: workplace.into(),
            role,
        })
        .await
        .unwrap()
        .profile
        .id;
    let code = InviteCode::generate().unwrap();
    relay
        .state()
        .team
        .add_invite(
            SeatRef::Id(seat),
            code.hash(),
            Utc::now() + TimeDelta::hours(1),
        )
        .await
        .unwrap();
    let link = team_api::JoinLink::new(
        &format!("http://{}", relay.local_addr()),
        &code.expose_secret(),
    )
    .unwrap()
    .to_string();
    Invited {
        seat,
        link,
        code: code.expose_secret(),
    }
}
