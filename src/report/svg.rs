//! Hand-built inline SVG charts for the HTML reports: no fonts, scripts or
//! external references, so a report is one file that opens offline.

use std::fmt::Write;

const W: f64 = 560.0;
const H: f64 = 360.0;
const L: f64 = 62.0;
const R: f64 = 16.0;
const T: f64 = 30.0;
const B: f64 = 46.0;
pub const PALETTE: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

/// Escape text for HTML/SVG.
/// `svg` (an element made here, for inlining in a page) as a file of its own.
pub fn standalone(svg: &str) -> String {
    svg.replacen("<svg ", "<svg xmlns=\"http://www.w3.org/2000/svg\" ", 1)
}

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A reference line or marker on a line chart.
pub struct Mark {
    pub from: (f64, f64),
    pub to: (f64, f64),
    pub label: String,
}

/// Axis ranges and decorations of a line chart.
pub struct Axes<'a> {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub x_label: &'a str,
    pub y_label: &'a str,
}

struct Frame {
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        L + (x - self.x.0) / (self.x.1 - self.x.0).max(1e-12) * (W - L - R)
    }
    fn py(&self, y: f64) -> f64 {
        H - B - (y - self.y.0) / (self.y.1 - self.y.0).max(1e-12) * (H - T - B)
    }
}

/// Start an SVG of height `h` with a white background and a title.
fn open(svg: &mut String, title: &str, h: f64) {
    let _ = write!(
        svg,
        r##"<svg viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" aria-label="{t}"><rect width="100%" height="100%" fill="#fff"/><text x="{cx}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">{t}</text>"##,
        cx = W / 2.0,
        t = esc(title)
    );
}

fn axes(svg: &mut String, f: &Frame, a: &Axes, x_ticks: &[(f64, String)]) {
    let (x0, x1, y0, y1) = (f.px(f.x.0), f.px(f.x.1), f.py(f.y.0), f.py(f.y.1));
    let _ = write!(
        svg,
        r##"<g font-family="sans-serif" font-size="11" fill="#333"><path d="M{x0} {y1}V{y0}H{x1}" stroke="#333" fill="none"/>"##
    );
    for k in 0..=4 {
        let v = f.y.0 + (f.y.1 - f.y.0) * k as f64 / 4.0;
        let y = f.py(v);
        let _ = write!(
            svg,
            r##"<line x1="{x0}" x2="{x1}" y1="{y}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            x0 - 4.0,
            y + 4.0,
            fmt_num(v)
        );
    }
    let ticks: Vec<(f64, String)> = if x_ticks.is_empty() {
        (0..=4)
            .map(|k| {
                let v = f.x.0 + (f.x.1 - f.x.0) * k as f64 / 4.0;
                (v, fmt_num(v))
            })
            .collect()
    } else {
        x_ticks.to_vec()
    };
    for (v, label) in ticks {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            f.px(v),
            y0 + 15.0,
            esc(&label)
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text></g>"#,
        (x0 + x1) / 2.0,
        H - 10.0,
        esc(a.x_label),
        (y0 + y1) / 2.0,
        esc(a.y_label)
    );
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if v.abs() >= 1000.0 || v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

fn legend(svg: &mut String, names: &[String]) {
    // A light backing box keeps the legend readable over the lines.
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="188" height="{}" fill="#fff" fill-opacity="0.85"/>"##,
        W - R - 194.0,
        T,
        15.0 * names.len() as f64 + 4.0
    );
    for (k, n) in names.iter().enumerate() {
        let y = T + 8.0 + 15.0 * k as f64;
        let _ = write!(
            svg,
            r#"<rect x="{}" y="{}" width="12" height="3" fill="{}"/><text x="{}" y="{}" font-size="11" font-family="sans-serif">{}</text>"#,
            W - R - 190.0,
            y - 3.0,
            PALETTE[k % PALETTE.len()],
            W - R - 174.0,
            y + 1.0,
            esc(n)
        );
    }
}

/// Lines through points, with optional reference segments.
pub fn lines(
    title: &str,
    a: &Axes,
    series: &[(String, Vec<(f64, f64)>)],
    marks: &[Mark],
) -> String {
    let f = Frame { x: a.x, y: a.y };
    let mut svg = String::new();
    open(&mut svg, title, H);
    axes(&mut svg, &f, a, &[]);
    for (k, (_, pts)) in series.iter().enumerate() {
        let d: Vec<String> = pts
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", f.px(x), f.py(y)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke-width="2" stroke="{}" points="{}"/>"#,
            PALETTE[k % PALETTE.len()],
            d.join(" ")
        );
    }
    for m in marks {
        let _ = write!(
            svg,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="11" font-family="sans-serif">{}</text>"##,
            f.px(m.from.0),
            f.py(m.from.1),
            f.px(m.to.0),
            f.py(m.to.1),
            (f.px(m.from.0) + f.px(m.to.0)) / 2.0 + 4.0,
            (f.py(m.from.1) + f.py(m.to.1)) / 2.0 + 12.0,
            esc(&m.label)
        );
    }
    legend(
        &mut svg,
        &series.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
    );
    svg.push_str("</svg>");
    svg
}

