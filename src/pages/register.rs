//! `/register`: every decision, newest first, filtered by team, group,
//! rule, dates and failing checks; `/register.csv` the same rows as CSV,
//! one per decision with a column per check.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{urlencode, PageError};
use super::format::{owner_link, owner_name, person_name};
use super::forms::parse_local;
use super::session::SignedIn;
use super::{Chrome, FormErrors, PagesState, SelectOption};
use crate::domain::proposal::compliance::compliance;
use crate::domain::proposal::rules::CheckName;
use crate::domain::proposal::{Outcome, Owner, Rule};
use crate::domain::{GroupId, TeamId};
use crate::projection::projected::ProjectedProposal;
use crate::projection::rows::{Page, RegisterFilter, ANY_FAILING_CHECK};

/// Decisions on one page of the register.
const PAGE_SIZE: u32 = 50;
/// Decisions read at a time for the CSV.
const CSV_BATCH: u32 = 500;
/// Every check, in the order the CSV's columns show them.
const CHECKS: [CheckName; 9] = [
    CheckName::AdviceSought,
    CheckName::AdvisersHeard,
    CheckName::FairWindow,
    CheckName::ViewsWeighed,
    CheckName::ObjectionWindow,
    CheckName::ObjectionsResolved,
    CheckName::ThresholdMet,
    CheckName::WithinMandate,
    CheckName::WithinBudget,
];

/// The register's filters, as the filter form sends them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    team: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    after: Option<u64>,
}

impl Filters {
    /// The filter for the read models, or the errors beside the fields.
    fn read(&self, state: &PagesState) -> Result<RegisterFilter, FormErrors> {
        let mut errors = FormErrors::default();
        let mut filter = RegisterFilter::default();
        if let Ok(id) = Uuid::try_parse(self.team.trim()) {
            filter.owners.push(Owner::Team(TeamId(id)));
        }
        if let Ok(id) = Uuid::try_parse(self.group.trim()) {
            filter.owners.push(Owner::Group(GroupId(id)));
        }
        filter.rule = match self.rule.as_str() {
            "ADVICE" | "CONSENT" | "THRESHOLD" => Some(self.rule.clone()),
            _ => None,
        };
        if !self.from.trim().is_empty() {
            match parse_local(&self.from, "00:00", state.time_zone) {
                Ok(at) => filter.decided_from = Some(at),
                Err(message) => errors.add("from", message),
            }
        }
        if !self.to.trim().is_empty() {
            match parse_local(&self.to, "00:00", state.time_zone) {
                // The whole of the last day counts.
                Ok(at) => filter.decided_to = Some(at + Duration::days(1)),
                Err(message) => errors.add("to", message),
            }
        }
        if let (Some(from), Some(to)) = (filter.decided_from, filter.decided_to) {
            if to <= from {
                errors.add("to", "The last day must be on or after the first day");
            }
        }
        filter.failing_check = match self.check.as_str() {
            "" => None,
            ANY_FAILING_CHECK => Some(ANY_FAILING_CHECK.to_string()),
            name => CHECKS
                .iter()
                .find(|c| c.as_str() == name)
                .map(|c| c.as_str().to_string()),
        };
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(errors)
        }
    }

    /// The same filters as a query string (without the page).
    fn query(&self) -> String {
        [
            ("team", &self.team),
            ("group", &self.group),
            ("rule", &self.rule),
            ("from", &self.from),
            ("to", &self.to),
            ("check", &self.check),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// One decision of the register.
struct Row {
    href: String,
    audit_href: String,
    title: String,
    owner: String,
    owner_href: String,
    rule: String,
    outcome: &'static str,
    decided: String,
    followed: bool,
    failing: Vec<&'static str>,
}

/// The register page.
#[derive(Template)]
#[template(path = "pages/register.html")]
struct RegisterPage {
    chrome: Chrome,
    errors: FormErrors,
    filters: Filters,
    teams: Vec<SelectOption>,
    groups: Vec<SelectOption>,
    rules: Vec<SelectOption>,
    checks: Vec<SelectOption>,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    csv: String,
}

fn rule_words(rule: Option<Rule>, threshold_bp: Option<u32>) -> String {
    match (rule, threshold_bp) {
        (Some(Rule::Threshold), Some(bp)) => format!("{}% of members", bp / 100),
        (Some(Rule::Threshold), None) => "Threshold".into(),
        (Some(Rule::Consent), _) => "Consent".into(),
        (Some(Rule::Advice), _) => "Advice".into(),
        (None, _) => String::new(),
    }
}

fn rule_name(rule: Option<Rule>) -> &'static str {
    match rule {
        Some(Rule::Advice) => "ADVICE",
        Some(Rule::Consent) => "CONSENT",
        Some(Rule::Threshold) => "THRESHOLD",
        None => "",
    }
}

fn outcome_name(p: &ProjectedProposal) -> &'static str {
    match p.state.decision.as_ref().map(|d| d.outcome) {
        Some(Outcome::Adopted) => "ADOPTED",
        Some(Outcome::Rejected) => "REJECTED",
        None => "",
    }
}

