//! One request's answer: the customers read from the body are validated
//! by the batch job's [`validate`](crate::scoring::validate::validate) and
//! scored by its [`Scorer`](crate::scoring::scorer::Scorer); each result
//! holds the fields of a scores.csv row (and the offers' fields when an
//! offers model applies), typed as in the database table.

use super::model::Loaded;
use super::request::{self, FieldError, Refused, Shape};
use crate::features::TransformStats;
use crate::scoring::explain::Reasons;
use crate::scoring::rows::{table_columns, table_rows};
use crate::scoring::validate;
use crate::sink::Value;
use serde_json::Value as Json;

/// A scored request.
pub struct Answer {
    /// The response body.
    pub body: Vec<u8>,
    pub probabilities: Vec<f64>,
    pub stats: TransformStats,
}

/// Score the customers of `body` with `model`.
pub fn answer(
    model: &Loaded,
    body: &[u8],
    shape: Shape,
    max_customers: usize,
) -> Result<Answer, Refused> {
    let scorer = &model.scorer;
    let art = &scorer.artifact;
    let raw = request::parse(body, shape, &model.needs)?;
    if raw.n_rows() > max_customers {
        return Err(Refused {
            status: 413,
            message: format!(
                "{} customers in one request: at most {max_customers} (--max-customers)",
                raw.n_rows()
            ),
            errors: vec![],
        });
    }
    // Offers found beside the model apply to requests that carry their inputs.
    let offers = scorer
        .offers
        .as_ref()
        .filter(|_| model.offer_inputs.iter().all(|c| raw.names.contains(c)));
    let mut batch =
        validate::validate(art, offers, &raw).map_err(|e| Refused::bad(e.to_string()))?;
    if !batch.rejects.is_empty() {
        let errors = batch
            .rejects
            .iter()
            .take(request::MAX_ERRORS)
            .map(|r| field_error(r.row, &r.why))
            .collect();
        return Err(Refused::fields(errors));
    }
    let mut stats = TransformStats::default();
    let ids = std::mem::take(&mut batch.ids);
    let mut scored = scorer
        .score(&batch, ids, &mut stats, &mut Default::default())
        .map_err(|e| Refused {
            status: 500,
            message: format!("scoring failed: {e}"),
            errors: vec![],
        })?;
    let mut extra = std::mem::take(&mut batch.extra);
    extra.append(&mut scored.extra);
    scored.extra = extra;
    let columns = table_columns(&scored);
    let rows = table_rows(&scored, &Reasons::new(art, &batch.table));
    let mut out = Vec::with_capacity(64 + rows.len() * 512);
    match shape {
        Shape::Customers => {
            out.extend_from_slice(b"{\"model_id\":");
            write_json(&mut out, &art.run_id);
            out.extend_from_slice(b",\"results\":[");
        }
        Shape::Mlflow => out.extend_from_slice(b"{\"predictions\":["),
    }
    // Keys are escaped once, into one buffer; each result is one object.
    let mut key_bytes = Vec::with_capacity(columns.len() * 16);
    let mut key_at = vec![0];
    for c in &columns {
        write_json(&mut key_bytes, &c.name);
        key_at.push(key_bytes.len());
    }
    let key = |j: usize| &key_bytes[key_at[j]..key_at[j + 1]];
    for (i, row) in rows.into_iter().enumerate() {
        out.push(if i == 0 { b'{' } else { b',' });
        if i > 0 {
            out.push(b'{');
        }
        for (j, v) in row.into_iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key(j));
            out.push(b':');
            match v {
                Value::Text(t) => write_json(&mut out, &t),
                Value::Real(x) if x.is_finite() => write_json(&mut out, &x),
                Value::Int(n) => write_json(&mut out, &n),
                Value::Real(_) | Value::Time => out.extend_from_slice(b"null"),
            }
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    let body = out;
    Ok(Answer {
        body,
        probabilities: scored.probability,
        stats,
    })
}

/// Append `v` as JSON (writing into a vector cannot fail).
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// A validation problem as a field error: its column is the field.
fn field_error(customer: usize, why: &crate::error::RowProblem) -> FieldError {
    FieldError {
        customer,
        field: why.column.clone(),
        reason: why.problem.clone(),
    }
}

/// The JSON body of a refusal.
pub fn refusal_body(r: &Refused) -> Vec<u8> {
    let errors: Vec<Json> = r
        .errors
        .iter()
        .map(|e| serde_json::json!({"customer": e.customer, "field": e.field, "reason": e.reason}))
        .collect();
    let body = serde_json::json!({"error": r.message, "errors": errors});
    serde_json::to_vec(&body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_their_field() {
        let why = crate::error::RowProblem::at("Age", "'x' is not a number");
        assert_eq!(why.to_string(), "column 'Age': 'x' is not a number");
        let e = field_error(4, &why);
        assert_eq!(
            (e.customer, e.field.as_deref(), e.reason.as_str()),
            (4, Some("Age"), "'x' is not a number")
        );
        let record = crate::error::RowProblem::record("unreadable record: unterminated quote");
        assert_eq!(field_error(0, &record).field, None);
    }
}
