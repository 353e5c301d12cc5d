//! Today's figures for the Calls screen's card.

use call_log::{DayStats, HourStats};
use chrono::{DateTime, Utc};

use super::Companion;
use crate::error::CompanionError;

impl Companion {
    /// The day's figures and its calls hour by hour, for the day containing `now`. In team mode
    /// they are my calls (my workplace's and its terminals'): a supervisor's call log also holds
    /// every colleague's calls, which are not the day this card is about. In personal mode they
    /// are every call of the account, as the log has them.
    pub async fn today(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(DayStats, Vec<HourStats>), CompanionError> {
        let mine = self.team().map(|_| {
            let me = self.me.read().unwrap_or_else(|p| p.into_inner());
            me.workplace
                .iter()
                .chain(me.terminals.iter())
                .cloned()
                .collect::<Vec<String>>()
        });
        let stats = self.log.day_stats_of(now, mine.clone()).await?;
        let hours = self.log.hour_stats_of(now, mine).await?;
        Ok((stats, hours))
    }
}
