//! The start refused, for every reason it can be, with the secrets set beside the mistake:
//! the refusal must name what is wrong without printing what is secret.

use std::net::TcpListener;

use super::*;

/// One way the start is refused.
struct Refusal {
    why: &'static str,
    rules: &'static str,
    settings: Vec<(&'static str, String)>,
    without: &'static [&'static str],
    settings_file: Option<std::path::PathBuf>,
    expected: String,
}

/// A refusal with these settings in the environment and nothing else special.
fn refusal(
    why: &'static str,
    rules: &'static str,
    settings: &[(&'static str, &str)],
    expected: &str,
) -> Refusal {
    Refusal {
        why,
        rules,
        settings: settings.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        without: &[],
        settings_file: None,
        expected: expected.to_owned(),
    }
}

const REST_RULES: &str = "[default]\ninstruction = \"accept\"\ndelivery = \"rest\"\n";
const INLINE_RULES: &str = "[default]\ninstruction = \"accept\"\n";

#[test]
fn no_secret_is_printed_when_the_start_is_refused() {
    // Arrange
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let cases = vec![
        Refusal {
            without: &["TWILIO_AUTH_TOKEN"],
            ..refusal(
                "no auth token, a REST rule, the previous token and an API key set",
                REST_RULES,
                &[
                    ("TWILIO_API_KEY", API_KEY),
                    ("TWILIO_API_SECRET", API_SECRET),
                ],
                "TWILIO_AUTH_TOKEN is not set",
            )
        },
        Refusal {
            without: &["TWILIO_ACCOUNT_SID"],
            ..refusal(
                "a REST rule with a token but no account SID",
                REST_RULES,
                &[],
                "REST delivery needs credentials",
            )
        },
        refusal(
            "an API secret without its key",
            REST_RULES,
            &[("TWILIO_API_SECRET", API_SECRET)],
            "an API key and its secret go together",
        ),
        refusal(
            "a rules file with problems",
            "[[rules]]\nname = \"bad\"\ninstruction = \"conference\"\ntimeout = 5000\n\n\
             [default]\ninstruction = \"acept\"\n",
            &[],
            "3 problems",
        ),
        refusal(
            "a rules file that is not TOML",
            "[[rules]\nname = \"x\"\n",
            &[],
            "1 problem",
        ),
        refusal(
            "a rules file that does not exist",
            INLINE_RULES,
            &[("APP_RULES__PATH", "/nonexistent/rules.toml")],
            "cannot read",
        ),
        refusal(
            "a public_url that is not http",
            INLINE_RULES,
            &[(
                "APP_CALLBACK__PUBLIC_URL",
                "ftp://router.example.com/assignment",
            )],
            "setting `callback.public_url`",
        ),
        refusal(
            "an api_base_url over plain http to another host",
            INLINE_RULES,
            &[("APP_TWILIO__API_BASE_URL", "http://taskrouter.example.com")],
            "setting `twilio.api_base_url`: must be https://",
        ),
        refusal(
            "a public_url that is not a URL",
            INLINE_RULES,
            &[("APP_CALLBACK__PUBLIC_URL", "router.example.com/assignment")],
            "is not a URL",
        ),
        refusal(
            "an api_base_url that is not a URL",
            REST_RULES,
            &[("APP_TWILIO__API_BASE_URL", "taskrouter")],
            "setting `twilio.api_base_url`",
        ),
        refusal(
            "the callback port taken",
            INLINE_RULES,
            &[("APP_SERVER__PORT", &taken_port)],
            "cannot listen on",
        ),
        Refusal {
            settings_file: Some(settings_file_with_secrets(&format!(
                "auth_tokn = \"{AUTH_TOKEN}\"\n"
            ))),
            ..refusal(
                "a misspelt key holding the token in the settings file",
                INLINE_RULES,
                &[],
                "unknown setting `twilio.auth_tokn`",
            )
        },
        Refusal {
            settings_file: Some(temp_file(
                "settings.toml",
                &format!("[twilio]\napi_key = \"{API_KEY}\"\napi_secret = [\"{API_SECRET}\"]\n"),
            )),
            without: &["TWILIO_AUTH_TOKEN"],
            ..refusal(
                "an API secret of the wrong type in the settings file",
                INLINE_RULES,
                &[],
                "twilio.api_secret",
            )
        },
        Refusal {
            settings_file: Some(settings_file_with_secrets(
                "[server]\nshutdown_grace_secs = \"soon\"\n",
            )),
            ..refusal(
                "a value of the wrong type next to the secrets in the settings file",
                INLINE_RULES,
                &[],
                "server.shutdown_grace_secs",
            )
        },
        Refusal {
            settings_file: Some(temp_file(
                "settings.toml",
                &format!(
                    "[twilio]\nauth_token = \"{AUTH_TOKEN}\"\n\
                     previous_auth_tokens = [1, \"{PREVIOUS_TOKEN}\"]\n"
                ),
            )),
            // The environment's list would win over the file's.
            without: &["APP_TWILIO__PREVIOUS_AUTH_TOKENS"],
            ..refusal(
                "previous tokens of the wrong shape in the settings file",
                INLINE_RULES,
                &[],
                "twilio.previous_auth_tokens",
            )
        },
        Refusal {
            settings_file: Some(std::path::PathBuf::from("/nonexistent/settings.toml")),
            ..refusal(
                "a settings file that does not exist",
                INLINE_RULES,
                &[],
                "cannot read settings",
            )
        },
    ];
    let mut audit = Audit::new();

    for format in Format::BOTH {
        for case in &cases {
            // Act
            let settings: Vec<(&str, &str)> = case
                .settings
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            let mut command = verbose_command(case.rules, format, &settings);
            for variable in case.without {
                command.env_remove(variable);
            }
            if let Some(file) = &case.settings_file {
                command.arg("--config").arg(file);
            }
            let what = format!("a start refused for {} ({} logs)", case.why, format.name());
            let (code, _, stderr) = run_recorded(&mut audit, &what, command);

            // Assert
            assert_eq!(code, Some(1), "{what}: {stderr}");
            assert!(stderr.contains(&case.expected), "{what}: {stderr}");
        }
    }
    audit.assert_clean();
    drop(taken);
}

#[test]
fn no_secret_is_printed_when_the_settings_file_is_not_toml() {
    let cases = [
        (
            "a stray word after the API secret",
            format!(
                "[twilio]\nauth_token = \"{AUTH_TOKEN}\"\napi_secret = \"{API_SECRET}\" oops\n"
            ),
        ),
        (
            "an auth token with no closing quote",
            format!("[twilio]\nauth_token = \"{AUTH_TOKEN}\n"),
        ),
        (
            "the auth token set twice",
            format!("[twilio]\nauth_token = \"{PREVIOUS_TOKEN}\"\nauth_token = \"{AUTH_TOKEN}\"\n"),
        ),
    ];
    let mut audit = Audit::new();
    for (why, content) in cases {
        let mut command = verbose_command(INLINE_RULES, Format::Json, &[]);
        command
            .arg("--config")
            .arg(temp_file("settings.toml", &content));
        let what = format!("a settings file with {why}");
        let (code, _, stderr) = run_recorded(&mut audit, &what, command);
        assert_eq!(code, Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("settings.toml, line ") && stderr.contains(", column "),
            "{what}: says where: {stderr}"
        );
    }
    audit.assert_clean();
}
