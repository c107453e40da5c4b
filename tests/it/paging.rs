//! Every kind of connection pages both ways, on both backends: walked
//! forward two at a time with `first`/`after` and backward with
//! `last`/`before`, each list gives the same items in the same order, with
//! `pageInfo` as the Relay cursor connections specification says. Lists
//! paged in the database (the event log, the delivery log, the read models)
//! and lists held in memory are both walked.

use serde_json::{json, Value};

use crate::on_both_backends;
use crate::proposals::{station, Station};
use crate::support::error_code;
use crate::support::TestDb;

/// The items of one page, by `key`, and its page info.
fn items(connection: &Value, key: &str) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("edges in {connection}"))
        .iter()
        .map(|e| e["node"][key].clone())
        .collect()
}

/// Walks the connection at `path` of `query` (which takes `$first`, `$after`,
/// `$last` and `$before` besides `vars`) forward and backward, two at a
/// time, checks both walks agree, and answers the items in list order.
async fn walk(
    s: &Station,
    token: &str,
    query: &str,
    vars: Value,
    path: &[&str],
    key: &str,
) -> Vec<Value> {
    let page = |first: Option<u32>, after: Value, last: Option<u32>, before: Value| {
        let mut vars = vars.clone();
        let extra = json!({"first": first, "after": after, "last": last, "before": before});
        if let (Some(vars), Some(extra)) = (vars.as_object_mut(), extra.as_object()) {
            vars.extend(extra.clone());
        }
        async move {
            let mut data = s.app.ok(token, query, vars).await;
            for step in path {
                data = data[*step].clone();
            }
            data
        }
    };
    let mut forward = Vec::new();
    let mut after = Value::Null;
    loop {
        let connection = page(Some(2), after.clone(), None, Value::Null).await;
        let info = &connection["pageInfo"];
        assert_eq!(
            info["hasPreviousPage"],
            !after.is_null(),
            "{query}: {connection}"
        );
        forward.extend(items(&connection, key));
        if info["hasNextPage"] != true {
            break;
        }
        assert_eq!(connection["edges"].as_array().map(Vec::len), Some(2));
        after = info["endCursor"].clone();
    }
    let mut backward = Vec::new();
    let mut before = Value::Null;
    loop {
        let connection = page(None, Value::Null, Some(2), before.clone()).await;
        let info = &connection["pageInfo"];
        assert_eq!(
            info["hasNextPage"],
            !before.is_null(),
            "{query}: {connection}"
        );
        let mut got = items(&connection, key);
        got.extend(backward);
        backward = got;
        if info["hasPreviousPage"] != true {
            break;
        }
        before = info["startCursor"].clone();
    }
    assert_eq!(
        forward, backward,
        "{query}: forward and backward walks differ"
    );
    // Between two cursors: everything strictly inside.
    if forward.len() >= 4 {
        let all = page(Some(500), Value::Null, None, Value::Null).await;
        let edges = all["edges"].as_array().expect("edges");
        let (from, to) = (edges[0]["cursor"].clone(), edges[3]["cursor"].clone());
        let inside = page(None, from, Some(500), to).await;
        assert_eq!(
            items(&inside, key),
            forward[1..3].to_vec(),
            "{query}: between cursors"
        );
    }
    forward
}

