//! After-call wrap-up settings and the rule for offering one: when a call of mine ends, the
//! faces show a note, tags and a follow-up (`DomainEvent::WrapUpOffered`), always, never, or
//! only for answered calls. Pure data and decisions; the task that acts on them is
//! `core/wrapup.rs`, and the wrap-ups themselves live in the call log.

use serde::{Deserialize, Serialize};

use crate::live::LiveCall;

/// When the wrap-up is offered after a call of mine ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WrapUpOffer {
    /// After every call of mine, answered or not.
    Always,
    /// Never (a note can still be added from History).
    Never,
    /// Only after a call that was answered (talked on).
    #[default]
    Answered,
}

/// The wrap-up's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct WrapUpSettings {
    /// When it is offered.
    pub offer: WrapUpOffer,
    /// The tags offered to choose from (personal mode), in order. Others may be typed.
    pub tags: Vec<String>,
}

impl WrapUpSettings {
    /// Checks the tags list: each tag as the call log keeps them, no repeats.
    pub fn check(&self) -> Result<(), String> {
        let clean = call_log::clean_tags(&self.tags).map_err(|e| e.to_string())?;
        if clean.len() != self.tags.len() || clean.iter().zip(&self.tags).any(|(a, b)| a != b) {
            return Err(
                "each tag once, without spaces around it or runs of spaces inside".to_owned(),
            );
        }
        Ok(())
    }
}

/// The tags a wrap-up offers: the settings' list (personal mode) or the team's (team mode),
/// then the others used so far; `required`: an answered call's wrap-up must carry one of the
/// list's (team mode only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WrapUpTagChoices {
    /// The tags, in order.
    pub tags: Vec<String>,
    /// An answered call needs one of them.
    pub required: bool,
}

/// Whether a call that just ended gets a wrap-up: a call of mine, seen live (not from the
/// relay's backlog), by the setting.
pub fn offers_wrapup(offer: WrapUpOffer, call: &LiveCall, late: bool) -> bool {
    if late || !call.mine {
        return false;
    }
    match offer {
        WrapUpOffer::Always => true,
        WrapUpOffer::Never => false,
        WrapUpOffer::Answered => call.connected_at.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{CallDirection, CallPhase};

    fn ended(mine: bool, answered: bool) -> LiveCall {
        let at = chrono::Utc::now();
        LiveCall {
            leg: "leg".into(),
            tag: None,
            transport_id: None,
            direction: CallDirection::Incoming,
            phase: CallPhase::Ended,
            remote_number: Some("79219462761".into()),
            remote_name: None,
            workplaces: Default::default(),
            answered_by: None,
            mine,
            whose: None,
            started_at: at,
            connected_at: answered.then_some(at),
            ended_at: Some(at),
            duration_secs: None,
            end_reason: None,
        }
    }

    #[test]
    fn a_wrapup_is_offered_by_the_setting_for_my_live_calls_only() {
        use WrapUpOffer::*;
        for (offer, mine, answered, late, expected) in [
            (Always, true, false, false, true),
            (Always, true, true, false, true),
            (Answered, true, true, false, true),
            (Answered, true, false, false, false),
            (Never, true, true, false, false),
            (Always, false, true, false, false),
            (Always, true, true, true, false),
        ] {
            assert_eq!(
                offers_wrapup(offer, &ended(mine, answered), late),
                expected,
                "{offer:?} mine={mine} answered={answered} late={late}"
            );
        }
    }

    #[test]
    fn the_tags_list_is_refused_with_repeats_or_untidy_tags() {
        let ok = WrapUpSettings {
            tags: vec!["sale".into(), "support".into()],
            ..Default::default()
        };
        assert!(ok.check().is_ok());
        for tags in [vec!["sale", "Sale"], vec![" sale"], vec![""]] {
            let bad = WrapUpSettings {
                tags: tags.into_iter().map(str::to_owned).collect(),
                ..Default::default()
            };
            assert!(bad.check().is_err(), "{:?}", bad.tags);
        }
    }
}
