//! What a request's customers become on their way to a table: the fields
//! a model needs ([`Needs`]), the cells as sent ([`Sent`]) gathered column
//! by column ([`Columns`]), and the answers that refuse a request
//! ([`Refused`], [`FieldError`]). The body readers ([`super::body`]) fill
//! these; [`super::request`] drives them.

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
    pub(super) fn for_fields(needs: &Needs) -> Columns {
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

    pub(super) fn split(&mut self, v: Value, needs: &Needs) -> Result<(), Refused> {
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

    pub(super) fn done(&mut self) -> Result<(), Refused> {
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

    pub(super) fn table(self) -> RawTable {
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
