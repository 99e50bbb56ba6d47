//! The dependency rule of docs/architecture.md, checked on the source: arrows
//! point down (bin → flow → stages → io / error), so the top-level modules
//! form no import cycle, no stage imports a flow (`train`, `score`), and a
//! model imports no evaluation, report, file or configuration code.
//!
//! Imports are read from every `crate::` path in a file's non-test code
//! (`use` lines, braced groups and inline paths alike).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's `src/`: the manifest folder cargo runs the test in (a target
/// folder shared between clones may hold a binary compiled elsewhere).
fn src() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
        .join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The file's code without comments and without its `#[cfg(test)]` tail.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file's code names through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
    };
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A braced group: the first name of each item at depth one.
            let (mut depth, mut start) = (0, 0);
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..k].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..k].trim()));
                        start = k + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

/// (file relative to src/, its top-level module, what it imports).
fn graph() -> Vec<(String, String, BTreeSet<String>)> {
    let src = src();
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    all.iter()
        .filter_map(|p| {
            let rel = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let top = rel
                .split('/')
                .next()
                .unwrap()
                .trim_end_matches(".rs")
                .to_string();
            if top == "lib" || top == "bin" {
                return None;
            }
            let imports = imports(&code(&std::fs::read_to_string(p).unwrap()));
            Some((rel, top, imports))
        })
        .collect()
}

/// A cycle among the top-level modules, if any (as the path that closes it).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> bool {
        match state.get(n) {
            Some(1) => {
                path.push(n.to_string());
                return true;
            }
            Some(2) => return false,
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if visit(m, edges, state, path) {
                return true;
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        false
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        let mut path = Vec::new();
        if visit(n, edges, &mut state, &mut path) {
            return Some(path);
        }
    }
    None
}

#[test]
fn the_import_reader_sees_groups_and_inline_paths() {
    let found = imports("use crate::{clean, ingest::{self, schema}, models};\nlet x = crate::io::write(1); // crate::report\n");
    assert_eq!(
        found,
        ["clean", "ingest", "io", "models", "report"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        imports(&code(
            "use crate::a;\n// use crate::b;\n#[cfg(test)]\nuse crate::c;"
        )),
        ["a"].map(String::from).into()
    );
    let mut e = BTreeMap::new();
    e.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    e.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(find_cycle(&e).is_some(), "a two-module cycle is found");
}

#[test]
fn top_level_modules_have_no_import_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, top, imports) in graph() {
        let entry = edges.entry(top.clone()).or_default();
        entry.extend(imports.into_iter().filter(|m| *m != top));
    }
    assert!(edges.len() > 10, "the source tree was read: {edges:?}");
    if let Some(cycle) = find_cycle(&edges) {
        panic!("import cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn arrows_point_down() {
    // Flows are imported by nobody but themselves (and the binaries); the
    // service is a front end over the scoring flow's core, its one importer.
    let flows = ["train", "score", "serve"];
    let front_end = |top: &str, m: &str| top == "serve" && m == "score";
    // What a model may never reach for.
    let above_models = [
        "evaluate",
        "report",
        "io",
        "ingest",
        "config",
        "artifact",
        "clean",
        "reference",
        "score",
        "train",
    ];
    let mut broken = Vec::new();
    for (file, top, imports) in graph() {
        for m in &imports {
            if flows.contains(&m.as_str()) && *m != top && !front_end(&top, m) {
                broken.push(format!("{file} imports the {m} flow"));
            }
            if top == "models" && above_models.contains(&m.as_str()) {
                broken.push(format!("{file} (a model) imports {m}"));
            }
            if top == "reference" && ["artifact", "report", "config"].contains(&m.as_str()) {
                broken.push(format!("{file} (the scoring reference) imports {m}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