/// Vertical bars by category for one or more series (side by side).
pub fn bars(
    title: &str,
    y_label: &str,
    categories: &[String],
    series: &[(String, Vec<f64>)],
    ref_lines: &[(f64, String)],
) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .chain(ref_lines.iter().map(|r| r.0))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let n = categories.len().max(1) as f64;
    let f = Frame {
        x: (0.0, n),
        y: (0.0, max),
    };
    let ticks: Vec<(f64, String)> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (i as f64 + 0.5, c.clone()))
        .collect();
    let mut svg = String::new();
    open(&mut svg, title, H);
    axes(
        &mut svg,
        &f,
        &Axes {
            x: f.x,
            y: f.y,
            x_label: "",
            y_label,
        },
        &ticks,
    );
    let k = series.len().max(1) as f64;
    let slot = (f.px(1.0) - f.px(0.0)) * 0.8 / k;
    for (s, (_, vals)) in series.iter().enumerate() {
        for (i, &v) in vals.iter().enumerate() {
            let x = f.px(i as f64) + (f.px(1.0) - f.px(0.0)) * 0.1 + slot * s as f64;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}</title></rect>"#,
                f.py(v),
                slot.max(1.0),
                (f.py(0.0) - f.py(v)).max(0.0),
                PALETTE[s % PALETTE.len()],
                fmt_num(v)
            );
        }
    }
    for (v, label) in ref_lines {
        let y = f.py(*v);
        let _ = write!(
            svg,
            r##"<line x1="{L}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d62728" stroke-dasharray="5 3"/><text x="{}" y="{:.1}" font-size="11" font-family="sans-serif" fill="#d62728" text-anchor="end">{}</text>"##,
            W - R,
            W - R,
            y - 3.0,
            esc(label)
        );
    }
    if series.len() > 1 {
        legend(
            &mut svg,
            &series.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars (long labels, e.g. feature names), with vertical reference lines.
pub fn hbars(title: &str, items: &[(String, f64)], ref_lines: &[(f64, String)]) -> String {
    let h = (T + 20.0 + 18.0 * items.len() as f64 + 30.0).max(120.0);
    let max = items
        .iter()
        .map(|i| i.1)
        .chain(ref_lines.iter().map(|r| r.0))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let (left, width) = (190.0, W - 190.0 - R - 40.0);
    let px = |v: f64| left + v / max * width;
    let mut svg = String::new();
    open(&mut svg, title, h);
    svg.push_str(r#"<g font-family="sans-serif" font-size="11">"#);
    for (i, (label, v)) in items.iter().enumerate() {
        let y = T + 10.0 + 18.0 * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text><rect x="{left}" y="{y:.1}" width="{:.1}" height="13" fill="#1f77b4"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            left - 4.0,
            y + 10.0,
            esc(label),
            (px(*v) - left).max(0.5),
            px(*v) + 3.0,
            y + 10.0,
            fmt3(*v)
        );
    }
    for (v, label) in ref_lines {
        let x = px(*v);
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{:.1}" stroke="#d62728" stroke-dasharray="5 3"/><text x="{x:.1}" y="{:.1}" fill="#d62728" text-anchor="middle">{}</text>"##,
            T,
            h - 22.0,
            h - 8.0,
            esc(label)
        );
    }
    svg.push_str("</g></svg>");
    svg
}

/// A labelled estimate and its interval, when it has one.
pub type Estimate = (String, f64, Option<(f64, f64)>);

/// A forest plot: per item (label, estimate, low, high) its interval as a
/// line and its estimate as a dot, against a vertical line at 0 (no
/// effect). Items without an interval show the dot alone.
pub fn intervals(title: &str, items: &[Estimate]) -> String {
    let h = (T + 20.0 + 20.0 * items.len() as f64 + 30.0).max(120.0);
    let ends = items.iter().flat_map(|(_, v, ci)| {
        let (lo, hi) = ci.unwrap_or((*v, *v));
        [*v, lo, hi]
    });
    let (lo, hi) = ends
        .filter(|v| v.is_finite())
        .fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let pad = ((hi - lo) * 0.08).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let (left, width) = (190.0, W - 190.0 - R - 60.0);
    let px = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut svg = String::new();
    open(&mut svg, title, h);
    svg.push_str(r#"<g font-family="sans-serif" font-size="11">"#);
    let zero = px(0.0);
    let _ = write!(
        svg,
        r##"<line x1="{zero:.1}" x2="{zero:.1}" y1="{T}" y2="{:.1}" stroke="#888" stroke-dasharray="4 3"/><text x="{zero:.1}" y="{:.1}" text-anchor="middle" fill="#555">no effect</text>"##,
        h - 22.0,
        h - 8.0
    );
    for (i, (label, v, ci)) in items.iter().enumerate() {
        let y = T + 18.0 + 20.0 * i as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            left - 4.0,
            y + 4.0,
            esc(label)
        );
        if let Some((a, b)) = ci.filter(|(a, b)| a.is_finite() && b.is_finite()) {
            let _ = write!(
                svg,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#1f77b4" stroke-width="2"/>"##,
                px(a),
                px(b)
            );
        }
        if v.is_finite() {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{y:.1}" r="4" fill="#d62728"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                px(*v),
                left + width + 6.0,
                y + 4.0,
                fmt3(*v)
            );
        }
    }
    svg.push_str("</g></svg>");
    svg
}

fn fmt3(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// An HTML table shaded like a heatmap (confusion matrices, migration).
pub fn heatmap(
    id: &str,
    row_label: &str,
    rows: &[String],
    cols: &[String],
    cells: &[Vec<f64>],
) -> String {
    let max = cells
        .iter()
        .flatten()
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let mut s = format!(
        r#"<table class="heat" id="{id}"><tr><th>{}</th>"#,
        esc(row_label)
    );
    for c in cols {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("</tr>");
    for (r, row) in rows.iter().zip(cells) {
        let _ = write!(s, "<tr><th>{}</th>", esc(r));
        for &v in row {
            let a = 0.08 + 0.8 * v / max;
            let fg = if a > 0.55 { "#fff" } else { "#000" };
            let _ = write!(
                s,
                r#"<td style="background:rgba(31,119,180,{a:.2});color:{fg}">{}</td>"#,
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    format!("{v:.2}")
                }
            );
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}
