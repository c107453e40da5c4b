//! The directory's unit tests.

use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::domain::events::DomainEvent;
use crate::store::canonical::event_leaf_hash;

fn stored<E: DomainEvent>(position: u64, stream: String, event: &E) -> RecordedEvent {
    let (event_type, payload) = event.to_stored();
    let mut stored = RecordedEvent {
        position,
        event_id: Uuid::new_v4(),
        stream_id: stream,
        stream_version: position,
        event_type,
        schema_version: 1,
        payload,
        metadata: json!({}),
        recorded_at: Utc::now(),
        leaf_hash: [0; 32],
    };
    stored.leaf_hash = event_leaf_hash(&stored);
    stored
}

#[test]
fn membership_history_is_kept_when_people_leave_and_rejoin() {
    let (team, ann) = (TeamId::random(), PersonId::random());
    let mut directory = Directory::default();
    let events = [
        TeamEvent::TeamFormed {
            name: "Rota".into(),
        },
        TeamEvent::MemberJoined {
            person_id: ann,
            role: TeamRole::Member,
        },
        TeamEvent::MemberLeft { person_id: ann },
        TeamEvent::MemberJoined {
            person_id: ann,
            role: TeamRole::Coach,
        },
    ];
    for (i, event) in events.iter().enumerate() {
        directory
            .apply(&stored(i as u64 + 1, team.stream(), event))
            .expect("applies");
    }
    let view = directory.team(team).expect("team");
    assert_eq!(view.memberships.len(), 2);
    assert!(view.memberships[0].left_at.is_some());
    assert_eq!(view.role_of(ann), Some(TeamRole::Coach));
    assert_eq!(directory.teams_of(ann).len(), 1);
    assert_eq!(directory.position(), 4);
}

#[test]
fn tokens_are_found_by_id_and_revocation_sticks() {
    let (person, token) = (PersonId::random(), TokenId::random());
    let mut directory = Directory::default();
    directory
        .apply(&stored(
            1,
            person.stream(),
            &PersonEvent::PersonRegistered {
                name: "Ann".into(),
                email: "Ann@Example.org".into(),
                org_role: None,
            },
        ))
        .expect("applies");
    directory
        .apply(&stored(
            2,
            person.stream(),
            &PersonEvent::TokenIssued {
                token_id: token,
                secret_hash: "h".into(),
            },
        ))
        .expect("applies");
    assert_eq!(
        directory.token(token).map(|t| (t.person, t.revoked)),
        Some((person, false))
    );
    assert!(directory.email_taken("ann@example.org", None));
    assert!(
        directory.email_taken(" ANN@example.org", None),
        "in any case"
    );
    assert!(
        !directory.email_taken("ann@example.org", Some(person)),
        "not by someone else"
    );
    directory
        .apply(&stored(
            3,
            person.stream(),
            &PersonEvent::TokenRevoked { token_id: token },
        ))
        .expect("applies");
    assert!(directory.token(token).expect("token").revoked);
    // An event applied twice changes nothing.
    directory
        .apply(&stored(
            2,
            person.stream(),
            &PersonEvent::TokenIssued {
                token_id: token,
                secret_hash: "h".into(),
            },
        ))
        .expect("applies");
    assert!(directory.token(token).expect("token").revoked);
}

#[test]
fn an_unreadable_event_stops_the_directory_at_its_position() {
    let team = TeamId::random();
    let mut directory = Directory::default();
    let formed = TeamEvent::TeamFormed {
        name: "Rota".into(),
    };
    directory
        .apply(&stored(1, team.stream(), &formed))
        .expect("applies");
    let mut bad = stored(2, team.stream(), &formed);
    bad.payload = json!({ "name": 5 });
    let error = directory.apply(&bad).expect_err("does not decode");
    assert!(error.to_string().contains("position 2"), "{error}");
    assert_eq!(directory.position(), 1, "it does not move past it");
    let mut unknown = stored(2, "budget-x".into(), &formed);
    unknown.event_type = "BudgetTeleported".into();
    let error = directory.apply(&unknown).expect_err("unknown");
    assert!(error.to_string().contains("BudgetTeleported"), "{error}");
    assert_eq!(directory.position(), 1);
    // Another aggregate's known event in a stream is passed over.
    let mut foreign = stored(2, team.stream(), &formed);
    foreign.event_type = "SpendCommitted".into();
    directory.apply(&foreign).expect("passed over");
    assert_eq!(directory.position(), 2);
}
