//! Category spellings: `France`, `FRANCE`, ` france ` and `Fran\u{63}\u{327}e`
//! written by different systems are one level. Levels are compared by a
//! key — Unicode NFKC normalisation, lower case, runs of white space as one
//! space, trimmed — at training (variants of one key become its most
//! frequent spelling, counted in data_report.json) and at scoring (a cell
//! that is not a model level exactly is matched by its key before it is
//! called unseen), so a batch from another system is not silently scored
//! as full of categories the model never saw.

use super::{Category, Level};
use crate::fast::FastMap;
use std::sync::Arc;
use unicode_normalization::UnicodeNormalization;

/// The key two spellings of one level share.
pub fn key(s: &str) -> String {
    let folded: String = s.nfkc().flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The position of `s` among sorted `levels`: exact, else the one level
/// with the same [`key`] (none when two would).
pub fn find(levels: &[String], s: &str) -> Option<usize> {
    if let Ok(k) = levels.binary_search_by(|l| l.as_str().cmp(s)) {
        return Some(k);
    }
    let want = key(s);
    let mut hits = levels.iter().enumerate().filter(|(_, l)| key(l) == want);
    match (hits.next(), hits.next()) {
        (Some((k, _)), None) => Some(k),
        _ => None,
    }
}

/// Merge the spellings of one level in a training column: every variant
/// becomes the key's most frequent spelling (ties: the smallest in byte
/// order). Returns the cells rewritten.
pub fn unify(cells: &mut [Category]) -> usize {
    // Cells by shared string first (no hashing of text), then by text.
    let mut by_ptr: FastMap<Level, usize> = FastMap::default();
    for c in cells.iter().flatten() {
        *by_ptr.entry(Level(c)).or_default() += 1;
    }
    let mut by_text: FastMap<&str, (Arc<str>, usize)> = FastMap::default();
    for (level, n) in &by_ptr {
        by_text
            .entry(&**level.0)
            .or_insert_with(|| (level.0.clone(), 0))
            .1 += n;
    }
    let mut by_key: FastMap<String, Vec<(&str, usize)>> = FastMap::default();
    for (text, (_, n)) in &by_text {
        by_key.entry(key(text)).or_default().push((text, *n));
    }
    let mut to: FastMap<&str, Arc<str>> = FastMap::default();
    for variants in by_key.values().filter(|v| v.len() > 1) {
        let best = variants
            .iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
            .map(|v| v.0)
            .unwrap_or_default();
        for (v, _) in variants.iter().filter(|v| v.0 != best) {
            to.insert(v, by_text[best].0.clone());
        }
    }
    if to.is_empty() {
        return 0;
    }
    let mut memo: FastMap<Level, Option<Arc<str>>> = FastMap::default();
    let new: Vec<Option<Arc<str>>> = cells
        .iter()
        .map(|c| {
            c.as_ref().and_then(|s| {
                memo.entry(Level(s))
                    .or_insert_with(|| to.get(&**s).cloned())
                    .clone()
            })
        })
        .collect();
    let mut changed = 0;
    for (c, n) in cells.iter_mut().zip(new) {
        if let Some(n) = n {
            *c = Some(n);
            changed += 1;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(v: &[&str]) -> Vec<Category> {
        v.iter().map(|s| Some(Arc::from(*s))).collect()
    }

    #[test]
    fn keys_fold_case_space_and_unicode() {
        assert_eq!(key(" FRANCE "), "france");
        assert_eq!(key("Fran\u{63}\u{327}e"), key("Fran\u{e7}e"));
        assert_eq!(key("New  York"), key("new york"));
        assert_ne!(key("Spain"), key("France"));
    }

    #[test]
    fn unify_merges_to_the_most_frequent_and_find_matches_by_key() {
        let mut c = cats(&["France", "FRANCE", "France", "france", "Spain"]);
        assert_eq!(unify(&mut c), 2);
        assert!(c[..4].iter().all(|x| x.as_deref() == Some("France")));
        assert_eq!(c[4].as_deref(), Some("Spain"));
        let levels = vec!["France".to_string(), "Spain".to_string()];
        assert_eq!(find(&levels, "SPAIN"), Some(1));
        assert_eq!(find(&levels, "Italy"), None);
        let twins = vec!["A".to_string(), "a".to_string()];
        assert_eq!(find(&twins, "A"), Some(0));
        assert_eq!(find(&twins, " a "), None, "two levels share the key");
    }
}
