//! Item 12: the web app's pages on the real server at each log size, next
//! to the GraphQL page they replace (a team's first 20 decisions): the
//! home page (what needs me now), a team's page and the register, each
//! signed in through `/sign-in` as a person would.

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::{json, Value};

use crate::{graphql, percentile};

/// One log size's page latencies, in milliseconds (p50, p99).
pub struct PageRow {
    /// Events in the log.
    pub events: u64,
    /// The GraphQL decisions page the pages replace.
    pub api: (f64, f64),
    /// `/`.
    pub home: (f64, f64),
    /// `/teams/{id}`.
    pub team: (f64, f64),
    /// `/register`.
    pub register: (f64, f64),
}

/// Signs in through the sign-in form and answers the session cookie.
pub async fn sign_in(client: &reqwest::Client, base: &str, token: &str) -> String {
    let form = client
        .get(format!("{base}/sign-in"))
        .send()
        .await
        .expect("sign-in page");
    let cookie = session_cookie(form.headers()).expect("a session cookie");
    let html = form.text().await.expect("html");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_string();
    let answer = client
        .post(format!("{base}/sign-in"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("token", token), ("next", "/")])
        .send()
        .await
        .expect("sign in");
    session_cookie(answer.headers()).expect("signed in")
}

fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("advice_log_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

/// p50 and p99 of `samples` GETs of `path` with the session `cookie`.
pub async fn page_latencies(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
    path: &str,
    samples: usize,
) -> (f64, f64) {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let answer = client
            .get(format!("{base}{path}"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("page");
        let status = answer.status();
        let body = answer.bytes().await.expect("body");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{path} answered {status}");
        std::hint::black_box(body);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

/// Measures the pages and the API page on a running server.
pub async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    team: &str,
    events: u64,
    samples: usize,
) -> PageRow {
    // The sign-in answers 303 with the cookie: read it there, unfollowed.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cookie = sign_in(&browser, base, token).await;
    let api_query: Value = json!({"query": "query($t: ID!) { team(id: $t) { decisions(first: 20) { edges { node { id title decision { outcome rationale } compliance { adviceProcessFollowed } } } } } }", "variables": {"t": team}});
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let answer = graphql(client, base, token, &api_query).await;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let api = (percentile(&times, 0.5), percentile(&times, 0.99));
    // Warm each page once, as the API page was warmed.
    for path in ["/", &format!("/teams/{team}"), "/register"] {
        page_latencies(client, base, &cookie, path, 1).await;
    }
    PageRow {
        events,
        api,
        home: page_latencies(client, base, &cookie, "/", samples).await,
        team: page_latencies(client, base, &cookie, &format!("/teams/{team}"), samples).await,
        register: page_latencies(client, base, &cookie, "/register", samples).await,
    }
}

/// Item 12's table.
pub fn report(rows: &[PageRow], report: &mut String) {
    let _ = writeln!(report, "\n### 12. Pages at each log size (the real server, signed in through `/sign-in`)\n\n| events | API decisions page p50 / p99 ms | home `/` p50 / p99 ms | team page p50 / p99 ms | register p50 / p99 ms | slowest page p50 / API p50 |\n| ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in rows {
        let slowest = row.home.0.max(row.team.0).max(row.register.0);
        let _ = writeln!(
            report,
            "| {} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} | **{:.2}** |",
            row.events,
            row.api.0,
            row.api.1,
            row.home.0,
            row.home.1,
            row.team.0,
            row.team.1,
            row.register.0,
            row.register.1,
            slowest / row.api.0.max(0.001)
        );
    }
    let _ = writeln!(report, "\nTarget: a page renders as fast as the API page it replaces (slowest page p50 / API p50 near 1). The API page asks for a team's first 20 decisions with their verdicts; the team page shows its open proposals, its 20 latest decisions with verdicts, its members and its statistics; the register shows 50 decisions across every team with each failing check; the home page gathers the person's work.");
}
