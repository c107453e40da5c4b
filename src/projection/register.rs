//! What the web app's register and the team and group pages' charts read,
//! shared by both backends over a [`Dialect`]: the register's one query per
//! page, and the per-month figures, grouped here from one query.

use std::collections::BTreeMap;

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::rows::{owner_columns, MonthRow, Page, RegisterFilter, ANY_FAILING_CHECK};
use super::sql::{Dialect, ViewRow};
use crate::domain::proposal::Owner;
use crate::store::{to_i64, StoreError};

/// The documents of the decisions `filter` lets through, of any owner,
/// newest decision first, after `page.after` (a decision position). Every
/// value is bound.
pub(super) fn register_query<D: Dialect>(
    filter: &RegisterFilter,
    page: Page<u64>,
) -> QueryBuilder<'static, D::Db> {
    let mut query =
        QueryBuilder::new("SELECT doc FROM proposal_view WHERE decided_position IS NOT NULL");
    if !filter.owners.is_empty() {
        let owners: Vec<Uuid> = filter
            .owners
            .iter()
            .map(|owner| owner_columns(*owner).1)
            .collect();
        query.push(" AND owner_id");
        D::push_in(&mut query, &owners);
    }
    if let Some(rule) = &filter.rule {
        query.push(" AND rule = ");
        D::push_text(&mut query, rule);
    }
    if let Some(from) = filter.decided_from {
        query.push(" AND decided_at >= ");
        D::push_time(&mut query, from);
    }
    if let Some(to) = filter.decided_to {
        query.push(" AND decided_at < ");
        D::push_time(&mut query, to);
    }
    if let Some(check) = &filter.failing_check {
        if check.eq_ignore_ascii_case(ANY_FAILING_CHECK) {
            query.push(" AND failing_checks <> ''");
        } else {
            query.push(" AND failing_checks LIKE ");
            D::push_text(&mut query, &failing_pattern(check));
            query.push(" ESCAPE '\\'");
        }
    }
    if let Some(after) = page.after {
        query.push(" AND decided_position < ");
        D::push_int(&mut query, to_i64(after));
    }
    query.push(" ORDER BY decided_position DESC LIMIT ");
    D::push_int(&mut query, i64::from(page.limit));
    query
}

/// The `LIKE` pattern of the `failing_checks` column that holds `check`
/// (upper-cased, as check names are): `%,NAME,%`, with `LIKE`'s own
/// characters escaped. A name with a comma can match no single check, so
/// its pattern matches nothing.
fn failing_pattern(check: &str) -> String {
    if check.contains(',') {
        // The column never holds two commas in a row.
        return ",,".into();
    }
    let mut pattern = String::from("%,");
    for c in check.to_ascii_uppercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push_str(",%");
    pattern
}

/// One row per decision of an owner, oldest decision first, with what
/// [`months`] groups (`raised_at`, `decided_at`, `outcome`,
/// `advice_followed`).
pub(super) fn monthly_query<D: Dialect>(owner: Owner) -> QueryBuilder<'static, D::Db> {
    let mut query = QueryBuilder::new(
        "SELECT raised_at, decided_at, outcome, advice_followed FROM proposal_view \
         WHERE decided_position IS NOT NULL AND owner_id = ",
    );
    D::push_id(&mut query, owner_columns(owner).1);
    query.push(" ORDER BY decided_position");
    query
}

/// The rows of [`monthly_query`] grouped by calendar month (UTC) of
/// decision, oldest month first.
pub(super) fn months<R: ViewRow>(rows: &[R]) -> Result<Vec<MonthRow>, StoreError> {
    let mut months: BTreeMap<String, MonthRow> = BTreeMap::new();
    for row in rows {
        let Some(decided_at) = row.maybe_time("decided_at")? else {
            continue;
        };
        let month = decided_at.format("%Y-%m").to_string();
        let entry = months.entry(month.clone()).or_insert_with(|| MonthRow {
            month,
            ..MonthRow::default()
        });
        entry.decisions += 1;
        if row.maybe_text("outcome")?.as_deref() == Some("ADOPTED") {
            entry.adopted += 1;
        }
        if row.maybe_flag("advice_followed")? == Some(true) {
            entry.followed += 1;
        }
        let seconds = (decided_at - row.time("raised_at")?).num_seconds();
        entry.seconds_to_decision.push(seconds);
    }
    Ok(months.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_check_pattern_escapes_like_and_refuses_commas() {
        assert_eq!(failing_pattern("fair_window"), "%,FAIR\\_WINDOW,%");
        assert_eq!(failing_pattern("50%\\"), "%,50\\%\\\\,%");
        assert_eq!(failing_pattern("A,B"), ",,");
    }
}
