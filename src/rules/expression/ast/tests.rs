#![allow(clippy::unwrap_used)]

use super::super::parse;
use super::*;

#[test]
fn schedules_are_listed_once_in_order_of_first_use() {
    let expr = parse(
        "schedule.weekend OR (task.a == 1 AND NOT schedule.holiday) OR schedule.weekend == true",
    )
    .unwrap();
    assert_eq!(expr.schedules(), ["weekend", "holiday"]);
    assert!(parse("task.a == 1").unwrap().schedules().is_empty());
}

#[test]
fn paths_lists_every_path_on_both_sides_in_source_order() {
    let expr = parse("task.a IN worker.b AND NOT TaskAge > 3 OR 'x' == task.a").unwrap();
    let paths: Vec<String> = expr.paths().iter().map(ToString::to_string).collect();
    assert_eq!(paths, ["task.a", "worker.b", "TaskAge", "task.a"]);
}

#[test]
fn only_schedule_paths_have_a_schedule_name() {
    assert_eq!(Path::Schedule("open".into()).schedule_name(), Some("open"));
    assert_eq!(Path::Task(vec![]).schedule_name(), None);
    assert_eq!(Path::Param(Param::TaskAge).schedule_name(), None);
}

#[test]
fn params_know_their_twilio_names_and_types() {
    for param in Param::ALL {
        assert_eq!(Param::from_name(param.name()), Some(param));
        assert_eq!(param.to_string(), param.name());
    }
    assert_eq!(Param::from_name("taskage"), None);
    assert!(Param::TaskAge.is_numeric() && Param::TaskPriority.is_numeric());
    assert!(!Param::TaskSid.is_numeric());
}
