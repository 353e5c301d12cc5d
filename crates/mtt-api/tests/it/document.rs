//! Each of the document's JSON examples parses to the values it shows.

use mtt_api::notification::{DEFAULT_PBX_ZONE, PbxEventKind};
use mtt_api::{CallState, Direction, HttpConfig, LegRef, Notification};

use crate::fixture;
use crate::mock::{Mock, Reply, fresh_tokens};

fn call(name: &str) -> mtt_api::CallEvent {
    match Notification::parse(fixture(name).as_bytes()).unwrap() {
        Notification::Call(c) => c,
        other => panic!("{name} parsed as {other:?}"),
    }
}

#[test]
fn incoming_trying_example() {
    let c = call("call_incoming_trying.json");
    assert_eq!(
        c.leg.as_str(),
        "c166e238a4c211ea9d373863bb43daf8_00015ED635780FC7~1o"
    );
    assert_eq!(c.tag.as_deref(), Some("hswdfry52vmykfla____.o"));
    assert_eq!(c.state, CallState::Trying);
    assert_eq!(c.direction, Some(Direction::Incoming));
    assert_eq!(c.transport_id.as_deref(), Some("10.133.33.136:5073"));
    let callee = c.callee.as_ref().unwrap();
    assert_eq!(callee.account_id.as_deref(), Some("74996497803"));
    assert_eq!(callee.centrex_id.as_deref(), Some("67821426"));
    assert_eq!(callee.display_name.as_deref(), Some(""));
    assert_eq!(callee.name(), None, "an empty display name is no name");
    let caller = c.caller.as_ref().unwrap();
    assert_eq!(caller.account_id.as_deref(), Some("78124241500@pstn"));
    assert_eq!(caller.centrex_id, None);
    assert_eq!(caller.number(), Some("78124241500"));
    let start = c.start_time.as_ref().unwrap();
    assert_eq!(start.raw, "2020-06-02 11:18:16");
    assert_eq!(
        start.to_utc(DEFAULT_PBX_ZONE).unwrap().to_rfc3339(),
        "2020-06-02T08:18:16+00:00"
    );
    assert!(c.involves("74996497803"));
}

#[test]
fn outgoing_trying_showing_connected_and_finished_examples() {
    let trying = call("call_outgoing_trying.json");
    assert_eq!(trying.state, CallState::Trying);
    assert_eq!(trying.direction, Some(Direction::Outgoing));
    assert_eq!(
        trying.callee.as_ref().unwrap().id.as_deref(),
        Some("+79219462761")
    );
    assert!(
        trying.involves("883140582526566"),
        "the operator's workplace is the caller's accountId"
    );

    let showing = call("call_showing.json");
    assert_eq!(showing.state, CallState::Showing);
    assert_eq!(showing.leg, trying.leg);

    let connected = call("call_connected.json");
    assert_eq!(connected.state, CallState::Connected);
    assert_eq!(
        connected.start_time.as_ref().unwrap().raw,
        "2020-06-24 15:01:55"
    );

    let finished = call("call_finished.json");
    assert_eq!(finished.state, CallState::Finished);
    assert_eq!(finished.duration, Some(3));
    assert_eq!(
        finished.reason.as_deref(),
        Some("Originate leg disconnected")
    );
    assert_eq!(
        finished.reason_code, None,
        "reasonCode null reads as absent"
    );
    assert_eq!(finished.start_time, None);
    assert_eq!(finished.tag.as_deref(), Some("sdfe2n901-281028329"));
}

#[test]
fn recorded_example_is_small() {
    let c = call("call_recorded.json");
    assert_eq!(c.state, CallState::Recorded);
    assert_eq!(c.account_id.as_deref(), Some("883140777446532"));
    assert_eq!(
        c.url_record.as_deref(),
        Some("https://<serverhost>/<path>/<filename>.mp3")
    );
    assert_eq!(c.tag, None);
    assert_eq!(c.caller, None);
    assert_eq!(c.direction, None);
    assert!(c.involves("883140777446532"));
}

