//! Request bodies → the [`RawTable`] the batch job's validation reads, so a
//! customer sent as JSON is typed, checked and scored exactly as the same
//! customer in a CSV file.
//!
//! Three shapes are read: ours (`{"customers": [{column: value, …}, …]}`)
//! and MLflow's `dataframe_records` and `dataframe_split`. A value becomes
//! the text a CSV cell would hold: a string as it is, a number in its
//! shortest round-trip form, `null` an empty cell (a missing value, imputed
//! as in batch), a boolean `1`/`0` in a numeric column and `true`/`false`
//! elsewhere. An absent required field, an array or an object is the
//! caller's mistake and is named (customer index, field) in the answer.

use super::body;
use super::columns::Columns;
pub use super::columns::{describe, FieldError, Needs, Refused, Shape, MAX_ERRORS};
use crate::ingest::RawTable;

/// Read a request body into a table of customers, in request order.
/// Records stream from the body into columns ([`body`]); only MLflow's
/// `dataframe_split`, whose column names may follow its data, is read as a
/// JSON value first.
pub fn parse(body: &[u8], shape: Shape, needs: &Needs) -> Result<RawTable, Refused> {
    let mut columns = Columns::for_fields(needs);
    let read = body::read(body, shape, &mut columns, needs).map_err(|e| match e.is_data() {
        true => Refused::bad(format!("the body does not have the expected shape: {e}")),
        false => Refused::bad(format!("the body is not valid JSON: {e}")),
    })?;
    match read {
        body::Found::Records => {}
        body::Found::Split(v) => columns.split(v, needs)?,
        body::Found::Nothing => return Err(Refused::bad(match shape {
            Shape::Customers => "expected {\"customers\": [{...}, ...]}",
            Shape::Mlflow => {
                "expected \"dataframe_records\" or \"dataframe_split\" (MLflow's pandas formats)"
            }
        })),
    }
    columns.done()?;
    Ok(columns.table())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> Needs {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Needs::new(own(&["age", "plan"]), own(&["age", "active"]))
    }

    fn text(t: &RawTable, col: &str, row: usize) -> Option<String> {
        t.column(col).unwrap().text(row)
    }

    #[test]
    fn customers_and_both_mlflow_shapes_read_alike() {
        let ours = br#"{"customers":[{"age":41.5,"plan":"gold","active":true},{"age":null,"plan":"basic","active":false}]}"#;
        let records = br#"{"dataframe_records":[{"age":41.5,"plan":"gold","active":true},{"age":null,"plan":"basic","active":false}]}"#;
        let split = br#"{"dataframe_split":{"columns":["age","plan","active"],"data":[[41.5,"gold",true],[null,"basic",false]]}}"#;
        let a = parse(ours, Shape::Customers, &needs()).unwrap();
        for t in [
            parse(records, Shape::Mlflow, &needs()).unwrap(),
            parse(split, Shape::Mlflow, &needs()).unwrap(),
            a.clone(),
        ] {
            assert_eq!(t.n_rows(), 2);
            assert_eq!(text(&t, "age", 0).as_deref(), Some("41.5"));
            assert_eq!(text(&t, "age", 1), None, "null is a missing cell");
            assert_eq!(text(&t, "plan", 1).as_deref(), Some("basic"));
            assert_eq!(text(&t, "active", 0).as_deref(), Some("1"));
            assert_eq!(t.row(1), 1, "rows are the request's 0-based indexes");
        }
        // The same body is not read by the other endpoint.
        assert_eq!(
            parse(ours, Shape::Mlflow, &needs()).unwrap_err().status,
            400
        );
    }

    #[test]
    fn columns_keep_the_order_sent_and_fields_the_model_does_not_know() {
        // "note" is no field of the model: kept as a CSV's extra column is.
        let body = br#"{"customers":[{"note":"vip","plan":"gold","age":40,"age":41},{"age":true,"plan":"x","note":null,"flag":false}]}"#;
        let t = parse(body, Shape::Customers, &needs()).unwrap();
        assert_eq!(t.names, ["note", "plan", "age", "flag"]);
        assert_eq!(text(&t, "note", 0).as_deref(), Some("vip"));
        assert_eq!(text(&t, "note", 1), None);
        assert_eq!(
            text(&t, "age", 0).as_deref(),
            Some("41"),
            "the last value sent"
        );
        assert_eq!(
            text(&t, "age", 1).as_deref(),
            Some("1"),
            "numeric: true is 1"
        );
        assert_eq!(text(&t, "flag", 0), None, "not sent by customer 0");
        assert_eq!(text(&t, "flag", 1).as_deref(), Some("false"), "not numeric");
    }

    #[test]
    fn mistakes_name_the_customer_and_field() {
        let body =
            br#"{"customers":[{"age":30,"plan":"gold"},{"plan":"x"},{"age":[1],"plan":"y"},7]}"#;
        let e = parse(body, Shape::Customers, &needs()).unwrap_err();
        assert_eq!(e.status, 422);
        let got: Vec<(usize, Option<&str>)> = e
            .errors
            .iter()
            .map(|f| (f.customer, f.field.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![(1, Some("age")), (2, Some("age")), (3, None)],
            "{e:?}"
        );
        assert!(
            e.message.contains("customer 1, field 'age': missing"),
            "{}",
            e.message
        );
        for bad in [
            &b"{"[..],
            b"[]",
            b"{\"customers\":{}}",
            b"{\"customers\":[]}",
            b"{\"dataframe_split\":{\"columns\":[1],\"data\":[]}}",
        ] {
            let shape = match bad.starts_with(b"{\"dataframe") {
                true => Shape::Mlflow,
                false => Shape::Customers,
            };
            assert_eq!(parse(bad, shape, &needs()).unwrap_err().status, 400);
        }
        let short = br#"{"dataframe_split":{"columns":["age","plan"],"data":[[1]]}}"#;
        let e = parse(short, Shape::Mlflow, &needs()).unwrap_err();
        assert_eq!((e.status, e.errors[0].customer), (422, 0));
    }
}
