#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::super::ast::Param;
use super::super::parse;
use super::super::testing::TestContext;

fn context() -> TestContext {
    TestContext::new(
        json!({
            "language": "en",
            "vip": true,
            "muted": false,
            "priority": 5,
            "score": 2.5,
            "big": 18446744073709551615u64,
            "nothing": null,
            "tags": ["billing", "urgent", 7, null],
            "empty": [],
            "customer": {
                "name": "Ada",
                "tier": "gold",
                "orders": [{"id": 1, "items": ["book"]}, {"id": 2}],
                "address": {"city": "Paris"}
            },
            "matrix": [[1, 2], [3, 4]],
            "copy": {"city": "Paris"}
        }),
        json!({
            "languages": ["en", "fr"],
            "skills": ["billing", "sales"],
            "level": 3,
            "contact_uri": "client:ada",
            "address": {"city": "Paris"}
        }),
    )
    .with_text(Param::TaskSid, "WT123")
    .with_text(Param::WorkerSid, "WK9")
    .with_number(Param::TaskAge, 30.0)
    .with_number(Param::TaskPriority, 10.0)
    .with_open_schedule("business_hours")
}

/// Evaluates `source` against the standard test context.
fn holds(source: &str) -> bool {
    let expr = parse(source).unwrap_or_else(|error| panic!("{source}: {error}"));
    expr.evaluate(&context())
}

fn check(cases: &[(&str, bool)]) {
    for (source, expected) in cases {
        assert_eq!(holds(source), *expected, "{source}");
    }
}

#[test]
fn equality_compares_same_typed_values() {
    check(&[
        ("task.language == \"en\"", true),
        ("task.language == 'EN'", false),
        ("task.language = \"en\"", true),
        ("task.priority == 5", true),
        ("task.priority == 5.0", true),
        ("task.score == 2.5", true),
        ("task.vip == true", true),
        ("task.vip == TRUE", true),
        ("task.muted == false", true),
        ("task.nothing == null", true),
        ("task.absent == NULL", true),
        ("null == null", true),
        ("1 == 1", true),
        ("1 = 2", false),
        ("task.tags == [\"billing\", \"urgent\", 7, null]", true),
        ("task.tags == [\"billing\", \"urgent\", 7]", false),
        ("task.empty == []", true),
        ("task.matrix == [[1, 2], [3, 4]]", true),
        ("task.customer.address == worker.address", true),
        ("task.customer.address == task.customer", false),
        ("task.big == task.big", true),
    ]);
}

#[test]
fn values_of_different_types_are_never_equal() {
    check(&[
        ("task.priority == \"5\"", false),
        ("task.vip == \"true\"", false),
        ("task.vip == 1", false),
        ("task.nothing == false", false),
        ("task.nothing == \"\"", false),
        ("task.tags == \"billing\"", false),
        ("task.customer == null", false),
    ]);
}

#[test]
fn not_equal_with_a_null_side_tests_presence() {
    check(&[
        ("task.language != null", true),
        ("task.absent != null", false),
        ("task.nothing != null", false),
        ("null != task.language", true),
        ("task.absent != \"gold\"", true),
        ("null != null", false),
    ]);
}

#[test]
fn not_equal_between_present_values_needs_the_same_type() {
    check(&[
        ("task.language != \"es\"", true),
        ("task.language != \"en\"", false),
        ("task.priority != 6", true),
        ("task.priority != \"5\"", false),
        ("5 != \"5\"", false),
        ("task.vip != false", true),
        ("task.vip != 0", false),
        ("task.tags != []", true),
        ("task.tags != \"billing\"", false),
    ]);
}

#[test]
fn ordering_compares_numbers_numerically() {
    check(&[
        ("task.priority > 4", true),
        ("task.priority > 5", false),
        ("task.priority >= 5", true),
        ("task.priority < 5.5", true),
        ("task.priority <= 4.9", false),
        ("task.score < 10", true),
        ("-1 < 0", true),
        ("1e3 > 999", true),
        ("task.big > 18446744073709551614", false),
    ]);
}

