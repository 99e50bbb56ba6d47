//! A column's cells as codes into its distinct cells, so work that depends
//! only on a cell's value (parsing it, naming its group, copying its text) is
//! done once per distinct value, not once per row: a million cells of a
//! dozen regions parse a dozen times.

use super::RawColumn;
use crate::fast::FastMap;

/// Cells of some rows as codes; `firsts[c]` is the first row holding code
/// `c`'s value. Text cells are one value when their trimmed text is (every
/// reading of a cell trims it); number cells when their bits are, every
/// missing (not finite) cell alike.
#[derive(Debug)]
pub struct Interned {
    pub codes: Vec<u32>,
    pub firsts: Vec<usize>,
}

impl Interned {
    /// Intern the cells of `rows` (every row when `None`) of `col`.
    pub fn of(col: &RawColumn, rows: Option<&[usize]>) -> Interned {
        let n = rows.map_or(col.len(), <[usize]>::len);
        let row = |i: usize| rows.map_or(i, |r| r[i]);
        let mut out = Interned {
            codes: Vec::with_capacity(n),
            firsts: Vec::new(),
        };
        match col {
            RawColumn::Text(v) => {
                let mut seen: FastMap<Option<&str>, u32> = FastMap::default();
                for i in 0..n {
                    let key = v.get(row(i)).map(str::trim).filter(|s| !s.is_empty());
                    out.codes
                        .push(code(&mut seen, key, &mut out.firsts, row(i)));
                }
            }
            RawColumn::Number(v) => {
                let mut seen: FastMap<u64, u32> = FastMap::default();
                for i in 0..n {
                    let key = super::number_key(v[row(i)]);
                    out.codes
                        .push(code(&mut seen, key, &mut out.firsts, row(i)));
                }
            }
        }
        out
    }

    /// `f` of every row's value, `f` called once per distinct value with the
    /// first row holding it.
    pub fn map<T: Clone>(&self, f: impl Fn(usize) -> T) -> Vec<T> {
        let per: Vec<T> = self.firsts.iter().map(|&r| f(r)).collect();
        self.codes
            .iter()
            .map(|&c| per[c as usize].clone())
            .collect()
    }

    /// How many rows hold each code.
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.firsts.len()];
        for &c in &self.codes {
            counts[c as usize] += 1;
        }
        counts
    }
}

/// The code of `key`, a new one (first seen at `row`) when it is new.
fn code<K: std::hash::Hash + Eq>(
    seen: &mut FastMap<K, u32>,
    key: K,
    firsts: &mut Vec<usize>,
    row: usize,
) -> u32 {
    *seen.entry(key).or_insert_with(|| {
        firsts.push(row);
        (firsts.len() - 1) as u32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_trimmed_cells_share_a_code() {
        let col = RawColumn::from_strings(&[Some(" a"), Some("b"), Some("a "), None, Some(" ")]);
        let i = Interned::of(&col, None);
        assert_eq!(i.codes, vec![0, 1, 0, 2, 2]);
        assert_eq!(i.firsts, vec![0, 1, 3]);
        assert_eq!(i.counts(), vec![2, 1, 2]);
        assert_eq!(
            i.map(|r| col.text(r)),
            (0..5).map(|r| col.text(r)).collect::<Vec<_>>()
        );
        let nums = RawColumn::Number(vec![1.0, f64::NAN, 1.0, f64::INFINITY, 2.0]);
        let i = Interned::of(&nums, Some(&[4, 0, 1, 2, 3]));
        assert_eq!(i.codes, vec![0, 1, 2, 1, 2]);
        assert_eq!(i.firsts, vec![4, 0, 1]);
    }
}
