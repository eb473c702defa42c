//! The operator subcommands (`check`, `explain`, `sign`) with every secret set: each prints
//! what it must, and nothing secret. `sign` prints a signature by design, so only its
//! stderr is audited.

use serde_json::Value;

use super::*;

#[test]
fn no_secret_is_printed_by_check_explain_or_sign() {
    let rest_callback = callback_for("rest", 1);
    let form_file = temp_file("callback.form", &(encode(&rest_callback) + "\n"));
    let bad_form_file = temp_file("bad.form", "TaskSid=%zz");
    let broken_rules = "[[rules]]\nname = \"x\"\ninstruction = \"dequeue\"\ntimeout = 0\n\n\
                        [default]\ninstruction = \"accept\"\n";
    let mut audit = Audit::new();
    let expected_signature = audit.signature(
        "the signature `sign` prints",
        AUTH_TOKEN,
        PUBLIC_URL,
        &rest_callback,
    );
    let api_key = [
        ("TWILIO_API_KEY", API_KEY),
        ("TWILIO_API_SECRET", API_SECRET),
    ];

    for format in Format::BOTH {
        let run = |what: &str| format!("{what} ({} logs)", format.name());

        // check
        let mut check = verbose_command(RULES, format, &api_key);
        check.arg("check");
        let what = run("check on good rules");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("ok, 2 rules and a default"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(RULES, format, &[]);
        check
            .arg("--config")
            .arg(settings_file_with_secrets(""))
            .arg("check");
        let what = run("check with the secrets in a settings file");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("ok, 2 rules and a default"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(RULES, format, &api_key);
        check.env_remove("TWILIO_AUTH_TOKEN").arg("check");
        let what = run("check without the auth token");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(0), "{what}: {stdout}{stderr}");
        assert!(
            stdout.contains("note: TWILIO_AUTH_TOKEN is not set"),
            "{what}: {stdout}"
        );

        let mut check = verbose_command(broken_rules, format, &api_key);
        check.arg("check");
        let what = run("check on broken rules");
        let (code, stdout, _) = run_recorded(&mut audit, &what, check);
        assert_eq!(code, Some(1), "{what}: {stdout}");
        assert!(stdout.contains("1 problem"), "{what}: {stdout}");

        // explain
        let mut explain = verbose_command(RULES, format, &api_key);
        explain.arg("explain").arg(&form_file);
        let what = run("explain");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(0), "{what}: {stderr}");
        assert!(
            stdout.contains("rule \"by-rest\": answers"),
            "{what}: {stdout}"
        );
        assert!(stdout.contains("then: POST"), "{what}: {stdout}");
        assert!(
            stdout.contains("    Instruction=conference"),
            "{what}: {stdout}"
        );

        let mut explain = verbose_command(RULES, format, &[]);
        explain.args(["explain", "--json"]).arg(&form_file);
        let what = run("explain --json");
        let (code, stdout, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(0), "{what}: {stderr}");
        let document: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(document["decision"]["delivery"], "rest", "{what}: {stdout}");

        let mut explain = verbose_command(RULES, format, &api_key);
        explain.arg("explain").arg(&bad_form_file);
        let what = run("explain on an unreadable callback");
        let (code, _, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("the callback cannot be read"),
            "{what}: {stderr}"
        );

        let mut explain = verbose_command(RULES, format, &api_key);
        explain
            .args(["explain", "--at", "yesterday"])
            .arg(&form_file);
        let what = run("explain with a bad --at");
        let (code, _, stderr) = run_recorded(&mut audit, &what, explain);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("--at is not an RFC 3339 instant"),
            "{what}: {stderr}"
        );

        // sign: its stdout is the signature by design, so only its stderr is audited.
        let mut sign = verbose_command(RULES, format, &api_key);
        sign.args(["sign", "--url", PUBLIC_URL]).arg(&form_file);
        let output = run_named("sign", sign);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "sign: {stderr}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("{expected_signature}\n"),
            "sign prints exactly the signature"
        );
        audit.record(run("the stderr of sign"), stderr);

        let mut sign = verbose_command(RULES, format, &api_key);
        sign.env_remove("TWILIO_AUTH_TOKEN")
            .args(["sign", "--url", PUBLIC_URL])
            .arg(&form_file);
        let what = run("sign without the auth token");
        let (code, _, stderr) = run_recorded(&mut audit, &what, sign);
        assert_eq!(code, Some(1), "{what}");
        assert!(
            stderr.contains("TWILIO_AUTH_TOKEN is not set"),
            "{what}: {stderr}"
        );

        let mut sign = verbose_command(RULES, format, &api_key);
        sign.args(["sign", "--url", PUBLIC_URL]).arg(&bad_form_file);
        let what = run("sign on an unreadable body");
        let (code, _, stderr) = run_recorded(&mut audit, &what, sign);
        assert_eq!(code, Some(1), "{what}");
        assert!(stderr.starts_with("error:"), "{what}: {stderr}");
    }
    audit.assert_clean();
}
