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

/// The typed configuration of a file with `hook` and then `rest`, or its error's text.
fn console_config(rest: &str) -> Result<RelayConfig, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    let hook = HookPath::generate();
    std::fs::write(
        &path,
        format!("hook = \"{}\"\n{rest}", hook.expose_secret()),
    )
    .unwrap();
    ConfigFile::load(&path)
        .and_then(|file| file.into_config(dir.path()))
        .map_err(|err| err.to_string())
}

#[test]
fn the_console_table_sets_the_console_settings() {
    let config = console_config(
        "[console]\n\
         time_zone = \"Asia/Yekaterinburg\"\n\
         lock_after = 5\n\
         lock_for_secs = 3600\n\
         sign_ins_per_minute = 20\n\
         streams_per_session = 2\n\
         streams_max = 200\n",
    )
    .unwrap();
    let console = &config.console;
    assert_eq!(console.time_zone, chrono_tz::Asia::Yekaterinburg);
    assert_eq!(console.lock_after, 5);
    assert_eq!(console.lock_for, Duration::from_secs(3600));
    assert_eq!(console.sign_ins_per_minute, 20);
    assert_eq!(console.streams_per_session, 2);
    assert_eq!(console.streams_max, 200);
    // A table with some keys keeps the others' defaults.
    let partial = console_config("[console]\nlock_after = 3\n")
        .unwrap()
        .console;
    assert_eq!(partial.lock_after, 3);
    assert_eq!(partial.time_zone, chrono_tz::Europe::Moscow);
    assert_eq!(partial.streams_max, 64);
}

#[test]
fn without_a_console_table_the_console_keeps_its_defaults() {
    let defaults = crate::console_state::ConsoleSettings::default();
    for text in ["", "[console]\n"] {
        let console = console_config(text).unwrap().console;
        assert_eq!(console.time_zone, defaults.time_zone);
        assert_eq!(console.time_zone, chrono_tz::Europe::Moscow);
        assert_eq!(console.lock_after, defaults.lock_after);
        assert_eq!(console.lock_for, defaults.lock_for);
        assert_eq!(console.sign_ins_per_minute, defaults.sign_ins_per_minute);
        assert_eq!(console.streams_per_session, defaults.streams_per_session);
        assert_eq!(console.streams_max, defaults.streams_max);
    }
}

#[test]
fn each_bad_console_value_is_refused_naming_its_key() {
    for (table, key, why) in [
        (
            "time_zone = \"Mars/Olympus_Mons\"",
            "console.time_zone",
            "Mars/Olympus_Mons",
        ),
        ("time_zone = \"\"", "console.time_zone", "IANA"),
        ("time_zone = \"MSK+3\"", "console.time_zone", "IANA"),
        ("lock_after = 0", "console.lock_after", "1 to 100, not 0"),
        ("lock_after = 101", "console.lock_after", "not 101"),
        ("lock_for_secs = 0", "console.lock_for_secs", "not 0"),
        (
            "lock_for_secs = 86401",
            "console.lock_for_secs",
            "1 to 86400",
        ),
        (
            "sign_ins_per_minute = 0",
            "console.sign_ins_per_minute",
            "not 0",
        ),
        (
            "sign_ins_per_minute = 10001",
            "console.sign_ins_per_minute",
            "not 10001",
        ),
        (
            "streams_per_session = 0",
            "console.streams_per_session",
            "not 0",
        ),
        (
            "streams_per_session = 1001",
            "console.streams_per_session",
            "not 1001",
        ),
        ("streams_max = 0", "console.streams_max", "not 0"),
        ("streams_max = 10001", "console.streams_max", "not 10001"),
        (
            "streams_per_session = 9\nstreams_max = 8",
            "console.streams_per_session",
            "more than console.streams_max (8)",
        ),
    ] {
        let err = console_config(&format!("[console]\n{table}\n")).unwrap_err();
        assert!(err.contains(&format!("`{key}`")), "{table}: {err}");
        assert!(err.contains(why), "{table}: {err}");
    }
    // What the file's parser refuses is named too: an unknown key by its name, a negative count
    // or a wrong type by its line (the parser's message never quotes the file).
    for (table, needle) in [
        ("lock_for = 900", "lock_for"),
        ("lock_after = -1", "line 3"),
        ("time_zone = 3", "line 3"),
    ] {
        let err = console_config(&format!("[console]\n{table}\n")).unwrap_err();
        assert!(err.contains(needle), "{table}: {err}");
    }
}

#[test]
fn a_console_table_round_trips_through_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("relay.toml");
    let file = ConfigFile {
        hook: Some(HookPath::generate().expose_secret().to_owned()),
        retention_days: Some(3),
        console: Some(ConsoleSection {
            time_zone: Some("Europe/Kaliningrad".into()),
            streams_max: Some(10),
            ..ConsoleSection::default()
        }),
        ..ConfigFile::default()
    };
    file.write(&path, false).unwrap();
    let loaded = ConfigFile::load(&path).unwrap();
    assert_eq!(loaded, file);
    let config = loaded.into_config(dir.path()).unwrap();
    assert_eq!(config.console.time_zone, chrono_tz::Europe::Kaliningrad);
    assert_eq!(config.console.streams_max, 10);
}
