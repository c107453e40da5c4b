//! Small bar charts drawn on the server as SVG: the geometry is worked out
//! here and the template only places it (askama escapes every label). Each
//! chart has a title and a description for assistive technology, and the
//! same numbers as a table for everyone.

/// The chart's drawing width, in SVG units.
const WIDTH: f64 = 640.0;
/// The chart's drawing height.
const HEIGHT: f64 = 220.0;
/// Room above the tallest bar for its value.
const TOP: f64 = 24.0;
/// Room below the baseline for two lines of labels.
const BOTTOM: f64 = 44.0;
/// Room at either side.
const SIDE: f64 = 6.0;

/// One bar and its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Its left edge.
    pub x: String,
    /// Its top.
    pub y: String,
    /// Its width.
    pub width: String,
    /// Its height (0 for nothing to show).
    pub height: String,
    /// The middle of its slot, where its labels are centred.
    pub centre: String,
    /// Where its value is written.
    pub value_y: String,
    /// Its value as written above it ("3", "2.5", "80%", "none").
    pub value: String,
    /// Its value as the table gives it ("80% (4 of 5)").
    pub value_in_full: String,
    /// Its short label below the baseline ("Nov").
    pub label: String,
    /// A second label line ("2026"), where one helps.
    pub sublabel: String,
    /// Its label in full, for the table ("November 2026").
    pub full_label: String,
}

/// A bar chart with its text alternative.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Its id on the page (its title and description hang off it).
    pub id: String,
    /// What it shows, as its heading and SVG title say.
    pub title: String,
    /// The description assistive technology reads.
    pub summary: String,
    /// The drawing's width.
    pub width: u32,
    /// The drawing's height.
    pub height: u32,
    /// Where the baseline is.
    pub baseline: String,
    /// Where the first line of labels is.
    pub label_y: String,
    /// Where the second line of labels is.
    pub sublabel_y: String,
    /// The right end of the baseline.
    pub right: String,
    /// Its bars, left to right.
    pub bars: Vec<Bar>,
    /// The heading of the table's label column ("Month").
    pub label_heading: &'static str,
    /// The heading of the table's value column.
    pub value_heading: String,
}

/// One value to draw: its labels, its size, and how it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The short label ("Nov").
    pub label: String,
    /// The second label line ("2026"), or empty.
    pub sublabel: String,
    /// The full label ("November 2026").
    pub full_label: String,
    /// The value (`None`: nothing to show for it).
    pub value: Option<f64>,
    /// The value as written above its bar.
    pub written: String,
    /// The value as the table gives it.
    pub in_full: String,
}

fn n(value: f64) -> String {
    format!("{value:.1}")
}

impl BarChart {
    /// A chart of `points`, scaled so that `max` (or the largest value, if
    /// larger) fills the height.
    pub fn new(
        id: &str,
        title: impl Into<String>,
        summary: impl Into<String>,
        value_heading: impl Into<String>,
        points: Vec<Point>,
        max: f64,
    ) -> Self {
        let largest = points
            .iter()
            .filter_map(|p| p.value)
            .fold(max, f64::max)
            .max(f64::MIN_POSITIVE);
        let plot_height = HEIGHT - TOP - BOTTOM;
        let baseline = HEIGHT - BOTTOM;
        let slot = (WIDTH - 2.0 * SIDE) / points.len().max(1) as f64;
        let bar_width = (slot * 0.6).min(48.0);
        let bars = points
            .into_iter()
            .enumerate()
            .map(|(i, point)| {
                let centre = SIDE + slot * (i as f64 + 0.5);
                let height = point
                    .value
                    .map(|v| (v.max(0.0) / largest * plot_height).max(0.0))
                    .unwrap_or(0.0);
                // A zero still shows as a hairline, so the slot reads as measured.
                let drawn = if point.value.is_some() {
                    height.max(1.0)
                } else {
                    0.0
                };
                Bar {
                    x: n(centre - bar_width / 2.0),
                    y: n(baseline - drawn),
                    width: n(bar_width),
                    height: n(drawn),
                    centre: n(centre),
                    value_y: n(baseline - drawn - 6.0),
                    value: point.written,
                    value_in_full: point.in_full,
                    label: point.label,
                    sublabel: point.sublabel,
                    full_label: point.full_label,
                }
            })
            .collect();
        BarChart {
            id: id.to_string(),
            title: title.into(),
            summary: summary.into(),
            width: WIDTH as u32,
            height: HEIGHT as u32,
            baseline: n(baseline),
            label_y: n(baseline + 18.0),
            sublabel_y: n(baseline + 36.0),
            right: n(WIDTH - SIDE),
            bars,
            label_heading: "Month",
            value_heading: value_heading.into(),
        }
    }
}

/// A share drawn as a filled part of a bar: "12 of 15 answered".
#[derive(Debug, Clone, PartialEq)]
pub struct ShareBar {
    /// Its id on the page.
    pub id: String,
    /// What it shows.
    pub title: String,
    /// The description assistive technology reads (with the numbers).
    pub summary: String,
    /// The drawing's width.
    pub width: u32,
    /// The drawing's height.
    pub height: u32,
    /// The whole bar's width.
    pub track: String,
    /// The filled part's width.
    pub filled: String,
    /// The share as written beside it ("80%").
    pub written: String,
    /// Where that is written.
    pub written_x: String,
}

impl ShareBar {
    /// A bar `part` of `whole` full.
    pub fn new(
        id: &str,
        title: impl Into<String>,
        summary: impl Into<String>,
        part: u64,
        whole: u64,
    ) -> Self {
        let track = 500.0;
        let share = if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        };
        ShareBar {
            id: id.to_string(),
            title: title.into(),
            summary: summary.into(),
            width: WIDTH as u32,
            height: 40,
            track: n(track),
            filled: n(track * share.clamp(0.0, 1.0)),
            written: percent(part, whole),
            written_x: n(track + 10.0),
        }
    }
}

/// `part` of `whole` as a whole percentage ("80%"), or "none" for no whole.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "none".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(value: Option<f64>) -> Point {
        Point {
            label: "Nov".into(),
            sublabel: String::new(),
            full_label: "November 2026".into(),
            value,
            written: value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "none".into()),
            in_full: String::new(),
        }
    }

    #[test]
    fn the_tallest_bar_fills_the_plot_and_the_others_scale() {
        let chart = BarChart::new(
            "c",
            "t",
            "s",
            "v",
            vec![
                point(Some(4.0)),
                point(Some(2.0)),
                point(Some(0.0)),
                point(None),
            ],
            0.0,
        );
        let heights: Vec<&str> = chart.bars.iter().map(|b| b.height.as_str()).collect();
        assert_eq!(heights, ["152.0", "76.0", "1.0", "0.0"]);
        assert_eq!(chart.bars[0].y, "24.0");
    }

    #[test]
    fn a_share_fills_its_part_of_the_track() {
        let bar = ShareBar::new("r", "t", "s", 3, 4);
        assert_eq!(
            (bar.filled.as_str(), bar.written.as_str()),
            ("375.0", "75%")
        );
        assert_eq!(percent(0, 0), "none");
    }
}
