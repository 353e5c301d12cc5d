//! After-call wrap-ups in team mode: the note and tags a seat wrote about a call go to the
//! relay, and are the team's shared knowledge of a customer. A supervisor reads them all; an
//! operator reads only what was written about the number calling them now (its popup), never a
//! colleague's whole history. The relay's audit log records who wrote what. The team's tags are
//! the relay's list, edited by admins; the team may require one of them on every answered call.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest note the relay keeps, in characters (as the app's call log).
pub const MAX_TEAM_NOTE_CHARS: usize = 4_000;
/// The longest tag, in characters.
pub const MAX_TEAM_TAG_CHARS: usize = 40;
/// The most tags on a call, and in the team's list.
pub const MAX_TEAM_TAGS: usize = 50;
/// The most wrap-ups answered about one number.
pub const NUMBER_NOTES_LIMIT: usize = 5;
/// The kind of a [`WrapUpEvent`] on the stream.
pub const WRAPUP_KIND: &str = "wrapup";

/// `PUT /team/wrapups`'s body: a seat's wrap-up of a call leg (saved again, it replaces that
/// seat's earlier one for the leg).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WrapUpRequest {
    /// The leg (`call.id`), as the seat's stream showed it.
    pub leg_id: String,
    /// The other side's number (digits, an optional leading `+`): what the next popup for the
    /// number looks the wrap-up up by.
    pub number: String,
    /// The note (may be empty).
    pub note: String,
    /// The tags (each at most [`MAX_TEAM_TAG_CHARS`]).
    pub tags: Vec<String>,
    /// Whether the call was answered: a team that requires a tag refuses an answered call's
    /// wrap-up without one of its tags (400 `bad_request`, saying so).
    pub answered: bool,
}

/// A wrap-up as the relay keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamWrapUp {
    /// The leg.
    pub leg_id: String,
    /// The number, as its matching key (digits).
    pub number: String,
    /// Who wrote it: the seat's name then.
    pub seat_name: String,
    /// The seat's workplace then.
    pub workplace: String,
    /// The note.
    pub note: String,
    /// The tags.
    pub tags: Vec<String>,
    /// When it was saved.
    pub saved_at: DateTime<Utc>,
}

/// A seat saved a wrap-up: the stream's [`WRAPUP_KIND`] event, for supervisors and admins
/// only (an operator reads a colleague's notes one number at a time, in the popup of that
/// number's call). The app keeps it as the leg's wrap-up in its call log, so History shows,
/// searches and exports the colleague's note and tags; a wrap-up saved later on that app (by
/// `saved_at`) is not replaced by it, and the author's own app leaves it aside (it has its own).
/// Sent each time the relay keeps a save, so a replayed stream repeats the saves in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapUpEvent {
    /// The leg (`call.id`).
    pub leg_id: String,
    /// The other side's number, as its matching key (digits).
    pub number: String,
    /// The author's seat number: how its own app knows the save for its own.
    pub seat_id: i64,
    /// The author's name then.
    pub seat_name: String,
    /// The author's workplace then.
    pub workplace: String,
    /// The note.
    pub note: String,
    /// The tags.
    pub tags: Vec<String>,
    /// When the relay kept it.
    pub saved_at: DateTime<Utc>,
}

/// `PUT /team/wrapups`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WrapUpSaved {
    /// The audit log entry of this write.
    pub audit_id: i64,
}

/// `GET /team/wrapups?number=<digits>`'s answer: the latest wrap-ups about the number (at most
/// [`NUMBER_NOTES_LIMIT`]), newest first. Any seat, one number at a time; only supervisors
/// and admins may leave `number` out and get the latest of the whole team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamWrapUps {
    /// The wrap-ups, newest first.
    pub wrapups: Vec<TeamWrapUp>,
}

/// The team's tags (`GET /team/tags`, any seat; `PUT /team/tags`, admins only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export_to = "TeamTags.ts")]
pub struct TeamTags {
    /// The tags to choose from, in order.
    pub tags: Vec<String>,
    /// An answered call's wrap-up must carry one of them; the app keeps it open until one is
    /// chosen (never over a new call's popup).
    pub required: bool,
}

/// Why a wrap-up or a tags list is refused, in words; `None` when it is fine.
pub fn wrapup_problem(note: &str, tags: &[String]) -> Option<String> {
    if note.chars().count() > MAX_TEAM_NOTE_CHARS {
        return Some(format!(
            "a note is at most {MAX_TEAM_NOTE_CHARS} characters"
        ));
    }
    tags_problem(tags)
}

/// Why a list of tags is refused: too many, an empty or long one, a control character, a
/// repeat (case ignored).
pub fn tags_problem(tags: &[String]) -> Option<String> {
    if tags.len() > MAX_TEAM_TAGS {
        return Some(format!("at most {MAX_TEAM_TAGS} tags"));
    }
    let mut seen: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let trimmed = tag.trim();
        if trimmed.is_empty() || trimmed != tag {
            return Some(format!("the tag {tag:?} is empty or has spaces around it"));
        }
        if tag.chars().count() > MAX_TEAM_TAG_CHARS || tag.chars().any(char::is_control) {
            return Some(format!(
                "the tag {tag:?} is longer than {MAX_TEAM_TAG_CHARS} characters or holds a control character"
            ));
        }
        let lower = tag.to_lowercase();
        if seen.contains(&lower) {
            return Some(format!("the tag {tag:?} is there twice"));
        }
        seen.push(lower);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapup_round_trips_and_refuses_unknown_fields() {
        let request = WrapUpRequest {
            leg_id: "leg".into(),
            number: "79219462761".into(),
            note: "quote".into(),
            tags: vec!["sale".into()],
            answered: true,
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(json["legId"], "leg");
        assert_eq!(
            serde_json::from_value::<WrapUpRequest>(json).unwrap(),
            request
        );
        assert!(
            serde_json::from_str::<WrapUpRequest>(
                r#"{"legId":"l","number":"7","note":"","tags":[],"answered":false,"x":1}"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_wrapup_event_reads_in_camel_case_and_tolerates_newer_fields() {
        let text = r#"{"legId":"leg","number":"79219462761","seatId":3,"seatName":"Анна",
            "workplace":"883140582526566","note":"quote","tags":["sale"],
            "savedAt":"2026-12-03T10:00:00Z","later":true}"#;
        let event: WrapUpEvent = serde_json::from_str(text).unwrap();
        assert_eq!(
            (event.seat_id, event.tags.as_slice()),
            (3, &["sale".to_owned()][..])
        );
        assert_eq!(
            serde_json::to_value(&event).unwrap()["savedAt"],
            "2026-12-03T10:00:00Z"
        );
    }

    #[test]
    fn tags_are_refused_with_the_reason() {
        assert_eq!(tags_problem(&["sale".into(), "vip".into()]), None);
        for bad in [
            vec![" sale"],
            vec![""],
            vec!["sale", "SALE"],
            vec!["a\u{7}"],
        ] {
            let tags: Vec<String> = bad.into_iter().map(str::to_owned).collect();
            assert!(tags_problem(&tags).is_some(), "{tags:?}");
        }
        assert!(wrapup_problem(&"x".repeat(MAX_TEAM_NOTE_CHARS + 1), &[]).is_some());
    }
}
