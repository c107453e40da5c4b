//! How pages show things: times in the organisation's time zone (and
//! relative where it helps), money in pounds, people and teams by name.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::proposal::Owner;
use crate::domain::PersonId;
use crate::read::directory::Directory;

/// Shows times in one time zone, relative to one moment.
#[derive(Debug, Clone, Copy)]
pub struct Formatter {
    zone: Tz,
    now: DateTime<Utc>,
}

impl Formatter {
    /// A formatter for `zone`, as of `now`.
    pub fn new(zone: Tz, now: DateTime<Utc>) -> Self {
        Formatter { zone, now }
    }

    /// The moment it shows times relative to.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// A date and time: "Mon 30 Nov 2026, 17:15".
    pub fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone)
            .format("%a %-d %b %Y, %H:%M")
            .to_string()
    }

    /// A date: "30 Nov 2026".
    pub fn date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%-d %b %Y").to_string()
    }

    /// A date as a date field takes it: "2026-11-30".
    pub fn date_value(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%Y-%m-%d").to_string()
    }

    /// A time of day as a time field takes it: "17:15".
    pub fn time_value(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%H:%M").to_string()
    }

    /// How far away: "in 3 days", "2 hours ago", "in 5 minutes", "now".
    pub fn relative(&self, at: DateTime<Utc>) -> String {
        let seconds = (at - self.now).num_seconds();
        let ahead = seconds >= 0;
        let span = seconds.unsigned_abs();
        let (count, unit) = if span < 60 {
            return "now".into();
        } else if span < 3_600 {
            (span / 60, "minute")
        } else if span < 86_400 {
            (span / 3_600, "hour")
        } else {
            (span / 86_400, "day")
        };
        let plural = if count == 1 { "" } else { "s" };
        if ahead {
            format!("in {count} {unit}{plural}")
        } else {
            format!("{count} {unit}{plural} ago")
        }
    }

    /// A time with how far away it is: "Mon 30 Nov 2026, 17:15 (in 3 days)".
    pub fn when(&self, at: DateTime<Utc>) -> String {
        format!("{} ({})", self.time(at), self.relative(at))
    }
}

/// Money in pence, as pounds (one way to write it, shared with the domain).
pub use crate::domain::proposal::rules::pounds;

/// A person's name, or "someone no longer registered".
pub fn person_name(directory: &Directory, id: PersonId) -> String {
    directory
        .person(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| "someone no longer registered".into())
}

/// A team's or group's name.
pub fn owner_name(directory: &Directory, owner: Owner) -> String {
    match owner {
        Owner::Team(id) => directory
            .team(id)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| "a team no longer known".into()),
        Owner::Group(id) => directory
            .group(id)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| "a group no longer known".into()),
    }
}

/// A person's, team's or group's name by its id, as the verdict's details
/// name them.
pub fn any_name(directory: &Directory, id: uuid::Uuid) -> String {
    if let Some(person) = directory.person(PersonId(id)) {
        return person.name.clone();
    }
    if let Some(team) = directory.team(crate::domain::TeamId(id)) {
        return team.name.clone();
    }
    if let Some(group) = directory.group(crate::domain::GroupId(id)) {
        return group.name.clone();
    }
    "someone no longer registered".into()
}

/// An event type in words: "ProposalRaised" reads "Proposal raised".
pub fn event_words(event_type: &str) -> String {
    let mut words = String::with_capacity(event_type.len() + 4);
    for (i, c) in event_type.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
            words.extend(c.to_lowercase());
        } else {
            words.push(c);
        }
    }
    words
}

/// The page of a team or group.
pub fn owner_link(owner: Owner) -> String {
    match owner {
        Owner::Team(id) => format!("/teams/{}", id.0),
        Owner::Group(id) => format!("/groups/{}", id.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn event_types_read_as_words() {
        assert_eq!(event_words("ProposalRaised"), "Proposal raised");
        assert_eq!(event_words("AdviceGiven"), "Advice given");
    }

    #[test]
    fn times_read_in_the_organisation_zone_and_relative() {
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        let f = Formatter::new(chrono_tz::Europe::London, now);
        assert_eq!(f.time(now), "Wed 1 Jul 2026, 13:00");
        assert_eq!(f.relative(now + chrono::Duration::days(3)), "in 3 days");
        assert_eq!(f.relative(now - chrono::Duration::hours(1)), "1 hour ago");
        assert_eq!(f.relative(now + chrono::Duration::seconds(20)), "now");
    }
}
