//! Checking a contact before it is stored.

use super::*;

#[test]
fn a_contact_needs_a_name_or_number_and_a_real_manager() {
    assert!(NewContact::default().validate().is_err());
    let only_number = NewContact {
        numbers: vec!["+79219462761".into()],
        ..NewContact::default()
    }
    .validate()
    .unwrap();
    assert_eq!(only_number.name, "+79219462761");
    let bad_manager = NewContact {
        name: "A".into(),
        manager_sip_id: Some("101".into()),
        ..NewContact::default()
    };
    assert!(bad_manager.validate().is_err());
}
