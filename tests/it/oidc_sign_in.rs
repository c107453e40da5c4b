//! Signing in to the pages with the organisation's identity provider: the
//! real server configured for the real test provider (tests/oidc), a
//! browser through both sites' pages, and the callback driven by hand for
//! the refusals (a replayed `state`, an unknown or unverified account, the
//! provider's `access_denied`), the ID token checks on real tokens (a
//! tampered signature, a wrong nonce, another audience) and a key rotation.

use std::process::Command;
use std::sync::Arc;

use advice_log::oidc::{OidcSettings, RelyingParty};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::oidc_provider::{OidcAccount, OidcConfig, OidcProvider};
use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

const JOURNEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc/journey.mjs");
pub(crate) const CLIENT_ID: &str = "advice-log";
const SECRET: &str = "a-test-client-secret";

/// The provider, for a server at `base`: Ada (the admin advice-log knows by
/// e-mail), Zed (unknown to advice-log) and an account with Ada's e-mail
/// that the provider has not verified.
pub(crate) fn provider_for(base: &str) -> OidcProvider {
    OidcProvider::start(
        OidcConfig::new(
            CLIENT_ID,
            SECRET,
            &format!("{base}/auth/callback"),
            &format!("{base}/"),
        )
        .account(OidcAccount::verified(
            "u-ada",
            "ada@example.org",
            "Ada at the provider",
        ))
        .account(OidcAccount::verified("u-zed", "zed@example.org", "Zed"))
        .account(OidcAccount {
            email_verified: false,
            ..OidcAccount::verified("u-unverified", "ada@example.org", "Not Ada")
        }),
    )
}

/// The settings for `op` as the server at `base` would have them by
/// default: the API audience is the client id, e-mail matching is on.
pub(crate) fn settings_for(op: &OidcProvider, client_id: &str, base: &str) -> OidcSettings {
    OidcSettings {
        issuer: op.issuer.clone(),
        client_id: client_id.into(),
        client_secret: SECRET.into(),
        public_url: base.into(),
        audience: None,
        match_email: true,
    }
}

async fn relying_party(op: &OidcProvider, client_id: &str, base: &str) -> RelyingParty {
    RelyingParty::discover(settings_for(op, client_id, base))
        .await
        .expect("discovery")
}

/// The server, configured for a provider started for it, with Ada as its
/// first admin, and her token.
pub(crate) async fn start(db: &TestDb) -> (TestApp, OidcProvider, String) {
    start_with(db, |_| {}).await
}

/// [`start`], with the settings changed by `change` first.
pub(crate) async fn start_with(
    db: &TestDb,
    change: impl FnOnce(&mut OidcSettings),
) -> (TestApp, OidcProvider, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let op = provider_for(&base);
    let mut oidc = settings_for(&op, CLIENT_ID, &base);
    change(&mut oidc);
    let settings = advice_log::server::Settings {
        oidc: Some(Arc::new(
            RelyingParty::discover(oidc).await.expect("discovery"),
        )),
        ..Default::default()
    };
    let app = TestApp::spawn_on(db, settings, listener).await;
    let (_, admin) = app.bootstrap().await;
    (app, op, admin)
}

/// A browser without JavaScript that keeps the session cookie and follows
/// no redirects.
struct Visitor {
    client: reqwest::Client,
    cookie: String,
}

impl Visitor {
    fn new() -> Self {
        Visitor {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            cookie: String::new(),
        }
    }

    /// GETs `url` with the kept cookie, keeps a new one; answers the
    /// status, the redirect and the body.
    async fn get(&mut self, url: &str) -> (u16, Option<String>, String) {
        let response = self
            .client
            .get(url)
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("the server answers");
        if let Some(set) = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("advice_log_session="))
        {
            self.cookie = set.split(';').next().unwrap_or_default().to_string();
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, location, response.text().await.unwrap_or_default())
    }

    /// Starts a sign-in at advice-log, signs in at the provider as `login`
    /// in Chromium, and answers the callback URL the provider sent back.
    async fn through_provider(&mut self, app: &TestApp, op: &OidcProvider, login: &str) -> String {
        let (status, authorize, _) = self.get(&format!("{}/auth/sign-in", app.base)).await;
        assert_eq!(status, 303, "the sign-in starts with a redirect");
        let authorize = authorize.expect("to the provider");
        assert!(authorize.starts_with(&op.issuer), "{authorize}");
        for part in [
            "code_challenge_method=S256",
            "state=",
            "nonce=",
            "scope=openid",
        ] {
            assert!(authorize.contains(part), "{part} in {authorize}");
        }
        op.sign_in(&authorize, login, &format!("{}/auth/callback", app.base))
            .await
            .unwrap_or_else(|why| panic!("sign-in at the provider: {why}\n{}", op.log()))
    }
}

