//! The demo's sample phonebook (issue #14 item 19): a fresh demo profile has contacts, with
//! companies and personal managers among the demo's workplaces; a restart adds nothing again;
//! and some of the demo's callers are in it, so the popup's company line and the routing by
//! personal manager have something to show.

use companion::DomainEvent;
use demo::{Demo, DemoOptions};

use crate::wait_for;

async fn start_in(dir: &std::path::Path, calls_per_second: f64, time_scale: f64) -> Demo {
    Demo::start(
        &dir.join("config"),
        &dir.join("data"),
        DemoOptions {
            calls_per_second,
            time_scale,
            tokens: None,
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_demo_has_a_sample_phonebook_and_a_restart_never_adds_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let demo = start_in(dir.path(), 0.0, 1.0).await;
    let c = &demo.companion;
    let contacts = c.log().contacts(None, 1000).await.unwrap();
    assert!(contacts.len() >= 5, "a sample phonebook: {contacts:#?}");
    assert!(
        contacts.iter().filter(|x| x.company.is_some()).count() >= 3,
        "with companies: {contacts:#?}"
    );
    let workplaces: Vec<String> = c
        .directory()
        .workplaces
        .iter()
        .map(|w| w.workplace.clone())
        .collect();
    let managers: Vec<&String> = contacts
        .iter()
        .filter_map(|x| x.manager_sip_id.as_ref())
        .collect();
    assert!(managers.len() >= 3, "with personal managers: {contacts:#?}");
    for manager in &managers {
        assert!(
            workplaces.contains(manager),
            "the manager {manager} is one of the demo's workplaces {workplaces:?}"
        );
    }
    let numbers: usize = contacts.iter().map(|x| x.numbers.len()).sum();
    demo.shutdown().await;

    // A restart finds the phonebook as it was: nothing doubled.
    let demo = start_in(dir.path(), 0.0, 1.0).await;
    let again = demo.companion.log().contacts(None, 1000).await.unwrap();
    assert_eq!(again.len(), contacts.len(), "{again:#?}");
    assert_eq!(
        again.iter().map(|x| x.numbers.len()).sum::<usize>(),
        numbers
    );
    // A contact the operator deleted stays deleted: the sample is for a fresh profile only.
    demo.companion
        .log()
        .delete_contact(again[0].id)
        .await
        .unwrap();
    demo.shutdown().await;
    let demo = start_in(dir.path(), 0.0, 1.0).await;
    let after = demo.companion.log().contacts(None, 1000).await.unwrap();
    assert_eq!(after.len(), contacts.len() - 1, "{after:#?}");
    demo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn some_of_the_demos_callers_are_in_the_phonebook() {
    let dir = tempfile::tempdir().unwrap();
    // Traffic at a fast pace (people act in hundredths of their usual time).
    let demo = start_in(dir.path(), 8.0, 0.01).await;
    let c = &demo.companion;
    let mut events = c.subscribe();
    let DomainEvent::CallStarted { summary, call, .. } = wait_for(
        &mut events,
        "a call from a contact",
        |e| matches!(e, DomainEvent::CallStarted { summary: Some(s), .. } if s.contact.is_some()),
    )
    .await
    else {
        unreachable!()
    };
    let contact = summary.and_then(|s| s.contact).unwrap();
    assert!(
        contact.company.is_some() || contact.manager_sip_id.is_some(),
        "the popup has a company line or routing a manager: {contact:?} ({call:?})"
    );
    demo.shutdown().await;
}
