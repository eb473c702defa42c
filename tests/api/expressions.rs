//! The expression language through the running service: one rule `hit` that accepts when
//! its expression holds, and a default that defers.

use serde_json::{Value, json};

use crate::support::app::*;

async fn holds(expression: &str, task: Value, worker: Value) -> bool {
    let rules = format!(
        "[[rules]]\nname = \"hit\"\nwhen = '''{expression}'''\ninstruction = \"accept\"\n\n\
         [default]\ninstruction = \"defer\"\n"
    );
    let app = spawn_app(&rules).await;
    let answer = instruction_of(app.post_signed(&callback(task, worker)).await).await;
    answer == json!({"instruction": "accept"})
}

#[tokio::test]
async fn every_operator_and_literal_form_evaluates_as_documented() {
    let task = json!({
        "language": "es",
        "priority": 5,
        "ratio": 0.5,
        "vip": true,
        "tags": ["billing", "spanish"],
        "customer": {"tier": "gold", "accounts": [{"id": "A1"}, {"id": "A2"}]},
        "note": "call back after noon"
    });
    let worker = json!({"skills": ["billing", "sales"], "level": 3, "languages": ["es", "en"]});
    let cases = [
        (r#"task.language == "es""#, true),
        (r#"task.language = 'es'"#, true),
        (r#"task.language != "en""#, true),
        (r#"task.language == "ES""#, false),
        ("task.priority > 4", true),
        ("task.priority >= 5", true),
        ("task.priority < 5", false),
        ("task.priority <= 5.0", true),
        ("task.ratio == 0.5", true),
        ("task.ratio < -1", false),
        ("task.vip == true", true),
        ("task.vip", true),
        ("task.vip == false", false),
        (r#"task.note CONTAINS "noon""#, true),
        (r#"task.note contains "Noon""#, false),
        (r#"worker.skills HAS "billing""#, true),
        (r#"worker.skills has "support""#, false),
        (r#"task.language IN ["es", "fr"]"#, true),
        (r#"task.language in ['de', 'fr']"#, false),
        (r#"task.language NOT IN ["de", "fr"]"#, true),
        (r#"task.language not in ["es"]"#, false),
        ("task.language IN worker.languages", true),
        (r#"task.customer.tier == "gold""#, true),
        (r#"task.customer.accounts[1].id == "A2""#, true),
        (r#"task.tags[0] == "billing""#, true),
        ("task.tags[7] == null", true),
        ("task.missing == null", true),
        ("task.missing != null", false),
        ("task.language != null", true),
        (r#"task.missing != "x""#, true),
        (r#"task.priority == "5""#, false),
        (r#"task.priority != "5""#, false),
        (r#"task.language == "es" AND worker.level > 2"#, true),
        (r#"task.language == "en" OR worker.level > 2"#, true),
        (r#"task.language == "en" or worker.level > 5"#, false),
        (r#"NOT task.language == "en""#, true),
        (r#"not (task.vip AND worker.level > 5)"#, true),
        (
            r#"(task.language == "en" OR task.vip) AND worker.skills HAS "sales""#,
            true,
        ),
        ("1 == 1", true),
        ("TaskAge == 42 AND TaskPriority > 6", true),
        (
            r#"TaskQueueSid == "WQ0123456789abcdef0123456789abcdef""#,
            true,
        ),
        ("[1, 2] == [1, 2]", true),
    ];
    for (expression, expected) in cases {
        assert_eq!(
            holds(expression, task.clone(), worker.clone()).await,
            expected,
            "{expression}"
        );
    }
}
