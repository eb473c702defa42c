use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn minimal() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ReservationSid", "WR1"),
        ("TaskSid", "WT1"),
        ("WorkerSid", "WK1"),
        ("WorkspaceSid", "WS1"),
    ]
}

#[test]
fn types_the_documented_fields_and_ignores_others() {
    let mut list = minimal();
    list.extend([
        ("TaskAge", "42"),
        ("TaskPriority", "5"),
        ("TaskAttributes", r#"{"language":"es"}"#),
        ("Unknown", "x"),
    ]);
    let callback = AssignmentCallback::from_verified(Verified::unchecked(pairs(&list))).unwrap();
    assert_eq!(callback.task_age, Some(42.0));
    assert_eq!(callback.task_priority, Some(5.0));
    assert_eq!(callback.task_attributes["language"], "es");
    assert_eq!(callback.worker_attributes, serde_json::json!({}));
}

#[test]
fn each_required_field_is_named_when_missing() {
    for name in ["ReservationSid", "TaskSid", "WorkerSid", "WorkspaceSid"] {
        let list: Vec<_> = minimal().into_iter().filter(|(k, _)| *k != name).collect();
        assert_eq!(
            AssignmentCallback::from_verified(Verified::unchecked(pairs(&list))),
            Err(CallbackError::Missing(name)),
            "{name}"
        );
    }
}

#[test]
fn attributes_must_be_json_objects() {
    for bad in ["[1,2]", "\"text\"", "{not json", "{\"a\":"] {
        let mut list = minimal();
        list.push(("WorkerAttributes", bad));
        let error =
            AssignmentCallback::from_verified(Verified::unchecked(pairs(&list))).unwrap_err();
        assert!(
            matches!(
                error,
                CallbackError::NotAnObject {
                    field: "WorkerAttributes",
                    ..
                }
            ),
            "{bad}: {error}"
        );
    }
}

#[test]
fn task_age_must_be_a_number() {
    let mut list = minimal();
    list.push(("TaskAge", "old"));
    assert_eq!(
        AssignmentCallback::from_verified(Verified::unchecked(pairs(&list))),
        Err(CallbackError::NotANumber("TaskAge"))
    );
}

#[test]
fn a_documented_field_given_twice_is_refused_naming_it() {
    let fields = [
        "ReservationSid",
        "TaskSid",
        "WorkerSid",
        "WorkspaceSid",
        "AccountSid",
        "WorkflowSid",
        "TaskQueueSid",
        "Timestamp",
        "TaskAge",
        "TaskPriority",
        "TaskAttributes",
        "WorkerAttributes",
    ];
    let base = [
        ("ReservationSid", "WR1"),
        ("TaskSid", "WT1"),
        ("WorkerSid", "WK1"),
        ("WorkspaceSid", "WS1"),
    ];
    for field in fields {
        let value = if field.ends_with("Attributes") {
            "{}"
        } else {
            "1"
        };
        let mut list: Vec<(&str, &str)> = base.to_vec();
        list.push((field, value));
        list.push((field, value));
        let error = AssignmentCallback::from_verified(Verified::unchecked(pairs(&list)));
        assert_eq!(error, Err(CallbackError::Repeated(field)), "{field}");
        assert_eq!(
            CallbackError::Repeated(field).to_string(),
            format!("the callback has {field} more than once")
        );
    }
}

#[test]
fn an_unknown_field_may_repeat() {
    let list = [
        ("ReservationSid", "WR1"),
        ("TaskSid", "WT1"),
        ("WorkerSid", "WK1"),
        ("WorkspaceSid", "WS1"),
        ("WorkerName", "a"),
        ("WorkerName", "b"),
    ];
    assert!(AssignmentCallback::from_verified(Verified::unchecked(pairs(&list))).is_ok());
}
