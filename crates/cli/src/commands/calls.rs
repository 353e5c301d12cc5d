//! The account's directory (numbers, workplaces, terminals) and the call actions: click-to-call,
//! hang-up and transfer.

use companion::CompanionError;

use crate::args::Global;
use crate::output::{self, say};
use crate::profile::open;

/// `trubka numbers`.
pub async fn numbers(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let d = c.refresh_directory().await?;
    let value: Vec<_> = d.numbers.iter().map(output::ExternalNumber::from).collect();
    say(g.json, &value, || {
        lines(
            d.numbers
                .iter()
                .map(|n| format!("{}\t{}", n.number, n.kind.as_deref().unwrap_or(""))),
        )
    });
    Ok(())
}

/// `trubka workplaces`.
pub async fn workplaces(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let d = c.refresh_directory().await?;
    let value: Vec<_> = d.workplaces.iter().map(output::Workplace::from).collect();
    say(g.json, &value, || {
        lines(
            d.workplaces
                .iter()
                .map(|w| format!("{}\t{}", w.workplace, w.name)),
        )
    });
    Ok(())
}

/// `trubka terminals`.
pub async fn terminals(g: &Global) -> Result<(), CompanionError> {
    let c = open(g)?;
    let d = c.refresh_directory().await?;
    let value: Vec<_> = d.terminals.iter().map(output::Terminal::from).collect();
    say(g.json, &value, || {
        lines(
            d.terminals
                .iter()
                .map(|t| format!("{}\t{}", t.terminal, t.workplace)),
        )
    });
    Ok(())
}

fn lines(lines: impl Iterator<Item = String>) -> String {
    lines.collect::<Vec<_>>().join("\n")
}

/// `trubka call`: rings my phone (or `from`), then the number.
pub async fn call(g: &Global, number: &str, from: Option<&str>) -> Result<(), CompanionError> {
    let c = open(g)?;
    let (target, placed) = c.dial(number, from).await?;
    say(g.json, &output::Dialled::new(&target, &placed), || {
        format!(
            "Your phone is ringing — pick up; then {} will be called.",
            target.display
        )
    });
    Ok(())
}

/// `trubka hangup`.
pub async fn hang_up(g: &Global, call: &str) -> Result<(), CompanionError> {
    open(g)?.hang_up(call).await?;
    let value = output::HungUp {
        call: call.to_owned(),
        hung_up: true,
    };
    say(g.json, &value, || format!("Hung up {call}."));
    Ok(())
}

/// `trubka transfer`.
pub async fn transfer(g: &Global, call: &str, target: &str) -> Result<(), CompanionError> {
    open(g)?.transfer(call, target).await?;
    let value = output::Transferred {
        call: call.to_owned(),
        transferred_to: target.to_owned(),
    };
    say(g.json, &value, || {
        format!("Transferred {call} to {target}.")
    });
    Ok(())
}
