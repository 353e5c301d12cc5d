//! The after-call wrap-up's types: what was saved for a call (note, tags, follow-up), what the
//! window sends to save one, and a follow-up in the callback queue.

use chrono::DateTime;
use companion::ErrorCode;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{IpcError, ms, readable};

/// A call's wrap-up as saved.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WrapUpView.ts")]
pub struct WrapUpView {
    /// The call's leg.
    pub leg: String,
    /// The note, empty when none (the operator's text: render as text only).
    pub note: String,
    /// The tags, in the order given.
    pub tags: Vec<String>,
    /// When to call back, in ms since the epoch.
    pub follow_up_at_ms: Option<f64>,
}

impl From<&call_log::WrapUp> for WrapUpView {
    fn from(w: &call_log::WrapUp) -> Self {
        WrapUpView {
            leg: w.leg.clone(),
            note: w.note.clone(),
            tags: w.tags.clone(),
            follow_up_at_ms: w.follow_up_at.map(ms),
        }
    }
}

/// What the wrap-up panel saves for a call: every field, replacing what was saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WrapUpDraft.ts")]
pub struct WrapUpDraft {
    /// The call's leg.
    pub leg: String,
    /// The note (empty for none).
    pub note: String,
    /// The tags.
    pub tags: Vec<String>,
    /// When to call back, in ms since the epoch, or `null` for no follow-up.
    pub follow_up_at_ms: Option<f64>,
}

impl WrapUpDraft {
    /// The call log's edit, or `invalid` for a follow-up time that is not one.
    pub fn edit(&self) -> Result<call_log::WrapUpEdit, IpcError> {
        let follow_up_at = match self.follow_up_at_ms {
            None => None,
            Some(at) => Some(
                DateTime::from_timestamp_millis(at as i64)
                    .filter(|_| at.is_finite())
                    .ok_or_else(|| {
                        IpcError::new(
                            ErrorCode::Invalid,
                            format!("the follow-up time {at} is not a time"),
                        )
                    })?,
            ),
        };
        Ok(call_log::WrapUpEdit {
            note: Some(self.note.clone()),
            tags: Some(self.tags.clone()),
            follow_up_at: Some(follow_up_at),
            peer_number: None,
        })
    }
}

/// A number a wrap-up asked to call back, in the callback queue.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "FollowUpRow.ts")]
pub struct FollowUpRow {
    /// The wrapped-up call's leg.
    pub leg: String,
    /// The number as a person reads it.
    pub number: Option<String>,
    /// The number as the PBX sent it, for dialling.
    pub number_raw: Option<String>,
    /// The phonebook name (external text: render as text only).
    pub name: Option<String>,
    /// When it is due, in ms since the epoch.
    pub due_at_ms: f64,
    /// The wrap-up's note.
    pub note: String,
    /// The wrap-up's tags.
    pub tags: Vec<String>,
}

impl From<&call_log::FollowUp> for FollowUpRow {
    fn from(f: &call_log::FollowUp) -> Self {
        FollowUpRow {
            leg: f.leg.clone(),
            number: f.number.as_deref().map(readable),
            number_raw: f.number.clone(),
            name: f.contact_name.clone().filter(|n| !n.trim().is_empty()),
            due_at_ms: ms(f.due_at),
            note: f.note.clone(),
            tags: f.tags.clone(),
        }
    }
}

/// The tags a wrap-up offers, and whether an answered call must carry one of them (the team's
/// rule in team mode; the wrap-up then stays open until one is chosen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WrapUpTags.ts")]
pub struct WrapUpTags {
    /// The tags, in order.
    pub tags: Vec<String>,
    /// An answered call needs one of them.
    pub required: bool,
}

impl From<companion::WrapUpTagChoices> for WrapUpTags {
    fn from(c: companion::WrapUpTagChoices) -> Self {
        WrapUpTags {
            tags: c.tags,
            required: c.required,
        }
    }
}

/// When the wrap-up is offered after a call of mine ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "WrapUpWhen.ts")]
pub enum WrapUpWhen {
    /// After every call of mine.
    Always,
    /// Never.
    Never,
    /// After answered calls only.
    Answered,
}