on_both_backends! {
    async fn a_browser_signs_in_with_the_organisations_account_and_out(backend: Backend) {
        let db = TestDb::new(backend).await;
        let (app, op, _) = start(&db).await;
        let base = app.base.clone();
        let shots = format!("{}/target/journeys-oidc/{backend}", env!("CARGO_MANIFEST_DIR"));
        let _ = std::fs::remove_dir_all(&shots);
        let output = tokio::task::spawn_blocking(move || {
            Command::new("node").args([JOURNEY, &base, "ada@example.org", "u-zed", &shots]).output()
        })
        .await
        .expect("join")
        .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the journey failed: {stdout}\n{}\nprovider log:\n{}",
            String::from_utf8_lossy(&output.stderr),
            op.log()
        );
        let seen: Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(seen["home"], format!("{}/", app.base));
        let header = seen["header"].as_str().unwrap_or_default();
        assert!(header.contains("Ada Admin"), "the person's name in the header: {header}");
        assert!(header.contains("Sign out"), "{header}");
        assert!(
            seen["after_sign_out"].as_str().unwrap_or_default().starts_with(&app.base),
            "the provider sends the browser back: {seen}"
        );
        assert!(
            !seen["signed_out_header"].as_str().unwrap_or_default().contains("Ada Admin"),
            "signed out: {seen}"
        );
        assert_eq!(seen["refusal_heading"], "advice-log does not know this account", "{seen}");
        let refusal = seen["refusal"].as_str().unwrap_or_default();
        assert!(refusal.contains("zed@example.org"), "says which account: {refusal}");
        assert!(refusal.contains("Ada Admin"), "names whom to ask: {refusal}");
        assert_eq!(
            seen["visited"].as_array().map(Vec::len),
            Some(5),
            "sign-in, home, signed out, sign-in, refusal all checked: {seen}"
        );
        assert_eq!(seen["violations"], json!([]), "axe-core (WCAG 2.2 AA) found violations");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_replayed_state_is_refused(backend: Backend) {
        let db = TestDb::new(backend).await;
        let (app, op, _) = start(&db).await;
        let mut visitor = Visitor::new();
        let callback = visitor.through_provider(&app, &op, "ada@example.org").await;
        let before = visitor.cookie.clone();

        let (status, location, _) = visitor.get(&callback).await;
        assert_eq!(status, 303);
        assert_eq!(location.as_deref(), Some("/"), "home: what needs me now");
        assert_ne!(visitor.cookie, before, "the session is new at sign-in");
        let (status, _, home) = visitor.get(&format!("{}/", app.base)).await;
        assert_eq!(status, 200);
        assert!(home.contains("Ada Admin"), "signed in as Ada");
        let signed_in = visitor.cookie.clone();

        // The same callback again, with the signed-in cookie...
        let (status, _, page) = visitor.get(&callback).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("has been used already or has expired"));
        // ...and with the cookie from before, which still holds the attempt.
        visitor.cookie = before;
        let (status, location, page) = visitor.get(&callback).await;
        assert_eq!(status, 400, "{location:?} {page}");
        assert!(page.contains("nhsuk-header"), "an NHS.UK page");
        // A wrong state with a fresh attempt is refused too.
        visitor.cookie = signed_in;
        let fresh = visitor.through_provider(&app, &op, "ada@example.org").await;
        let forged = with_state(&fresh, "forged-state");
        let (status, _, _) = visitor.get(&forged).await;
        assert_eq!(status, 400);
        app.stop().await;
    }
}

