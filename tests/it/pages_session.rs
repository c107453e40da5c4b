//! Signing in to the pages: a token pasted once opens a session kept in a
//! sealed cookie (HttpOnly, SameSite=Lax); every form carries a CSRF token
//! and a post without it is refused 403 and changes nothing; sessions end
//! after 12 hours, at sign-out, or when their token is revoked.

use std::sync::Arc;

use reqwest::redirect::Policy;

use crate::on_both_backends;
use crate::support::{TestApp, TestDb};

/// A browser that keeps one cookie and does not follow redirects.
struct Visitor {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Visitor {
    fn new(base: &str) -> Self {
        Visitor {
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: base.to_string(),
            cookie: String::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) -> Option<String> {
        let set = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("advice_log_session="))
            .map(str::to_string);
        if let Some(set) = &set {
            self.cookie = set.split(';').next().unwrap_or_default().to_string();
        }
        set
    }

    async fn get(&mut self, path: &str) -> (u16, String, Option<String>) {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String, Option<String>) {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// Sends with the kept cookie; answers the status, body and redirect.
    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, String, Option<String>) {
        let response = request
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("send");
        self.keep(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, response.text().await.expect("text"), location)
    }
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_string()
}

on_both_backends! {
    async fn a_token_pasted_once_opens_a_session_that_every_form_guards(backend: Backend) {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(advice_log::app::ManualClock::new(chrono::Utc::now()));
        let app = TestApp::spawn_with_clock(&db, clock.clone()).await;
        let (_, admin) = app.bootstrap().await;
        let mut me = Visitor::new(&app.base);

        // Signed out, a page that needs someone sends them to sign in and back.
        let (status, _, location) = me.get("/register?team=x").await;
        assert_eq!(status, 303);
        assert_eq!(location.as_deref(), Some("/sign-in?next=/register%3Fteam%3Dx"));

        // The sign-in form has a CSRF token, and its cookie is HttpOnly and SameSite=Lax.
        let response = me.client.get(format!("{}/sign-in", app.base)).send().await.expect("get");
        let set = me.keep(&response).expect("a session cookie on the first visit");
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"), "{set}");
        assert!(!set.contains("Secure"), "plain http is not marked Secure: {set}");
        let html = response.text().await.expect("html");
        let csrf = csrf_of(&html);
        let behind_https = me.client.get(format!("{}/sign-in", app.base)).header("x-forwarded-proto", "https").send().await.expect("get");
        let secure = behind_https.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(secure.contains("Secure"), "behind https the cookie is Secure: {secure}");

        // Without the CSRF token the sign-in is refused and nothing opens.
        let (status, body, _) = me.post("/sign-in", &[("token", admin.as_str())]).await;
        assert_eq!(status, 403);
        assert!(body.contains("Nothing was changed"), "{body}");
        let (status, _, _) = me.get("/register").await;
        assert_eq!(status, 303, "still signed out");

        // A wrong token is answered beside the field, never echoed back.
        let (status, body, _) = me.post("/sign-in", &[("csrf", &csrf), ("token", "al_00000000000000000000000000000000_0000000000000000000000000000000000000000000000000000000000000000")]).await;
        assert_eq!(status, 200);
        assert!(body.contains("token-error") && body.contains("no longer works"), "{body}");
        assert!(!body.contains("al_0000"), "the token is not echoed");

        // The right token signs in and goes back where they were going; a
        // `next` to another site is ignored.
        let (status, _, location) = me.post("/sign-in", &[("csrf", &csrf), ("token", &admin), ("next", "//evil.example/")]).await;
        assert_eq!(status, 303);
        assert_eq!(location.as_deref(), Some("/"));
        let (status, home, _) = me.get("/").await;
        assert_eq!(status, 200);
        assert!(home.contains("What needs you now"), "{home}");
        assert!(!home.contains(&admin), "the token never appears in a page");
        let signed_in_csrf = csrf_of(&home);
        assert_ne!(signed_in_csrf, csrf, "signing in gives a new CSRF token");

        // Sign-out needs the CSRF token too, and ends the session.
        let (status, _, _) = me.post("/sign-out", &[]).await;
        assert_eq!(status, 403);
        let (status, _, _) = me.get("/register").await;
        assert_eq!(status, 200, "a refused sign-out leaves the session");
        let (status, _, location) = me.post("/sign-out", &[("csrf", &signed_in_csrf)]).await;
        assert_eq!((status, location.as_deref()), (303, Some("/")));
        let (status, _, _) = me.get("/register").await;
        assert_eq!(status, 303, "signed out");
        app.stop().await;
    }
}

on_both_backends! {
    async fn a_session_ends_after_twelve_hours_or_when_its_token_is_revoked(backend: Backend) {
        let db = TestDb::new(backend).await;
        let clock = Arc::new(advice_log::app::ManualClock::new(chrono::Utc::now()));
        let app = TestApp::spawn_with_clock(&db, clock.clone()).await;
        let (_, admin) = app.bootstrap().await;
        let sign_in = |token: String| {
            let base = app.base.clone();
            async move {
                let mut v = Visitor::new(&base);
                let (_, html, _) = v.get("/sign-in").await;
                let csrf = csrf_of(&html);
                let (status, _, _) = v.post("/sign-in", &[("csrf", &csrf), ("token", &token)]).await;
                assert_eq!(status, 303);
                v
            }
        };
        let mut me = sign_in(admin.clone()).await;
        clock.advance(chrono::Duration::hours(11));
        assert_eq!(me.get("/register").await.0, 200, "still signed in after 11 hours");
        clock.advance(chrono::Duration::hours(2));
        assert_eq!(me.get("/register").await.0, 303, "the session ended after 12 hours");

        // Revoking the token a session was opened with ends the session.
        let mut me = sign_in(admin.clone()).await;
        assert_eq!(me.get("/register").await.0, 200);
        let (token_id, _) = advice_log::auth::parse(&admin).expect("a token");
        let actor = app.app.authenticate(&admin).await.expect("admin");
        let meta = advice_log::app::CommandMeta::new(advice_log::domain::Caller::Person(actor), None);
        app.app.revoke_token(&meta, token_id).await.expect("revoke");
        assert_eq!(me.get("/register").await.0, 303, "a revoked token's session ends");
        app.stop().await;
    }
}
