//! Signatures Twilio may legitimately send: rotated tokens, port variants, query strings.

use serde_json::json;

use crate::support::app::*;

const RULES: &str = "[default]\ninstruction = \"accept\"\n";

#[tokio::test]
async fn a_previous_auth_token_is_still_accepted() {
    // Arrange
    let app = spawn_app_with(
        RULES,
        &[(
            "APP_TWILIO__PREVIOUS_AUTH_TOKENS",
            "old-token-1,old-token-2",
        )],
    )
    .await;
    let pairs = default_callback();
    for token in ["old-token-1", "old-token-2", TOKEN] {
        // Act
        let signature = sign(token, PUBLIC_URL, &pairs);
        let response = app.post_form(&encode(&pairs), Some(&signature), "").await;
        // Assert
        assert_eq!(
            instruction_of(response).await,
            json!({"instruction": "accept"}),
            "{token}"
        );
    }
}

#[tokio::test]
async fn a_token_not_in_the_list_is_refused_even_with_previous_tokens_set() {
    let app = spawn_app_with(RULES, &[("APP_TWILIO__PREVIOUS_AUTH_TOKENS", "old-token")]).await;
    let pairs = default_callback();
    let signature = sign("older-token", PUBLIC_URL, &pairs);
    let response = app.post_form(&encode(&pairs), Some(&signature), "").await;
    assert_refused(response, 403).await;
}

#[tokio::test]
async fn signatures_over_the_default_port_or_without_the_port_are_accepted() {
    let cases = [
        // (configured URL, URL Twilio signed)
        (
            "https://router.example.com/assignment",
            "https://router.example.com:443/assignment",
        ),
        (
            "https://router.example.com:443/assignment",
            "https://router.example.com/assignment",
        ),
        (
            "https://router.example.com:8443/assignment",
            "https://router.example.com/assignment",
        ),
        (
            "http://router.example.com/assignment",
            "http://router.example.com:80/assignment",
        ),
    ];
    for (configured, signed) in cases {
        let app = spawn_app_with(RULES, &[("APP_CALLBACK__PUBLIC_URL", configured)]).await;
        let pairs = default_callback();
        let signature = sign(TOKEN, signed, &pairs);
        let response = app.post_form(&encode(&pairs), Some(&signature), "").await;
        assert_eq!(
            instruction_of(response).await,
            json!({"instruction": "accept"}),
            "configured {configured}, signed {signed}"
        );
    }
}

#[tokio::test]
async fn the_query_string_is_signed_as_received() {
    let app = spawn_app(RULES).await;
    let pairs = default_callback();
    let query = "?tenant=acme&note=it%27s+here";
    let signature = sign(TOKEN, &format!("{PUBLIC_URL}{query}"), &pairs);
    let response = app
        .post_form(&encode(&pairs), Some(&signature), query)
        .await;
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn userinfo_in_the_configured_url_is_part_of_what_is_signed() {
    let url = "https://user:pass@router.example.com/assignment";
    let app = spawn_app_with(RULES, &[("APP_CALLBACK__PUBLIC_URL", url)]).await;
    let pairs = default_callback();
    let signature = sign(TOKEN, url, &pairs);
    let response = app.post_form(&encode(&pairs), Some(&signature), "").await;
    assert_eq!(
        instruction_of(response).await,
        json!({"instruction": "accept"})
    );
}

#[tokio::test]
async fn unknown_fields_are_signed_too() {
    let app = spawn_app(RULES).await;
    let mut pairs = default_callback();
    pairs.push(("SomethingNew".to_owned(), "value".to_owned()));
    let signature = sign(TOKEN, PUBLIC_URL, &pairs);

    let with = app.post_form(&encode(&pairs), Some(&signature), "").await;
    assert_eq!(instruction_of(with).await, json!({"instruction": "accept"}));

    pairs.pop();
    let without = app.post_form(&encode(&pairs), Some(&signature), "").await;
    assert_refused(without, 403).await;
}

#[tokio::test]
async fn a_fragment_in_the_public_url_is_left_out_of_what_is_signed() {
    // Arrange: Twilio's connection overrides, which it never sends and never signs.
    let app = spawn_app_with(
        RULES,
        &[(
            "APP_CALLBACK__PUBLIC_URL",
            "https://router.example.com/assignment#ct=3000&rc=2&rt=1000",
        )],
    )
    .await;
    let pairs = default_callback();
    let without = sign(TOKEN, PUBLIC_URL, &pairs);
    let with = sign(
        TOKEN,
        "https://router.example.com/assignment#ct=3000&rc=2&rt=1000",
        &pairs,
    );

    // Act
    let signed_without = app.post_form(&encode(&pairs), Some(&without), "").await;
    let signed_with = app.post_form(&encode(&pairs), Some(&with), "").await;

    // Assert
    assert_eq!(
        instruction_of(signed_without).await,
        json!({"instruction": "accept"})
    );
    assert_eq!(assert_refused(signed_with, 403).await, "");
}

#[tokio::test]
async fn a_callback_signed_for_any_listed_fallback_url_is_accepted_and_no_other() {
    // Arrange
    let app = spawn_app_with(
        RULES,
        &[(
            "APP_CALLBACK__PUBLIC_URLS",
            "https://fallback.example.com/assignment, https://backup.example.net:8443/hook",
        )],
    )
    .await;
    let pairs = default_callback();
    let accepted = [
        PUBLIC_URL,
        "https://fallback.example.com/assignment",
        "https://fallback.example.com:443/assignment",
        "https://backup.example.net:8443/hook",
        "https://backup.example.net/hook",
    ];
    let refused = [
        "https://unlisted.example.com/assignment",
        "https://fallback.example.com/hook",
        "https://backup.example.net:443/hook",
        "http://fallback.example.com/assignment",
    ];
    for url in accepted {
        // Act
        let response = app
            .post_form(&encode(&pairs), Some(&sign(TOKEN, url, &pairs)), "")
            .await;
        // Assert
        assert_eq!(
            instruction_of(response).await,
            json!({"instruction": "accept"}),
            "signed for {url}"
        );
    }
    for url in refused {
        // Act
        let response = app
            .post_form(&encode(&pairs), Some(&sign(TOKEN, url, &pairs)), "")
            .await;
        // Assert
        assert_eq!(assert_refused(response, 403).await, "", "signed for {url}");
    }
}