/// `url` with its `state` parameter replaced.
fn with_state(url: &str, state: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a URL");
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                state.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

on_both_backends! {
    async fn an_unknown_or_unverified_account_is_refused(backend: Backend) {
        let db = TestDb::new(backend).await;
        let (app, op, _) = start(&db).await;

        let mut zed = Visitor::new();
        let callback = zed.through_provider(&app, &op, "zed@example.org").await;
        let (status, _, page) = zed.get(&callback).await;
        assert_eq!(status, 403, "{page}");
        assert!(page.contains("nobody in advice-log has that account"), "{page}");
        assert!(page.contains("zed@example.org"));
        assert!(page.contains("Ada Admin"), "names the admins to ask: {page}");
        assert!(page.contains("nhsuk-frontend"), "an NHS.UK page");
        let (_, _, home) = zed.get(&format!("{}/", app.base)).await;
        assert!(!home.contains("Sign out"), "not signed in: {home}");

        // Ada's e-mail, but the provider has not verified it.
        let mut unverified = Visitor::new();
        let callback = unverified.through_provider(&app, &op, "u-unverified").await;
        let (status, _, page) = unverified.get(&callback).await;
        assert_eq!(status, 403, "{page}");
        assert!(page.contains("nobody in advice-log has that account"));
        let (_, _, home) = unverified.get(&format!("{}/", app.base)).await;
        assert!(!home.contains("Sign out"), "not signed in: {home}");

        // The provider says the person refused.
        let mut refused = Visitor::new();
        let (status, authorize, _) = refused.get(&format!("{}/auth/sign-in", app.base)).await;
        assert_eq!(status, 303);
        let authorize = reqwest::Url::parse(&authorize.expect("a redirect")).expect("URL");
        let state = authorize
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("a state");
        let (status, _, page) = refused
            .get(&format!("{}/auth/callback?error=access_denied&state={state}", app.base))
            .await;
        assert_eq!(status, 403);
        assert!(page.contains("You did not give advice-log permission"), "{page}");
        app.stop().await;
    }
}

on_both_backends! {
    async fn sign_in_follows_a_key_rotation_at_the_provider(backend: Backend) {
        let db = TestDb::new(backend).await;
        let (app, op, _) = start(&db).await;
        let mut first = Visitor::new();
        let callback = first.through_provider(&app, &op, "ada@example.org").await;
        assert_eq!(first.get(&callback).await.0, 303, "signed in before");

        let rotated = op.rotate_keys(false).await;
        assert_eq!(op.kids().await, vec![rotated.kid], "only the new key is published");
        let mut second = Visitor::new();
        let callback = second.through_provider(&app, &op, "u-ada").await;
        let (status, location, page) = second.get(&callback).await;
        assert_eq!((status, location.as_deref()), (303, Some("/")), "{page}");
        let (status, _, home) = second.get(&format!("{}/", app.base)).await;
        assert_eq!(status, 200);
        assert!(home.contains("Ada Admin"));
        app.stop().await;
    }
}

/// Signs in at the provider as Ada for `rp` and answers a real ID token and
/// its nonce.
async fn id_token(op: &OidcProvider, rp: &RelyingParty, redirect: &str) -> (String, String) {
    let (authorize, pending) = rp.start("/", chrono::Utc::now());
    let back = op
        .sign_in(&authorize, "ada@example.org", redirect)
        .await
        .unwrap_or_else(|why| panic!("{why}"));
    let back = reqwest::Url::parse(&back).expect("URL");
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    assert!(rp.use_state(&pending.state, chrono::Utc::now()));
    assert!(
        !rp.use_state(&pending.state, chrono::Utc::now()),
        "a state is used once"
    );
    let raw = rp.exchange(&code, &pending.verifier).await.expect("tokens");
    (raw, pending.nonce)
}

/// The ID token checks on real tokens from the provider: a good one passes
/// and says who; a flipped signature byte, a wrong nonce or another client's
/// audience is refused; after a rotation the new key is fetched once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_token_verifier_refuses_tampered_and_foreign_tokens() {
    let base = "http://127.0.0.1:9";
    let op = provider_for(base);
    let rp = relying_party(&op, CLIENT_ID, base).await;
    let redirect = format!("{base}/auth/callback");
    let (raw, nonce) = id_token(&op, &rp, &redirect).await;
    let identity = rp.verify(&raw, &nonce).await.expect("a good token");
    assert_eq!(identity.issuer, op.issuer);
    assert_eq!(identity.subject, "u-ada");
    assert_eq!(identity.email.as_deref(), Some("ada@example.org"));
    assert!(identity.email_verified);

    let (head, signature) = raw.rsplit_once('.').expect("a JWS");
    let mut bytes = signature.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{head}.{}", String::from_utf8(bytes).expect("ASCII"));
    let refused = rp.verify(&tampered, &nonce).await;
    assert!(refused.is_err(), "a flipped signature byte is refused");
    assert!(
        rp.verify(&raw, "another-nonce").await.is_err(),
        "a wrong nonce"
    );
    let other = relying_party(&op, "another-client", base).await;
    assert!(
        other.verify(&raw, &nonce).await.is_err(),
        "another audience"
    );

    let rotated = op.rotate_keys(false).await;
    let (fresh, fresh_nonce) = id_token(&op, &rp, &redirect).await;
    assert!(fresh.split('.').next().is_some());
    let identity = rp
        .verify(&fresh, &fresh_nonce)
        .await
        .unwrap_or_else(|e| panic!("signed by {}: {e}", rotated.kid));
    assert_eq!(identity.subject, "u-ada");
    assert!(
        rp.verify(&raw, &nonce).await.is_err(),
        "a token signed by a key no longer published is refused"
    );
}

