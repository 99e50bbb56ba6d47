//! Hash maps and sets with foldhash's fast, fixed-seed hasher. Lookups keyed
//! by a cell, a level or a group run millions of times a job, where the
//! standard library's DoS-resistant hasher is several times slower; the
//! inputs are the bank's own files, and a fixed seed keeps every iteration
//! order the same from run to run.

pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::FixedState>;
