//! `schema`: the JSON Schema of the rules file, as the released binary prints it.

use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::process::run_to_end;

const BINARY: &str = env!("CARGO_BIN_EXE_assignment-router");

fn committed() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/rules.schema.json");
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn schema_prints_the_committed_schema_and_nothing_else() {
    // Arrange: from an empty folder, with no settings and no environment to read.
    let folder = std::env::temp_dir();
    let mut schema = Command::new(BINARY);
    schema.current_dir(folder).env_clear().arg("schema");
    // Act
    let output = run_to_end(schema);
    // Assert
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "");
    assert!(
        stdout == committed(),
        "`schema` printed something other than schemas/rules.schema.json:\n{stdout}"
    );
    let schema: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["required"], serde_json::json!(["default"]));
}

#[test]
fn schema_says_so_when_standard_output_cannot_be_written() {
    // Arrange: stdout is /dev/full, where every write fails as on a full disk (a closed or
    // read-only descriptor would not do: Rust's stdout takes EBADF as success).
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut schema = Command::new(BINARY);
    schema
        .env_clear()
        .arg("schema")
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped());
    // Act
    let output = schema.output().unwrap();
    // Assert
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: cannot write the schema to standard output: No space left on device (os error 28)\n"
    );
}
