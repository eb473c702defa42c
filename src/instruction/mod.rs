//! The instructions TaskRouter understands, and every field each one takes.
//!
//! One table per instruction says how a field is written in the rules file (which is also
//! its key in the callback JSON), what values it may hold, and its name in the REST API's
//! form (`reference/taskrouter.md` §2.9 and §3.3; `twilio_taskrouter_v1.json`).

pub mod inline;
mod rendered;
pub mod rest_form;

use std::fmt;

pub use rendered::Rendered;

/// What the service tells TaskRouter to do with a Reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstructionKind {
    Accept,
    Reject,
    Dequeue,
    Call,
    Redirect,
    Conference,
    /// Answer `{}` and do nothing more: another system settles the Reservation.
    Defer,
}

impl InstructionKind {
    pub const ALL: [InstructionKind; 7] = [
        InstructionKind::Accept,
        InstructionKind::Reject,
        InstructionKind::Dequeue,
        InstructionKind::Call,
        InstructionKind::Redirect,
        InstructionKind::Conference,
        InstructionKind::Defer,
    ];

    /// The name used in the rules file and in the callback JSON's `instruction`.
    pub fn name(self) -> &'static str {
        match self {
            InstructionKind::Accept => "accept",
            InstructionKind::Reject => "reject",
            InstructionKind::Dequeue => "dequeue",
            InstructionKind::Call => "call",
            InstructionKind::Redirect => "redirect",
            InstructionKind::Conference => "conference",
            InstructionKind::Defer => "defer",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The fields this instruction takes besides `instruction` itself.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            InstructionKind::Accept | InstructionKind::Defer => &[],
            InstructionKind::Reject => REJECT,
            InstructionKind::Dequeue => DEQUEUE,
            InstructionKind::Call => CALL,
            InstructionKind::Redirect => REDIRECT,
            InstructionKind::Conference => CONFERENCE,
        }
    }
}

impl fmt::Display for InstructionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What values a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text (phone numbers, client names, SIP URIs).
    Text,
    /// A Twilio SID: this two-letter prefix and 32 hex digits.
    Sid(&'static str),
    /// An absolute `http://` or `https://` URL.
    Url,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A whole number within these bounds.
    Integer {
        min: i64,
        max: i64,
    },
    Bool,
    /// A list of these words (repeated keys over REST; comma-joined in callback JSON).
    Events(&'static [&'static str]),
}

/// One field of one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The key in the rules file and in the callback JSON.
    pub key: &'static str,
    /// The form field in Twilio's Reservation update API.
    pub rest: &'static str,
    pub kind: FieldKind,
    pub required: bool,
}

const fn field(key: &'static str, rest: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        key,
        rest,
        kind,
        required: false,
    }
}

const fn required(key: &'static str, rest: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        key,
        rest,
        kind,
        required: true,
    }
}

const ACTIVITY: FieldKind = FieldKind::Sid("WA");
const RECORD: FieldKind = FieldKind::Choice(&["record-from-answer", "do-not-record"]);
const TIMEOUT: FieldKind = FieldKind::Integer { min: 1, max: 999 };
const METHOD: FieldKind = FieldKind::Choice(&["GET", "POST"]);
const CALL_EVENTS: FieldKind =
    FieldKind::Events(&["initiated", "ringing", "answered", "completed"]);
const CONFERENCE_EVENTS: FieldKind =
    FieldKind::Events(&["start", "end", "join", "leave", "mute", "hold", "speaker"]);

const REJECT: &[FieldSpec] = &[field("activity_sid", "WorkerActivitySid", ACTIVITY)];

const DEQUEUE: &[FieldSpec] = &[
    field("to", "DequeueTo", FieldKind::Text),
    field("from", "DequeueFrom", FieldKind::Text),
    field(
        "post_work_activity_sid",
        "DequeuePostWorkActivitySid",
        ACTIVITY,
    ),
    field("record", "DequeueRecord", RECORD),
    field("timeout", "DequeueTimeout", TIMEOUT),
    field(
        "status_callback_url",
        "DequeueStatusCallbackUrl",
        FieldKind::Url,
    ),
    field(
        "status_callback_events",
        "DequeueStatusCallbackEvent",
        CALL_EVENTS,
    ),
];

const CALL: &[FieldSpec] = &[
    field("to", "CallTo", FieldKind::Text),
    required("from", "CallFrom", FieldKind::Text),
    required("url", "CallUrl", FieldKind::Url),
    field("accept", "CallAccept", FieldKind::Bool),
    field("record", "CallRecord", RECORD),
    field("timeout", "CallTimeout", TIMEOUT),
    field(
        "status_callback_url",
        "CallStatusCallbackUrl",
        FieldKind::Url,
    ),
];

const REDIRECT: &[FieldSpec] = &[
    required("call_sid", "RedirectCallSid", FieldKind::Sid("CA")),
    required("url", "RedirectUrl", FieldKind::Url),
    field("accept", "RedirectAccept", FieldKind::Bool),
];

