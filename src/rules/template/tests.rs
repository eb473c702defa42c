#![allow(clippy::unwrap_used)]

use serde_json::json;

use super::super::expression::testing::TestContext;
use super::super::expression::{Param, parse_path};
use super::*;

fn context() -> TestContext {
    TestContext::new(
        json!({
            "name": "Ada",
            "count": 42,
            "float_count": 42.0,
            "ratio": 2.5,
            "big": 18446744073709551615u64,
            "vip": true,
            "nothing": null,
            "tags": ["a"],
            "customer": {"id": "C1", "phones": ["+15550001"]}
        }),
        json!({"contact_uri": "client:ada", "level": 3}),
    )
    .with_text(Param::TaskSid, "WT1")
    .with_number(Param::TaskAge, 30.0)
    .with_number(Param::TaskPriority, 0.5)
    .with_open_schedule("business_hours")
}

fn rendered(source: &str) -> Result<String, Missing> {
    let template = Template::parse(source).unwrap();
    template.render(&context()).map(Cow::into_owned)
}

fn fails_at(source: &str, line: usize, column: usize, message: &str) {
    let error = Template::parse(source).unwrap_err();
    assert_eq!(
        (error.line, error.column),
        (line, column),
        "{source:?}: {error}"
    );
    assert!(error.message.contains(message), "{source:?}: {error}");
}

#[test]
fn text_without_holes_is_static_and_renders_borrowed() {
    let template = Template::parse("queue-a").unwrap();
    assert!(template.is_static());
    assert_eq!(template.as_static(), Some("queue-a"));
    assert!(matches!(
        template.render(&context()),
        Ok(Cow::Borrowed("queue-a"))
    ));
    assert!(template.paths().is_empty());
}

#[test]
fn an_empty_template_is_static_and_empty() {
    let template = Template::parse("").unwrap();
    assert_eq!(template.as_static(), Some(""));
    assert_eq!(rendered("").unwrap(), "");
}

#[test]
fn lone_braces_are_literal_text() {
    for source in ["a } b", "a }} b", "{ a }", "{x}", "}}{", "{ {"] {
        let template = Template::parse(source).unwrap();
        assert_eq!(template.as_static(), Some(source));
    }
    assert_eq!(rendered("{{task.name}}}}").unwrap(), "Ada}}");
    assert_eq!(rendered("{ {{task.name}} }").unwrap(), "{ Ada }");
}

#[test]
fn a_literal_template_keeps_braces_as_text() {
    let template = Template::literal("{{ task.name }}");
    assert!(template.is_static());
    assert_eq!(template.as_static(), Some("{{ task.name }}"));
    assert_eq!(template.render(&context()).unwrap(), "{{ task.name }}");
    assert_eq!(template.to_string(), "{{ task.name }}");
    assert_eq!(Template::literal(""), Template::parse("").unwrap());
    assert_eq!(Template::literal("true"), Template::parse("true").unwrap());
}

#[test]
fn a_template_with_holes_is_not_static() {
    let template = Template::parse("{{ task.name }}").unwrap();
    assert!(!template.is_static());
    assert_eq!(template.as_static(), None);
}

#[test]
fn several_holes_fill_in_order_with_or_without_spaces() {
    assert_eq!(
        rendered("{{task.name}} <{{ worker.contact_uri }}> #{{  task.customer.id\t}}!").unwrap(),
        "Ada <client:ada> #C1!"
    );
    assert_eq!(rendered("{{task.name}}{{task.name}}").unwrap(), "AdaAda");
    assert_eq!(
        rendered("call {{ task.customer.phones[0] }}").unwrap(),
        "call +15550001"
    );
    assert_eq!(rendered("ünï {{ task.name }} ✓").unwrap(), "ünï Ada ✓");
}

#[test]
fn numbers_render_as_json_without_a_trailing_point_zero() {
    assert_eq!(rendered("{{ task.count }}").unwrap(), "42");
    assert_eq!(rendered("{{ task.float_count }}").unwrap(), "42");
    assert_eq!(rendered("{{ task.ratio }}").unwrap(), "2.5");
    assert_eq!(rendered("{{ task.big }}").unwrap(), "18446744073709551615");
    assert_eq!(rendered("{{ TaskAge }}s").unwrap(), "30s");
    assert_eq!(rendered("{{ TaskPriority }}").unwrap(), "0.5");
}

