//! A request body streamed into columns: serde visitors that hand each
//! field of each record to [`Columns`] as the JSON parser reads it.
//!
//! Why not `serde_json::Value` first: building the value tree (a map, a
//! string per key and per text) and taking it apart again was 15% of the
//! service's samples for one customer. Field names are borrowed from the
//! body when they hold no escapes. The outcome is the same table: fields
//! land in columns by name, a field sent twice keeps its last value, and a
//! record that is not an object, or a field that is an array or an object,
//! is named in the answer while the rest of the body is still read.

use super::columns::{Columns, Needs, Sent, Shape};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;

/// Which member of the body held the customers.
pub(super) enum Found {
    /// Records (ours or MLflow's `dataframe_records`), already in the columns.
    Records,
    /// MLflow's `dataframe_split`, to be read from its value.
    Split(Value),
    Nothing,
}

/// Stream `body` into `columns`; a syntax error, or a member of the wrong
/// type, is serde_json's error.
pub(super) fn read(
    body: &[u8],
    shape: Shape,
    columns: &mut Columns,
    needs: &Needs,
) -> serde_json::Result<Found> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = de.deserialize_map(Top {
        shape,
        columns,
        needs,
    })?;
    de.end()?;
    Ok(found)
}

struct Top<'a> {
    shape: Shape,
    columns: &'a mut Columns,
    needs: &'a Needs,
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Found;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the body as a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found, A::Error> {
        let member = match self.shape {
            Shape::Customers => "customers",
            Shape::Mlflow => "dataframe_records",
        };
        let mut found = Found::Nothing;
        while let Some(key) = map.next_key::<Key>()? {
            let taken = matches!(found, Found::Records);
            if key.0 == member && !taken {
                // The first records count, and win over a split.
                map.next_value_seed(Records {
                    columns: self.columns,
                    needs: self.needs,
                    member,
                })?;
                found = Found::Records;
            } else if key.0 == "dataframe_split"
                && self.shape == Shape::Mlflow
                && matches!(found, Found::Nothing)
            {
                found = Found::Split(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// A field name, borrowed from the body when it can be.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The array of records.
struct Records<'a> {
    columns: &'a mut Columns,
    needs: &'a Needs,
    member: &'static str,
}

impl<'de> DeserializeSeed<'de> for Records<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "\"{}\" as an array of objects", self.member)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let needs = self.needs;
        while seq
            .next_element_seed(Record {
                columns: &mut *self.columns,
                needs,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One record: an object of fields, or anything else (named as a mistake).
struct Record<'a> {
    columns: &'a mut Columns,
    needs: &'a Needs,
}

impl Record<'_> {
    fn not_an_object<E>(self) -> Result<(), E> {
        let row = self.columns.new_row();
        self.columns
            .error(row, None, "expected an object of fields".into());
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Record<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Record<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.columns.new_row();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Field>()?;
            self.columns.set(&key.0, value.0, self.needs);
        }
        self.columns.check_required(self.needs);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.not_an_object()
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.not_an_object()
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.not_an_object()
    }
}

/// A field's value.
struct Field(Sent);

impl<'de> de::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field(Sent::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Field, E> {
                Ok(Field(Sent::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Field, E> {
                Ok(Field(Sent::Num(n.into())))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Field, E> {
                Ok(Field(Sent::Num(n.into())))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Field, E> {
                // JSON has no NaN or infinity, so every parsed f64 is a Number.
                Ok(Field(Number::from_f64(x).map_or(Sent::Null, Sent::Num)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Field, E> {
                Ok(Field(Sent::Text(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Field, E> {
                Ok(Field(Sent::Text(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field(Sent::Nested))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field(Sent::Nested))
            }
        }
        d.deserialize_any(V)
    }
}
