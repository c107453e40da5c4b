//! Search, the read model the web app's `/search` reads: proposals found
//! by title, current body and rationales, best first, paged once each; and
//! no query, however odd, is an error on either backend.

use std::sync::Arc;

use advice_log::domain::proposal::{Outcome, Owner, ProposalId, Rule};
use advice_log::domain::TeamId;
use advice_log::projection::rows::Page;
use advice_log::projection::ViewStore;

use crate::on_both_backends;
use crate::register_views::Log;

/// The proposals the search cases look for, by name.
pub(crate) struct Found {
    rota: ProposalId,
    parking: ProposalId,
    coffee: ProposalId,
    cafe: ProposalId,
    handovers: Vec<ProposalId>,
}

pub(crate) async fn searchable(log: &Log) -> Found {
    let team = Owner::Team(TeamId::random());
    let rota = log
        .raise(
            team,
            Rule::Advice,
            "Night rota swap",
            "Nurses trade shifts at weekends",
        )
        .await;
    log.advised(rota).await;
    log.decide(rota, Outcome::Adopted, "Staff asked for flexibility")
        .await;
    let parking = log
        .raise(
            team,
            Rule::Consent,
            "Parking permits",
            "A new rota for the car park barrier",
        )
        .await;
    let coffee = log
        .raise(team, Rule::Advice, "Coffee budget", "Buy a machine")
        .await;
    log.amend(coffee, 2, "Buy a kettle", "Cheaper option agreed")
        .await;
    log.decide(coffee, Outcome::Rejected, "Within the petty cash")
        .await;
    log.review(coffee, "Descaling schedule works").await;
    let cafe = log
        .raise(
            team,
            Rule::Advice,
            "Café opening",
            "Croissants from the bakery",
        )
        .await;
    let mut handovers = Vec::new();
    for n in 0..12 {
        let title = format!("Ward {n}");
        let body = "A written handover at every shift change";
        handovers.push(log.raise(team, Rule::Consent, &title, body).await);
    }
    Found {
        rota,
        parking,
        coffee,
        cafe,
        handovers,
    }
}

pub(crate) async fn search(views: &Arc<dyn ViewStore>, query: &str) -> Vec<ProposalId> {
    views
        .search(
            query,
            Page {
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("search {query:?}: {e}"))
        .into_iter()
        .map(|hit| hit.proposal.id)
        .collect()
}

on_both_backends! {
    async fn search_finds_titles_bodies_and_rationales_best_first(backend: Backend) {
        let log = Log::new(backend).await;
        let found = searchable(&log).await;
        let views = log.views();
        assert_eq!(search(views, "rota").await, [found.rota, found.parking], "a title match ranks above a body match");
        assert_eq!(search(views, "rota parking").await, [found.parking], "every word must match");
        assert_eq!(search(views, "flexibility").await, [found.rota], "the decision's rationale");
        assert_eq!(search(views, "swaps").await, [found.rota], "words are stemmed");
        assert_eq!(search(views, "night ro").await, [found.rota], "the last word as a prefix");
        assert_eq!(search(views, "kettle").await, [found.coffee], "the current body");
        assert!(search(views, "machine").await.is_empty(), "not the body amended away");
        assert_eq!(search(views, "cheaper").await, [found.coffee], "an amendment's reason");
        assert_eq!(search(views, "descaling").await, [found.coffee], "a review's note");
        assert_eq!(search(views, "Café").await, [found.cafe]);
        assert_eq!(search(views, "NIGHT").await, [found.rota], "any case");

        // Paging by how many were shown: each hit once, in the same order.
        let whole = search(views, "handover").await;
        let mut sorted = whole.clone();
        sorted.sort();
        let mut expected = found.handovers.clone();
        expected.sort();
        assert_eq!(sorted, expected);
        let mut seen = Vec::new();
        loop {
            let page = Page { after: Some(seen.len() as u64), limit: 5 };
            let hits = views.search("handover", page).await.expect("page");
            if hits.is_empty() {
                break;
            }
            assert!(hits.len() <= 5);
            assert!(hits.windows(2).all(|w| w[0].rank >= w[1].rank), "best first");
            seen.extend(hits.into_iter().map(|hit| hit.proposal.id));
        }
        assert_eq!(seen, whole);
        log.storage.close().await;
    }
}

on_both_backends! {
    async fn hostile_search_queries_answer_without_error(backend: Backend) {
        let log = Log::new(backend).await;
        let found = searchable(&log).await;
        let views = log.views();
        let long = "rota ".repeat(100);
        let word = "x".repeat(3000);
        let mixed: String = "ab\"*( ".chars().cycle().take(500).collect();
        for query in [
            "", " ", "\"", "\"\"", "*", "rota*", "AND OR NOT (", "NEAR", "NEAR(rota parking)",
            "rota NEAR/2 parking", "title:rota", "-rota", "rota -night", "\"rota", "rota\"",
            "(rota)", "{rota}", "^rota", "rota:*", "'", "''", "!rota", "rota & | !", "\\",
            "%", "_", "日本語", "🦀 rota", "ünïcödé", "\u{200b}", "\t\n", "rota\u{0}night",
            "\u{7f}", "a'b", "e'rota", long.as_str(), word.as_str(), mixed.as_str(), "<->",
            "rota <-> night", "rota OR", "OR rota", "rota AND", "ǅ Ⅻ x² ١٢",
        ] {
            let answer = views.search(query, Page { after: None, limit: 10 }).await;
            assert!(answer.is_ok(), "{query:?}: {answer:?}");
        }
        assert!(search(views, "").await.is_empty());
        assert!(search(views, "\" * (").await.is_empty());
        assert_eq!(search(views, "\"rota").await, [found.rota, found.parking], "a stray quote is no error");
        assert_eq!(search(views, &long).await, [found.rota, found.parking]);
        let far = Page { after: Some(u64::MAX), limit: 10 };
        assert!(views.search("rota", far).await.expect("far page").is_empty());
        log.storage.close().await;
    }
}