#[test]
fn ordering_compares_strings_by_bytes() {
    check(&[
        ("task.language < \"fr\"", true),
        ("task.language > \"de\"", true),
        ("task.language >= \"en\"", true),
        ("task.language <= \"em\"", false),
        ("\"Z\" < \"a\"", true),
        ("\"10\" < \"9\"", true),
    ]);
}

#[test]
fn ordering_anything_else_is_false() {
    for op in ["<", "<=", ">", ">="] {
        for (left, right) in [
            ("task.priority", "\"5\""),
            ("task.language", "1"),
            ("task.vip", "false"),
            ("task.absent", "1"),
            ("task.nothing", "null"),
            ("null", "null"),
            ("task.tags", "[]"),
            ("task.customer", "task.customer"),
        ] {
            let source = format!("{left} {op} {right}");
            assert!(!holds(&source), "{source}");
        }
    }
}

#[test]
fn contains_is_a_case_sensitive_substring_test() {
    check(&[
        ("worker.contact_uri CONTAINS \"ada\"", true),
        ("worker.contact_uri contains 'client:'", true),
        ("worker.contact_uri Contains \"Ada\"", false),
        ("worker.contact_uri CONTAINS \"\"", true),
        ("task.tags CONTAINS \"billing\"", false),
        ("task.priority CONTAINS 5", false),
        ("task.absent CONTAINS \"a\"", false),
        ("task.language CONTAINS null", false),
    ]);
}

#[test]
fn has_looks_for_a_scalar_in_a_left_hand_array() {
    check(&[
        ("task.tags HAS \"urgent\"", true),
        ("task.tags has 'Urgent'", false),
        ("task.tags HAS 7", true),
        ("task.tags HAS 7.0", true),
        ("task.tags HAS \"7\"", false),
        ("task.tags HAS null", true),
        ("worker.skills HAS \"billing\"", true),
        ("worker.skills HAS task.language", false),
        ("worker.languages HAS task.language", true),
        ("task.matrix HAS [1, 2]", false),
        ("task.language HAS \"e\"", false),
        ("task.absent HAS \"x\"", false),
        ("[1, 2] HAS 2", true),
        ("task.empty HAS 1", false),
    ]);
}

#[test]
fn in_looks_for_a_non_array_in_a_right_hand_array() {
    check(&[
        ("task.language IN worker.languages", true),
        ("task.language in [\"fr\", \"en\"]", true),
        ("task.language In [\"fr\", \"de\"]", false),
        ("task.priority IN [1, 5]", true),
        ("task.priority IN [\"5\"]", false),
        ("task.language IN \"english\"", false),
        ("task.absent IN [\"x\"]", false),
        ("task.absent IN [null]", true),
        ("task.tags IN [[\"billing\"]]", false),
        ("\"urgent\" IN task.tags", true),
        ("task.language IN []", false),
    ]);
}

#[test]
fn in_matches_objects_against_json_arrays() {
    let ctx = TestContext::new(
        json!({"where": {"city": "Paris"}}),
        json!({"places": [{"city": "Rome"}, {"city": "Paris"}]}),
    );
    let expr = parse("task.where IN worker.places").unwrap();
    assert!(expr.evaluate(&ctx));
}

#[test]
fn not_in_is_true_when_no_element_matches() {
    check(&[
        ("task.language NOT IN [\"fr\", \"de\"]", true),
        ("task.language not in worker.languages", false),
        ("task.language NOT\n\t  IN [\"es\"]", true),
        ("task.language Not In [\"es\"]", true),
        ("task.absent NOT IN [\"x\"]", true),
        ("task.absent NOT IN [null]", false),
        ("task.language NOT IN \"fr\"", false),
        ("task.language NOT IN task.absent", false),
        ("task.tags NOT IN [\"x\"]", false),
        ("task.language NOT IN []", true),
    ]);
}