on_both_backends! {
    async fn serve_refuses_to_start_when_the_provider_cannot_be_reached(backend: Backend) {
        let db = TestDb::new(backend).await;
        let keys = tempfile::tempdir().expect("dir");
        let serve = |extra: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_advice-log"))
                .args(["serve", "--listen", "127.0.0.1:0"])
                .args(extra)
                .env("DATABASE_URL", db.raw_url())
                .env("ADVICE_LOG_DATA_KEY", db.data_key())
                .env("ADVICE_LOG_SIGNING_KEY", keys.path().join("signing.key"))
                .env("ADVICE_LOG_OIDC_CLIENT_SECRET", "never-shown-secret")
                .env("ADVICE_LOG_LOG", "warn")
                .output()
                .expect("run advice-log serve")
        };
        // Nothing listens on port 9 of this machine.
        let unreachable = serve(&["--oidc-issuer", "http://127.0.0.1:9", "--oidc-client-id", "advice-log"]);
        assert!(!unreachable.status.success(), "it does not start");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&unreachable.stdout),
            String::from_utf8_lossy(&unreachable.stderr)
        );
        assert!(said.contains("http://127.0.0.1:9"), "names the issuer: {said}");
        assert!(!said.contains("never-shown-secret"), "the secret is never shown: {said}");

        let incomplete = serve(&["--oidc-issuer", "http://127.0.0.1:9"]);
        let incomplete_said = String::from_utf8_lossy(&incomplete.stderr);
        assert!(!incomplete.status.success());
        assert!(incomplete_said.contains("--oidc-client-id"), "{incomplete_said}");
    }
}

on_both_backends! {
    async fn a_linked_account_signs_in_until_it_is_unlinked_or_its_person_leaves(backend: Backend) {
        let db = TestDb::new(backend).await;
        let (app, op, admin) = start(&db).await;
        // Zed's e-mail at the provider is not the one advice-log has: only a
        // link lets the account in.
        let zed = app.ok(&admin, "mutation { registerPerson(input: {name: \"Zed Linked\", email: \"zed.l@example.org\"}) { person { id } } }", json!({})).await["registerPerson"]["person"]["id"].clone();
        let identity = json!({ "input": { "personId": zed, "issuer": op.issuer, "subject": "u-zed" } });
        let link = "mutation($input: IdentityInput!) { linkIdentity(input: $input) { position } }";
        let unlink = "mutation($input: IdentityInput!) { unlinkIdentity(input: $input) { position } }";
        let home = format!("{}/", app.base);
        let signs_in = |status: u16| status == 303;

        app.ok(&admin, link, identity.clone()).await;
        let mut visitor = Visitor::new();
        let callback = visitor.through_provider(&app, &op, "u-zed").await;
        assert!(signs_in(visitor.get(&callback).await.0), "a linked subject signs in");
        assert!(visitor.get(&home).await.2.contains("Zed Linked"), "signed in as the linked person");

        // Unlinked: the session ends at once, and the account no longer gets in.
        app.ok(&admin, unlink, identity.clone()).await;
        assert!(!visitor.get(&home).await.2.contains("Zed Linked"), "the session ended");
        let mut again = Visitor::new();
        let callback = again.through_provider(&app, &op, "u-zed").await;
        assert_eq!(again.get(&callback).await.0, 403, "unlinked, unknown");

        // Linked again, then marked as left: the same.
        app.ok(&admin, link, identity.clone()).await;
        let mut visitor = Visitor::new();
        let callback = visitor.through_provider(&app, &op, "u-zed").await;
        assert!(signs_in(visitor.get(&callback).await.0));
        app.ok(&admin, "mutation($input: MarkPersonLeftInput!) { markPersonLeft(input: $input) { position } }",
            json!({ "input": { "personId": zed, "reason": "Moved to another trust" } })).await;
        assert!(!visitor.get(&home).await.2.contains("Zed Linked"), "a leaver's session ends");
        let mut after = Visitor::new();
        let callback = after.through_provider(&app, &op, "u-zed").await;
        assert_eq!(after.get(&callback).await.0, 403, "a leaver cannot sign in");
        app.stop().await;
    }
}
