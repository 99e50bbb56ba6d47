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
use crate::ingest::{RawColumn, RawTable};
use serde_json::{Number, Value};

type Map<V> = crate::fast::FastMap<String, V>;

/// The body shapes an endpoint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `POST /v1/score`: `{"customers": [...]}`.
    Customers,
    /// `POST /invocations`: `dataframe_records` or `dataframe_split`.
    Mlflow,
}

/// One problem with one customer of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// 0-based index of the customer in the request.
    pub customer: usize,
    pub field: Option<String>,
    pub reason: String,
}

/// Why a request is refused: 400 (not a request we read) or 422 (a
/// request whose customers cannot be scored as sent).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub status: u16,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl Refused {
    pub fn bad(message: impl Into<String>) -> Refused {
        Refused {
            status: 400,
            message: message.into(),
            errors: vec![],
        }
    }

    pub fn fields(errors: Vec<FieldError>) -> Refused {
        let n = errors.len();
        Refused {
            status: 422,
            message: format!(
                "{n} problem(s) with the customers sent; nothing was scored (first: {})",
                errors.first().map_or(String::new(), describe)
            ),
            errors,
        }
    }
}

/// `customer 3, field 'Age': …`.
pub fn describe(e: &FieldError) -> String {
    match &e.field {
        Some(f) => format!("customer {}, field '{f}': {}", e.customer, e.reason),
        None => format!("customer {}: {}", e.customer, e.reason),
    }
}

/// At most this many field errors are listed in one answer.
pub const MAX_ERRORS: usize = 100;

/// What a request must carry: the fields every customer needs and which
/// of them are numeric (booleans become 1/0; a column of numbers stays
/// numbers, as the batch job's typed read keeps them). Fixed per model:
/// built when it loads, with a slot per field it names, so that a
/// request's known fields find their column without a map of their own.
pub struct Needs {
    /// The fields named in either list, by slot.
    fields: Vec<String>,
    slot: Map<usize>,
    numeric: Vec<bool>,
    /// Slots of the required fields, in the order given.
    required: Vec<usize>,
}

impl Needs {
    pub fn new(required: Vec<String>, numeric: Vec<String>) -> Needs {
        let mut needs = Needs {
            fields: vec![],
            slot: Map::default(),
            numeric: vec![],
            required: vec![],
        };
        for n in &numeric {
            let k = needs.slot_of(n);
            needs.numeric[k] = true;
        }
        for r in &required {
            let k = needs.slot_of(r);
            needs.required.push(k);
        }
        needs
    }

    fn slot_of(&mut self, name: &str) -> usize {
        if let Some(&k) = self.slot.get(name) {
            return k;
        }
        self.fields.push(name.to_string());
        self.numeric.push(false);
        self.slot.insert(name.to_string(), self.fields.len() - 1);
        self.fields.len() - 1
    }
}

/// A cell as sent: a JSON number is kept as the number it was (its text,
/// when it lands in a text column, is serde_json's, as before).
#[derive(Clone)]
enum Cell {
    Null,
    Num(Number),
    Text(String),
}

/// A field's value as read from the body, before its column decides what
/// a boolean becomes.
pub(super) enum Sent {
    Null,
    Bool(bool),
    Num(Number),
    Text(String),
    /// An array or an object: not a cell.
    Nested,
}

impl From<Value> for Sent {
    fn from(v: Value) -> Sent {
        match v {
            Value::Null => Sent::Null,
            Value::Bool(b) => Sent::Bool(b),
            Value::Number(n) => Sent::Num(n),
            Value::String(s) => Sent::Text(s),
            Value::Array(_) | Value::Object(_) => Sent::Nested,
        }
    }
}

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

/// Cells gathered column by column, columns in the order the body first
/// names them.
#[derive(Default)]
pub(super) struct Columns {
    names: Vec<String>,
    cells: Vec<Vec<Cell>>,
    /// Per column: numeric in the model (booleans become 1/0), and the
    /// last row (+1) that sent it (null counts as sent).
    numeric: Vec<bool>,
    sent: Vec<usize>,
    /// Per slot of the model's fields ([`Needs`]): its column, once sent.
    known: Vec<Option<usize>>,
    /// Columns of fields the model does not name (kept, as a CSV's extra
    /// columns are).
    extra: Map<usize>,
    rows: usize,
    errors: Vec<FieldError>,
}

impl Columns {
    /// Room for the model's fields, so that a request's columns are not
    /// regrown field by field.
    fn for_fields(needs: &Needs) -> Columns {
        let n = needs.fields.len();
        Columns {
            names: Vec::with_capacity(n),
            cells: Vec::with_capacity(n),
            numeric: Vec::with_capacity(n),
            sent: Vec::with_capacity(n),
            known: vec![None; n],
            ..Columns::default()
        }
    }

