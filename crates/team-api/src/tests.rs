use super::*;

#[test]
fn a_join_link_round_trips_and_names_its_host() {
    let link = JoinLink::new("https://team.example.com/", "ABCD-EFGH").unwrap();
    assert_eq!(link.server, "https://team.example.com");
    let text = link.to_string();
    assert_eq!(
        text,
        "trubka://join?server=https%3A%2F%2Fteam.example.com&code=ABCD-EFGH"
    );
    assert_eq!(JoinLink::parse(&text).unwrap(), link);
    assert_eq!(link.host(), "team.example.com");
}

#[test]
fn join_links_to_plain_http_elsewhere_or_odd_shapes_are_refused() {
    assert!(JoinLink::new("http://127.0.0.1:8787", "x").is_ok());
    assert!(JoinLink::new("http://localhost:8787", "x").is_ok());
    for bad in [
        "http://team.example.com",
        "ftp://team.example.com",
        "https://user:pw@team.example.com",
        "https://team.example.com/path",
        "https://team.example.com?x=1",
        "not a url",
    ] {
        assert!(
            matches!(JoinLink::new(bad, "x"), Err(JoinLinkError::Server(_))),
            "{bad}"
        );
    }
    for bad in [
        "https://join?server=https://a.example&code=x",
        "trubka://dial?server=https://a.example&code=x",
        "trubka://join?server=https://a.example",
        "trubka://join?server=https://a.example&code=x&code=y",
    ] {
        assert!(JoinLink::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn credentials_are_redacted_and_bodies_refuse_unknown_fields() {
    let credential = SeatCredential::new("tks_secret");
    assert_eq!(credential.to_string(), "[redacted]");
    assert!(!format!("{credential:?}").contains("secret"));
    assert!(serde_json::from_str::<JoinRequest>(r#"{"code":"x","extra":1}"#).is_err());
    let body = ErrorBody::new(TeamErrorCode::InviteExpired, "the invite expired");
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(json["code"], "invite_expired");
    let profile = SeatProfile {
        id: 1,
        name: "Alice".into(),
        role: Role::Supervisor,
        workplace: "883140582526566".into(),
    };
    let json = serde_json::to_value(&profile).unwrap();
    assert_eq!(json["role"], "supervisor");
    assert_eq!(Role::parse("admin"), Some(Role::Admin));
    assert_eq!(Role::parse("boss"), None);
}

#[test]
fn seat_api_bodies_have_their_wire_shapes_and_refuse_unknown_fields() {
    let dial: DialRequest = serde_json::from_str(r#"{"number":"+79001234567"}"#).unwrap();
    assert_eq!(dial.workplace, None);
    assert!(serde_json::from_str::<DialRequest>(r#"{"number":"1","extra":1}"#).is_err());
    let transfer: TransferRequest =
        serde_json::from_str(r#"{"legId":"a@b","target":"101"}"#).unwrap();
    assert_eq!(transfer.leg_id, "a@b");
    let code = serde_json::to_value(TeamErrorCode::NotYourWorkplace).unwrap();
    assert_eq!(code, "not_your_workplace");
}

#[test]
fn stream_bodies_have_their_wire_shapes() {
    let presence = PresenceEvent {
        workplace: "883140777716581".into(),
        presence: Presence::Ringing,
    };
    assert_eq!(
        serde_json::to_string(&presence).unwrap(),
        r#"{"workplace":"883140777716581","presence":"ringing"}"#
    );
    let cleared = CallbackQueueEvent::Cleared(CallbackCleared {
        number: "79001234567".into(),
        by_seat: Some(2),
    });
    let text = serde_json::to_string(&cleared).unwrap();
    assert_eq!(
        text,
        r#"{"change":"cleared","number":"79001234567","bySeat":2}"#
    );
    assert_eq!(
        serde_json::from_str::<CallbackQueueEvent>(&text).unwrap(),
        cleared
    );
}

#[test]
fn availability_reads_its_wire_names_and_offline_is_not_settable() {
    for availability in [
        Availability::Available,
        Availability::Break,
        Availability::Away,
        Availability::Offline,
    ] {
        let wire = serde_json::to_value(availability).unwrap();
        assert_eq!(wire, availability.as_str());
        assert_eq!(
            Availability::parse(availability.as_str()),
            Some(availability)
        );
    }
    assert!(!Availability::Offline.is_settable());
    assert!(Availability::Break.is_settable());
    let request: AvailabilityRequest = serde_json::from_str(r#"{"availability":"break"}"#).unwrap();
    assert_eq!(request.seat, None);
    assert!(serde_json::from_str::<AvailabilityRequest>(r#"{"availability":"nap"}"#).is_err());
}
