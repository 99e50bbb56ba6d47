//! The training report's lines on customer value: which column plays
//! which role (and how it was chosen), where CLV comes from, what the value
//! tiers are built on — and, as warnings, where value cannot be measured,
//! so a model whose CLV is unknown never passes review as "value 0".

use crate::clean::DataReport;

/// The model card's "customer value" row.
pub fn card_line(r: &DataReport) -> String {
    let (Some(roles), Some(v)) = (&r.roles, &r.value) else {
        return "not recorded (a model from before column roles)".into();
    };
    let chosen: Vec<String> = roles
        .0
        .iter()
        .map(|(role, c)| {
            format!(
                "{} = {} ({})",
                role.name(),
                c.column,
                serde_json::to_value(c.how)
                    .ok()
                    .and_then(|h| h.as_str().map(String::from))
                    .unwrap_or_default()
            )
        })
        .collect();
    let sources = if v.clv_sources.is_empty() {
        "none: CLV unknown".to_string()
    } else {
        v.clv_sources.join(" > ")
    };
    format!(
        "roles: {}; CLV margin from {sources} (customers per source: {}); value tiers: {}",
        if chosen.is_empty() {
            "none".to_string()
        } else {
            chosen.join(", ")
        },
        v.clv_customers
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        v.tiers
    )
}

/// The warnings training printed about value.
pub fn warnings(r: &DataReport) -> &[String] {
    r.value.as_ref().map_or(&[], |v| v.warnings.as_slice())
}
