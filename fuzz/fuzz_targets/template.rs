//! Templates: any text parses or fails cleanly; rendering against arbitrary attributes
//! gives text or a missing value, never a panic.
#![no_main]

use assignment_router::callback::AssignmentCallback;
use assignment_router::callback::verified::Verified;
use assignment_router::rules::context::{CallbackContext, Schedules};
use assignment_router::rules::template::Template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str)| {
    let (source, attributes) = input;
    let Ok(template) = Template::parse(source) else {
        return;
    };
    let pairs = vec![
        ("ReservationSid".to_owned(), "WR1".to_owned()),
        ("TaskSid".to_owned(), "WT1".to_owned()),
        ("WorkerSid".to_owned(), "WK1".to_owned()),
        ("WorkspaceSid".to_owned(), "WS1".to_owned()),
        ("TaskAttributes".to_owned(), attributes.to_owned()),
    ];
    let Ok(callback) = AssignmentCallback::from_verified(Verified::unchecked(pairs)) else {
        return;
    };
    let schedules = Schedules::new();
    let context = CallbackContext::new(&callback, &schedules, jiff::Timestamp::UNIX_EPOCH);
    let _ = template.render(&context);
    assert_eq!(template.to_string(), source);
});
