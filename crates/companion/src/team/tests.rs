#![allow(clippy::unwrap_used, reason = "test code")]

use super::JoinOffer;
use crate::error::ErrorCode;

#[test]
fn a_link_or_a_code_with_its_server_is_an_offer_showing_the_host() {
    let offer = JoinOffer::read(
        "trubka://join?server=https%3A%2F%2Fteam.example.ru&code=ABCD-EFGH",
        None,
    )
    .unwrap();
    assert_eq!(offer.host(), "team.example.ru");
    assert_eq!(offer.server(), "https://team.example.ru");
    assert_eq!(offer.code(), "ABCD-EFGH");
    let offer = JoinOffer::read(" ABCD-EFGH ", Some("https://team.example.ru/")).unwrap();
    assert_eq!(offer.host(), "team.example.ru");
    assert_eq!(offer.code(), "ABCD-EFGH");
    // A port given is part of which server it is (Settings said "127.0.0.1" for any port).
    let offer = JoinOffer::read("ABCD", Some("http://127.0.0.1:9000")).unwrap();
    assert_eq!(offer.host(), "127.0.0.1:9000");
    assert_eq!(
        super::host_of("https://team.example.ru:8443/"),
        "team.example.ru:8443"
    );
    assert_eq!(
        super::host_of("https://team.example.ru:443"),
        "team.example.ru"
    );
    assert_eq!(super::host_of("http://[::1]:9000"), "[::1]:9000");
}

#[test]
fn bad_links_and_codes_are_refused_with_what_was_wrong() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("", None, "invite"),
        ("ABCD-EFGH", None, "--server"),
        ("ABCD", Some("http://team.example.ru"), "https"),
        ("ABCD", Some("ftp://team.example.ru"), "https"),
        ("two words", Some("https://team.example.ru"), "one word"),
        ("trubka://join?code=ABCD", None, "server"),
        ("trubka://join?server=https%3A%2F%2Fa.ru", None, "code"),
        (
            "trubka://join?server=http%3A%2F%2Fevil.example&code=ABCD",
            None,
            "https",
        ),
        ("trubka://dial?number=1", None, "not a trubka://join link"),
        (
            "trubka://join?server=https%3A%2F%2Fa.ru&code=X",
            Some("https://b.ru"),
            "names the server",
        ),
    ];
    for (input, server, says) in cases {
        let error = JoinOffer::read(input, *server).unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{input}");
        assert!(
            error.to_string().contains(says),
            "{input:?} with {server:?}: {error}"
        );
    }
}
