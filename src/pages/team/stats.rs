//! A team's or group's statistics as its page shows them: the headline
//! figures of all time, and small charts of the last twelve months
//! (decisions per month, median days to decide, share with every check
//! passed) and of its advice response rate.

use chrono::{DateTime, Datelike, Utc};

use super::chart::{percent, BarChart, Point, ShareBar};
use crate::projection::projected::median_seconds;
use crate::projection::rows::StatsRow;

/// How many months the charts cover, ending with this one.
pub const MONTHS: u32 = 12;

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// An owner's decisions in one calendar month (UTC).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u32,
    /// Decisions made in it.
    pub decisions: u64,
    /// Of which every check of the verdict passed.
    pub followed: u64,
    /// The median seconds from raise to decision, if any were decided.
    pub median_seconds: Option<f64>,
}

impl Month {
    /// Reads a month written `2026-11`.
    pub fn parse(text: &str) -> Option<(i32, u32)> {
        let (year, month) = text.split_once('-')?;
        let month: u32 = month.parse().ok()?;
        (1..=12)
            .contains(&month)
            .then_some((year.parse().ok()?, month))
    }
}

/// One headline figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What it counts.
    pub label: &'static str,
    /// Its value, in words.
    pub value: String,
}

/// The statistics part of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// The headline figures, of all time.
    pub figures: Vec<Figure>,
    /// Whether anything was ever decided (otherwise the charts are left out).
    pub has_decisions: bool,
    /// Decisions per month.
    pub per_month: BarChart,
    /// Median days from raise to decision, per month.
    pub median_days: BarChart,
    /// Share of decisions with every check passed, per month.
    pub followed: BarChart,
    /// Whether anyone was ever asked for advice.
    pub has_requests: bool,
    /// The advice response rate.
    pub response: ShareBar,
}

/// Days as written: "2.5 days", "1 day".
fn days(seconds: f64) -> String {
    let days = seconds / 86_400.0;
    if (days - 1.0).abs() < 0.05 {
        "1 day".into()
    } else {
        format!("{days:.1} days")
    }
}

/// A duration in words: hours under a day, days otherwise.
fn duration(seconds: f64) -> String {
    if seconds < 86_400.0 {
        let hours = (seconds / 3_600.0).round().max(1.0);
        if hours == 1.0 {
            "about 1 hour".into()
        } else {
            format!("about {hours:.0} hours")
        }
    } else {
        days(seconds)
    }
}

/// The twelve months ending with the one `now` is in, each with what
/// `months` says of it (nothing decided where it says nothing).
fn window(months: &[Month], now: DateTime<Utc>) -> Vec<Month> {
    let (mut year, mut month) = (now.year(), now.month());
    let mut out = Vec::with_capacity(MONTHS as usize);
    for _ in 0..MONTHS {
        let found = months
            .iter()
            .find(|m| m.year == year && m.month == month)
            .cloned();
        out.push(found.unwrap_or(Month {
            year,
            month,
            ..Month::default()
        }));
        if month == 1 {
            year -= 1;
            month = 12;
        } else {
            month -= 1;
        }
    }
    out.reverse();
    out
}

fn point(m: &Month, first: bool, value: Option<f64>, written: String) -> Point {
    // Above an empty slot a dash; the table says "none".
    let above = if value.is_none() {
        "\u{2013}".to_string()
    } else {
        written.clone()
    };
    let name = MONTH_NAMES[(m.month as usize).saturating_sub(1) % 12];
    Point {
        label: name.chars().take(3).collect(),
        sublabel: if first || m.month == 1 {
            m.year.to_string()
        } else {
            String::new()
        },
        full_label: format!("{name} {}", m.year),
        value,
        in_full: written,
        written: above,
    }
}

