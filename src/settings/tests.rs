use super::*;

fn env(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_settings_file_that_is_not_toml_is_refused_with_where_but_not_the_line() {
    let dir = std::env::temp_dir().join(format!("settings-syntax-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settings.toml");
    std::fs::write(&path, "[twilio]\nauth_token = \"s3cr3t-token\" oops\n").unwrap();
    let error = Settings::read_with(Some(&path), &[]).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(error, SettingsError::Syntax { line: 2, .. }),
        "{text}"
    );
    assert!(text.contains("settings.toml, line 2, column "), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!format!("{error:?}").contains("s3cr3t"));
    let missing = Settings::read_with(Some(&dir.join("absent.toml")), &[]).unwrap_err();
    assert!(
        matches!(missing, SettingsError::Unreadable { .. }),
        "{missing}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn built_in() -> Option<&'static Path> {
    // A file that does not set anything beyond the defaults.
    None
}

#[test]
fn environment_overrides_the_defaults_and_twilio_names_are_honoured() {
    let settings = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "token-a"),
            ("APP_SERVER__PORT", "9100"),
            ("APP_CALLBACK__PUBLIC_URL", "https://example.com/x"),
            ("APP_TWILIO__PREVIOUS_AUTH_TOKENS", "old-1, old-2"),
            ("APP_RULES__PATH", "somewhere/rules.toml"),
        ]),
    )
    .unwrap();
    assert_eq!(settings.server.port, 9100);
    assert_eq!(settings.callback.public_url, "https://example.com/x");
    let tokens: Vec<String> = settings
        .signing_tokens()
        .iter()
        .map(|t| t.expose_secret().to_owned())
        .collect();
    assert_eq!(tokens, ["token-a", "old-1", "old-2"]);
    assert_eq!(settings.rules.path, PathBuf::from("somewhere/rules.toml"));
}

#[test]
fn a_missing_auth_token_names_the_variable_to_set() {
    let error = Settings::load_with(built_in(), &env(&[])).unwrap_err();
    assert!(matches!(error, SettingsError::MissingAuthToken));
    assert!(error.to_string().contains("TWILIO_AUTH_TOKEN"));
}

#[test]
fn no_token_is_needed_when_signatures_are_not_checked() {
    let settings = Settings::load_with(
        built_in(),
        &env(&[("APP_CALLBACK__VERIFY_SIGNATURE", "false")]),
    )
    .unwrap();
    assert!(!settings.callback.verify_signature);
}

#[test]
fn debug_output_hides_every_secret() {
    let settings = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "very-secret-token"),
            ("TWILIO_API_KEY", "SK123"),
            ("TWILIO_API_SECRET", "very-secret-key"),
            ("APP_TWILIO__PREVIOUS_AUTH_TOKENS", "very-secret-old"),
        ]),
    )
    .unwrap();
    let printed = format!("{settings:?}");
    assert!(!printed.contains("very-secret"), "{printed}");
}

#[test]
fn connection_limits_default_to_the_shipped_values() {
    let settings = Settings::load_with(built_in(), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap();
    assert_eq!(settings.server.request_head_timeout_ms, 5000);
    assert_eq!(settings.server.keep_alive_secs, 5);
    assert_eq!(settings.server.max_connections, 10_000);
}

#[test]
fn zero_connection_limits_are_refused_naming_the_setting() {
    for (variable, key) in [
        (
            "APP_SERVER__REQUEST_HEAD_TIMEOUT_MS",
            "server.request_head_timeout_ms",
        ),
        ("APP_SERVER__MAX_CONNECTIONS", "server.max_connections"),
    ] {
        let error = Settings::load_with(
            built_in(),
            &env(&[("TWILIO_AUTH_TOKEN", "t"), (variable, "0")]),
        )
        .unwrap_err();
        assert!(
            error.to_string().starts_with(&format!("setting `{key}`: ")),
            "{variable}=0: {error}"
        );
    }
}

#[test]
fn keep_alive_zero_is_allowed_and_means_one_answer_per_connection() {
    let settings = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("APP_SERVER__KEEP_ALIVE_SECS", "0"),
        ]),
    )
    .unwrap();
    assert_eq!(settings.server.keep_alive_secs, 0);
}

