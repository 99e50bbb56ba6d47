//! A tiny builder for self-contained HTML reports: inline CSS, inline SVG,
//! no scripts and no external URLs, so a report opens offline and can be
//! archived as one file.

use super::svg::esc;
use std::fmt::Write;

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#222}\
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}\
th{background:#f4f6f8}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}\
figure{margin:0;border:1px solid #eee;padding:4px}figcaption{font-size:12px;color:#555}.note{color:#555;font-size:13px}\
.bad{color:#b00;font-weight:bold}table.heat td{min-width:60px;text-align:center}#model-card-table td{text-align:left}";

/// An HTML report under construction.
pub struct Page {
    title: String,
    body: String,
    in_grid: bool,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: format!("<h1>{}</h1>", esc(title)),
            in_grid: false,
        }
    }

    fn close_grid(&mut self) {
        if self.in_grid {
            self.body.push_str("</div>");
            self.in_grid = false;
        }
    }

    pub fn section(&mut self, id: &str, title: &str) {
        self.close_grid();
        let _ = write!(self.body, r#"<h2 id="{id}">{}</h2>"#, esc(title));
    }

    pub fn note(&mut self, text: &str) {
        self.close_grid();
        let _ = write!(self.body, r#"<p class="note">{}</p>"#, esc(text));
    }

    /// A chart; consecutive charts flow side by side.
    pub fn figure(&mut self, id: &str, caption: &str, svg: &str) {
        if !self.in_grid {
            self.body.push_str(r#"<div class="grid">"#);
            self.in_grid = true;
        }
        let _ = write!(
            self.body,
            r#"<figure id="{id}">{svg}<figcaption>{}</figcaption></figure>"#,
            esc(caption)
        );
    }

    /// A table of already formatted cells.
    pub fn table(&mut self, id: &str, head: &[&str], rows: &[Vec<String>]) {
        self.close_grid();
        let _ = write!(self.body, r#"<table id="{id}"><tr>"#);
        for h in head {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr>");
        for r in rows {
            self.body.push_str("<tr>");
            for c in r {
                let _ = write!(self.body, "<td>{}</td>", esc(c));
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</table>");
    }

    /// Pre-built HTML (e.g. a heatmap table), wrapped with an id.
    pub fn raw(&mut self, html: &str) {
        self.close_grid();
        self.body.push_str(html);
    }

    pub fn finish(mut self) -> String {
        self.close_grid();
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>{}</body></html>\n",
            esc(&self.title),
            self.body
        )
    }
}

/// Format a metric for a table.
pub fn f4(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else {
        format!("{v:.4}")
    }
}
