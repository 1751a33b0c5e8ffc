//! A timeline picture: one horizontal bar per request, as a small SVG file.
//!
//! `eddy call --svg FILE` draws the seed experiment with it — a bar per
//! request from the moment it was sent to the moment its answer arrived —
//! so the difference between `/slow` and `/slow_threaded` is visible at a
//! glance. It knows nothing about HTTP: it draws labelled bars on a time
//! axis in milliseconds, grouped into coloured series.
//!
//! Hand-written on purpose: the crate's dependencies include no plotting
//! library, and SVG is plain text. The writer builds one `String` with
//! `write!`; every piece of text from the data goes through [`escape`]. The
//! markup is kept simple enough for a test to check with a few lines of
//! code: each bar is exactly one `<rect class="bar SERIES" ...>` element (its
//! `<title>` child is the tooltip), and nothing else has a class starting
//! with `bar`.

use std::fmt::Write;

/// Width of the whole picture, in SVG user units (pixels at 100 %).
const WIDTH: f64 = 880.0;
/// Room left of the plot for the row labels.
const LABEL_COLUMN: f64 = 70.0;
/// Room right of the plot for the note after the longest bar.
const RIGHT_MARGIN: f64 = 110.0;
/// Where the first row starts: below the title, subtitle and legend.
const PLOT_TOP: f64 = 76.0;
/// Height of one row, and of the bar inside it.
const ROW: f64 = 16.0;
const BAR: f64 = 11.0;
/// A bar is never drawn thinner than this, so a 1 ms answer on a 1000 ms
/// axis is still visible.
const MIN_BAR: f64 = 2.0;
/// Aim for about this many tick intervals on the axis.
const TARGET_TICKS: f64 = 6.0;

/// A group of bars drawn in one colour, with one legend entry.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// The CSS class of its bars (`bar CLASS`): ASCII letters, digits, `-`
    /// or `_`, so tests and stylesheets can select it.
    pub(crate) class: String,
    /// The legend text.
    pub(crate) name: String,
    /// The fill colour, e.g. `#2e86ab`.
    pub(crate) colour: String,
}

/// One row of the picture.
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    /// Shown left of the row.
    pub(crate) label: String,
    /// Index into [`Timeline::series`].
    pub(crate) series: usize,
    /// Where the bar starts, in ms from time zero.
    pub(crate) start_ms: f64,
    /// Where it ends, in ms from time zero.
    pub(crate) end_ms: f64,
    /// Shown just right of the bar (e.g. its duration, or what went wrong).
    pub(crate) note: String,
}

/// Everything one picture shows. Rows are drawn top to bottom in the order
/// of `bars`.
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    /// The first line, in bold.
    pub(crate) title: String,
    /// The second line (a summary, say).
    pub(crate) subtitle: String,
    /// Text under the axis, naming what time zero is.
    pub(crate) axis_label: String,
    /// The colours and legend entries.
    pub(crate) series: Vec<Series>,
    /// The rows.
    pub(crate) bars: Vec<Bar>,
}

impl Timeline {
    /// Renders the picture as a standalone SVG document.
    pub(crate) fn to_svg(&self) -> String {
        let latest = self.bars.iter().map(|b| b.end_ms).fold(0.0, f64::max);
        let step = tick_step(latest);
        // The axis ends on the first tick at or past the latest bar.
        let end_ms = (latest / step).ceil().max(1.0) * step;
        let plot_width = WIDTH - LABEL_COLUMN - RIGHT_MARGIN;
        let x = |ms: f64| LABEL_COLUMN + ms.clamp(0.0, end_ms) / end_ms * plot_width;
        let axis_y = PLOT_TOP + self.bars.len() as f64 * ROW + 4.0;
        let height = axis_y + 46.0;

        // `write!` into a String cannot fail; the results are ignored.
        let mut svg = String::new();
        svg.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
             viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\">"
        );
        // An opaque background, so the picture reads on dark pages too.
        svg.push_str(
            "<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
        );
        let _ = writeln!(
            svg,
            "<text x=\"{LABEL_COLUMN}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>",
            escape(&self.title)
        );
        let _ = writeln!(
            svg,
            "<text x=\"{LABEL_COLUMN}\" y=\"41\" font-size=\"12\" fill=\"#444444\">{}</text>",
            escape(&self.subtitle)
        );
        self.write_legend(&mut svg);