    fn column(&mut self, name: &str, needs: &Needs) -> usize {
        let slot = needs.slot.get(name).copied();
        let found = match slot {
            Some(s) => self.known[s],
            None => self.extra.get(name).copied(),
        };
        if let Some(k) = found {
            return k;
        }
        let k = self.names.len();
        match slot {
            Some(s) => self.known[s] = Some(k),
            None => {
                self.extra.insert(name.to_string(), k);
            }
        }
        self.names.push(name.to_string());
        self.cells.push(vec![Cell::Null; self.rows]);
        self.numeric.push(slot.is_some_and(|s| needs.numeric[s]));
        self.sent.push(0);
        k
    }

    /// Set a cell of the current row (`rows - 1`).
    pub(super) fn set(&mut self, name: &str, v: Sent, needs: &Needs) {
        let row = self.rows - 1;
        let k = self.column(name, needs);
        let cell = match v {
            Sent::Null => Cell::Null,
            Sent::Text(s) => Cell::Text(s),
            Sent::Num(n) => Cell::Num(n),
            Sent::Bool(b) if self.numeric[k] => Cell::Num(Number::from(u8::from(b))),
            Sent::Bool(b) => Cell::Text(b.to_string()),
            Sent::Nested => {
                self.error(
                    row,
                    Some(name),
                    "expected a string, number, boolean or null".into(),
                );
                Cell::Null
            }
        };
        self.cells[k][row] = cell;
        self.sent[k] = self.rows;
    }

    /// Name every required field the current row did not send.
    pub(super) fn check_required(&mut self, needs: &Needs) {
        let row = self.rows - 1;
        for &s in &needs.required {
            let here = self.known[s].is_some_and(|k| self.sent[k] == self.rows);
            if !here {
                self.error(
                    row,
                    Some(&needs.fields[s]),
                    "missing (send null for an unknown value)".into(),
                );
            }
        }
    }

    pub(super) fn error(&mut self, customer: usize, field: Option<&str>, reason: String) {
        self.errors.push(FieldError {
            customer,
            field: field.map(str::to_string),
            reason,
        });
    }

    pub(super) fn new_row(&mut self) -> usize {
        for c in &mut self.cells {
            c.push(Cell::Null);
        }
        self.rows += 1;
        self.rows - 1
    }

    fn split(&mut self, v: Value, needs: &Needs) -> Result<(), Refused> {
        let bad = || {
            Refused::bad(
                "\"dataframe_split\" must be {\"columns\": [names], \"data\": [[values], ...]}",
            )
        };
        let Value::Object(mut split) = v else {
            return Err(bad());
        };
        let (Some(Value::Array(cols)), Some(Value::Array(data))) =
            (split.remove("columns"), split.remove("data"))
        else {
            return Err(bad());
        };
        let names: Vec<String> = cols
            .into_iter()
            .map(|c| match c {
                Value::String(s) => Ok(s),
                _ => Err(bad()),
            })
            .collect::<Result<_, _>>()?;
        for row in data {
            let r = self.new_row();
            match row {
                Value::Array(values) if values.len() == names.len() => {
                    for (name, v) in names.iter().zip(values) {
                        self.set(name, v.into(), needs);
                    }
                }
                Value::Array(values) => self.error(
                    r,
                    None,
                    format!("{} values for {} columns", values.len(), names.len()),
                ),
                _ => self.error(r, None, "expected an array of values".into()),
            }
            self.check_required(needs);
        }
        Ok(())
    }

    fn done(&mut self) -> Result<(), Refused> {
        if self.rows == 0 {
            return Err(Refused::bad("no customers in the request"));
        }
        match self.errors.is_empty() {
            true => Ok(()),
            false => {
                let mut errors = std::mem::take(&mut self.errors);
                errors.truncate(MAX_ERRORS);
                Err(Refused::fields(errors))
            }
        }
    }

    fn table(self) -> RawTable {
        RawTable {
            source: "request".into(),
            names: self.names,
            columns: self
                .cells
                .into_iter()
                .zip(&self.numeric)
                .map(|(c, &numeric)| column(c, numeric))
                .collect(),
            first_row: 0,
            rows: None,
            skipped: vec![],
        }
    }
}

/// A numeric field whose cells are all numbers (or null) becomes a number
/// column, as in the batch job's typed read; any other a text column.
fn column(cells: Vec<Cell>, numeric: bool) -> RawColumn {
    if numeric && cells.iter().all(|c| !matches!(c, Cell::Text(_))) {
        return RawColumn::Number(
            cells
                .iter()
                .map(|c| match c {
                    Cell::Num(n) => n.as_f64().unwrap_or(f64::NAN),
                    _ => f64::NAN,
                })
                .collect(),
        );
    }
    let text: Vec<Option<String>> = cells
        .into_iter()
        .map(|c| match c {
            Cell::Null => None,
            Cell::Num(n) => Some(n.to_string()),
            Cell::Text(t) => Some(t),
        })
        .collect();
    RawColumn::from_strings(&text)
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