impl From<companion::WrapUpOffer> for WrapUpWhen {
    fn from(offer: companion::WrapUpOffer) -> Self {
        match offer {
            companion::WrapUpOffer::Always => WrapUpWhen::Always,
            companion::WrapUpOffer::Never => WrapUpWhen::Never,
            companion::WrapUpOffer::Answered => WrapUpWhen::Answered,
        }
    }
}

impl From<WrapUpWhen> for companion::WrapUpOffer {
    fn from(when: WrapUpWhen) -> Self {
        match when {
            WrapUpWhen::Always => companion::WrapUpOffer::Always,
            WrapUpWhen::Never => companion::WrapUpOffer::Never,
            WrapUpWhen::Answered => companion::WrapUpOffer::Answered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_replaces_every_field_and_a_bad_time_is_refused() {
        let draft = WrapUpDraft {
            leg: "leg".into(),
            note: "n".into(),
            tags: vec!["a".into()],
            follow_up_at_ms: None,
        };
        let edit = draft.edit().unwrap();
        assert_eq!(edit.follow_up_at, Some(None));
        assert_eq!(edit.tags, Some(vec!["a".to_owned()]));
        let timed = WrapUpDraft {
            follow_up_at_ms: Some(1_772_442_000_000.0),
            ..draft.clone()
        };
        assert_eq!(
            timed
                .edit()
                .unwrap()
                .follow_up_at
                .flatten()
                .unwrap()
                .timestamp_millis(),
            1_772_442_000_000
        );
        for bad in [f64::NAN, f64::INFINITY, 1e300] {
            let refused = WrapUpDraft {
                follow_up_at_ms: Some(bad),
                ..draft.clone()
            };
            assert_eq!(
                refused.edit().unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
    }

    fn ended_call() -> companion::LiveCall {
        let at = chrono::Utc::now();
        companion::LiveCall {
            leg: "leg-1".into(),
            tag: None,
            transport_id: None,
            direction: companion::CallDirection::Incoming,
            phase: companion::CallPhase::Ended,
            remote_number: Some("79219462761".into()),
            remote_name: None,
            workplaces: Default::default(),
            answered_by: None,
            mine: true,
            whose: None,
            started_at: at,
            connected_at: Some(at),
            ended_at: Some(at),
            duration_secs: Some(30),
            end_reason: None,
        }
    }

    fn saved() -> call_log::WrapUp {
        call_log::WrapUp {
            leg: "leg-0".into(),
            note: "asked for prices".into(),
            tags: vec!["sale".into()],
            follow_up_at: None,
            saved_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn an_offered_wrapup_reaches_the_window_with_the_call_and_what_was_saved() {
        let event = companion::DomainEvent::WrapUpOffered {
            call: ended_call(),
            saved: Some(saved()),
        };
        let json =
            serde_json::to_value(super::super::AppEvent::from_domain(&event).unwrap()).unwrap();
        assert_eq!(json["kind"], "wrapUp");
        assert_eq!(json["call"]["leg"], "leg-1");
        assert_eq!(json["call"]["number"], "+7 921 946-27-61");
        assert_eq!(json["saved"]["note"], "asked for prices");
        assert_eq!(json["saved"]["tags"], serde_json::json!(["sale"]));
    }

    #[test]
    fn the_popup_shows_the_last_note_and_tags_about_the_number() {
        let mut call = ended_call();
        call.phase = companion::CallPhase::Ringing;
        let summary = call_log::ScreenPop {
            number: "79219462761".into(),
            key: Some("79219462761".into()),
            contact: None,
            earlier_calls: 1,
            last_call: None,
            last_operator: None,
            last_wrapup: Some(saved()),
        };
        let view =
            super::super::PopupView::new(&call, Some(&summary), &companion::Settings::default());
        assert_eq!(view.last_note, "asked for prices");
        assert_eq!(view.last_tags, vec!["sale"]);
        let none = super::super::PopupView::new(&call, None, &companion::Settings::default());
        assert_eq!((none.last_note.as_str(), none.last_tags.len()), ("", 0));
    }
}
