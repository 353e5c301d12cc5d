use std::collections::HashMap;

use chrono::TimeZone;

use super::*;
use crate::RoutingChoice;

const MANAGER: &str = "883140777446532";
const OPERATOR: &str = "883140777551201";

/// Facts from memory: contacts' managers, the last operator per number with when, busy and
/// away workplaces.
#[derive(Default)]
struct Memory {
    managers: HashMap<String, String>,
    last: HashMap<String, (String, DateTime<Utc>)>,
    busy: Vec<String>,
    away: Vec<String>,
    broken: bool,
}

impl WorkplaceFacts for Memory {
    fn is_workplace(&self, id: &str) -> bool {
        id.starts_with("8831")
    }
    fn is_busy(&self, workplace: &str) -> bool {
        self.busy.iter().any(|b| b == workplace)
    }
    fn is_available(&self, workplace: &str) -> bool {
        !self.away.iter().any(|a| a == workplace)
    }
}

impl RoutingFacts for Memory {
    type Error = String;

    async fn caller(
        &self,
        number: &str,
        since: DateTime<Utc>,
        _known_before: DateTime<Utc>,
    ) -> Result<CallerView, String> {
        if self.broken {
            return Err("disk on fire".into());
        }
        let last = self
            .last
            .get(number)
            .filter(|(_, at)| *at >= since)
            .map(|(w, _)| w.clone());
        Ok(CallerView {
            manager: self.managers.get(number).cloned(),
            known: last.is_some() || self.managers.contains_key(number),
            last_operator: last,
        })
    }
}

fn noon() -> DateTime<Utc> {
    chrono_tz::Europe::Moscow
        .with_ymd_and_hms(2026, 3, 4, 12, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn choice(facts: &Memory, number: Option<&str>) -> Decision {
    decide(
        &RoutingSettings::default(),
        chrono_tz::Europe::Moscow,
        number,
        noon(),
        facts,
    )
    .await
}

#[tokio::test]
async fn the_facts_decide_and_the_last_operator_window_counts() {
    let mut facts = Memory::default();
    facts.managers.insert("79161112233".into(), MANAGER.into());
    facts.last.insert(
        "79161112233".into(),
        (OPERATOR.into(), noon() - Duration::days(3)),
    );
    let d = choice(&facts, Some("79161112233")).await;
    assert_eq!(
        d.choice,
        RoutingChoice::Transfer {
            to: MANAGER.into(),
            rule: "manager".into()
        }
    );
    facts.away.push(MANAGER.into());
    let d = choice(&facts, Some("79161112233")).await;
    assert_eq!(d.choice.rule(), "last_operator", "{d:?}");
    // Older than the rule's 30 days: forgotten.
    facts.last.insert(
        "79161112233".into(),
        (OPERATOR.into(), noon() - Duration::days(31)),
    );
    let d = choice(&facts, Some("79161112233")).await;
    assert_eq!(d.choice.rule(), crate::NO_RULE, "{d:?}");
}

#[tokio::test]
async fn hidden_numbers_and_unreadable_facts_still_get_a_decision() {
    let facts = Memory {
        broken: true,
        ..Memory::default()
    };
    let d = choice(&facts, Some("79161112233")).await;
    assert_eq!(d.choice.rule(), "unknown_caller");
    assert!(d.notes[0].contains("disk on fire"), "{d:?}");
    let d = choice(&facts, None).await;
    assert_eq!(d.choice.rule(), "unknown_caller");
    assert!(d.notes[0].contains("hidden"), "{d:?}");
    assert_eq!(last_operator_days(&RoutingSettings::default()), 30);
}
