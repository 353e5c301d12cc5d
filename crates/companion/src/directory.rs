//! The account's numbers, workplaces and terminals, as last read from the PBX: what the core
//! shows, dials from and routes to, and what tells which calls are mine.

use mtt_api::{ExternalNumber, Terminal, Workplace};
use serde::Serialize;

use crate::live::{Me, Whose};

/// The account's numbers, workplaces and terminals, as last read from the PBX.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// External numbers.
    pub numbers: Vec<ExternalNumber>,
    /// Workplaces (operator seats).
    pub workplaces: Vec<Workplace>,
    /// Terminals and their workplaces.
    pub terminals: Vec<Terminal>,
}

impl Directory {
    /// My workplace and its terminals.
    pub fn me(&self, workplace: Option<&str>) -> Me {
        Me {
            workplace: workplace.map(str::to_owned),
            terminals: self
                .terminals
                .iter()
                .filter(|t| Some(t.workplace.as_str()) == workplace)
                .map(|t| t.terminal.clone())
                .collect(),
            colleagues: self.colleagues(),
        }
    }

    /// Every workplace and terminal by SIP ID: the workplace it is or belongs to, named.
    fn colleagues(&self) -> std::collections::HashMap<String, Whose> {
        let named = |workplace: &str| Whose {
            workplace: workplace.to_owned(),
            name: self
                .workplaces
                .iter()
                .find(|w| w.workplace == workplace)
                .map(|w| w.name.clone())
                .filter(|n| !n.trim().is_empty()),
        };
        let mut all: std::collections::HashMap<String, Whose> = self
            .terminals
            .iter()
            .map(|t| (t.terminal.clone(), named(&t.workplace)))
            .collect();
        for w in &self.workplaces {
            all.insert(w.workplace.clone(), named(&w.workplace));
        }
        all
    }
}