on_both_backends! {
    async fn every_connection_pages_forward_and_backward_alike(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let mut ids = Vec::new();
        for n in 1..=5 {
            let id = s.raise("ADVICE", json!({"title": format!("Proposal {n}")})).await;
            s.ok(&s.ann, "requestAdvice", "RequestAdviceInput", json!({"proposalId": id, "personId": s.expert.id, "reason": "EXPERT"})).await;
            ids.push(id);
        }
        let first = ids[0].clone();
        for (who, text) in [(&s.bob, "one"), (&s.cat, "two"), (&s.dee, "three"), (&s.expert, "four"), (&s.nurse, "five")] {
            s.ok(who, "giveAdvice", "GiveAdviceInput", json!({"proposalId": first, "stance": "SUPPORT", "text": text})).await;
        }
        let admin = s.admin.clone();
        // The lists below are read models: let them apply every write first.
        let head = s.app.store.head().await.expect("head");
        assert!(s.app.app.wait_for(head, std::time::Duration::from_secs(10)).await);

        // In the database: a team's proposals (newest first).
        let query = "query($t: ID!, $first: Int, $after: String, $last: Int, $before: String) { team(id: $t) { proposals(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
        let titles = walk(&s, &s.coach.token, query, json!({"t": s.team}), &["team", "proposals"], "title").await;
        let newest_first: Vec<Value> = (1..=5).rev().map(|n| json!(format!("Proposal {n}"))).collect();
        assert_eq!(titles, newest_first);

        // In the database: the expert's requests for advice (oldest first).
        let query = "query($first: Int, $after: String, $last: Int, $before: String) { myAdviceRequests(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { proposal { id } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
        let asked = walk(&s, &s.expert.token, query, json!({}), &["myAdviceRequests"], "proposal").await;
        assert_eq!(asked.len(), 4, "the expert answered one of five: {asked:?}");

        // In the database: the whole event log.
        let query = "query($first: Int, $after: String, $last: Int, $before: String) { events(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { position } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
        let positions = walk(&s, &admin, query, json!({}), &["events"], "position").await;
        let head = s.app.store.head().await.expect("head");
        let expected: Vec<Value> = (1..=head).map(|p| json!(p)).collect();
        assert_eq!(positions, expected);

        // In the database: the delivery log (newest first).
        let query = "query($first: Int, $after: String, $last: Int, $before: String) { notificationDeliveries(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
        walk(&s, &admin, query, json!({}), &["notificationDeliveries"], "id").await;

        // In memory: teams, a team's members, a proposal's advice.
        let query = "query($first: Int, $after: String, $last: Int, $before: String) { teams(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
        let teams = walk(&s, &admin, query, json!({}), &["teams"], "name").await;
        assert_eq!(teams, [json!("North ambulance station"), json!("Community nursing")]);
        let query = "query($t: ID!, $first: Int, $after: String, $last: Int, $before: String) { team(id: $t) { members(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { role } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
        let roles = walk(&s, &admin, query, json!({"t": s.team}), &["team", "members"], "role").await;
        assert_eq!(roles, ["MEMBER", "MEMBER", "MEMBER", "MEMBER", "COACH"].map(|r| json!(r)));
        let query = "query($p: ID!, $first: Int, $after: String, $last: Int, $before: String) { proposal(id: $p) { advice(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { text } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";
        let texts = walk(&s, &admin, query, json!({"p": first}), &["proposal", "advice"], "text").await;
        assert_eq!(texts, ["one", "two", "three", "four", "five"].map(|t| json!(t)));

        // Both directions at once, a negative count or a foreign string is INVALID_INPUT.
        for (args, what) in [("first: 1, last: 1", "first and last"), ("last: -1", "a negative last"), ("before: \"nope\"", "a bad cursor")] {
            let (_, body) = s.app.graphql_as(Some(&admin), &format!("{{ teams({args}) {{ edges {{ cursor }} }} }}"), json!({})).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{what}: {body}");
            let (_, body) = s.app.graphql_as(Some(&admin), &format!("{{ events({args}) {{ edges {{ cursor }} }} }}"), json!({})).await;
            assert_eq!(error_code(&body), Some("INVALID_INPUT"), "{what}: {body}");
        }
        s.app.stop().await;
    }
}

/// The selection of a connection's page, with the paging variables.
const PAGE: &str = "(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { %s } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }";
const VARS: &str = "$first: Int, $after: String, $last: Int, $before: String";

/// The names of `teams` given as `[{"name": …}]` values.
fn names(list: &[&str]) -> Vec<Value> {
    list.iter().map(|n| json!({ "name": n })).collect()
}