fn decided_at(p: &ProjectedProposal) -> Option<DateTime<Utc>> {
    p.state.decision.as_ref().map(|d| d.at)
}

/// `GET /register`.
pub async fn page(
    State(state): State<PagesState>,
    viewer: SignedIn,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let (errors, found) = match filters.read(&state) {
        Ok(filter) => {
            let page = Page {
                after: filters.after,
                limit: PAGE_SIZE + 1,
            };
            let found = state.app.projector.views().register(&filter, page).await?;
            (FormErrors::default(), found)
        }
        Err(errors) => (errors, Vec::new()),
    };
    let more = found.len() > PAGE_SIZE as usize;
    let f = state.formatter();
    let directory = state.app.read.directory();
    let rows: Vec<Row> = found
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|p| {
            let verdict = compliance(&p.state, f.now());
            Row {
                href: format!("/proposals/{}", p.id.0),
                audit_href: format!("/audit/proposals/{}", p.id.0),
                title: p.state.title.clone(),
                owner: p
                    .state
                    .owner
                    .map(|o| owner_name(&directory, o))
                    .unwrap_or_default(),
                owner_href: p.state.owner.map(owner_link).unwrap_or_default(),
                rule: rule_words(p.state.rule, p.state.threshold_bp),
                outcome: match outcome_name(p) {
                    "ADOPTED" => "Adopted",
                    _ => "Rejected",
                },
                decided: decided_at(p).map(|at| f.date(at)).unwrap_or_default(),
                followed: verdict.advice_process_followed,
                failing: verdict
                    .checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.name.label())
                    .collect(),
            }
        })
        .collect();
    let query = filters.query();
    let next = if more {
        found
            .get(PAGE_SIZE as usize - 1)
            .and_then(|p| p.decided_position)
            .map(|after| {
                if query.is_empty() {
                    format!("/register?after={after}")
                } else {
                    format!("/register?{query}&after={after}")
                }
            })
    } else {
        None
    };
    let first = filters.after.map(|_| {
        if query.is_empty() {
            "/register".to_string()
        } else {
            format!("/register?{query}")
        }
    });
    let csv = if query.is_empty() {
        "/register.csv".to_string()
    } else {
        format!("/register.csv?{query}")
    };
    let mut teams = vec![SelectOption::new("", "Every team", &filters.team)];
    teams.extend(
        directory
            .teams()
            .map(|t| SelectOption::new(t.id.0.to_string(), t.name.clone(), &filters.team)),
    );
    let mut groups = vec![SelectOption::new("", "Every group", &filters.group)];
    groups.extend(
        directory
            .groups()
            .map(|g| SelectOption::new(g.id.0.to_string(), g.name.clone(), &filters.group)),
    );
    drop(directory);
    let rules = [
        ("", "Every rule"),
        ("ADVICE", "Advice"),
        ("CONSENT", "Consent"),
        ("THRESHOLD", "Threshold"),
    ]
    .into_iter()
    .map(|(v, l)| SelectOption::new(v, l, &filters.rule))
    .collect();
    let mut checks = vec![
        SelectOption::new("", "Any result", &filters.check),
        SelectOption::new(ANY_FAILING_CHECK, "Any check failed", &filters.check),
    ];
    checks.extend(
        CHECKS.iter().map(|c| {
            SelectOption::new(c.as_str(), format!("Failed: {}", c.label()), &filters.check)
        }),
    );
    let chrome = Chrome::new(
        &state,
        &viewer.session,
        Some(&viewer.actor),
        "Register of decisions",
        "/register",
    )
    .with_errors(&errors);
    let page = RegisterPage {
        chrome,
        errors,
        filters,
        teams,
        groups,
        rules,
        checks,
        rows,
        next,
        first,
        csv,
    };
    let html = page
        .render()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(html).into_response())
}

