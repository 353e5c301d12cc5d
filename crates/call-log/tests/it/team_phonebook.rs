//! The team phonebook's copy: pages of changes applied by the server's id, found by number and
//! search like the operator's own contacts, read-only to the app's own edits and imports, and
//! removed when the team is left.

use call_log::{CallLogError, NewContact, TeamContactRow, TeamPhonebookUpdate};

use crate::harness::TestLog;

fn row(team_id: i64, name: &str, numbers: &[&str], version: i64) -> TeamContactRow {
    TeamContactRow {
        team_id,
        name: name.into(),
        company: Some("ООО Ромашка".into()),
        numbers: numbers.iter().map(|n| (*n).to_owned()).collect(),
        manager: Some("883140582526566".into()),
        notes: None,
        version,
    }
}

fn page(version: i64, contacts: Vec<TeamContactRow>, deleted: Vec<i64>) -> TeamPhonebookUpdate {
    TeamPhonebookUpdate {
        version,
        reset: false,
        contacts,
        deleted,
    }
}

#[tokio::test]
async fn changes_apply_by_the_servers_id_and_are_found_like_own_contacts() {
    let t = TestLog::new();
    assert_eq!(t.log.team_phonebook_version().await.unwrap(), 0);
    let first = page(
        2,
        vec![
            row(10, "Иван Петров", &["8 921 946-27-61"], 1),
            row(11, "Анна", &["+7 812 424-15-00"], 2),
        ],
        vec![],
    );
    let report = t.log.apply_team_phonebook(first.clone()).await.unwrap();
    assert_eq!((report.added, report.updated, report.version), (2, 0, 2));
    let ivan = t
        .log
        .contact_for_number("79219462761@pstn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (ivan.name.as_str(), ivan.team_id),
        ("Иван Петров", Some(10))
    );
    assert_eq!(ivan.manager_sip_id.as_deref(), Some("883140582526566"));
    assert_eq!(t.log.contacts(Some("Ромаш"), 10).await.unwrap().len(), 2);

    // An edit moves Ivan to another number; Anna is deleted. Applying twice changes nothing.
    let second = page(
        4,
        vec![row(10, "Иван Петров", &["+7 495 000-00-01"], 3)],
        vec![11],
    );
    for _ in 0..2 {
        t.log.apply_team_phonebook(second.clone()).await.unwrap();
    }
    assert!(
        t.log
            .contact_for_number("79219462761")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        t.log
            .contact_for_number("78124241500")
            .await
            .unwrap()
            .is_none()
    );
    let moved = t
        .log
        .contact_for_number("74950000001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((moved.id, moved.team_id), (ivan.id, Some(10)));
    assert_eq!(t.log.contacts(None, 10).await.unwrap().len(), 1);
    assert_eq!(t.log.team_phonebook_version().await.unwrap(), 4);
    assert_eq!(t.log.integrity_check().await.unwrap(), ["ok"]);

    // A reset (the server's phonebook was replaced) starts the copy over.
    let reset = TeamPhonebookUpdate {
        version: 1,
        reset: true,
        contacts: vec![row(1, "Новый", &["+7 921 000-00-02"], 1)],
        deleted: vec![],
    };
    t.log.apply_team_phonebook(reset).await.unwrap();
    let names: Vec<String> = t
        .log
        .contacts(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["Новый"]);
    assert_eq!(t.log.team_phonebook_version().await.unwrap(), 1);
}

#[tokio::test]
async fn team_contacts_are_read_only_here_and_imports_never_merge_into_them() {
    let t = TestLog::new();
    t.log
        .apply_team_phonebook(page(
            1,
            vec![row(10, "Иван Петров", &["+79219462761"], 1)],
            vec![],
        ))
        .await
        .unwrap();
    let team = t
        .log
        .contact_for_number("79219462761")
        .await
        .unwrap()
        .unwrap();
    let edit = t
        .log
        .update_contact(
            team.id,
            NewContact {
                name: "Renamed".into(),
                ..NewContact::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(edit, CallLogError::InvalidContact(_)), "{edit}");
    assert!(edit.to_string().contains("team contact"), "{edit}");
    let removal = t.log.delete_contact(team.id).await.unwrap_err();
    assert!(
        matches!(removal, CallLogError::InvalidContact(_)),
        "{removal}"
    );

    // The operator's own contact with the same name and number stays their own.
    let report = t
        .log
        .import_contacts_csv(
            "name,phone,notes\nИван Петров,+79219462761,my note\n"
                .as_bytes()
                .to_vec(),
        )
        .await
        .unwrap();
    assert_eq!((report.added, report.updated), (1, 0));
    let unchanged = t.log.contact(team.id).await.unwrap().unwrap();
    assert_eq!(unchanged, team);
    let own = t
        .log
        .contacts(None, 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.team_id.is_none())
        .unwrap();
    t.log
        .update_contact(
            own.id,
            NewContact {
                name: "Мой Иван".into(),
                numbers: vec!["+79219462761".into()],
                ..NewContact::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn leaving_removes_every_team_contact_and_the_version_and_keeps_own_ones() {
    let t = TestLog::new();
    t.log
        .add_contact(NewContact {
            name: "Own".into(),
            numbers: vec!["+74950000009".into()],
            ..NewContact::default()
        })
        .await
        .unwrap();
    t.log
        .apply_team_phonebook(page(
            2,
            vec![
                row(10, "A", &["+79219462761"], 1),
                row(11, "B", &["+79219462762"], 2),
            ],
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(t.log.forget_team_contacts().await.unwrap(), 2);
    let left: Vec<String> = t
        .log
        .contacts(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(left, ["Own"]);
    assert!(t.log.contacts(Some("9462"), 10).await.unwrap().is_empty());
    assert_eq!(t.log.team_phonebook_version().await.unwrap(), 0);

    // Leaving with "delete what came since joining" takes team contacts whenever they came.
    t.log
        .apply_team_phonebook(page(3, vec![row(12, "C", &["+79219462763"], 3)], vec![]))
        .await
        .unwrap();
    let report = t
        .log
        .forget_since(chrono::Utc::now() + chrono::TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(report.contacts, 1);
    assert_eq!(t.log.team_phonebook_version().await.unwrap(), 0);
    assert_eq!(t.log.integrity_check().await.unwrap(), ["ok"]);
}
