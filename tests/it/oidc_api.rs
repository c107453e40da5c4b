//! The provider's access tokens on the API: real tokens from the real test
//! provider (tests/oidc), signed in through its pages, presented to the
//! real server as `Authorization: Bearer`, beside advice-log's own tokens.

use advice_log::oidc::{OidcError, RelyingParty};
use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::oidc_provider::OidcProvider;
use crate::oidc_sign_in::{provider_for, settings_for, start, start_with, CLIENT_ID};
use crate::on_both_backends;
use crate::support::TestApp;

const ME: &str = "{ me { id name } }";

/// The provider's tokens for `login`, as advice-log's client gets them.
async fn tokens(app: &TestApp, op: &OidcProvider, login: &str) -> (String, String) {
    let tokens = op
        .tokens(login, &format!("{}/auth/callback", app.base))
        .await;
    let access = tokens["access_token"].as_str().expect("an access token");
    let id = tokens["id_token"].as_str().expect("an ID token");
    (access.to_owned(), id.to_owned())
}

/// `me` as the holder of `token`: the status and the answer.
async fn me(app: &TestApp, token: &str) -> (u16, Value) {
    app.graphql_as(Some(token), ME, json!({})).await
}

/// Asserts `token` is refused on the API as RFC 6750 says.
async fn refused(app: &TestApp, token: &str, why: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/graphql", app.base))
        .bearer_auth(token)
        .json(&json!({ "query": ME }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 401, "{why}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{why}: {challenge}"
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{why}"
    );
}

/// The token with one byte of its signature changed.
fn tampered(token: &str) -> String {
    let (head, signature) = token.rsplit_once('.').expect("a JWS");
    let mut bytes = signature.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    format!("{head}.{}", String::from_utf8(bytes).expect("ASCII"))
}

on_both_backends! {
    async fn an_access_token_from_the_provider_works_on_the_api(backend: Backend) {
        let db = crate::support::TestDb::new(backend).await;
        let (app, op, admin) = start(&db).await;
        // Ada: advice-log knows her e-mail, which the provider has verified.
        let (access, id_token) = tokens(&app, &op, "ada@example.org").await;
        let (status, body) = me(&app, &access).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["me"]["name"], "Ada Admin", "{body}");
        // advice-log's own token still works beside it.
        assert_eq!(app.ok(&admin, ME, json!({})).await["me"]["name"], "Ada Admin");
        // The provider's token acts as Ada: an admin's mutation goes through.
        let registered = app
            .ok(&access, "mutation { registerPerson(input: {name: \"Zed Linked\", email: \"zed.l@example.org\"}) { person { id } } }", json!({}))
            .await;
        let zed = registered["registerPerson"]["person"]["id"].clone();
        let author = app.ok(&admin, "query($id: ID!) { node(id: $id) { ... on Person { name } } }", json!({ "id": zed })).await;
        assert_eq!(author["node"]["name"], "Zed Linked");

        refused(&app, &tampered(&access), "a flipped signature byte").await;
        refused(&app, &id_token, "an ID token is not an access token").await;
        refused(&app, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LWFkYSJ9.", "an unsigned token").await;

        // Zed: the provider knows him, advice-log knows no such e-mail.
        let (zed_access, _) = tokens(&app, &op, "u-zed").await;
        refused(&app, &zed_access, "an account advice-log does not know").await;
        // The provider has not verified this account's e-mail (Ada's).
        let (unverified, _) = tokens(&app, &op, "u-unverified").await;
        refused(&app, &unverified, "an unverified e-mail").await;

        // Linked by an admin, Zed's subject finds him.
        let identity = json!({ "input": { "personId": zed, "issuer": op.issuer, "subject": "u-zed" } });
        app.ok(&admin, "mutation($input: IdentityInput!) { linkIdentity(input: $input) { position } }", identity).await;
        let (status, body) = me(&app, &zed_access).await;
        assert_eq!((status, body["data"]["me"]["name"].clone()), (200, json!("Zed Linked")), "{body}");
        // Marked as left, the same token no longer works.
        app.ok(&admin, "mutation($input: MarkPersonLeftInput!) { markPersonLeft(input: $input) { position } }",
            json!({ "input": { "personId": zed, "reason": "moved to another trust" } })).await;
        refused(&app, &zed_access, "a leaver's token").await;
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_token_for_another_audience_or_an_email_the_organisation_does_not_match_is_refused(backend: Backend) {
        let db = crate::support::TestDb::new(backend).await;
        // The API's audience is not the client id, which the provider's tokens name.
        let (app, op, _) = start_with(&db, |settings| {
            settings.audience = Some("https://advice-log.example/api".into());
        })
        .await;
        let (access, _) = tokens(&app, &op, "ada@example.org").await;
        refused(&app, &access, "a token for another audience").await;
        app.stop().await;

        // E-mail matching off: only a linked identity gets in.
        let db = crate::support::TestDb::new(backend).await;
        let (app, op, admin) = start_with(&db, |settings| settings.match_email = false).await;
        let (access, _) = tokens(&app, &op, "ada@example.org").await;
        refused(&app, &access, "a verified e-mail when the organisation matches none").await;
        let ada = app.ok(&admin, ME, json!({})).await["me"]["id"].clone();
        app.ok(&admin, "mutation($input: IdentityInput!) { linkIdentity(input: $input) { position } }",
            json!({ "input": { "personId": ada, "issuer": op.issuer, "subject": "u-ada" } })).await;
        let (status, body) = me(&app, &access).await;
        assert_eq!((status, body["data"]["me"]["name"].clone()), (200, json!("Ada Admin")), "{body}");
        app.stop().await;
    }
}

/// The access token checks on real tokens: a good one says who; past its
/// expiry (beyond the allowed skew) it is refused; after the provider
/// rotates its keys a token signed by the new key is taken (the keys are
/// fetched again) and one signed by a dropped key is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_token_verifier_follows_expiry_and_key_rotation() {
    let base = "http://127.0.0.1:9";
    let op = provider_for(base);
    let rp = RelyingParty::discover(settings_for(&op, CLIENT_ID, base))
        .await
        .expect("discovery");
    let redirect = format!("{base}/auth/callback");
    let token = access_token(&op, &redirect).await;
    let identity = rp.verify_access_token(&token).await.expect("a good token");
    assert_eq!(identity.issuer, op.issuer);
    assert_eq!(identity.subject, "u-ada");
    assert_eq!(identity.email.as_deref(), Some("ada@example.org"));
    assert!(identity.email_verified);

    let exp = Utc::now() + Duration::hours(2);
    assert!(
        matches!(
            rp.check_access_token(&token, exp),
            Err(OidcError::Refused(_))
        ),
        "an expired token is refused"
    );

    let rotated = op.rotate_keys(false).await;
    let fresh = access_token(&op, &redirect).await;
    assert!(
        matches!(
            rp.check_access_token(&fresh, Utc::now()),
            Err(OidcError::UnknownKey)
        ),
        "the new key is not held yet"
    );
    let identity = rp
        .verify_access_token(&fresh)
        .await
        .unwrap_or_else(|e| panic!("signed by {}: {e}", rotated.kid));
    assert_eq!(identity.subject, "u-ada");
    assert!(
        rp.verify_access_token(&token).await.is_err(),
        "a token signed by a key no longer published is refused"
    );
}

/// Ada's access token, for a client at `redirect`.
async fn access_token(op: &OidcProvider, redirect: &str) -> String {
    op.tokens("ada@example.org", redirect).await["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}
