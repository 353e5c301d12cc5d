use super::*;

#[test]
fn generated_hooks_are_long_random_and_redacted() {
    let hook = HookPath::generate();
    assert_eq!(hook.expose_secret().len(), 32);
    assert_ne!(hook, HookPath::generate());
    assert!(HookPath::parse(hook.expose_secret()).is_ok());
    assert_eq!(hook.to_string(), "[redacted]");
    assert!(!format!("{hook:?}").contains(hook.expose_secret()));
    assert!(hook.matches(hook.expose_secret()));
    assert!(!hook.matches("short"));
}

#[test]
fn short_or_odd_hooks_are_refused() {
    assert!(HookPath::parse("abc").is_err());
    assert!(HookPath::parse("aaaaaaaaaaaaaaaaaaaaaaaaaa/b").is_err());
    assert!(HookPath::parse(&"a".repeat(200)).is_err());
}

#[test]
fn a_file_round_trips_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    let file = ConfigFile {
        hook: Some(HookPath::generate().expose_secret().to_owned()),
        public_url: Some("https://relay.example.com".into()),
        retention_days: Some(3),
        ..ConfigFile::default()
    };
    file.write(&path, false).unwrap();
    assert!(matches!(
        file.write(&path, false),
        Err(RelayError::ConfigExists(_))
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    file.write(&path, true).unwrap();
    // Only the file itself: the new copy it was written through was renamed into place.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let loaded = ConfigFile::load(&path).unwrap();
    assert_eq!(loaded, file);
    let flags = ConfigFile {
        retention_days: Some(1),
        ..ConfigFile::default()
    };
    let config = loaded
        .clone()
        .overridden_by(flags)
        .into_config(dir.path())
        .unwrap();
    assert_eq!(config.retention, Duration::from_secs(24 * 3600));
    assert_eq!(config.database, dir.path().join(DEFAULT_DATABASE));
    assert_eq!(config.body_limit, 256 * 1024);
    // The routing journal, like the audit log, is kept a year unless told otherwise.
    assert_eq!(
        config.routing_journal_retention,
        Duration::from_secs(365 * 24 * 3600)
    );
    let shorter = ConfigFile {
        routing_journal_retention_days: Some(30),
        ..ConfigFile::default()
    };
    let config = loaded
        .overridden_by(shorter)
        .into_config(dir.path())
        .unwrap();
    assert_eq!(
        config.routing_journal_retention,
        Duration::from_secs(30 * 24 * 3600)
    );
}

#[test]
fn a_packaged_configuration_keeps_its_data_in_var_lib_and_its_key_beside_it() {
    let file = ConfigFile {
        hook: Some(HookPath::generate().expose_secret().to_owned()),
        ..ConfigFile::default()
    };
    let packaged = file
        .clone()
        .into_config(Path::new(PACKAGED_CONFIG_DIR))
        .unwrap();
    assert_eq!(
        packaged.database,
        Path::new(PACKAGED_DATA_DIR).join(DEFAULT_DATABASE)
    );
    assert_eq!(
        packaged.key_file,
        Path::new(PACKAGED_CONFIG_DIR).join(DEFAULT_KEY_FILE)
    );
    // A developer's run keeps everything beside its configuration.
    let here = file
        .clone()
        .into_config(Path::new("/home/dev/relay"))
        .unwrap();
    assert_eq!(
        here.database,
        Path::new("/home/dev/relay").join(DEFAULT_DATABASE)
    );
    assert_eq!(
        here.key_file,
        Path::new("/home/dev/relay").join(DEFAULT_KEY_FILE)
    );
    // Explicit paths win.
    let explicit = ConfigFile {
        database: Some("/srv/relay.sqlite3".into()),
        key_file: Some("/run/secrets/relay.key".into()),
        ..file
    }
    .into_config(Path::new(PACKAGED_CONFIG_DIR))
    .unwrap();
    assert_eq!(explicit.database, Path::new("/srv/relay.sqlite3"));
    assert_eq!(explicit.key_file, Path::new("/run/secrets/relay.key"));
}

#[test]
fn bad_files_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    std::fs::write(&path, "hook = \"x\"\nretension_days = 3\n").unwrap();
    let err = ConfigFile::load(&path).unwrap_err().to_string();
    assert!(err.contains("retension_days"), "{err}");
    let missing_hook = ConfigFile::default().into_config(dir.path()).unwrap_err();
    assert!(missing_hook.to_string().contains("hook"));
    let bad_url = ConfigFile {
        hook: Some(HookPath::generate().expose_secret().to_owned()),
        public_url: Some("https://relay.example.com/".into()),
        ..ConfigFile::default()
    };
    assert!(
        bad_url
            .into_config(dir.path())
            .unwrap_err()
            .to_string()
            .contains("public_url")
    );
}

#[test]
fn a_file_that_does_not_parse_is_named_by_line_without_quoting_its_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    std::fs::write(
        &path,
        "hook = \"a-secret-hook-of-enough-length\"\n\
         database = \"postgres://relay:pa55word@db/relay\"\n\
         database = \"postgres://relay:pa55word@db/relay\"\n",
    )
    .unwrap();
    let message = ConfigFile::load(&path).unwrap_err().to_string();
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("duplicate key"), "{message}");
    assert!(!message.contains("pa55word"), "{message}");
}

#[test]
fn a_postgres_address_is_recognised_and_prints_without_its_password() {
    let file = ConfigFile {
        database: Some("postgres://relay:pa55word@db:5432/relay".into()),
        ..ConfigFile::default()
    };
    let url = file.postgres().unwrap().unwrap();
    assert!(!format!("{url:?} {url}").contains("pa55word"));
    assert!(url.to_string().contains("db:5432/relay"));
    let plain = ConfigFile {
        database: Some("relay.sqlite3".into()),
        ..ConfigFile::default()
    };
    assert_eq!(plain.postgres().unwrap(), None);
    let bad = ConfigFile {
        database: Some("postgres://relay@db:notaport/relay".into()),
        ..ConfigFile::default()
    };
    assert!(bad.postgres().unwrap_err().to_string().contains("database"));
}
