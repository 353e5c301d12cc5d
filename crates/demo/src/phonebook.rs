//! The demo's sample phonebook: a few companies and people, some with a personal manager among
//! the demo's workplaces, so that Contacts, the popup's company line and routing by personal
//! manager show what they do from the first minute. Some of them phone in during the demo
//! ([`crate::regulars`]), so their calls find them.
//!
//! It is written once, into a fresh demo profile only: a marker file in the profile's data
//! directory says it was offered, so a restart never adds it again and a contact the operator
//! deleted stays deleted; a phonebook that already has contacts is never touched.

use std::path::Path;

use call_log::NewContact;
use companion::{Companion, CompanionError};

/// The file in the demo profile's data directory that says the sample was offered.
const SEEDED_MARKER: &str = "sample-phonebook";

/// One contact of the sample.
struct Sample {
    name: &'static str,
    company: Option<&'static str>,
    /// As a person would type them; the first is the one that calls in the demo.
    numbers: &'static [&'static str],
    /// Whether a personal manager is chosen for the contact.
    managed: bool,
    /// Whether the contact phones in during the demo.
    calls_in: bool,
    notes: Option<&'static str>,
}

/// Companies and people a small Russian business would have, with numbers in the ranges the
/// demo's callers use, and one foreign client (written with `+`). The names differ from those
/// the simulator's random callers show, so a stranger's call never looks like a known one.
const SAMPLE: &[Sample] = &[
    Sample {
        name: "Орлов Денис",
        company: Some("ООО «Ромашка»"),
        numbers: &["+7 921 555-01-10"],
        managed: true,
        calls_in: true,
        notes: Some("Закупки. Звонит по вторникам."),
    },
    Sample {
        name: "Бухгалтерия",
        company: Some("ООО «Ромашка»"),
        numbers: &["+7 495 555-01-19"],
        managed: false,
        calls_in: true,
        notes: None,
    },
    Sample {
        name: "Волкова Наталья",
        company: Some("Клиника «Здоровье»"),
        numbers: &["8 (916) 555-02-20", "+7 495 555-02-21"],
        managed: true,
        calls_in: true,
        notes: Some("Главный врач; договор до конца года."),
    },
    Sample {
        name: "Лебедев Павел",
        company: Some("ИП Лебедев"),
        numbers: &["+7 903 555-03-30"],
        managed: true,
        calls_in: true,
        notes: None,
    },
    Sample {
        name: "Новикова Ирина Сергеевна",
        company: Some("АО «Северный ветер»"),
        numbers: &["+7 812 555-04-40"],
        managed: true,
        calls_in: true,
        notes: Some("Санкт-Петербург, филиал."),
    },
    Sample {
        name: "Алексей Морозов",
        company: Some("ООО «Вектор»"),
        numbers: &["+7 985 555-06-60"],
        managed: false,
        calls_in: true,
        notes: None,
    },
    Sample {
        name: "James Whitfield",
        company: Some("Whitfield & Partners Ltd"),
        numbers: &["+44 20 7946 0018"],
        managed: true,
        calls_in: false,
        notes: Some("London; English only."),
    },
];

/// The numbers of the sample's contacts who phone in, as the PBX reports a caller (`7…`).
pub(crate) fn callers() -> Vec<String> {
    SAMPLE
        .iter()
        .filter(|s| s.calls_in)
        .filter_map(|s| s.numbers.first())
        .map(|n| {
            let digits: String = n.chars().filter(char::is_ascii_digit).collect();
            match digits.strip_prefix('8') {
                Some(rest) if digits.len() == 11 => format!("7{rest}"),
                _ => digits,
            }
        })
        .collect()
}

/// Adds the sample phonebook if the demo profile is fresh: it was never offered and the
/// phonebook is empty. `managers` are the workplaces personal managers are chosen from, in
/// turn. Returns how many contacts were added.
pub(crate) async fn seed(
    companion: &Companion,
    managers: &[String],
) -> Result<usize, CompanionError> {
    let marker = companion.profile().data_dir().join(SEEDED_MARKER);
    if marker.exists() {
        return Ok(0);
    }
    let log = companion.log();
    let mut added = 0;
    if log.contacts(None, 1).await?.is_empty() {
        let mut turn = managers.iter().cycle();
        for sample in SAMPLE {
            let manager = if sample.managed {
                turn.next().cloned()
            } else {
                None
            };
            log.add_contact(NewContact {
                name: sample.name.to_owned(),
                company: sample.company.map(str::to_owned),
                numbers: sample.numbers.iter().map(|n| (*n).to_owned()).collect(),
                manager_sip_id: manager,
                notes: sample.notes.map(str::to_owned),
            })
            .await?;
            added += 1;
        }
    }
    mark(&marker)?;
    Ok(added)
}

fn mark(marker: &Path) -> Result<(), CompanionError> {
    std::fs::write(
        marker,
        "The demo's sample phonebook was offered to this profile.\n",
    )
    .map_err(|e| CompanionError::Settings {
        path: marker.to_path_buf(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_are_the_sample_numbers_as_the_pbx_reports_them() {
        let callers = callers();
        assert!(callers.contains(&"79215550110".to_owned()), "{callers:?}");
        assert!(callers.contains(&"79165550220".to_owned()), "{callers:?}");
        assert!(
            callers.iter().all(|n| n.len() == 11 && n.starts_with('7')),
            "{callers:?}"
        );
        assert!(
            !callers.iter().any(|n| n.starts_with("44")),
            "the foreign client only sits in the book"
        );
    }
}
