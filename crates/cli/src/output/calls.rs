//! `numbers`, `workplaces`, `terminals`, `call`, `hangup` and `transfer`.

use serde::Serialize;

/// `numbers`: one of the account's external numbers.
#[derive(Debug, Serialize)]
pub struct ExternalNumber {
    /// The number, e.g. `78005560251`.
    pub number: String,
    /// The number's type in the PBX, often `null`.
    pub kind: Option<String>,
}

impl From<&mtt_api::ExternalNumber> for ExternalNumber {
    fn from(n: &mtt_api::ExternalNumber) -> Self {
        ExternalNumber {
            number: n.number.clone(),
            kind: n.kind.clone(),
        }
    }
}

/// `workplaces`: one operator seat.
#[derive(Debug, Serialize)]
pub struct Workplace {
    /// The workplace's SIP ID.
    pub workplace: String,
    /// Its name; often empty.
    pub name: String,
}

impl From<&mtt_api::Workplace> for Workplace {
    fn from(w: &mtt_api::Workplace) -> Self {
        Workplace {
            workplace: w.workplace.clone(),
            name: w.name.clone(),
        }
    }
}

/// `terminals`: one device and its workplace.
#[derive(Debug, Serialize)]
pub struct Terminal {
    /// The terminal's SIP ID.
    pub terminal: String,
    /// The workplace it belongs to.
    pub workplace: String,
}

impl From<&mtt_api::Terminal> for Terminal {
    fn from(t: &mtt_api::Terminal) -> Self {
        Terminal {
            terminal: t.terminal.clone(),
            workplace: t.workplace.clone(),
        }
    }
}

/// `call`: what was dialled.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dialled {
    /// The digits sent to the PBX.
    pub callee: String,
    /// The number as it reads to a person (`+7 921 946-27-61`).
    pub display: String,
    /// The new call's leg id (its events carry the same id).
    pub call_id: String,
}

impl Dialled {
    /// From the dialer's reading of the number and the PBX's answer.
    pub fn new(target: &companion::DialTarget, placed: &mtt_api::PlacedCall) -> Self {
        Dialled {
            callee: target.callee.as_str().to_owned(),
            display: target.display.clone(),
            call_id: placed.id.as_str().to_owned(),
        }
    }
}

/// `hangup`: the leg was ended.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HungUp {
    /// The leg id, as given.
    pub call: String,
    /// Always `true`.
    pub hung_up: bool,
}

/// `transfer`: the leg was transferred.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transferred {
    /// The leg id, as given.
    pub call: String,
    /// The target, as given.
    pub transferred_to: String,
}
