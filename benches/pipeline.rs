//! The costs on the request path: the signature check, the rules (10 rules matching in the
//! middle; 1,000 rules matching at the end), a list and map lookup with ten values and with a
//! million (the same cost is the point), and the whole pipeline from body bytes to answer
//! bytes; and loading a million-value list. Run with `cargo bench`.

use std::hint::black_box;
use std::time::Duration;

use arc_swap::ArcSwap;
use assignment_router::callback::AssignmentCallback;
use assignment_router::callback::form;
use assignment_router::callback::signature::{self, Payload, SignatureHeader, Verifier};
use assignment_router::callback::verified::Verified;
use assignment_router::decisions::book::RecordBook;
use assignment_router::decisions::build::{self, Decided};
use assignment_router::decisions::mask::Mask;
use assignment_router::dedupe::RecentDecisions;
use assignment_router::outbox::DecisionStore;
use assignment_router::pipeline;
use assignment_router::recording::Recorder;
use assignment_router::rules::RuleSet;
use assignment_router::rules::file::{parse, parse_in};
use assignment_router::state::AppState;
use assignment_router::telemetry::metrics::Metrics;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::json;

const TOKEN: &str = "bench-auth-token-0123456789abcdef";
const URL: &str = "https://router.example.com/assignment";

/// A callback of about 1.5 KB, with attribute sets like a real contact center's.
fn realistic_pairs(queue: &str) -> Vec<(String, String)> {
    let task = json!({
        "type": "inbound_call", "queue": queue, "language": "es", "vip": false,
        "call_sid": "CA0123456789abcdef0123456789abcdef", "from": "+15005550006",
        "to": "+15005550001", "direction": "inbound", "caller_city": "San Francisco",
        "caller_state": "CA", "caller_country": "US", "caller_zip": "94105",
        "account": {"id": "ACC-000123", "tier": "gold", "since": 2019, "open_tickets": 2,
                    "tags": ["billing", "renewal", "spanish"]},
        "ivr": {"path": ["main", "billing", "agent"], "digits": "2", "confidence": 0.93},
        "conversations": {"segment_link": "https://example.com/segments/123", "external_contact": "+15005550006"}
    });
    let worker = json!({
        "skills": ["billing", "sales", "support"], "languages": ["en", "es"], "level": 3,
        "contact_uri": "client:alice", "team": "emea-2", "location": "remote",
        "certifications": ["pci", "gdpr"], "routing": {"skills": ["voice", "chat"], "levels": {"voice": 3}}
    });
    [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("WorkspaceSid", "WS0123456789abcdef0123456789abcdef"),
        ("WorkflowSid", "WW0123456789abcdef0123456789abcdef"),
        ("TaskQueueSid", "WQ0123456789abcdef0123456789abcdef"),
        ("WorkerSid", "WK0123456789abcdef0123456789abcdef"),
        ("TaskSid", "WT0123456789abcdef0123456789abcdef"),
        ("ReservationSid", "WR0123456789abcdef0123456789abcdef"),
        ("TaskAge", "42"),
        ("TaskPriority", "7"),
        ("Timestamp", "1764324000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([
        ("TaskAttributes".to_owned(), task.to_string()),
        ("WorkerAttributes".to_owned(), worker.to_string()),
    ])
    .collect()
}

/// `count` rules, rule `i` matching queue `q{i}`; a default after them.
pub fn rules_text(count: usize) -> String {
    let mut text = String::new();
    for i in 0..count {
        text.push_str(&format!(
            "[[rules]]\nname = \"rule-{i}\"\n\
             when = 'task.queue == \"q{i}\" AND worker.skills HAS \"billing\" AND TaskAge < 300 AND task.account.tier IN [\"gold\", \"silver\"]'\n\
             instruction = \"dequeue\"\nfrom = \"{{{{task.to}}}}\"\nto = \"{{{{worker.contact_uri}}}}\"\n\
             post_work_activity_sid = \"WA0123456789abcdef0123456789abcdef\"\ntimeout = 30\n\n"
        ));
    }
    text.push_str("[default]\ninstruction = \"accept\"\n");
    text
}

fn rule_set(count: usize) -> RuleSet {
    parse(&rules_text(count)).unwrap_or_else(|problems| panic!("{problems:?}"))
}

fn state(rules: RuleSet) -> AppState {
    AppState {
        rules: ArcSwap::from_pointee(rules),
        rules_path: "bench.toml".into(),
        verifier: Some(Verifier::new(
            &[URL.to_owned()],
            vec![SecretString::from(TOKEN)],
        )),
        max_body_bytes: 65_536,
        deliverer: None,
        recent: RecentDecisions::new(50_000, Duration::from_secs(120)),
        update_deadline: Duration::from_secs(120),
        store: DecisionStore::Memory,
        recorder: Recorder::start(
            1_000,
            Mask::default(),
            None,
            std::sync::Arc::new(Metrics::new()),
        )
        .expect("the recorder's thread starts"),
        mask: Mask::default(),
        events_verifier: None,
        admin_token: None,
        metrics: std::sync::Arc::new(Metrics::new()),
    }
}