#[test]
fn missing_values_resolve_to_null() {
    check(&[
        ("task.customer.missing == null", true),
        ("task.customer.name.first == null", true),
        ("task.tags[10] == null", true),
        ("task.language[0] == null", true),
        ("task.customer[0] == null", true),
        ("task.tags.first == null", true),
        ("task.nothing.deeper == null", true),
        ("TaskQueueSid == null", true),
    ]);
}

#[test]
fn paths_reach_into_nested_objects_and_arrays() {
    check(&[
        ("task.customer.name == \"Ada\"", true),
        ("task.customer.address.city == \"Paris\"", true),
        ("task.tags[0] == \"billing\"", true),
        ("task.tags[2] == 7", true),
        ("task.customer.orders[0].id == 1", true),
        ("task.customer.orders[1].id == 2", true),
        ("task.customer.orders[0].items[0] == \"book\"", true),
        ("task.matrix[1][0] == 3", true),
        ("worker.level >= 3", true),
    ]);
}

#[test]
fn whole_attribute_objects_can_be_compared() {
    let ctx = TestContext::new(json!({"a": 1}), json!({"a": 1.0}));
    assert!(parse("task == worker").unwrap().evaluate(&ctx));
    assert!(parse("task != null").unwrap().evaluate(&ctx));
    let empty = TestContext::new(serde_json::Value::Null, json!({}));
    assert!(parse("task == null").unwrap().evaluate(&empty));
    assert!(parse("task.anything == null").unwrap().evaluate(&empty));
}

#[test]
fn callback_parameters_resolve_as_numbers_or_strings() {
    check(&[
        ("TaskAge > 20", true),
        ("TaskAge == 30", true),
        ("TaskAge == \"30\"", false),
        ("TaskPriority >= 10", true),
        ("TaskSid == \"WT123\"", true),
        ("TaskSid CONTAINS \"WT\"", true),
        ("WorkerSid IN [\"WK1\", \"WK9\"]", true),
        ("ReservationSid != null", false),
        ("Timestamp == null", true),
    ]);
}

#[test]
fn schedules_resolve_to_whether_they_are_open() {
    check(&[
        ("schedule.business_hours", true),
        ("schedule.weekend", false),
        ("NOT schedule.weekend", true),
        ("schedule.business_hours == true", true),
        ("schedule.weekend == false", true),
        ("schedule.weekend != true", true),
    ]);
}

#[test]
fn a_lone_operand_holds_only_when_it_is_the_boolean_true() {
    check(&[
        ("task.vip", true),
        ("task.muted", false),
        ("task.language", false),
        ("task.priority", false),
        ("task.absent", false),
        ("task.tags", false),
        ("task.customer", false),
        ("true", true),
        ("false", false),
        ("\"true\"", false),
        ("1", false),
        ("null", false),
    ]);
}

#[test]
fn and_binds_tighter_than_or() {
    check(&[
        ("true OR false AND false", true),
        ("(true OR false) AND false", false),
        ("false AND false OR true", true),
        ("false AND (false OR true)", false),
        ("task.vip and task.priority > 4 or task.absent", true),
    ]);
}

#[test]
fn not_binds_tighter_than_and_but_looser_than_comparison() {
    check(&[
        ("NOT false AND false", false),
        ("NOT (false AND false)", true),
        ("NOT task.priority == 4", true),
        ("NOT task.priority == 5", false),
        ("not not task.vip", true),
        ("NOT NOT NOT task.vip", false),
        ("NOT task.absent", true),
    ]);
}

#[test]
fn and_and_or_short_circuit() {
    let ctx = context();
    let counting = super::super::testing::CountingContext::new(&ctx);
    assert!(
        !parse("schedule.a AND schedule.b")
            .unwrap()
            .evaluate(&counting)
    );
    assert!(
        parse("schedule.business_hours OR schedule.c")
            .unwrap()
            .evaluate(&counting)
    );
    assert_eq!(counting.schedules_asked(), ["a", "business_hours"]);
}