        // Grid lines and tick labels, under the bars.
        // Counted in whole steps, so float error cannot add or drop a tick.
        let ticks = (end_ms / step).round() as usize;
        for i in 0..=ticks {
            let tick = i as f64 * step;
            let tx = x(tick);
            let _ = writeln!(
                svg,
                "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{axis_y:.1}\" \
                 stroke=\"#e4e4e4\"/>",
                PLOT_TOP - 4.0
            );
            let _ = writeln!(
                svg,
                "<text class=\"tick\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                axis_y + 15.0,
                format_ms(tick, step)
            );
        }
        let _ = writeln!(
            svg,
            "<line class=\"axis\" x1=\"{LABEL_COLUMN}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" \
             y2=\"{axis_y:.1}\" stroke=\"#333333\"/>",
            LABEL_COLUMN + plot_width
        );
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#444444\">{}</text>",
            LABEL_COLUMN + plot_width / 2.0,
            axis_y + 34.0,
            escape(&self.axis_label)
        );

        for (row, bar) in self.bars.iter().enumerate() {
            let top = PLOT_TOP + row as f64 * ROW;
            let middle = top + ROW / 2.0;
            let (class, colour) = match self.series.get(bar.series) {
                Some(series) => (series.class.as_str(), series.colour.as_str()),
                None => ("unknown", "#000000"),
            };
            let bx = x(bar.start_ms);
            let width = (x(bar.end_ms) - bx).max(MIN_BAR);
            let _ = writeln!(
                svg,
                "<text class=\"label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LABEL_COLUMN - 6.0,
                middle + 4.0,
                escape(&bar.label)
            );
            let _ = writeln!(
                svg,
                "<rect class=\"bar {class}\" x=\"{bx:.1}\" y=\"{:.1}\" width=\"{width:.1}\" \
                 height=\"{BAR}\" fill=\"{colour}\"><title>{}</title></rect>",
                middle - BAR / 2.0,
                escape(&format!(
                    "{}: {:.1} ms to {:.1} ms, {}",
                    bar.label, bar.start_ms, bar.end_ms, bar.note
                ))
            );
            let _ = writeln!(
                svg,
                "<text class=\"note\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#333333\">{}</text>",
                bx + width + 4.0,
                middle + 3.5,
                escape(&bar.note)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// One swatch and name per series, in a line under the subtitle.
    fn write_legend(&self, svg: &mut String) {
        let mut lx = LABEL_COLUMN;
        for series in &self.series {
            let _ = writeln!(
                svg,
                "<rect class=\"swatch {}\" x=\"{lx:.1}\" y=\"51\" width=\"12\" height=\"12\" fill=\"{}\"/>",
                series.class, series.colour
            );
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"61\">{}</text>",
                lx + 17.0,
                escape(&series.name)
            );
            // No font metrics here: ~6.5 units per character of 11-unit
            // sans-serif text is close enough to space the entries.
            lx += 17.0 + 6.5 * series.name.chars().count() as f64 + 24.0;
        }
    }
}

/// A round tick interval (1, 2 or 5 times a power of ten, in ms) giving
/// about `TARGET_TICKS` intervals up to `span_ms`.
pub(crate) fn tick_step(span_ms: f64) -> f64 {
    if !span_ms.is_finite() || span_ms <= 0.0 {
        return 1.0;
    }
    let rough = span_ms / TARGET_TICKS;
    let power = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * power)
}

/// A tick label: as many decimals as the step needs, and no more.
fn format_ms(ms: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{ms:.decimals$}")
}

/// Escapes text for SVG (XML) content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even when escaped.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline(bars: &[(f64, f64)]) -> Timeline {
        Timeline {
            title: "a <b> & \"c\"".into(),
            subtitle: String::new(),
            axis_label: "ms".into(),
            series: vec![Series {
                class: "fast".into(),
                name: "fast".into(),
                colour: "#2e86ab".into(),
            }],
            bars: bars
                .iter()
                .enumerate()
                .map(|(i, &(start_ms, end_ms))| Bar {
                    label: format!("fast {i}"),
                    series: 0,
                    start_ms,
                    end_ms,
                    note: "x < y".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(tick_step(1000.0), 200.0);
        assert_eq!(tick_step(3500.0), 1000.0);
        assert_eq!(tick_step(12.0), 2.0);
        assert_eq!(tick_step(0.3), 0.05);
        assert_eq!(tick_step(0.0), 1.0);
        assert_eq!(format_ms(0.15, 0.05), "0.15");
        assert_eq!(format_ms(400.0, 200.0), "400");
    }

    #[test]
    fn one_rect_per_bar_and_text_is_escaped() {
        let svg = timeline(&[(0.0, 1.0), (0.5, 900.0), (1.0, 2.0)]).to_svg();
        assert_eq!(svg.matches("<rect class=\"bar fast\"").count(), 3);
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
        assert!(!svg.contains("x < y"));
        // Ticks run to the first round value past the longest bar: 1000.
        assert!(svg.contains(">1000</text>") && !svg.contains(">1200</text>"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn an_empty_timeline_still_draws() {
        let svg = timeline(&[]).to_svg();
        assert_eq!(svg.matches("class=\"bar ").count(), 0);
        assert!(svg.contains(">1</text>"));
    }
}
