use std::sync::Arc;

use team_api::Role;

use super::*;
use crate::store::NoSink;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::team::NewSeat;

const ANNA: &str = "883140000000001";
const BORIS: &str = "883140000000002";

fn store(dir: &tempfile::TempDir) -> SharedTeamStore {
    Arc::new(
        SqliteStore::open(
            &dir.path().join("relay.sqlite3"),
            SqliteOptions::default(),
            Arc::new(NoSink),
        )
        .unwrap(),
    )
}

fn board() -> (Arc<SeatAvailability>, mpsc::Receiver<Addition>) {
    let (tx, rx) = mpsc::channel(64);
    (Arc::new(SeatAvailability::new(tx)), rx)
}

fn seen(rx: &mut mpsc::Receiver<Addition>) -> Vec<(i64, Availability)> {
    let mut out = Vec::new();
    while let Ok(addition) = rx.try_recv() {
        if let Addition::Availability(event) = addition {
            out.push((event.seat, event.availability));
        }
    }
    out
}

#[tokio::test]
async fn a_seat_is_offline_without_a_stream_and_back_to_what_it_set_when_one_opens() {
    let dir = tempfile::tempdir().unwrap();
    let team = store(&dir);
    let (board, mut rx) = board();
    assert_eq!(board.availability(1), Availability::Offline);
    let first = board.online(&team, 1, ANNA).await;
    let second = board.online(&team, 1, ANNA).await;
    assert_eq!(board.availability(1), Availability::Available);
    board
        .set(&team, 1, ANNA, Availability::Break)
        .await
        .unwrap();
    drop(first);
    // One stream of the seat is still open: still on its break, not offline.
    assert_eq!(board.availability(1), Availability::Break);
    drop(second);
    assert_eq!(board.availability(1), Availability::Offline);
    let _again = board.online(&team, 1, ANNA).await;
    assert_eq!(board.availability(1), Availability::Break);
    assert_eq!(
        seen(&mut rx),
        vec![
            (1, Availability::Available),
            (1, Availability::Break),
            (1, Availability::Offline),
            (1, Availability::Break),
        ]
    );
}

#[tokio::test]
async fn the_set_availability_survives_a_restart_and_offline_cannot_be_set() {
    let dir = tempfile::tempdir().unwrap();
    let team = store(&dir);
    let seat = team
        .add_seat(NewSeat {
            name: "Anna".into(),
            workplace: ANNA.into(),
            role: Role::Operator,
        })
        .await
        .unwrap();
    let id = seat.profile.id;
    let (board, _rx) = board();
    board
        .set(&team, id, ANNA, Availability::Away)
        .await
        .unwrap();
    assert!(
        board
            .set(&team, id, ANNA, Availability::Offline)
            .await
            .is_err()
    );
    drop(board);
    // A new relay over the same store: the seat is offline until it connects, then Away.
    let (board, _rx) = board_after_restart();
    board.learn(&team).await.unwrap();
    assert_eq!(board.availability(id), Availability::Offline);
    assert!(!board.is_available(ANNA));
    let _online = board.online(&team, id, ANNA).await;
    assert_eq!(board.availability(id), Availability::Away);
}

fn board_after_restart() -> (Arc<SeatAvailability>, mpsc::Receiver<Addition>) {
    board()
}

#[tokio::test]
async fn a_workplace_is_available_when_a_connected_seat_of_it_is_or_no_seat_sits_there() {
    let dir = tempfile::tempdir().unwrap();
    let team = store(&dir);
    let (board, _rx) = board();
    assert!(board.is_available("883140000000009"), "no seat sits there");
    let anna = board.online(&team, 1, ANNA).await;
    assert!(board.is_available(ANNA));
    board
        .set(&team, 1, ANNA, Availability::Break)
        .await
        .unwrap();
    assert!(!board.is_available(ANNA));
    board
        .set(&team, 1, ANNA, Availability::Available)
        .await
        .unwrap();
    drop(anna);
    assert!(!board.is_available(ANNA), "offline");
    board
        .set(&team, 2, BORIS, Availability::Away)
        .await
        .unwrap();
    assert!(!board.is_available(BORIS));
}

#[tokio::test]
async fn a_revoked_seat_no_longer_speaks_for_its_workplace_and_an_edit_moves_a_seat() {
    let dir = tempfile::tempdir().unwrap();
    let team = store(&dir);
    let anna = team
        .add_seat(NewSeat {
            name: "Anna".into(),
            workplace: ANNA.into(),
            role: Role::Operator,
        })
        .await
        .unwrap();
    let (board, _rx) = board();
    board.learn(&team).await.unwrap();
    // Anna's app is closed: her workplace is passed over.
    assert!(!board.is_available(ANNA));
    team.revoke_seat(crate::store::team::SeatRef::Id(anna.profile.id))
        .await
        .unwrap();
    board.follow_seats(&team.seats().await.unwrap());
    assert!(board.is_available(ANNA), "nobody sits there any more");
    assert_eq!(board.availability(anna.profile.id), Availability::Offline);

    // A seat whose workplace changed answers for the new one.
    let boris = team
        .add_seat(NewSeat {
            name: "Boris".into(),
            workplace: BORIS.into(),
            role: Role::Operator,
        })
        .await
        .unwrap();
    let _online = board.online(&team, boris.profile.id, BORIS).await;
    board
        .set(&team, boris.profile.id, BORIS, Availability::Break)
        .await
        .unwrap();
    let mut moved = team.seats().await.unwrap();
    for seat in &mut moved {
        if seat.profile.id == boris.profile.id {
            seat.profile.workplace = ANNA.into();
        }
    }
    board.follow_seats(&moved);
    assert!(
        !board.is_available(ANNA),
        "Boris, on a break, sits there now"
    );
    assert!(board.is_available(BORIS));
}