/// `GET /register.csv`: every decision the filters pass, one row each.
pub async fn csv(
    State(state): State<PagesState>,
    viewer: SignedIn,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let _ = viewer;
    let filter = filters.read(&state).map_err(|e| {
        PageError::BadForm(
            e.list()
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if super::session::over_https(&headers) {
        "https"
    } else {
        "http"
    };
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut head: Vec<&str> = vec![
        "title",
        "owner",
        "rule",
        "proposer",
        "decider",
        "raised_at",
        "decided_at",
        "outcome",
    ];
    head.extend(CHECKS.iter().map(|c| c.as_str()));
    head.extend(["notes", "link"]);
    let bad = |e: csv::Error| PageError::Internal(e.to_string());
    out.write_record(&head).map_err(bad)?;
    let f = state.formatter();
    let zone = state.time_zone;
    let stamp = |at: DateTime<Utc>| {
        at.with_timezone(&zone)
            .format("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    let mut after = None;
    loop {
        let batch = state
            .app
            .projector
            .views()
            .register(
                &filter,
                Page {
                    after,
                    limit: CSV_BATCH,
                },
            )
            .await?;
        let directory = state.app.read.directory();
        for p in &batch {
            let verdict = compliance(&p.state, f.now());
            let mut record: Vec<String> = vec![
                p.state.title.clone(),
                p.state
                    .owner
                    .map(|o| owner_name(&directory, o))
                    .unwrap_or_default(),
                match (p.state.rule, p.state.threshold_bp) {
                    (Some(Rule::Threshold), Some(bp)) => format!("THRESHOLD {}%", bp / 100),
                    (other, _) => rule_name(other).to_string(),
                },
                p.state
                    .proposer
                    .map(|id| person_name(&directory, id))
                    .unwrap_or_default(),
                p.decided_by
                    .or(p.state.decider)
                    .map(|id| person_name(&directory, id))
                    .unwrap_or_default(),
                p.state.raised_at.map(stamp).unwrap_or_default(),
                decided_at(p).map(stamp).unwrap_or_default(),
                outcome_name(p).to_string(),
            ];
            for check in CHECKS {
                record.push(
                    match verdict.checks.iter().find(|c| c.name == check) {
                        Some(c) if c.passed => "PASSED",
                        Some(_) => "FAILED",
                        None => "",
                    }
                    .to_string(),
                );
            }
            record.push(
                p.state
                    .decision
                    .as_ref()
                    .map_or(0, |d| d.notes.len())
                    .to_string(),
            );
            record.push(format!("{scheme}://{host}/proposals/{}", p.id.0));
            out.write_record(&record).map_err(bad)?;
        }
        drop(directory);
        match batch.last().and_then(|p| p.decided_position) {
            Some(last) if batch.len() == CSV_BATCH as usize => after = Some(last),
            _ => break,
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"register.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}
