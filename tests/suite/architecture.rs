//! The dependency rule of docs/architecture.md, checked on the source: arrows
//! point down (bin → cli → flow → stages → io / error). The modules form no
//! import cycle at any level (the top-level modules among themselves, and
//! the files of every folder among themselves); nothing imports the CLI
//! (only the binaries do); no stage imports a flow (`train`, `score`,
//! `serve`); the service and the database sink sit on the scoring core, not
//! the batch flow; a model imports no evaluation, report, file or
//! configuration code; the tree engine is a crate of its own that names no
//! application code.
//!
//! Imports are read from every `crate::`, `super::` and `self::` path in a
//! file's non-test code (`use` lines, braced groups and inline paths alike),
//! plus `use child::…` of a module's own children, each resolved to the
//! deepest module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from the crate root (`["serve", "request"]`).
type Module = Vec<String>;

/// The repository root: the manifest folder cargo runs the test in (a
/// target folder shared between clones may hold a binary compiled
/// elsewhere).
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
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

/// The module a file under `src/` defines: `serve/mod.rs` → `serve`,
/// `serve/request.rs` → `serve::request`.
fn module_of(rel: &str) -> Module {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Module = rel.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The paths one use-tree names, from `s` on (after its first `::`):
/// `a::{b, c::{self, d}}` → `a::b`, `a::c`, `a::c::d`.
fn tree(s: &str, prefix: &Module, out: &mut Vec<Module>) {
    let mut path = prefix.clone();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0, 0);
            for (k, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth > 0 => depth -= 1,
                    '}' | ',' if depth == 0 => {
                        let item = group[start..k].trim();
                        if item == "self" {
                            out.push(path.clone());
                        } else if !item.is_empty() {
                            tree(item, &path, out);
                        }
                        start = k + 1;
                        if c == '}' {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            return;
        }
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        if name.is_empty() || name == "self" {
            break;
        }
        path.push(name.clone());
        rest = &rest[name.len()..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out.push(path);
}

/// Every module path a file's code names, resolved against its module
/// `here` (`children`: the names of `here`'s own child modules).
fn paths(code: &str, here: &Module, children: &BTreeSet<String>) -> Vec<Module> {
    let mut out = Vec::new();
    let mut before = ' ';
    for (i, c) in code.char_indices() {
        let boundary = !(is_ident(before) || before == ':');
        before = c;
        if !boundary {
            continue;
        }
        let rest = &code[i..];
        if let Some(r) = rest.strip_prefix("crate::") {
            tree(r, &vec![], &mut out);
        } else if rest.starts_with("super::") {
            let mut base = here.clone();
            let mut r = rest;
            while let Some(next) = r.strip_prefix("super::") {
                base.pop();
                r = next;
            }
            tree(r, &base, &mut out);
        } else if let Some(r) = rest.strip_prefix("self::") {
            tree(r, here, &mut out);
        } else if let Some(r) = rest.strip_prefix("use ") {
            let first: String = r
                .trim_start()
                .chars()
                .take_while(|c| is_ident(*c))
                .collect();
            if children.contains(&first) {
                tree(r.trim_start(), here, &mut out);
            }
        }
    }
    out
}

/// The source tree of a crate: every module and what its file imports
/// (each path cut to the deepest module it names).
struct Graph {
    /// (file relative to the crate's `src/`, its module, the modules it imports).
    files: Vec<(String, Module, BTreeSet<Module>)>,
}

impl Graph {
    fn read(src: &Path) -> Graph {
        let mut all = Vec::new();
        files(src, &mut all);
        all.sort();
        let rels: Vec<String> = all
            .iter()
            .map(|p| {
                p.strip_prefix(src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .filter(|r| !r.starts_with("bin/"))
            .collect();
        let modules: BTreeSet<Module> = rels.iter().map(|r| module_of(r)).collect();
        let children = |m: &Module| -> BTreeSet<String> {
            modules
                .iter()
                .filter(|c| c.len() == m.len() + 1 && c.starts_with(m))
                .map(|c| c.last().unwrap().clone())
                .collect()
        };
        let files = rels
            .iter()
            .map(|rel| {
                let here = module_of(rel);
                let text = std::fs::read_to_string(src.join(rel)).unwrap();
                let imports = paths(&code(&text), &here, &children(&here))
                    .into_iter()
                    .filter_map(|mut p| {
                        while !p.is_empty() && !modules.contains(&p) {
                            p.pop();
                        }
                        (!p.is_empty()).then_some(p)
                    })
                    .collect();
                (rel.clone(), here, imports)
            })
            .collect();
        Graph { files }
    }

    /// For every folder, the edges among its children (a child's subtree
    /// importing another child's subtree), keyed by the folder.
    fn levels(&self) -> BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> {
        let mut out: BTreeMap<Module, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (_, here, imports) in &self.files {
            for to in imports {
                // The deepest common folder: the level where the arrow runs.
                let common = here.iter().zip(to).take_while(|(a, b)| a == b).count();
                if common == here.len() || common == to.len() {
                    continue; // into its own subtree, or up to an ancestor
                }
                let level = here[..common].to_vec();
                out.entry(level)
                    .or_default()
                    .entry(here[common].clone())
                    .or_default()
                    .insert(to[common].clone());
            }
        }
        out
    }
}

/// A cycle among one folder's modules, if any (as the path that closes it).
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

fn m(s: &str) -> Module {
    s.split("::").map(String::from).collect()
}

#[test]
fn the_import_reader_sees_groups_inline_and_relative_paths() {
    let here = m("serve::request");
    let kids = BTreeSet::new();
    let found: BTreeSet<Module> = paths(
        "use crate::{clean, ingest::{self, schema::Cell}, models};\nlet x = crate::io::write(1);\nuse super::body;\nuse super::super::a::b;",
        &here,
        &kids,
    )
    .into_iter()
    .collect();
    for want in [
        "clean",
        "ingest",
        "ingest::schema::Cell",
        "models",
        "io::write",
        "serve::body",
        "a::b",
    ] {
        assert!(found.contains(&m(want)), "{want} in {found:?}");
    }
    let kids = BTreeSet::from(["request".to_string()]);
    let found = paths("use request::Shape;\nuse std::fs;", &m("serve"), &kids);
    assert_eq!(found, vec![m("serve::request::Shape")]);
    assert!(paths(
        &code("use crate::a;\n// use crate::b;\n#[cfg(test)]\nuse crate::c;"),
        &here,
        &kids
    )
    .iter()
    .all(|p| p == &m("a")));
    let mut e = BTreeMap::new();
    e.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    e.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(find_cycle(&e).is_some(), "a two-module cycle is found");
}

#[test]
fn no_import_cycle_at_any_level() {
    for src in [root().join("src"), root().join("crates/churn-engine/src")] {
        let graph = Graph::read(&src);
        let levels = graph.levels();
        assert!(
            graph.files.len() > 10,
            "the source tree was read: {}",
            src.display()
        );
        let mut cycles = Vec::new();
        for (level, edges) in &levels {
            if let Some(cycle) = find_cycle(edges) {
                cycles.push(format!(
                    "in {}/{}: {}",
                    src.display(),
                    level.join("/"),
                    cycle.join(" → ")
                ));
            }
        }
        assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
    }
}

#[test]
fn arrows_point_down() {
    let graph = Graph::read(&root().join("src"));
    // Flows are imported by nobody but themselves (the binaries, outside
    // src/'s graph, call them through the CLI layer).
    let flows = ["train", "score", "serve"];
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
        "scoring",
    ];
    let mut broken = Vec::new();
    for (file, here, imports) in &graph.files {
        let top = here.first().map_or("", String::as_str);
        let tops: BTreeSet<&str> = imports.iter().map(|p| p[0].as_str()).collect();
        for m in tops {
            if m == "cli" && top != "cli" {
                broken.push(format!("{file} imports the CLI (only the binaries may)"));
            }
            if flows.contains(&m) && m != top && top != "cli" {
                broken.push(format!("{file} imports the {m} flow"));
            }
            if top == "models" && above_models.contains(&m) {
                broken.push(format!("{file} (a model) imports {m}"));
            }
            if top == "reference" && ["artifact", "report", "config", "scoring"].contains(&m) {
                broken.push(format!("{file} (the scoring reference) imports {m}"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn service_and_sink_sit_on_the_scoring_core_not_the_batch_flow() {
    let graph = Graph::read(&root().join("src"));
    let mut on_core = 0;
    for (file, here, imports) in &graph.files {
        if !here.first().is_some_and(|t| t == "serve" || t == "sink") {
            continue;
        }
        for p in imports {
            assert_ne!(
                p[0],
                "score",
                "{file} imports the batch flow ({})",
                p.join("::")
            );
            on_core += usize::from(p[0] == "scoring");
        }
    }
    assert!(on_core > 0, "the service scores through the scoring core");
}

#[test]
fn the_engine_crate_names_no_application_code() {
    let engine = root().join("crates/churn-engine");
    let manifest = std::fs::read_to_string(engine.join("Cargo.toml")).unwrap();
    let deps = manifest.split("[dependencies]").nth(1).unwrap_or("");
    let deps = deps.split("\n[").next().unwrap_or("");
    for line in deps.lines().filter(|l| l.contains('=')) {
        let name = line.split('=').next().unwrap().trim();
        assert!(
            ![
                "churn",
                "polars",
                "smartcore",
                "linfa-trees",
                "axum",
                "tokio",
                "postgres",
                "rusqlite"
            ]
            .contains(&name),
            "the engine depends on {name}"
        );
    }
    let mut all = Vec::new();
    files(&engine.join("src"), &mut all);
    assert!(all.len() > 5, "the engine's sources were read");
    for f in all {
        let text = code(&std::fs::read_to_string(&f).unwrap());
        assert!(
            !text.contains("churn::"),
            "{} names the application crate",
            f.display()
        );
        assert!(!text.contains("polars"), "{} uses polars", f.display());
    }
}
