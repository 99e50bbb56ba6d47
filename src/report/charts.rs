//! SVG charts drawn with plotters (text is SVG text, no fonts needed).

use crate::error::{Error, Result};
use crate::evaluate::curves::{ks_curves, thin};
use plotters::prelude::*;

const PALETTE: [RGBColor; 5] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189), RGBColor(255, 127, 14)];

fn err<E: std::fmt::Display>(e: E) -> Error {
    Error::Model(format!("chart: {e}"))
}

/// ROC curves of several models: (name, [(fpr, tpr, threshold)]).
pub fn roc(curves: &[(&str, Vec<(f64, f64, f64)>)]) -> Result<String> {
    let series: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(name, c)| {
            let auc: f64 = c.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum();
            (format!("{name} (AUC {auc:.3})"), thin(c.iter().map(|p| (p.0, p.1)).collect(), 400))
        })
        .collect();
    line_chart("ROC curve (out-of-fold)", "false positive rate", "true positive rate", &series, true, None)
}

/// KS chart: cumulative share of churners and of non-churners by score
/// (descending), with the largest gap marked.
pub fn ks(name: &str, y: &[u8], p: &[f64]) -> Result<String> {
    let (churners, stayers, best) = ks_curves(y, p);
    let series = vec![("churners".to_string(), thin(churners, 400)), ("non-churners".to_string(), thin(stayers, 400))];
    let title = format!("KS of {name}: {:.3} at top {:.1}% of scores", best.2 - best.1, 100.0 * best.0);
    line_chart(&title, "share of customers, highest score first", "cumulative share", &series, false, Some(best))
}

fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[(String, Vec<(f64, f64)>)], diagonal: bool, gap: Option<(f64, f64, f64)>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(err)?;
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw().map_err(err)?;
        if diagonal {
            chart.draw_series(LineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3))).map_err(err)?;
        }
        for (k, (name, pts)) in series.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(err)?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        if let Some((x, lo, hi)) = gap {
            chart
                .draw_series(LineSeries::new(vec![(x, lo), (x, hi)], BLACK.stroke_width(2)))
                .map_err(err)?
                .label(format!("max gap {:.3}", hi - lo))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
        }
        chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
