//! Two servers on one PostgreSQL database behave as one (issue 15, first
//! step): both projectors follow the log, but an event is applied to the
//! shared read models exactly once, whichever server gets there first.

use std::time::Duration;

use serde_json::{json, Value};

use crate::hostile::Team;
use crate::support::{TestApp, TestDb};

const RAISE: &str =
    "mutation($i: RaiseProposalInput!) { raiseProposal(input: $i) { proposal { id } position } }";
const ASK: &str = "mutation($i: RequestAdviceInput!) { requestAdvice(input: $i) { position } }";
const LIST: &str = "query($t: ID!) { team(id: $t) { proposals(first: 100) { edges { node { id title advisers { nodes { id } } } } }
    stats { proposalsRaised decisionsMade } } }";

/// Waits until `app`'s read models have applied everything in the log.
async fn settled(app: &TestApp) {
    let head = app.store.head().await.expect("head");
    assert!(
        app.app.wait_for(head, Duration::from_secs(10)).await,
        "the read models reach {head}: {:?}",
        app.app.projector.stall()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_servers_apply_each_event_once_and_answer_alike() {
    let db = TestDb::new(advice_log::store::Backend::Postgres).await;
    let team = Team::new(&db).await;
    let second = TestApp::spawn(&db).await;
    settled(&second).await;
    let servers = [&team.app, &second];
    let members: Vec<String> = team
        .app
        .ok(
            &team.admin,
            "query($t: ID!) { team(id: $t) { members { nodes { person { id } } } } }",
            json!({"t": team.team}),
        )
        .await["team"]["members"]["nodes"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["person"]["id"].as_str().expect("id").to_string())
        .collect();
    // Writes alternate between the servers, each followed at once by a
    // read-your-writes query on the other.
    let mut ids = Vec::new();
    for n in 0..24 {
        let (writer, reader) = (servers[n % 2], servers[(n + 1) % 2]);
        let input = json!({"i": {"teamId": team.team, "title": format!("Rota {n}"), "body": "Swap nights.", "rule": "ADVICE"}});
        let raised = writer.ok(&team.member, RAISE, input).await;
        let id = raised["raiseProposal"]["proposal"]["id"]
            .as_str()
            .expect("id")
            .to_string();
        let ask =
            json!({"i": {"proposalId": id, "personId": members[1 + n % 3], "reason": "AFFECTED"}});
        let position = reader.ok(&team.member, ASK, ask).await["requestAdvice"]["position"]
            .as_u64()
            .expect("position");
        assert!(
            writer.app.wait_for(position, Duration::from_secs(5)).await,
            "read-your-writes on the other server"
        );
        ids.push(id);
    }
    for server in servers {
        settled(server).await;
        assert_eq!(server.app.projector.stall(), None);
        assert_eq!(server.readyz().await.0, 200);
    }
    let answers: Vec<Value> = futures::future::join_all(
        servers
            .iter()
            .map(|s| s.ok(&team.member, LIST, json!({"t": team.team}))),
    )
    .await;
    assert_eq!(answers[0], answers[1], "both servers answer alike");
    let edges = answers[0]["team"]["proposals"]["edges"]
        .as_array()
        .expect("edges");
    assert_eq!(edges.len(), ids.len());
    for edge in edges {
        assert_eq!(
            edge["node"]["advisers"]["nodes"].as_array().map(Vec::len),
            Some(1),
            "no adviser twice: {edge}"
        );
    }
    assert_eq!(answers[0]["team"]["stats"]["proposalsRaised"], ids.len());

    // Exactly one server leads; when it stops, the other takes over and
    // read-your-writes keeps working there.
    let leaders: Vec<bool> = servers
        .iter()
        .map(|s| s.store.leadership().is_leader())
        .collect();
    assert_eq!(
        leaders.iter().filter(|l| **l).count(),
        1,
        "one leader: {leaders:?}"
    );
    let Team {
        app: first,
        member,
        team: team_id,
        ..
    } = team;
    let (leader, survivor) = if leaders[0] {
        (first, second)
    } else {
        (second, first)
    };
    leader.stop().await;
    let stopped = std::time::Instant::now();
    let input = json!({"i": {"teamId": team_id, "title": "After the failover", "body": "b", "rule": "ADVICE"}});
    let position = survivor.ok(&member, RAISE, input).await["raiseProposal"]["position"]
        .as_u64()
        .expect("position");
    assert!(
        survivor
            .app
            .wait_for(position, Duration::from_secs(10))
            .await,
        "the survivor applies what it wrote"
    );
    eprintln!(
        "failover: the survivor applied a new write {:?} after the leader stopped",
        stopped.elapsed()
    );
    assert!(
        survivor.store.leadership().is_leader(),
        "the survivor leads"
    );
    survivor.stop().await;

    // The shared read models equal a rebuild from the log.
    db.assert_views_equal_a_rebuild().await;
}
