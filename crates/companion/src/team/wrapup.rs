//! The team's wrap-ups through the seat API (`team_api::wrapup`): a seat's note and tags go to
//! the relay, the team's tags come from it, and what the team wrote about a number is read
//! for its popup.

use team_api::wrapup::{TeamTags, TeamWrapUps, WrapUpRequest, WrapUpSaved};

use super::TeamClient;
use crate::error::CompanionError;

impl TeamClient {
    /// Sends the seat's wrap-up of a call to the team's server.
    pub async fn save_wrapup(
        &self,
        request: &WrapUpRequest,
    ) -> Result<WrapUpSaved, CompanionError> {
        self.put("team/wrapups", request).await
    }

    /// The team's tags, and whether an answered call must carry one.
    pub async fn team_tags(&self) -> Result<TeamTags, CompanionError> {
        self.get("team/tags").await
    }

    /// What the team wrote lately about `number` (a matching key), newest first.
    pub async fn wrapups_for(&self, number: &str) -> Result<TeamWrapUps, CompanionError> {
        let digits: String = number.chars().filter(char::is_ascii_digit).collect();
        self.get(&format!("team/wrapups?number={digits}")).await
    }
}