#[test]
fn booleans_params_and_schedules_render_as_text() {
    assert_eq!(rendered("{{ task.vip }}").unwrap(), "true");
    assert_eq!(
        rendered("{{ schedule.business_hours }}/{{ schedule.x }}").unwrap(),
        "true/false"
    );
    assert_eq!(rendered("{{ TaskSid }}").unwrap(), "WT1");
}

#[test]
fn a_missing_or_null_value_is_missing() {
    assert_eq!(
        rendered("hi {{ task.absent }}"),
        Err(Missing {
            path: "task.absent".into(),
            reason: "has no value"
        })
    );
    assert_eq!(
        rendered("{{task.nothing}}").unwrap_err().reason,
        "has no value"
    );
    assert_eq!(
        rendered("{{ task.tags[5] }}").unwrap_err().reason,
        "has no value"
    );
    assert_eq!(
        rendered("{{ ReservationSid }}").unwrap_err().path,
        "ReservationSid"
    );
}

#[test]
fn an_object_or_array_value_is_missing() {
    let error = rendered("{{ task.customer }}").unwrap_err();
    assert_eq!(error.reason, "is an object, not text");
    assert_eq!(error.to_string(), "`task.customer` is an object, not text");
    assert_eq!(
        rendered("{{ task.tags }}").unwrap_err().reason,
        "is an array, not text"
    );
    assert_eq!(
        rendered("{{ task }}").unwrap_err().reason,
        "is an object, not text"
    );
}

#[test]
fn missing_names_the_path_as_written() {
    assert_eq!(
        rendered("{{  task.tags[007]  }}").unwrap_err().path,
        "task.tags[007]"
    );
}

#[test]
fn paths_lists_the_holes_in_order() {
    let template = Template::parse("{{ task.a }}-{{ worker.b }}-{{ task.a }}").unwrap();
    let paths: Vec<String> = template.paths().iter().map(ToString::to_string).collect();
    assert_eq!(paths, ["task.a", "worker.b", "task.a"]);
    assert_eq!(template.paths()[0], &parse_path("task.a").unwrap());
    let with_schedule = Template::parse("{{ schedule.open }} {{ task.a }}").unwrap();
    let schedules: Vec<&str> = with_schedule
        .paths()
        .iter()
        .filter_map(|path| path.schedule_name())
        .collect();
    assert_eq!(schedules, ["open"]);
}

#[test]
fn display_prints_the_source_back() {
    let source = "{{task.a}} and {{  worker.b }} }}";
    assert_eq!(Template::parse(source).unwrap().to_string(), source);
    assert_eq!(source.parse::<Template>().unwrap().source(), source);
}

#[test]
fn an_unclosed_hole_is_an_error_at_its_opening_braces() {
    fails_at("hello {{ task.name", 1, 7, "unclosed `{{`");
    fails_at("a {{ task.b }} {{", 1, 16, "unclosed `{{`");
    fails_at("{{ task.name }", 1, 1, "unclosed `{{`");
}

#[test]
fn an_empty_hole_is_an_error() {
    fails_at("x {{}}", 1, 3, "empty `{{ }}`");
    fails_at("x {{  \t }}", 1, 3, "empty `{{ }}`");
}

#[test]
fn a_bad_path_is_an_error_at_its_position_in_the_template() {
    fails_at("Hi {{ languge }}", 1, 7, "unknown name `languge`");
    fails_at("Hi {{ task. }}", 1, 12, "expected a key after `.`");
    fails_at(
        "Hi {{ task.a b }}",
        1,
        14,
        "expected `}}` after the path, found `b`",
    );
    fails_at("Hi {{ 'x' }}", 1, 7, "expected a path");
    fails_at("Hi {{ true }}", 1, 7, "expected a path");
    fails_at("{{{ task.a }}}", 1, 3, "expected a path");
    fails_at(
        "line one\nline {{ task..a }}",
        2,
        14,
        "expected a key after `.`, found `.`",
    );
}
