//! The HTTP server: GraphQL, GraphiQL, health, bad requests, restarts.

use advice_log::store::{Append, ExpectedVersion};
use serde_json::json;

use crate::on_both_backends;
use crate::support::{event, TestApp, TestDb};

on_both_backends! {
    async fn graphql_graphiql_and_health_answer(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let (status, body) = app.graphql("{ __typename }").await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({ "data": { "__typename": "Query" } }));

        let get: serde_json::Value = app.client
            .get(format!("{}/graphql?query=%7B%20__typename%20%7D", app.base))
            .send().await.expect("GET /graphql")
            .json().await.expect("JSON");
        assert_eq!(get, json!({ "data": { "__typename": "Query" } }));

        let page = app.client.get(format!("{}/graphiql", app.base)).send().await.expect("GET /graphiql");
        assert_eq!(page.status().as_u16(), 200);
        assert!(page.text().await.expect("text").contains("graphiql"));

        let wide = format!("{{ {} }}", (0..6000).map(|i| format!("v{i}: version")).collect::<Vec<_>>().join(" "));
        let (_, body) = app.graphql(&wide).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("6000 aliases"), "{body}");

        let health = app.client.get(format!("{}/healthz", app.base)).send().await.expect("healthz");
        assert_eq!(health.status().as_u16(), 200);
        let ready: serde_json::Value = app.client
            .get(format!("{}/readyz", app.base))
            .send().await.expect("readyz")
            .json().await.expect("JSON");
        assert_eq!(ready, json!({ "status": "ready", "backend": backend.to_string() }));
        app.stop().await;
    }
}

on_both_backends! {
    async fn bad_requests_get_clear_errors_and_the_server_keeps_serving(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn_with_limit(&db, 64 * 1024).await;
        let url = format!("{}/graphql", app.base);

        for content_type in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let mut request = app.client.post(&url).body(r#"{"query": "{ __typename }"}"#);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let refused = request.send().await.expect("post");
            assert_eq!(refused.status().as_u16(), 415, "{content_type:?}");
            let body: serde_json::Value = refused.json().await.expect("JSON");
            assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
        }
        let charset = app.client.post(&url).header("content-type", "application/json; charset=utf-8").body(r#"{"query": "{ __typename }"}"#).send().await.expect("post");
        assert_eq!(charset.status().as_u16(), 200);

        let malformed = app.client.post(&url).header("content-type", "application/json").body("{ not json").send().await.expect("post");
        assert_eq!(malformed.status().as_u16(), 400);
        let body: serde_json::Value = malformed.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");

        // The server closes the connection after refusing the body; a client
        // of its own keeps that closed connection out of the shared pool.
        let oversized = reqwest::Client::new().post(&url).header("content-type", "application/json").body(vec![b' '; 200 * 1024]).send().await.expect("post");
        assert_eq!(oversized.status().as_u16(), 413);
        let body: serde_json::Value = oversized.json().await.expect("JSON");
        assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_INPUT");
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("65536 bytes"));

        let (status, body) = app.graphql("{ __typename ").await;
        assert_eq!(status, 200);
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("expected"), "{body}");

        let (_, body) = app.graphql("{ noSuchField }").await;
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("noSuchField"), "{body}");

        let deep = format!("{}{}", "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name ", "} } } } } } } } } } } } } } } } }");
        let (_, body) = app.graphql(&deep).await;
        assert!(body["errors"][0]["message"].as_str().expect("message").contains("nested too deep"), "{body}");

        let mutation = app.client.get(format!("{url}?query=mutation%20%7B%20x%20%7D")).send().await.expect("get");
        assert_eq!(mutation.status().as_u16(), 405);

        let (status, body) = app.graphql("{ __typename }").await;
        assert_eq!((status, body), (200, json!({ "data": { "__typename": "Query" } })));
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_log_survives_a_server_restart(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        for n in 0..3 {
            app.store
                .append(Append::to_stream("team-a", if n == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(n) }, vec![event(json!({"n": n}))]))
                .await
                .expect("append");
        }
        let before = app.store.read_all(0, 10).await.expect("read");
        app.stop().await;

        let app = TestApp::spawn(&db).await;
        assert_eq!(app.store.read_all(0, 10).await.expect("read"), before);
        let (status, _) = app.graphql("{ __typename }").await;
        assert_eq!(status, 200);
        app.stop().await;
    }
}

on_both_backends! {
    async fn the_pages_static_files_are_served_from_the_binary(backend: Backend) {
        let db = TestDb::new(backend).await;
        let app = TestApp::spawn(&db).await;
        let get = |path: &'static str| {
            let request = app.client.get(format!("{}{path}", app.base));
            async move { request.send().await.expect("GET an asset") }
        };
        for (path, kind, holds) in [
            ("/assets/nhsuk-frontend/nhsuk-frontend.min.css", "text/css", "--nhsuk-frontend-version:\"10.6.1\""),
            ("/assets/nhsuk-frontend/nhsuk-frontend.min.js", "text/javascript", "nhsuk"),
            ("/assets/nhsuk-frontend/LICENSE", "", "MIT License"),
            ("/assets/images/nhsuk-icon-cross.svg", "image/svg+xml", "<svg"),
            ("/assets/graphiql/graphiql.min.css", "text/css", "graphiql"),
        ] {
            let answer = get(path).await;
            assert_eq!(answer.status().as_u16(), 200, "{path}");
            let content_type = answer.headers()["content-type"].to_str().expect("type").to_string();
            assert!(content_type.starts_with(kind), "{path}: {content_type}");
            assert_eq!(answer.headers()["cache-control"], "public, max-age=86400");
            assert!(answer.text().await.expect("text").contains(holds), "{path}");
        }
        // Every image the stylesheet names is there.
        let css = get("/assets/nhsuk-frontend/nhsuk-frontend.min.css").await.text().await.expect("css");
        for url in css.split("url(/assets/").skip(1) {
            let file = &url[..url.find(')').expect("a closing bracket")];
            let answer = app.client.get(format!("{}/assets/{file}", app.base)).send().await.expect("image");
            assert_eq!(answer.status().as_u16(), 200, "{file}");
        }
        for missing in ["/assets/nope.css", "/assets/../Cargo.toml", "/assets/%2e%2e/Cargo.toml"] {
            assert_eq!(get(missing).await.status().as_u16(), 404, "{missing}");
        }
        app.stop().await;
    }
}