#[test]
fn vpbx_examples() {
    for (name, kind) in [
        ("vpbx_numbers_changed.json", PbxEventKind::NumbersChanged),
        (
            "vpbx_workplaces_changed.json",
            PbxEventKind::WorkplacesChanged,
        ),
    ] {
        match Notification::parse(fixture(name).as_bytes()).unwrap() {
            Notification::Pbx(p) => assert_eq!(p.kind, kind),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn the_raw_json_is_kept_on_every_parsed_value() {
    for name in [
        "call_incoming_trying.json",
        "call_recorded.json",
        "vpbx_numbers_changed.json",
    ] {
        let text = fixture(name);
        let n = Notification::parse(text.as_bytes()).unwrap();
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(n.raw(), &original, "{name}");
    }
    let unknown = br#"{"event":"somethingNew","result":{"x":1}}"#;
    match Notification::parse(unknown).unwrap() {
        Notification::Unknown(u) => {
            assert_eq!(u.event.as_deref(), Some("somethingNew"));
            assert_eq!(u.problem, None);
            assert_eq!(u.raw["result"]["x"], 1);
        }
        other => panic!("{other:?}"),
    }
}

/// The document's answers to the settings and call methods, served as they are, read right.
#[tokio::test]
async fn api_answers_from_the_document() {
    let mock = Mock::start(|seen, _| {
        let name = match seen.path.as_str() {
            "/externalNumbersInfo" => "external_numbers_info.json",
            "/workPlacesInfo" => "workplaces_info.json",
            "/terminalsInfo" => "terminals_info.json",
            "/makeCall" => "make_call_response.json",
            "/terminateCall" => "terminate_call_response.json",
            "/transferCall" => "transfer_call_response.json",
            "/setParkingNumbers" => "set_parking_response.json",
            other => panic!("unexpected {other}"),
        };
        Reply::ok(fixture(name))
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), HttpConfig::default());
    let pbx = &client.pbx;

    let numbers = pbx.external_numbers().await.unwrap();
    assert_eq!(numbers.len(), 1);
    assert_eq!(numbers[0].number, "78005560251");
    assert_eq!(numbers[0].kind, None);

    let workplaces = pbx.workplaces().await.unwrap();
    assert_eq!(workplaces[0].workplace, "883140777716581");
    assert_eq!(workplaces[0].name, "");

    let terminals = pbx.terminals().await.unwrap();
    assert_eq!(terminals[0].terminal, "883140777380595");
    assert_eq!(terminals[0].workplace, "883140777380595");

    let placed = pbx
        .make_call(
            &mtt_api::SipId::parse("883140582526566").unwrap(),
            &mtt_api::Callee::parse("89219462761").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        placed.id.as_str(),
        "7NKe6!8fa1FMS1c6ypZdb1GSV6ZN@10.133.51.137"
    );

    let leg = LegRef::new(
        "b9111e52e5d011e9aec7ac162d8cda20_00015D95DB072BFC_7022A1~2o",
        "133609",
        "10.133.51.137:5070",
    )
    .unwrap();
    pbx.terminate_call(&leg).await.unwrap();
    pbx.transfer_call(&leg, &mtt_api::Callee::parse("883140582526566").unwrap())
        .await
        .unwrap();
    pbx.set_parking(&["880023213".into(), "880034344".into()], true)
        .await
        .unwrap();
}

/// The table's spellings (`terminalsList`, `terminale`) are read as well as the example's.
#[tokio::test]
async fn terminals_in_the_tables_spelling() {
    let mock = Mock::start(|_, _| {
        Reply::ok(r#"{"result":{"Total":1,"terminalsList":[{"terminale":"883140777380596","workplace":"883140777380595"}]}}"#)
    })
    .await;
    let client = mock.client(Some(fresh_tokens("a", "r")), HttpConfig::default());
    let t = client.pbx.terminals().await.unwrap();
    assert_eq!(t[0].terminal, "883140777380596");
}