/// Every conference field of the REST API (`UpdateWorkerReservation`), in snake_case.
const CONFERENCE: &[FieldSpec] = &[
    field("to", "To", FieldKind::Text),
    field("from", "From", FieldKind::Text),
    field("timeout", "Timeout", TIMEOUT),
    field("record", "Record", FieldKind::Bool),
    field("muted", "Muted", FieldKind::Bool),
    field(
        "beep",
        "Beep",
        FieldKind::Choice(&["true", "false", "onEnter", "onExit"]),
    ),
    field(
        "start_conference_on_enter",
        "StartConferenceOnEnter",
        FieldKind::Bool,
    ),
    field(
        "end_conference_on_exit",
        "EndConferenceOnExit",
        FieldKind::Bool,
    ),
    field(
        "end_conference_on_customer_exit",
        "EndConferenceOnCustomerExit",
        FieldKind::Bool,
    ),
    field(
        "beep_on_customer_entrance",
        "BeepOnCustomerEntrance",
        FieldKind::Bool,
    ),
    field("wait_url", "WaitUrl", FieldKind::Url),
    field("wait_method", "WaitMethod", METHOD),
    field("early_media", "EarlyMedia", FieldKind::Bool),
    field(
        "max_participants",
        "MaxParticipants",
        FieldKind::Integer { min: 2, max: 250 },
    ),
    field("status_callback", "StatusCallback", FieldKind::Url),
    field("status_callback_method", "StatusCallbackMethod", METHOD),
    field("status_callback_event", "StatusCallbackEvent", CALL_EVENTS),
    field(
        "conference_status_callback",
        "ConferenceStatusCallback",
        FieldKind::Url,
    ),
    field(
        "conference_status_callback_method",
        "ConferenceStatusCallbackMethod",
        METHOD,
    ),
    field(
        "conference_status_callback_event",
        "ConferenceStatusCallbackEvent",
        CONFERENCE_EVENTS,
    ),
    field(
        "conference_record",
        "ConferenceRecord",
        FieldKind::Choice(&["true", "false", "record-from-start", "do-not-record"]),
    ),
    field(
        "conference_trim",
        "ConferenceTrim",
        FieldKind::Choice(&["trim-silence", "do-not-trim"]),
    ),
    field(
        "recording_channels",
        "RecordingChannels",
        FieldKind::Choice(&["mono", "dual"]),
    ),
    field(
        "recording_status_callback",
        "RecordingStatusCallback",
        FieldKind::Url,
    ),
    field(
        "recording_status_callback_method",
        "RecordingStatusCallbackMethod",
        METHOD,
    ),
    field(
        "conference_recording_status_callback",
        "ConferenceRecordingStatusCallback",
        FieldKind::Url,
    ),
    field(
        "conference_recording_status_callback_method",
        "ConferenceRecordingStatusCallbackMethod",
        METHOD,
    ),
    field(
        "region",
        "Region",
        FieldKind::Choice(&["us1", "us2", "ie1", "de1", "sg1", "br1", "au1", "jp1"]),
    ),
    field("sip_auth_username", "SipAuthUsername", FieldKind::Text),
    field("sip_auth_password", "SipAuthPassword", FieldKind::Text),
    field("post_work_activity_sid", "PostWorkActivitySid", ACTIVITY),
    field(
        "jitter_buffer_size",
        "JitterBufferSize",
        FieldKind::Choice(&["small", "medium", "large", "off"]),
    ),
];

/// Whether `value` has the shape of a SID with this prefix.
pub fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `value` is an absolute http(s) URL with a host (WHATWG parsing, as reqwest and
/// Twilio's own URL handling do: the `url` crate, the one reqwest re-exports).
pub fn is_http_url(value: &str) -> bool {
    url::Url::parse(value)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
        .unwrap_or(false)
}

/// Why a value does not fit its field, or `None` when it fits. Shared by the load-time
/// checks and by the check of templated values once rendered.
pub fn check_text(kind: FieldKind, value: &str) -> Option<String> {
    match kind {
        FieldKind::Text if value.is_empty() => Some("must not be empty".to_owned()),
        FieldKind::Sid(prefix) if !is_sid(value, prefix) => Some(format!(
            "`{value}` is not a SID: expected {prefix} followed by 32 hex digits"
        )),
        FieldKind::Url if !is_http_url(value) => Some(format!(
            "`{value}` is not an absolute http:// or https:// URL"
        )),
        FieldKind::Choice(options) if !options.contains(&value) => {
            Some(format!("`{value}` is not one of {}", quote_list(options)))
        }
        _ => None,
    }
}

/// `"a", "b" or "c"`, for messages.
pub fn quote_list(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_shapes_are_checked_exactly() {
        assert!(is_sid("WA0123456789abcdef0123456789abcdef", "WA"));
        assert!(!is_sid("WA0123456789abcdef0123456789abcde", "WA"));
        assert!(!is_sid("WX0123456789abcdef0123456789abcdef", "WA"));
        assert!(!is_sid("WA0123456789abcdef0123456789abcdeg", "WA"));
    }

    #[test]
    fn every_instruction_name_parses_back() {
        for kind in InstructionKind::ALL {
            assert_eq!(InstructionKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(InstructionKind::parse("Accept"), None);
    }

    #[test]
    fn choices_are_listed_in_messages() {
        let message = check_text(RECORD, "always").unwrap();
        assert_eq!(
            message,
            "`always` is not one of \"record-from-answer\" or \"do-not-record\""
        );
    }
}
