//! The layout is the architecture, and these tests hold the code to it: the
//! content model knows nothing of HTTP, routes, settings or start-up; the
//! HTTP layer knows nothing of the content or the settings; no two
//! top-level modules import each other, however indirectly; and no code is
//! kept alive by `#[allow(dead_code)]`.
//!
//! Imports are read from the source text: every `crate::` path, including
//! each name in a `use crate::{...}` group, and `super::super::` from a
//! nested module. Comments are skipped.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Every `.rs` file under `src/`, with its text.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file is UTF-8");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &mut out);
    assert!(out.len() > 20, "src/ should hold the crate's modules");
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to: `http` for `src/http/edge.rs`,
/// `error` for `src/error.rs`; `None` for `lib.rs` and `main.rs`.
fn module_of(path: &Path) -> Option<String> {
    let relative = path.strip_prefix(src()).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

/// The text without `//` comments (doc comments included), so that a
/// module named in prose is not taken for an import.
fn code(text: &str) -> String {
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file's code names through `crate::`.
fn imports(text: &str) -> BTreeSet<String> {
    let code = code(text);
    let mut names = BTreeSet::new();
    for prefix in ["crate::", "super::super::"] {
        for (at, _) in code.match_indices(prefix) {
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                names.extend(group_heads(group));
            } else {
                names.insert(ident(rest).to_owned());
            }
        }
    }
    names.retain(|name| !name.is_empty() && name != "self");
    names
}

/// The leading identifier of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first name of each path in a `{a::b, c, d::{e, f}}` group (`group`
/// starts after the opening brace): `a`, `c`, `d`.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_head = true,
            c if expect_head && depth == 0 && (c.is_alphanumeric() || c == '_') => {
                heads.push(ident(&group[i..]).to_owned());
                expect_head = false;
            }
            _ => {}
        }
    }
    heads
}

/// Which top-level modules each top-level module imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources() {
        let Some(module) = module_of(&path) else {
            continue;
        };
        let imported = imports(&text);
        let entry = graph.entry(module.clone()).or_default();
        entry.extend(imported.into_iter().filter(|name| *name != module));
    }
    graph
}

/// The files under `src/<module>/` that import any of `forbidden`, with what.
fn offenders(module: &str, forbidden: &[&str]) -> Vec<String> {
    let files: Vec<_> = sources()
        .into_iter()
        .filter(|(path, _)| module_of(path).as_deref() == Some(module))
        .collect();
    assert!(!files.is_empty(), "there is a `{module}` module");
    files
        .into_iter()
        .flat_map(|(path, text)| {
            imports(&text)
                .into_iter()
                .filter(|name| forbidden.contains(&name.as_str()))
                .map(move |name| format!("{} imports {name}", path.display()))
        })
        .collect()
}

#[test]
fn the_import_reader_sees_plain_paths_groups_and_nested_groups() {
    let text = "use crate::{content::Slug, http::{cache::Caching, problem}, urls};\n\
                // crate::config is only mentioned here\n\
                fn f() { crate::metrics::x(); super::super::store::y(); }";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["content", "http", "metrics", "store", "urls"]);
}

#[test]
fn the_content_model_imports_nothing_of_http_routes_config_or_startup() {
    let offenders = offenders("content", &["http", "routes", "config", "startup"]);
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn the_http_layer_imports_neither_content_nor_config() {
    let offenders = offenders("http", &["content", "config"]);
    assert!(offenders.is_empty(), "{offenders:#?}");
}

#[test]
fn no_top_level_modules_import_each_other_even_indirectly() {
    let graph = graph();
    // Depth-first search for a way back to where it started.
    fn cycle_from(
        graph: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = cycle_from(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    assert!(
        graph.len() > 10,
        "the graph should hold every module: {graph:?}"
    );
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let cycle = cycle_from(&graph, module, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "an import cycle: {}",
            cycle.unwrap().join(" -> ")
        );
    }
}

#[test]
fn no_code_is_kept_alive_by_allow_dead_code() {
    let marker = ["allow(", "dead_code)"].concat();
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|(_, text)| code(text).contains(&marker))
        .map(|(path, _)| path.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "{offenders:#?}");
}
