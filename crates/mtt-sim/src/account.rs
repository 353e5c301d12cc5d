//! The simulated customer account: external numbers, workplaces, terminals, routing, parking.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::config::{AccountConfig, NumberConfig, WorkplaceConfig};

/// The account as it is now; the control API changes it at run time.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    /// `centrexId`.
    pub centrex_id: String,
    /// External numbers.
    pub numbers: Vec<NumberConfig>,
    /// Workplaces with terminals.
    pub workplaces: Vec<WorkplaceConfig>,
    /// Routing groups for incoming calls.
    pub routing: Vec<Vec<String>>,
    /// The caller number shown on outgoing calls.
    pub outgoing_number: String,
    /// Parked external numbers.
    pub parked: BTreeSet<String>,
}

/// What an id names in this account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressee {
    /// A workplace (name).
    Workplace(String),
    /// A terminal of the given workplace, and not itself a workplace.
    Terminal(String),
    /// Anything else: treated as a telephone number.
    Number,
}

impl Account {
    /// The account described by the configuration.
    pub fn from_config(config: &AccountConfig) -> Self {
        Self {
            centrex_id: config.centrex_id.clone(),
            numbers: config.numbers.clone(),
            workplaces: config.workplaces.clone(),
            routing: config.routing.clone(),
            outgoing_number: config.outgoing_number.clone(),
            parked: config.parked.iter().cloned().collect(),
        }
    }

    /// The workplace with this SIP ID.
    pub fn workplace(&self, id: &str) -> Option<&WorkplaceConfig> {
        self.workplaces.iter().find(|w| w.workplace == id)
    }

    /// Whether `number` is one of the account's external numbers.
    pub fn has_number(&self, number: &str) -> bool {
        self.numbers.iter().any(|n| n.number == number)
    }

    /// Classifies an id. A terminal that shares its SIP ID with its workplace (as in the
    /// document's terminalsInfo example) counts as the workplace.
    pub fn classify(&self, id: &str) -> Addressee {
        if let Some(w) = self.workplace(id) {
            return Addressee::Workplace(w.name.clone());
        }
        for w in &self.workplaces {
            if w.terminals.iter().any(|t| t == id) {
                return Addressee::Terminal(w.workplace.clone());
            }
        }
        Addressee::Number
    }

    /// Adds or replaces a workplace. Returns whether anything changed.
    pub fn upsert_workplace(&mut self, workplace: WorkplaceConfig) -> bool {
        match self
            .workplaces
            .iter_mut()
            .find(|w| w.workplace == workplace.workplace)
        {
            Some(existing) if *existing == workplace => false,
            Some(existing) => {
                *existing = workplace;
                true
            }
            None => {
                self.workplaces.push(workplace);
                true
            }
        }
    }

    /// Removes a workplace and takes it out of the routing. Returns whether it existed.
    pub fn remove_workplace(&mut self, id: &str) -> bool {
        let before = self.workplaces.len();
        self.workplaces.retain(|w| w.workplace != id);
        for group in &mut self.routing {
            group.retain(|w| w != id);
        }
        self.routing.retain(|g| !g.is_empty());
        before != self.workplaces.len()
    }

    /// Adds an external number. Returns whether it was new.
    pub fn add_number(&mut self, number: NumberConfig) -> bool {
        if self.has_number(&number.number) {
            return false;
        }
        self.numbers.push(number);
        true
    }

    /// Removes an external number (and its parking). Returns whether it existed.
    pub fn remove_number(&mut self, number: &str) -> bool {
        let before = self.numbers.len();
        self.numbers.retain(|n| n.number != number);
        self.parked.remove(number);
        before != self.numbers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_workplaces_and_numbers_are_told_apart() {
        let account = Account::from_config(&AccountConfig::default());
        assert_eq!(
            account.classify("883140582526566"),
            Addressee::Workplace("Иванова Анна".into())
        );
        assert_eq!(
            account.classify("883140582526567"),
            Addressee::Terminal("883140582526566".into())
        );
        // This terminal shares its workplace's SIP ID, like the document's example.
        assert_eq!(
            account.classify("883140777716581"),
            Addressee::Workplace(String::new())
        );
        assert_eq!(account.classify("79219462761"), Addressee::Number);
    }

    #[test]
    fn removing_a_workplace_takes_it_out_of_routing() {
        let mut account = Account::from_config(&AccountConfig::default());
        assert!(account.remove_workplace("883140777551401"));
        assert_eq!(account.routing.len(), 1);
        assert!(!account.remove_workplace("883140777551401"));
    }
}
