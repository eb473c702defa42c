use super::*;

#[test]
fn escapes_what_json_requires() {
    let mut out = String::new();
    write_string(&mut out, "a\"b\\c\nd\u{1}é").unwrap();
    assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    let parsed: String = serde_json::from_str(&out).unwrap();
    assert_eq!(parsed, "a\"b\\c\nd\u{1}é");
}

#[test]
fn lines_carry_the_current_span_fields_including_ones_recorded_later() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let sink = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(JsonSpanFields)
        .event_format(JsonLines)
        .with_writer(move || Captured(sink.clone()))
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!(
            "callback",
            rule = "a \"quoted\" rule",
            count = 3_u64,
            late = tracing::field::Empty
        );
        span.record("late", true);
        span.in_scope(|| tracing::info!(reason = %"bad\nthing", "callback refused"));
        tracing::info_span!("empty").in_scope(|| tracing::info!("bare"));
    });
    let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
    let entries: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["fields"]["message"], "callback refused");
    assert_eq!(entries[0]["fields"]["reason"], "bad\nthing");
    assert_eq!(
        entries[0]["span"],
        serde_json::json!({"name": "callback", "rule": "a \"quoted\" rule", "count": 3, "late": true})
    );
    assert_eq!(entries[1]["span"], serde_json::json!({"name": "empty"}));
}

struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