/// A folder removed when dropped.
struct Folder {
    path: std::path::PathBuf,
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A rules file reading a list and a map of `size` entries each, which hold the callback's
/// caller (`task.from`, +15005550006) last; and their folder.
fn lookup_rules(size: usize) -> (Folder, String) {
    let path = std::env::temp_dir().join(format!(
        "assignment-router-bench-{size}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut list = String::new();
    let mut map = String::new();
    for i in 1..size {
        list.push_str(&format!("+1600{i:07}\n"));
        map.push_str(&format!("+1600{i:07},client:agent-{i}\n"));
    }
    list.push_str("+15005550006\n");
    map.push_str("+15005550006,client:alice\n");
    std::fs::write(path.join("vip.txt"), list).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path.join("managers.csv"), map).unwrap_or_else(|e| panic!("{e}"));
    let rules = "[lists.vip]\nfile = \"vip.txt\"\n\n[maps.manager]\nfile = \"managers.csv\"\n\n\
                 [[rules]]\nname = \"vip\"\n\
                 when = 'task.from IN lists.vip AND maps.manager[task.from] != null'\n\
                 instruction = \"dequeue\"\nfrom = \"{{task.to}}\"\nto = \"{{maps.manager[task.from]}}\"\n\n\
                 [default]\ninstruction = \"accept\"\n"
        .to_owned();
    (Folder { path }, rules)
}

fn benchmarks(c: &mut Criterion) {
    let pairs = realistic_pairs("q5");
    let body = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    let signature = signature::compute(TOKEN, URL, Payload::Form(&pairs));
    let verifier = Verifier::new(&[URL.to_owned()], vec![SecretString::from(TOKEN)]);
    let now = Timestamp::now();

    c.bench_function("signature check, 1.5 KB callback", |b| {
        // The pairs move into the check (and come back verified): each round gets a copy
        // made, and the result dropped, outside the timing.
        b.iter_batched(
            || pairs.clone(),
            |pairs| verifier.verify(None, black_box(pairs), SignatureHeader::One(&signature)),
            BatchSize::SmallInput,
        )
    });

    let callback = AssignmentCallback::from_verified(Verified::unchecked(pairs.clone()))
        .unwrap_or_else(|e| panic!("{e}"));
    let ten = rule_set(10);
    c.bench_function("rules, 10 rules, match in the middle", |b| {
        b.iter(|| ten.decide(black_box(&callback), now).answer)
    });

    let last = AssignmentCallback::from_verified(Verified::unchecked(realistic_pairs("q999")))
        .unwrap_or_else(|e| panic!("{e}"));
    let thousand = rule_set(1_000);
    c.bench_function("rules, 1000 rules, match at the end", |b| {
        b.iter(|| thousand.decide(black_box(&last), now).answer)
    });

    for size in [10, 1_000_000] {
        let (folder, rules) = lookup_rules(size);
        let folder = folder.path.clone();
        let set = parse_in(&rules, &folder).unwrap_or_else(|problems| panic!("{problems:?}"));
        c.bench_function(&format!("rules, list and map of {size} values"), |b| {
            b.iter(|| set.decide(black_box(&callback), now).answer)
        });
    }
    let (folder, rules) = lookup_rules(1_000_000);
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("rules with a list and a map of 1000000 values each", |b| {
        b.iter(|| parse_in(black_box(&rules), &folder.path).map(|set| set.len()))
    });
    group.finish();

    let state = state(rule_set(10));
    c.bench_function("pipeline, body bytes to answer bytes", |b| {
        b.iter(|| {
            pipeline::process(
                &state,
                black_box(body.as_bytes()),
                None,
                SignatureHeader::One(&signature),
                now,
            )
            .map(|answered| answered.answer)
        })
    });

    // What the recorder's thread does per decision, off the answer path: the explain trace,
    // masks and all, as it is kept.
    let rules = std::sync::Arc::new(rule_set(10));
    let mask = Mask::new(vec!["task.from".to_owned()]);
    let book = RecordBook::new(10_000);
    let mut n = 0u64;
    c.bench_function("decision record, 10 rules, match in the middle", |b| {
        b.iter_batched(
            || {
                n += 1;
                let mut callback = callback.clone();
                callback.reservation_sid = format!("WR{n:032x}");
                Decided {
                    rules: rules.clone(),
                    callback,
                    now,
                    decided_at: std::time::SystemTime::now(),
                    rule: std::sync::Arc::new("rule-5".to_owned()),
                    instruction: "dequeue",
                    delivery: "inline",
                    answer: bytes::Bytes::from_static(b"{\"instruction\":\"dequeue\"}"),
                }
            },
            |decided| {
                book.insert(
                    build::record(black_box(&decided), &mask),
                    decided.decided_at,
                )
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function("form parse only, 1.5 KB callback", |b| {
        b.iter(|| form::parse(black_box(body.as_bytes())))
    });
}

criterion_group!(benches, benchmarks);
criterion_main!(benches);