on_both_backends! {
    async fn directory_lists_page_both_ways_with_stable_cursors(backend: Backend) {
        let db = TestDb::new(backend).await;
        let s = station(&db).await;
        let admin = s.admin.clone();
        let mutate = |query: &'static str, input: Value| {
            let admin = admin.clone();
            let app = &s.app;
            async move { app.ok(&admin, query, json!({ "input": input })).await }
        };
        let form_team = "mutation($input: FormTeamInput!) { formTeam(input: $input) { team { id } } }";
        let join_team = "mutation($input: JoinTeamInput!) { joinTeam(input: $input) { position } }";
        let leave_team = "mutation($input: LeaveTeamInput!) { leaveTeam(input: $input) { position } }";
        let form_group = "mutation($input: FormGroupInput!) { formGroup(input: $input) { group { id } } }";
        let join_group = "mutation($input: GroupTeamInput!) { joinGroup(input: $input) { position } }";
        let leave_group = "mutation($input: GroupTeamInput!) { leaveGroup(input: $input) { position } }";

        // The expert joins five new teams and leaves the second.
        let mut teams = Vec::new();
        for n in 1..=5 {
            let id = mutate(form_team, json!({"name": format!("Team {n}")})).await["formTeam"]["team"]["id"].clone();
            let role = if n == 3 { "COACH" } else { "MEMBER" };
            mutate(join_team, json!({"teamId": id, "personId": s.expert.id, "role": role})).await;
            teams.push(id);
        }
        mutate(leave_team, json!({"teamId": teams[1], "personId": s.expert.id})).await;
        let query = format!("query({VARS}) {{ me {{ teams{} }} }}", PAGE.replace("%s", "team { name } role"));
        let mine = walk(&s, &s.expert.token, &query, json!({}), &["me", "teams"], "team").await;
        assert_eq!(mine, names(&["Team 1", "Team 3", "Team 4", "Team 5"]));
        let roles = walk(&s, &s.expert.token, &query, json!({}), &["me", "teams"], "role").await;
        assert_eq!(roles, ["MEMBER", "COACH", "MEMBER", "MEMBER"].map(|r| json!(r)));

        // The station is in five groups; the first is formed with teams 1
        // and 2 and the station, then teams 4 and 5 join.
        let mut groups = Vec::new();
        for n in 1..=5 {
            let founders = if n == 1 { json!([teams[0], teams[1], s.team]) } else { json!([s.team]) };
            let id = mutate(form_group, json!({"name": format!("Group {n}"), "teamIds": founders, "mandate": ["rota"]})).await["formGroup"]["group"]["id"].clone();
            groups.push(id);
        }
        for team in [&teams[3], &teams[4]] {
            mutate(join_group, json!({"groupId": groups[0], "teamId": team})).await;
        }
        let query = format!("query($t: ID!, {VARS}) {{ team(id: $t) {{ groups{} }} }}", PAGE.replace("%s", "name"));
        let theirs = walk(&s, &admin, &query, json!({"t": s.team}), &["team", "groups"], "name").await;
        assert_eq!(theirs, (1..=5).map(|n| json!(format!("Group {n}"))).collect::<Vec<_>>());

        // The station's cursor in the first group's teams outlives team 2
        // leaving before it and joining again after.
        let query = format!("query($g: ID!, {VARS}) {{ group(id: $g) {{ teams{} }} }}", PAGE.replace("%s", "name"));
        let all = s.app.ok(&admin, &query, json!({"g": groups[0]})).await;
        let station = all["group"]["teams"]["edges"][2].clone();
        assert_eq!(station["node"]["name"], "North ambulance station", "{all}");
        mutate(leave_group, json!({"groupId": groups[0], "teamId": teams[1]})).await;
        mutate(join_group, json!({"groupId": groups[0], "teamId": teams[1]})).await;
        let after = s.app.ok(&admin, &query, json!({"g": groups[0], "first": 2, "after": station["cursor"]})).await;
        assert_eq!(items(&after["group"]["teams"], "name"), ["Team 4", "Team 5"].map(|n| json!(n)));
        let before = s.app.ok(&admin, &query, json!({"g": groups[0], "last": 5, "before": station["cursor"]})).await;
        assert_eq!(items(&before["group"]["teams"], "name"), [json!("Team 1")]);
        assert_eq!(before["group"]["teams"]["pageInfo"]["hasPreviousPage"], false);
        let members = walk(&s, &admin, &query, json!({"g": groups[0]}), &["group", "teams"], "name").await;
        assert_eq!(members, ["Team 1", "North ambulance station", "Team 4", "Team 5", "Team 2"].map(|n| json!(n)));
        s.app.stop().await;
    }
}
