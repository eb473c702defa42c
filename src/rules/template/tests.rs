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
            reason: "has no value",
            label: "no_value",
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

fn rendered_url(source: &str, task: serde_json::Value) -> Result<String, Missing> {
    let template = Template::parse(source).unwrap();
    let context = TestContext::new(task, json!({}));
    template.render_url(&context).map(Cow::into_owned)
}

#[test]
fn a_value_in_a_url_query_stays_one_value_and_decodes_back_to_itself() {
    let hostile = "a b&c=d#e";
    let url = rendered_url(
        "https://example.com/hook?x={{ task.v }}&y=1",
        json!({ "v": hostile }),
    )
    .unwrap();
    assert_eq!(url, "https://example.com/hook?x=a%20b%26c%3Dd%23e&y=1");
    let parsed = url::Url::parse(&url).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        pairs,
        [("x".into(), hostile.into()), ("y".into(), "1".into())]
    );
    assert_eq!(parsed.fragment(), None);
}

#[test]
fn a_value_in_a_url_path_stays_one_segment() {
    let url = rendered_url(
        "https://example.com/agents/{{ task.v }}/twiml",
        json!({ "v": "../admin?x=1#f" }),
    )
    .unwrap();
    assert_eq!(
        url,
        "https://example.com/agents/..%2Fadmin%3Fx%3D1%23f/twiml"
    );
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(
        parsed.path_segments().unwrap().collect::<Vec<_>>(),
        ["agents", "..%2Fadmin%3Fx%3D1%23f", "twiml"]
    );
    assert_eq!(parsed.query(), None);
}

#[test]
fn non_ascii_values_are_encoded_as_utf8() {
    let url = rendered_url(
        "https://example.com/?name={{ task.v }}",
        json!({ "v": "José" }),
    );
    assert_eq!(url.unwrap(), "https://example.com/?name=Jos%C3%A9");
}

#[test]
fn a_value_that_is_the_whole_url_goes_in_as_it_is() {
    let url = rendered_url(
        "{{ task.callback }}",
        json!({ "callback": "https://crm.example.com/twiml?a=1&b=2" }),
    );
    assert_eq!(url.unwrap(), "https://crm.example.com/twiml?a=1&b=2");
    let base = rendered_url(
        "{{ task.base }}/twiml?id={{ task.id }}",
        json!({ "base": "https://crm.example.com", "id": "1&2" }),
    );
    assert_eq!(base.unwrap(), "https://crm.example.com/twiml?id=1%262");
}

#[test]
fn numbers_and_booleans_need_no_encoding_and_text_fields_are_not_encoded() {
    let url = rendered_url(
        "https://example.com/?age={{ task.age }}&vip={{ task.vip }}",
        json!({ "age": 2.5, "vip": true }),
    );
    assert_eq!(url.unwrap(), "https://example.com/?age=2.5&vip=true");
    let text = Template::parse("https://example.com/?x={{ task.name }}").unwrap();
    assert_eq!(
        text.render(&TestContext::new(json!({ "name": "a b" }), json!({})))
            .unwrap(),
        "https://example.com/?x=a b"
    );
}

#[test]
fn a_missing_value_in_a_url_is_still_missing() {
    let missing = rendered_url("https://example.com/?x={{ task.nothing }}", json!({})).unwrap_err();
    assert_eq!(missing.reason, "has no value");
}

#[test]
fn a_dot_segment_cannot_be_filled_into_a_url() {
    for dots in [".", ".."] {
        let missing = rendered_url(
            "https://example.com/customers/{{ task.id }}/twiml",
            json!({ "id": dots }),
        )
        .unwrap_err();
        assert_eq!(missing.label, "invalid_value", "{dots}");
    }
    let fine = rendered_url(
        "https://example.com/c/{{ task.id }}",
        json!({ "id": "..." }),
    );
    assert_eq!(fine.unwrap(), "https://example.com/c/...");
}
