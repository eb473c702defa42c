use super::*;

#[derive(serde::Deserialize)]
struct Vector {
    url: String,
    params: Vec<(String, String)>,
    body: Option<String>,
    auth_token: String,
    signature: String,
    valid: bool,
    note: String,
}

fn vectors() -> Vec<Vector> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signature_vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn split_url(url: &str) -> (&str, Option<&str>) {
    match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    }
}

fn check(vector: &Vector) -> Result<(), SignatureError> {
    let (base, query) = split_url(&vector.url);
    let tokens = [SecretString::from(vector.auth_token.clone())];
    let payload = match &vector.body {
        Some(body) => Payload::Body(body.as_bytes()),
        None => Payload::Form(&vector.params),
    };
    verify(
        &tokens,
        &UrlVariants::new(base),
        query,
        payload,
        Some(&vector.signature),
    )
}

#[test]
fn every_official_vector_agrees_with_its_valid_field() {
    // Arrange
    let vectors = vectors();
    assert!(vectors.len() > 60, "the vector file looks truncated");
    // Act / Assert
    for vector in &vectors {
        let outcome = check(vector);
        assert_eq!(
            outcome.is_ok(),
            vector.valid,
            "{} {} -> {:?}: {}",
            vector.url,
            vector.signature,
            outcome,
            vector.note
        );
    }
}

#[test]
fn compute_reproduces_the_canonical_vector() {
    let vectors = vectors();
    let canonical = &vectors[0];
    assert_eq!(
        compute(
            &canonical.auth_token,
            &canonical.url,
            Payload::Form(&canonical.params)
        ),
        canonical.signature
    );
}

#[test]
fn a_previous_token_is_accepted_after_the_current_one() {
    let pairs = vec![("TaskSid".to_owned(), "WT1".to_owned())];
    let url = "https://example.com/assignment";
    let signature = compute("old-token", url, Payload::Form(&pairs));
    let tokens = [
        SecretString::from("new-token"),
        SecretString::from("old-token"),
    ];
    let outcome = verify(
        &tokens,
        &UrlVariants::new(url),
        None,
        Payload::Form(&pairs),
        Some(&signature),
    );
    assert_eq!(outcome, Ok(()));
}

#[test]
fn a_missing_header_is_reported_as_missing() {
    let outcome = verify(
        &[SecretString::from("t")],
        &UrlVariants::new("https://example.com/a"),
        None,
        Payload::Form(&[]),
        None,
    );
    assert_eq!(outcome, Err(SignatureError::Missing));
}

#[test]
fn url_variants_handle_userinfo_and_ipv6() {
    let cases = [
        (
            "https://user:pass@host.example/a",
            vec![
                "https://user:pass@host.example/a",
                "https://user:pass@host.example:443/a",
            ],
        ),
        (
            "https://user:pass@host.example:8443/a",
            vec![
                "https://user:pass@host.example:8443/a",
                "https://user:pass@host.example/a",
            ],
        ),
        (
            "http://[::1]:8080/a",
            vec!["http://[::1]:8080/a", "http://[::1]/a"],
        ),
        (
            "http://[::1]/a",
            vec!["http://[::1]/a", "http://[::1]:80/a"],
        ),
        (
            "http://127.0.0.1:8080",
            vec!["http://127.0.0.1:8080", "http://127.0.0.1"],
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(UrlVariants::new(url).bases(), expected.as_slice(), "{url}");
    }
}
