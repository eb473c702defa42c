//! The callback path: raw body bytes and a signature header through form decoding,
//! signature verification, typing and the rules, exactly as a request takes it.
#![no_main]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use assignment_router::callback::signature::{SignatureHeader, Verifier};
use assignment_router::decisions::mask::Mask;
use assignment_router::dedupe::RecentDecisions;
use assignment_router::outbox::DecisionStore;
use assignment_router::pipeline;
use assignment_router::recording::Recorder;
use assignment_router::rules::file::parse;
use assignment_router::state::AppState;
use assignment_router::telemetry::metrics::Metrics;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const RULES: &str = r#"
[[rules]]
name = "es"
when = 'task.language == "es" AND worker.skills HAS "billing" AND TaskAge < 300'
instruction = "dequeue"
from = "{{task.from}}"

[default]
instruction = "accept"
"#;

fn state() -> &'static AppState {
    static STATE: OnceLock<AppState> = OnceLock::new();
    STATE.get_or_init(|| AppState {
        rules: ArcSwap::from_pointee(parse(RULES).unwrap_or_else(|p| panic!("{p:?}"))),
        rules_path: "fuzz.toml".into(),
        verifier: Some(Verifier::new(
            &["https://router.example.com/assignment".to_owned()],
            vec![SecretString::from("fuzz-token")],
        )),
        max_body_bytes: 65_536,
        deliverer: None,
        recent: RecentDecisions::new(1_000, Duration::from_secs(120)),
        update_deadline: Duration::from_secs(120),
        store: DecisionStore::Memory,
        recorder: Recorder::start(1_000, Mask::default(), None, Arc::new(Metrics::new()))
            .expect("the recorder's thread starts"),
        mask: Mask::default(),
        events_verifier: None,
        admin_token: None,
        metrics: Arc::new(Metrics::new()),
    })
}

fuzz_target!(|input: (&[u8], &str, Option<&str>)| {
    let (body, signature, query) = input;
    let _ = pipeline::process(
        state(),
        body,
        query,
        SignatureHeader::One(signature),
        jiff::Timestamp::now(),
    );
});