/// The statistics of `name` (a team or group, by name) from its totals and
/// its months, as of `now`; chart ids start with `id`.
pub fn statistics(
    id: &str,
    name: &str,
    stats: &StatsRow,
    months: &[Month],
    now: DateTime<Utc>,
) -> Statistics {
    let shown = window(months, now);
    let first = |i: usize| i == 0;
    let range = match (shown.first(), shown.last()) {
        (Some(a), Some(b)) => format!(
            "from {} {} to {} {}",
            MONTH_NAMES[(a.month as usize + 11) % 12],
            a.year,
            MONTH_NAMES[(b.month as usize + 11) % 12],
            b.year
        ),
        _ => String::new(),
    };
    let in_window: u64 = shown.iter().map(|m| m.decisions).sum();
    let busiest = shown.iter().map(|m| m.decisions).max().unwrap_or(0);
    let per_month = BarChart::new(
        &format!("{id}-per-month"),
        "Decisions per month",
        format!(
            "Bar chart of {name}'s decisions in each month {range}: {in_window} in all, at most {busiest} in one month. The table that follows gives each month's number."
        ),
        "Decisions",
        shown
            .iter()
            .enumerate()
            .map(|(i, m)| point(m, first(i), Some(m.decisions as f64), m.decisions.to_string()))
            .collect(),
        1.0,
    );
    let median_days = BarChart::new(
        &format!("{id}-median-days"),
        "Median days to decide",
        format!(
            "Bar chart of the median number of days from raising a proposal to its decision, for {name}'s decisions in each month {range}. Months with no decisions have no bar. The table that follows gives each month's number."
        ),
        "Median days to decide",
        shown
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let value = m.median_seconds.map(|s| s / 86_400.0);
                let written = value
                    .map(|d| format!("{d:.1}"))
                    .unwrap_or_else(|| "none".into());
                point(m, first(i), value, written)
            })
            .collect(),
        1.0,
    );
    let followed = BarChart::new(
        &format!("{id}-followed"),
        "Decisions with every check passed",
        format!(
            "Bar chart of the share of {name}'s decisions in each month {range} whose every check passed, from 0 to 100%. Months with no decisions have no bar. The table that follows gives each month's share."
        ),
        "Share with every check passed",
        shown
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let value = (m.decisions > 0).then(|| m.followed as f64 * 100.0 / m.decisions as f64);
                let written = if m.decisions > 0 {
                    format!("{} ({} of {})", percent(m.followed, m.decisions), m.followed, m.decisions)
                } else {
                    "none".into()
                };
                let mut p = point(m, first(i), value, written);
                // Above the bar, the share alone fits.
                if m.decisions > 0 {
                    p.written = percent(m.followed, m.decisions);
                }
                p
            })
            .collect(),
        100.0,
    );
    let response_words = format!(
        "{} of {} requests for advice answered ({})",
        stats.requests_answered,
        stats.requests,
        percent(stats.requests_answered, stats.requests)
    );
    let response = ShareBar::new(
        &format!("{id}-response"),
        "Advice response rate",
        format!("Bar filled to {name}'s advice response rate: {response_words}."),
        stats.requests_answered,
        stats.requests,
    );
    let median = median_seconds(stats.seconds_to_decision.clone());
    let figures = vec![
        Figure {
            label: "Proposals raised",
            value: stats.proposals.to_string(),
        },
        Figure {
            label: "Decisions made",
            value: format!(
                "{} ({} adopted, {} rejected)",
                stats.decisions,
                stats.adopted,
                stats.decisions.saturating_sub(stats.adopted)
            ),
        },
        Figure {
            label: "Median time to decide",
            value: median
                .map(duration)
                .unwrap_or_else(|| "nothing decided yet".into()),
        },
        Figure {
            label: "Advice response rate",
            value: if stats.requests == 0 {
                "nobody has been asked for advice yet".into()
            } else {
                response_words
            },
        },
        Figure {
            label: "Decisions with every check passed",
            value: if stats.decisions == 0 {
                "nothing decided yet".into()
            } else {
                format!(
                    "{} of {} ({})",
                    stats.followed,
                    stats.decisions,
                    percent(stats.followed, stats.decisions)
                )
            },
        },
        Figure {
            label: "Objections",
            value: format!(
                "{} raised, {} integrated by an amendment",
                stats.objections_raised, stats.objections_integrated
            ),
        },
    ];
    Statistics {
        figures,
        has_decisions: stats.decisions > 0,
        per_month,
        median_days,
        followed,
        has_requests: stats.requests > 0,
        response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_window_is_the_last_twelve_months_with_gaps_filled() {
        let now = Utc.with_ymd_and_hms(2026, 2, 10, 12, 0, 0).unwrap();
        let months = [Month {
            year: 2025,
            month: 12,
            decisions: 3,
            followed: 2,
            median_seconds: Some(86_400.0 * 2.5),
        }];
        let shown = window(&months, now);
        assert_eq!(shown.len(), 12);
        assert_eq!((shown[0].year, shown[0].month), (2025, 3));
        assert_eq!((shown[11].year, shown[11].month), (2026, 2));
        assert_eq!(shown[9].decisions, 3);
        let stats = StatsRow {
            decisions: 3,
            followed: 2,
            requests: 4,
            requests_answered: 3,
            ..StatsRow::default()
        };
        let s = statistics("t", "Rota", &stats, &months, now);
        assert_eq!(s.per_month.bars[9].value, "3");
        assert_eq!(s.median_days.bars[9].value, "2.5");
        assert_eq!(s.median_days.bars[8].value, "\u{2013}");
        assert_eq!(s.median_days.bars[8].value_in_full, "none");
        assert_eq!(s.followed.bars[9].value_in_full, "67% (2 of 3)");
        assert_eq!(s.followed.bars[9].value, "67%");
        assert_eq!(s.per_month.bars[10].sublabel, "2026");
        assert!(
            s.response.summary.contains("3 of 4"),
            "{}",
            s.response.summary
        );
        assert_eq!(Month::parse("2026-11"), Some((2026, 11)));
        assert_eq!(Month::parse("2026-13"), None);
    }
}
