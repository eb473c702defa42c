use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn decodes_plus_and_escapes_and_keeps_order_and_repeats() {
    let decoded = parse(b"b=%2B1+415&a=x&b=caf%C3%A9&flag").unwrap();
    assert_eq!(
        decoded,
        pairs(&[("b", "+1 415"), ("a", "x"), ("b", "café"), ("flag", "")])
    );
}

#[test]
fn round_trips_what_serde_urlencoded_writes() {
    let original = pairs(&[
        ("TaskAttributes", r#"{"a":"b & c","n":1.5}"#),
        ("Weird Key=", "100% ☎"),
    ]);
    let body = serde_urlencoded::to_string(&original).unwrap();
    assert_eq!(parse(body.as_bytes()).unwrap(), original);
}

#[test]
fn skips_empty_segments() {
    assert_eq!(parse(b"&a=1&&").unwrap(), pairs(&[("a", "1")]));
    assert_eq!(parse(b"").unwrap(), pairs(&[]));
}

#[test]
fn refuses_bad_escapes_with_their_position() {
    assert_eq!(parse(b"a=%zz"), Err(FormError::BadEscape(2)));
    assert_eq!(parse(b"a=1&b=%4"), Err(FormError::BadEscape(6)));
    assert_eq!(parse(b"a%=1"), Err(FormError::BadEscape(1)));
}

#[test]
fn refuses_invalid_utf8() {
    assert!(matches!(parse(b"a=%FF%FE"), Err(FormError::NotUtf8(_))));
    assert!(matches!(parse(b"a=\xff"), Err(FormError::NotUtf8(_))));
}

#[test]
fn refuses_too_many_pairs() {
    let body = "a=1&".repeat(MAX_PAIRS + 1);
    assert_eq!(
        parse(body.as_bytes()),
        Err(FormError::TooManyPairs(MAX_PAIRS))
    );
}
