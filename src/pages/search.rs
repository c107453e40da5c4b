//! `/search?q=`: proposals and decisions whose title, body or rationales
//! match, best first, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::error::{urlencode, PageError};
use super::format::{owner_link, owner_name};
use super::session::SignedIn;
use super::{Chrome, PagesState};
use crate::domain::proposal::{Outcome, Status};
use crate::projection::rows::Page;

/// Results on one page.
const PAGE_SIZE: u32 = 20;
/// The longest query read, in characters.
const LONGEST_QUERY: usize = 200;
/// How much of a body a result shows, in characters.
const EXCERPT: usize = 240;

/// What the search form sends.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: Option<u64>,
}

/// One result.
struct Hit {
    href: String,
    title: String,
    owner: String,
    owner_href: String,
    status: &'static str,
    excerpt: String,
}

/// The search page.
#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    hits: Vec<Hit>,
    searched: bool,
    next: Option<String>,
    from: u64,
}

/// `GET /search`.
pub async fn page(
    State(state): State<PagesState>,
    viewer: SignedIn,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let q: String = query.q.trim().chars().take(LONGEST_QUERY).collect();
    let skip = query.after.unwrap_or(0);
    let found = if q.is_empty() {
        Vec::new()
    } else {
        let page = Page {
            after: Some(skip),
            limit: PAGE_SIZE + 1,
        };
        state.app.projector.views().search(&q, page).await?
    };
    let more = found.len() > PAGE_SIZE as usize;
    let directory = state.app.read.directory();
    let hits = found
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|hit| {
            let p = &hit.proposal.state;
            let body = p.body();
            let mut excerpt: String = body.chars().take(EXCERPT).collect();
            if body.chars().count() > EXCERPT {
                excerpt.push('…');
            }
            Hit {
                href: format!("/proposals/{}", hit.proposal.id.0),
                title: p.title.clone(),
                owner: p
                    .owner
                    .map(|o| owner_name(&directory, o))
                    .unwrap_or_default(),
                owner_href: p.owner.map(owner_link).unwrap_or_default(),
                status: match (p.status, p.decision.as_ref().map(|d| d.outcome)) {
                    (Status::Decided, Some(Outcome::Adopted)) => "Adopted",
                    (Status::Decided, _) => "Rejected",
                    (Status::Withdrawn, _) => "Withdrawn",
                    _ => "Open",
                },
                excerpt,
            }
        })
        .collect();
    drop(directory);
    let next = more.then(|| {
        format!(
            "/search?q={}&after={}",
            urlencode(&q),
            skip + u64::from(PAGE_SIZE)
        )
    });
    let title = if q.is_empty() {
        "Search".to_string()
    } else {
        format!("Search: {q}")
    };
    let page = SearchPage {
        chrome: Chrome::new(&state, &viewer.session, Some(&viewer.actor), title, ""),
        searched: !q.is_empty(),
        q,
        hits,
        next,
        from: skip + 1,
    };
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}
