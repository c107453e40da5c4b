//! What the admin page's forms post. Every form posts a part of these
//! fields (named as the page's field ids), so one struct reads them all and
//! carries what was typed back onto the page when an action is refused.

use serde::Deserialize;

/// The admin page's fields, each empty unless its form sent it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct AdminForm {
    /// The form's command id: a form sent twice acts once.
    pub command: String,
    /// Register a person: their name.
    pub person_name: String,
    /// Their e-mail address.
    pub person_email: String,
    /// Their organisation role: `none`, `admin` or `auditor`.
    pub person_role: String,
    /// Issue a token: for whom (a person id).
    pub token_person: String,
    /// Revoke a token: which (a token id).
    pub revoke_token: String,
    /// Link an identity: to whom (a person id).
    pub link_person: String,
    /// The identity provider's issuer URL.
    pub link_issuer: String,
    /// The subject the provider knows them by.
    pub link_subject: String,
    /// Unlink an identity: whose (a person id).
    pub unlink_person: String,
    /// Its issuer.
    pub unlink_issuer: String,
    /// Its subject.
    pub unlink_subject: String,
    /// Mark as left: who (a person id).
    pub left_person: String,
    /// Why.
    pub left_reason: String,
    /// Form a team: its name.
    pub team_name: String,
    /// Add a member: the team (an id).
    pub member_team: String,
    /// The person (an id).
    pub member_person: String,
    /// Their role: `member` or `coach`.
    pub member_role: String,
    /// Take someone out of a team: `team-id/person-id`.
    pub leave_membership: String,
    /// Form a group: its name.
    pub group_name: String,
    /// Its member teams (ids), one per ticked box.
    pub group_teams: Vec<String>,
    /// Its mandate, one decision area per line.
    pub group_mandate: String,
    /// Delegate a representative: the group (an id).
    pub rep_group: String,
    /// Who, for which team: `team-id/person-id`.
    pub rep_member: String,
    /// Allocate budget: the group (an id).
    pub budget_group: String,
    /// The amount in pounds (a minus sign takes money back).
    pub budget_amount: String,
    /// Why.
    pub budget_reason: String,
    /// A period label, such as a financial year (optional).
    pub budget_period: String,
    /// Erase a person's personal data: whose (a person id).
    pub erase_person: String,
    /// Why (an erasure request's reference; kept in the record).
    pub erase_reason: String,
    /// `yes` when what they wrote is erased too.
    pub erase_contributions: String,
    /// Correct a person's details: whose (a person id).
    pub correct_person: String,
    /// Their name as it should read (empty: unchanged).
    pub correct_name: String,
    /// Their e-mail address as it should read (empty: unchanged).
    pub correct_email: String,
}

/// Reads a pair `team-id/person-id` posted by a select.
pub fn pair(text: &str) -> Option<(uuid::Uuid, uuid::Uuid)> {
    let (a, b) = text.trim().split_once('/')?;
    Some((
        uuid::Uuid::parse_str(a).ok()?,
        uuid::Uuid::parse_str(b).ok()?,
    ))
}

/// Reads an id posted by a select.
pub fn id(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_boxes_and_kebab_names_are_read() {
        let a = uuid::Uuid::new_v4();
        let form: AdminForm = serde_html_form::from_str(&format!(
            "csrf=x&group-name=Training&group-teams={a}&group-teams={a}&group-mandate=one%0D%0Atwo"
        ))
        .expect("reads");
        assert_eq!(form.group_name, "Training");
        assert_eq!(form.group_teams.len(), 2);
        assert_eq!(form.group_mandate, "one\r\ntwo");
        assert_eq!(pair(&format!("{a}/{a}")), Some((a, a)));
        assert_eq!(pair("nonsense"), None);
    }
}