#[test]
fn a_relative_rules_path_in_a_file_is_taken_from_its_folder() {
    let dir = std::env::temp_dir().join(format!("ar-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.toml");
    std::fs::write(&file, "[rules]\npath = \"my-rules.toml\"\n").unwrap();
    let settings = Settings::load_with(Some(&file), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap();
    assert_eq!(settings.rules.path, dir.join("my-rules.toml"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_key_in_the_file_is_refused() {
    let dir = std::env::temp_dir().join(format!("ar-settings-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.toml");
    std::fs::write(&file, "[server]\nprot = 1\n").unwrap();
    let error = Settings::load_with(Some(&file), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap_err();
    assert!(error.to_string().contains("server.prot"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_closest_known_key_is_suggested_only_when_near() {
    assert_eq!(closest_known("server.prot"), Some("server.port"));
    assert_eq!(closest_known("log.fromat"), Some("log.format"));
    assert_eq!(closest_known("something.else.entirely"), None);
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    let warnings = unknown_environment(&[
        ("APP_SERVR__PORT".into(), "1".into()),
        ("APP_SERVER__PORT".into(), "1".into()),
        ("HOME".into(), "/root".into()),
    ]);
    assert_eq!(
        warnings,
        ["APP_SERVR__PORT names no setting and is ignored (did you mean APP_SERVER__PORT?)"]
    );
}

#[test]
fn the_store_is_memory_by_default_and_database_url_names_the_shared_one() {
    let memory = Settings::load_with(built_in(), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap();
    assert!(memory.store.url.is_none());
    assert_eq!(memory.store.lease_secs, 10);
    assert_eq!(memory.store.max_connections, 8);
    assert!(!memory.store.claim_waits_for_disk);
    assert_eq!(memory.decisions.keep_hours, 72);

    let from_database_url = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("DATABASE_URL", "postgres://router:pw-1@db/router"),
        ]),
    )
    .unwrap();
    let url = from_database_url.store.url.as_ref().unwrap();
    assert_eq!(url.expose_secret(), "postgres://router:pw-1@db/router");
    // The more specific variable wins over the generic one.
    let both = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("DATABASE_URL", "postgres://router:pw-1@db/router"),
            ("APP_STORE__URL", "postgresql://router:pw-2@other/router"),
        ]),
    )
    .unwrap();
    let url = both.store.url.as_ref().unwrap();
    assert_eq!(url.expose_secret(), "postgresql://router:pw-2@other/router");
    // Debug shows no password.
    let debug = format!("{both:?}");
    assert!(
        !debug.contains("pw-2") && !debug.contains("pw-1"),
        "{debug}"
    );
}

#[test]
fn a_store_url_that_is_not_postgres_is_refused_without_showing_it() {
    let error = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("APP_STORE__URL", "mysql://router:hunter2@db/router"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("setting `store.url`: expected"),
        "{error}"
    );
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn store_and_retention_numbers_of_zero_are_refused() {
    for (variable, key) in [
        ("APP_STORE__LEASE_SECS", "store.lease_secs"),
        ("APP_STORE__MAX_CONNECTIONS", "store.max_connections"),
        ("APP_DECISIONS__KEEP_HOURS", "decisions.keep_hours"),
    ] {
        let error = Settings::load_with(
            built_in(),
            &env(&[("TWILIO_AUTH_TOKEN", "t"), (variable, "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with(&format!("setting `{key}`")), "{error}");
    }
}

#[test]
fn the_rules_are_watched_by_default_and_the_environment_can_turn_it_off() {
    let default = Settings::load_with(built_in(), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap();
    assert!(default.rules.watch);
    let off = Settings::load_with(
        built_in(),
        &env(&[("TWILIO_AUTH_TOKEN", "t"), ("APP_RULES__WATCH", "false")]),
    )
    .unwrap();
    assert!(!off.rules.watch);
}

#[test]
fn a_settings_file_can_turn_the_watch_off() {
    let dir = std::env::temp_dir().join(format!("ar-settings-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("settings.toml");
    std::fs::write(&file, "[rules]\nwatch = false\n").unwrap();
    let settings = Settings::load_with(Some(&file), &env(&[("TWILIO_AUTH_TOKEN", "t")])).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!settings.rules.watch);
}

#[test]
fn a_watch_setting_that_is_not_a_boolean_is_refused_naming_it() {
    let error = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("APP_RULES__WATCH", "sometimes"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        "setting `rules.watch`: expected a boolean, got string \"sometimes\""
    );
}

#[test]
fn the_events_url_is_the_public_urls_origin_with_the_events_path_unless_given() {
    let load = |extra: &[(&str, &str)]| {
        let mut list = vec![
            ("TWILIO_AUTH_TOKEN", "token-a"),
            (
                "APP_CALLBACK__PUBLIC_URL",
                "https://user:pass@router.example.com:8443/tr/assignment?x=1#rc=2",
            ),
        ];
        list.extend_from_slice(extra);
        Settings::load_with(built_in(), &env(&list))
    };
    assert_eq!(load(&[]).unwrap().events_url(), None, "off by default");
    let derived = load(&[("APP_CALLBACK__EVENTS_PATH", "/events")]).unwrap();
    assert_eq!(
        derived.events_url().as_deref(),
        Some("https://user:pass@router.example.com:8443/events")
    );
    let given = load(&[
        ("APP_CALLBACK__EVENTS_PATH", "/events"),
        (
            "APP_CALLBACK__EVENTS_PUBLIC_URL",
            "https://edge.example.com/tr/events",
        ),
    ])
    .unwrap();
    assert_eq!(
        given.events_url().as_deref(),
        Some("https://edge.example.com/tr/events")
    );
    for (path, problem) in [
        ("events", "must start with `/`"),
        ("/assignment", "must differ from callback.path"),
        ("/health", "must differ from callback.path"),
    ] {
        let error = load(&[("APP_CALLBACK__EVENTS_PATH", path)]).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("callback.events_path"), "{path}: {text}");
        assert!(text.contains(problem), "{path}: {text}");
    }
}

#[test]
fn masked_paths_must_be_attribute_paths_and_records_kept_must_be_above_zero() {
    let load = |extra: &[(&str, &str)]| {
        let mut list = vec![("TWILIO_AUTH_TOKEN", "token-a")];
        list.extend_from_slice(extra);
        Settings::load_with(built_in(), &env(&list))
    };
    let settings = load(&[("APP_DECISIONS__MASK", "task.caller_name, worker.email")]).unwrap();
    assert_eq!(
        settings.decisions.mask,
        ["task.caller_name", "worker.email"]
    );
    assert_eq!(settings.decisions.keep, 10_000);
    for bad in ["caller_name", "task.", "customer.name"] {
        let text = load(&[("APP_DECISIONS__MASK", bad)])
            .unwrap_err()
            .to_string();
        assert!(text.contains("decisions.mask"), "{bad}: {text}");
        assert!(text.contains(&format!("\"{bad}\"")), "{bad}: {text}");
    }
    let text = load(&[("APP_DECISIONS__KEEP", "0")])
        .unwrap_err()
        .to_string();
    assert!(text.contains("decisions.keep"), "{text}");
}

#[test]
fn the_admin_bearer_token_is_a_secret() {
    let settings = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "token-a"),
            ("APP_ADMIN__BEARER_TOKEN", "b3arer-s3cret"),
        ]),
    )
    .unwrap();
    let token = settings.admin.bearer_token.as_ref().unwrap();
    assert_eq!(token.expose_secret(), "b3arer-s3cret");
    assert!(!format!("{settings:?}").contains("b3arer-s3cret"));
}

#[test]
fn a_claim_can_be_made_to_wait_for_the_disk_and_a_word_that_is_not_a_bool_is_refused() {
    let waiting = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("APP_STORE__CLAIM_WAITS_FOR_DISK", "true"),
        ]),
    )
    .unwrap();
    assert!(waiting.store.claim_waits_for_disk);

    let error = Settings::load_with(
        built_in(),
        &env(&[
            ("TWILIO_AUTH_TOKEN", "t"),
            ("APP_STORE__CLAIM_WAITS_FOR_DISK", "sometimes"),
        ]),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("store.claim_waits_for_disk"), "{error}");
}
