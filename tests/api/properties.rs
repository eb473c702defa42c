//! Properties that must hold for any input, not only the examples: signatures, expression
//! printing, and evaluation against arbitrary attributes.

use assignment_router::callback::AssignmentCallback;
use assignment_router::callback::signature::{self, Payload, SignatureError, UrlVariants};
use assignment_router::callback::verified::Verified;
use assignment_router::rules::expression::{
    Expr, Literal, Operand, Operator, Param, Path, Segment, parse,
};
use assignment_router::rules::file;
use jiff::Timestamp;
use proptest::prelude::*;
use secrecy::SecretString;
use serde_json::Value;

// ---------- signatures ----------

fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[A-Za-z]{1,8}", "[ -~]{0,12}"), 0..8)
}

fn verify(
    token: &str,
    url: &str,
    pairs: &[(String, String)],
    signature: &str,
) -> Result<(), SignatureError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    signature::verify(
        &[SecretString::from(token.to_owned())],
        &UrlVariants::new(base),
        query,
        Payload::Form(pairs),
        Some(signature),
    )
}

/// `text` with the ASCII character at `index` (modulo its length) replaced by another.
fn mutate(text: &str, index: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = index % bytes.len();
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    String::from_utf8(bytes).unwrap()
}

proptest! {
    #[test]
    fn what_is_signed_verifies(
        token in "[ -~]{1,32}",
        host in "[a-z]{1,12}",
        path in "/[a-z/]{0,12}",
        query in proptest::option::of("[a-z]{1,4}=[a-z0-9]{0,4}"),
        pairs in pairs(),
    ) {
        let url = match &query {
            Some(query) => format!("https://{host}.example{path}?{query}"),
            None => format!("https://{host}.example{path}"),
        };
        let signature = signature::compute(&token, &url, Payload::Form(&pairs));
        prop_assert_eq!(verify(&token, &url, &pairs, &signature), Ok(()));
    }

    #[test]
    fn any_single_changed_byte_fails(
        token in "[a-z]{8,16}",
        host in "[a-z]{3,12}",
        pairs in prop::collection::vec(("[A-Za-z]{1,8}", "[a-z0-9]{1,12}"), 1..6),
        which in 0usize..4,
        index in any::<usize>(),
    ) {
        let url = format!("https://{host}.example/assignment");
        let signature = signature::compute(&token, &url, Payload::Form(&pairs));
        let mut sent_pairs = pairs.clone();
        let mut sent_url = url.clone();
        let mut sent_signature = signature.clone();
        match which {
            0 => sent_url = mutate(&url, index),
            1 => {
                let pair = index % sent_pairs.len();
                sent_pairs[pair].0 = mutate(&sent_pairs[pair].0, index / 7);
            }
            2 => {
                let pair = index % sent_pairs.len();
                sent_pairs[pair].1 = mutate(&sent_pairs[pair].1, index / 7);
            }
            _ => {
                // Any base64 character of the 27 before the padding.
                let at = index % 27;
                let mut bytes = signature.into_bytes();
                bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
                sent_signature = String::from_utf8(bytes).unwrap();
            }
        }
        prop_assume!(sent_url != url || sent_pairs != pairs || sent_signature != signature::compute(&token, &url, Payload::Form(&pairs)));
        prop_assert!(verify(&token, &sent_url, &sent_pairs, &sent_signature).is_err());
    }
}

// ---------- expressions ----------

fn key() -> impl Strategy<Value = String> {
    // Mostly keys the generated attributes have, so that paths resolve to something.
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        "[a-z_][a-z0-9_]{0,6}",
    ]
}

fn path() -> impl Strategy<Value = Path> {
    let segments = prop::collection::vec(
        prop_oneof![
            key().prop_map(Segment::Key),
            (0usize..4).prop_map(Segment::Index)
        ],
        0..4,
    );
    prop_oneof![
        segments.clone().prop_map(Path::Task),
        segments.prop_map(Path::Worker),
        Just(Path::Schedule("open".to_owned())),
        prop::sample::select(Param::ALL.to_vec()).prop_map(Path::Param),
    ]
}

fn scalar() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        (-1.0e9f64..1.0e9).prop_map(Literal::Number),
        (-1000i64..1000).prop_map(|n| Literal::Number(n as f64)),
        "[ -~]{0,10}".prop_map(Literal::String),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        3 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Literal::Array),
    ]
}

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        literal().prop_map(Operand::Literal),
        path().prop_map(Operand::Path)
    ]
}

fn operator() -> impl Strategy<Value = Operator> {
    prop::sample::select(vec![
        Operator::Equal,
        Operator::NotEqual,
        Operator::Less,
        Operator::LessOrEqual,
        Operator::Greater,
        Operator::GreaterOrEqual,
        Operator::Contains,
        Operator::Has,
        Operator::In,
        Operator::NotIn,
    ])
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (operand(), operator(), operand()).prop_map(|(left, operator, right)| Expr::Compare {
            left,
            operator,
            right
        }),
        path().prop_map(|p| Expr::Truthy(Operand::Path(p))),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            // The parser keeps chains flat, so an AND is never a direct child of an AND.
            prop::collection::vec(inner.clone(), 2..4)
                .prop_filter("flat", |c| !c.iter().any(|e| matches!(e, Expr::And(_))))
                .prop_map(Expr::And),
            prop::collection::vec(inner, 2..4)
                .prop_filter("flat", |c| !c.iter().any(|e| matches!(e, Expr::Or(_))))
                .prop_map(Expr::Or),
        ]
    })
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        "[ -~]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn printing_an_expression_then_parsing_it_gives_the_same_tree(expr in expr()) {
        let printed = expr.to_string();
        let parsed = parse(&printed);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&expr), "printed as {}", printed);
    }

    #[test]
    fn evaluating_any_expression_against_any_attributes_never_panics(
        expr in expr(),
        task in json(),
        worker in json(),
    ) {
        // Through the real rules and callback types, as a request would reach them.
        let rules = file::parse(&format!(
            "[[rules]]\nname = \"r\"\nwhen = '''{expr}'''\ninstruction = \"accept\"\n\n[default]\ninstruction = \"defer\"\n\n\
             [schedules.open]\ntimezone = \"UTC\"\nopen = [\"mon-sun 00:00-24:00\"]\n"
        ));
        // A printed string may hold `\'\'\'`, which ends the TOML string early.
        prop_assume!(rules.is_ok());
        let rules = rules.unwrap();
        let task = serde_json::json!({ "a": task });
        let worker = serde_json::json!({ "a": worker });
        let pairs = vec![
            ("ReservationSid".to_owned(), "WR1".to_owned()),
            ("TaskSid".to_owned(), "WT1".to_owned()),
            ("WorkerSid".to_owned(), "WK1".to_owned()),
            ("WorkspaceSid".to_owned(), "WS1".to_owned()),
            ("TaskAge".to_owned(), "5".to_owned()),
            ("TaskAttributes".to_owned(), task.to_string()),
            ("WorkerAttributes".to_owned(), worker.to_string()),
        ];
        let callback = AssignmentCallback::from_verified(Verified::unchecked(pairs)).unwrap();
        let decision = rules.decide(&callback, Timestamp::UNIX_EPOCH);
        let (_, explained) = rules.explain(&callback, Timestamp::UNIX_EPOCH);
        prop_assert_eq!(decision.rule, explained.rule);
    }
}