#[test]
fn paths_resolve_through_a_trait_object() {
    let ctx = context();
    let dynamic: &dyn super::super::Context = &ctx;
    let path = super::super::parse_path("task.customer.name").unwrap();
    assert!(matches!(
        path.resolve(dynamic),
        super::super::Resolved::Str("Ada")
    ));
    let age = super::super::parse_path("TaskAge").unwrap();
    assert_eq!(age.resolve(dynamic).to_json(), "30");
}

#[test]
fn evaluation_accepts_a_trait_object() {
    let ctx = context();
    let dynamic: &dyn super::super::Context = &ctx;
    assert!(parse("task.vip").unwrap().evaluate(dynamic));
}

mod lookups {
    use serde_json::{Value, json};

    use super::super::super::parse;
    use super::super::super::{Context, Param, ParamValue};
    use crate::rules::lookup::{List, Map};

    struct WithLookups {
        task: Value,
        list: List,
        map: Map,
    }

    impl Context for WithLookups {
        fn task(&self) -> &Value {
            &self.task
        }
        fn worker(&self) -> &Value {
            &Value::Null
        }
        fn param(&self, _param: Param) -> Option<ParamValue<'_>> {
            None
        }
        fn schedule_open(&self, _name: &str) -> bool {
            false
        }
        fn list(&self, name: &str) -> Option<&List> {
            (name == "vip").then_some(&self.list)
        }
        fn map(&self, name: &str) -> Option<&Map> {
            (name == "manager").then_some(&self.map)
        }
    }

    fn holds(source: &str, task: Value) -> bool {
        let context = WithLookups {
            task,
            list: List::parse("vip", "+1\n+2\n7\n"),
            map: Map::parse("+1,client:alice\n7,client:seven\n").unwrap(),
        };
        parse(source).unwrap().evaluate(&context)
    }

    #[test]
    fn in_has_and_not_in_look_strings_up() {
        assert!(holds("task.from IN lists.vip", json!({"from": "+1"})));
        assert!(holds("lists.vip HAS task.from", json!({"from": "+2"})));
        assert!(!holds("task.from IN lists.vip", json!({"from": "+3"})));
        assert!(holds("task.from NOT IN lists.vip", json!({"from": "+3"})));
        assert!(!holds("task.from NOT IN lists.vip", json!({"from": "+1"})));
    }

    #[test]
    fn a_list_holds_strings_so_a_number_or_a_missing_value_is_not_in_it() {
        assert!(!holds("task.n IN lists.vip", json!({"n": 7})));
        assert!(holds("task.n NOT IN lists.vip", json!({"n": 7})));
        assert!(!holds("task.absent IN lists.vip", json!({})));
        assert!(holds("task.absent NOT IN lists.vip", json!({})));
        assert!(!holds("lists.vip HAS task.array", json!({"array": ["+1"]})));
    }

    #[test]
    fn a_list_compares_false_whole() {
        assert!(!holds("lists.vip == lists.vip", json!({})));
        assert!(!holds("lists.vip == [\"+1\", \"+2\", \"7\"]", json!({})));
        assert!(!holds("lists.vip", json!({})));
    }

    #[test]
    fn a_map_gives_its_value_or_null() {
        assert!(holds(
            "maps.manager[task.from] == \"client:alice\"",
            json!({"from": "+1"})
        ));
        assert!(holds(
            "maps.manager[task.from] != null",
            json!({"from": "+1"})
        ));
        assert!(holds(
            "maps.manager[task.from] == null",
            json!({"from": "+9"})
        ));
        assert!(holds("maps.manager[task.absent] == null", json!({})));
        assert!(holds(
            "maps.manager[task.n] == \"client:seven\"",
            json!({"n": 7})
        ));
        assert!(holds("maps.manager[task.n] == null", json!({"n": 7.5})));
        assert!(holds(
            "maps.manager[task.o] == null",
            json!({"o": {"a": 1}})
        ));
    }

    #[test]
    fn an_unknown_list_or_map_is_null() {
        assert!(!holds("task.from IN lists.other", json!({"from": "+1"})));
        assert!(holds(
            "maps.other[task.from] == null",
            json!({"from": "+1"})
        ));
    }
}
