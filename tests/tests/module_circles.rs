//! No two modules import each other, in the library or in the example
//! server: each reads from the bottom up (CONTRIBUTING.md, "Layering").
//!
//! Each module's files are read as text, with comments, string literals
//! and `#[cfg(test)]` items left out. Every `crate::`, `super::` and
//! `self::` path in them (whole `use` trees included, and names that a
//! module re-exports followed to where they are defined) is an edge from
//! that module to the module it names. Edges between a module and its own
//! submodules are containment, not layering, so they are left out; every
//! other edge is lifted to the two sibling modules it runs between, and
//! any circle among siblings fails the test, naming the references that
//! close it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// A module's path below its crate root: `[]` for the root,
/// `["attempts", "redis"]` for `attempts/redis.rs`.
type ModPath = Vec<String>;

#[test]
fn the_library_has_no_module_circles() {
    assert_no_circles("hook-layer/src");
}

#[test]
fn the_example_server_has_no_module_circles() {
    assert_no_circles("example-server/src");
}

fn assert_no_circles(src: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(src);
    let files = read_sources(&root, &root);
    assert!(files.len() > 5, "{src}: only {} files found", files.len());
    let circles = circles(&files);
    assert!(
        circles.is_empty(),
        "{src} has module circles; move what the modules share into a module below both:\n{}",
        circles.join("\n")
    );
}

/// Every `.rs` file below `dir`, as (path relative to `root`, text).
fn read_sources(root: &Path, dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(read_sources(root, &path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let relative = path.strip_prefix(root).expect("below the root");
            let relative = relative.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            files.push((relative, text));
        }
    }
    files
}

/// One module's code, as far as layering goes.
#[derive(Default)]
struct Module {
    /// File and references to other modules' paths (absolute).
    references: Vec<(String, ModPath)>,
    /// Names bound by `use` in this module, to the absolute path they stand
    /// for: `crate::Name` may name a re-export.
    bindings: BTreeMap<String, ModPath>,
    /// Submodules declared only for tests (`#[cfg(test)] mod fixtures;`).
    test_children: BTreeSet<String>,
}

/// The circles among `files` (paths relative to the crate's `src`), one
/// line each; empty when there are none.
fn circles(files: &[(String, String)]) -> Vec<String> {
    let has_lib = files.iter().any(|(path, _)| path == "lib.rs");
    let mut modules: BTreeMap<ModPath, Module> = BTreeMap::new();
    let mut code_of = Vec::new();
    for (path, text) in files {
        // The binary beside a library is a crate of its own, which reaches
        // the library by its name, never through `crate::`.
        if has_lib && path == "main.rs" {
            continue;
        }
        let module = module_path(path);
        let (code, test_children) = strip_test_items(&blank_comments_and_literals(text));
        let entry = modules.entry(module.clone()).or_default();
        entry.test_children.extend(test_children);
        code_of.push((path.clone(), module, tokens(&code)));
    }
    // Bindings first: references are resolved through them.
    for (_, module, tokens) in &code_of {
        let known: BTreeSet<ModPath> = modules.keys().cloned().collect();
        let bindings = use_bindings(tokens, module, &known);
        modules
            .get_mut(module)
            .expect("declared above")
            .bindings
            .extend(bindings);
    }
    for (path, module, tokens) in &code_of {
        for reference in references(tokens, module) {
            modules
                .get_mut(module)
                .expect("declared above")
                .references
                .push((path.clone(), reference));
        }
    }

    let test_only: BTreeSet<ModPath> = modules
        .iter()
        .flat_map(|(path, module)| {
            module.test_children.iter().map(move |child| {
                let mut child_path = path.clone();
                child_path.push(child.clone());
                child_path
            })
        })
        .collect();
    let is_test_only =
        |path: &ModPath| (1..=path.len()).any(|len| test_only.contains(&path[..len]));

    // Sibling edges, by parent: parent -> (from -> to -> witnesses).
    type Edges = BTreeMap<String, BTreeMap<String, Vec<String>>>;
    let mut by_parent: BTreeMap<ModPath, Edges> = BTreeMap::new();
    for (from, module) in &modules {
        if is_test_only(from) {
            continue;
        }
        for (file, reference) in &module.references {
            let to = resolve(&modules, reference);
            if is_test_only(&to) {
                continue;
            }
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            // A module and its own submodules: containment.
            if common >= from.len() || common >= to.len() {
                continue;
            }
            let witness = format!("{file} uses {}", display(reference));
            by_parent
                .entry(from[..common].to_vec())
                .or_default()
                .entry(from[common].clone())
                .or_default()
                .entry(to[common].clone())
                .or_default()
                .push(witness);
        }
    }

    let mut found = Vec::new();
    for (parent, edges) in &by_parent {
        for circle in strongly_connected(edges) {
            let within = if parent.is_empty() {
                "the crate root".to_owned()
            } else {
                parent.join("::")
            };
            let mut line = format!("circle in {within}: {}", circle.join(" <-> "));
            for from in &circle {
                for (to, witnesses) in &edges[from] {
                    if circle.contains(to) {
                        let _ = write!(line, "\n    {from} -> {to}: {}", witnesses.join("; "));
                    }
                }
            }
            found.push(line);
        }
    }
    found
}

/// `attempts/redis.rs` -> `attempts::redis`; `lib.rs`, `main.rs` -> the
/// root; `config/mod.rs` -> `config`.
fn module_path(file: &str) -> ModPath {
    let mut parts: Vec<String> = file.split('/').map(str::to_owned).collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "mod.rs" => {}
        "lib.rs" | "main.rs" if parts.is_empty() => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

fn display(path: &ModPath) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", path.join("::"))
    }
}

/// The module that `path` names: its longest prefix that is a module,
/// after following the names that module binds with `use` (so that
/// `crate::HookSession` is `session`, where it is defined).
fn resolve(modules: &BTreeMap<ModPath, Module>, path: &ModPath) -> ModPath {
    let mut path = path.clone();
    for _ in 0..16 {
        let len = (0..=path.len())
            .rev()
            .find(|&len| modules.contains_key(&path[..len].to_vec()))
            .unwrap_or(0);
        let module = path[..len].to_vec();
        let Some(next) = path.get(len) else {
            return module;
        };
        match modules[&module].bindings.get(next) {
            Some(target) if *target != path[..=len] => {
                let mut followed = target.clone();
                followed.extend_from_slice(&path[len + 1..]);
                path = followed;
            }
            _ => return module,
        }
    }
    path
}

/// `text` with comments, string and character literals replaced by spaces
/// (newlines kept), so that neither a URL in a string nor a path in a
/// comment reads as code.
fn blank_comments_and_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"..." or r#"..."#, with an optional `b` or `c` before.
            let mut j = i;
            while chars[j] != '"' {
                out.push(' ');
                j += 1;
            }
            out.push(' ');
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    j += hashes + 1;
                    break;
                }
                out.push(blank(chars[j]));
                j += 1;
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// At `i`, the start of a raw string (`r"`, `r#"`, `br"`, `cr#"`, ...):
/// how many `#` it has.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if matches!(chars.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (chars.get(j) == Some(&'"')).then_some(hashes)
}

/// A `'` that opens a character literal (`'a'`, `'\n'`, `'\u{1F600}'`),
/// not a lifetime (`'a`, `'static`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    matches!(
        (chars.get(i + 1), chars.get(i + 2)),
        (Some('\\'), _) | (Some(_), Some('\''))
    )
}

/// `code` without its `#[cfg(test)]` items (a test module, a test-only
/// `use` or function), and the names of submodules declared only for
/// tests.
fn strip_test_items(code: &str) -> (String, Vec<String>) {
    const ATTRIBUTE: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(code.len());
    let mut test_children = Vec::new();
    let mut rest = code;
    while let Some(start) = rest.find(ATTRIBUTE) {
        out.push_str(&rest[..start]);
        let item = &rest[start + ATTRIBUTE.len()..];
        let semicolon = item.find(';');
        let brace = item.find('{');
        let end = match (semicolon, brace) {
            (Some(semicolon), Some(brace)) if semicolon < brace => semicolon + 1,
            (Some(semicolon), None) => semicolon + 1,
            (_, Some(brace)) => matching_brace(item, brace).map_or(item.len(), |end| end + 1),
            (None, None) => item.len(),
        };
        let words: Vec<&str> = item[..end]
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty())
            .collect();
        if let Some(position) = words.iter().position(|word| *word == "mod")
            && let Some(name) = words.get(position + 1)
        {
            test_children.push((*name).to_owned());
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    (out, test_children)
}

fn matching_brace(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (index, c) in text.char_indices().skip_while(|(index, _)| *index < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// Identifiers, `::` and the punctuation of `use` trees; anything else
/// becomes a `.`, which ends a path.
fn tokens(code: &str) -> Vec<String> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push("::".to_owned());
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(match c {
                '{' | '}' | ',' | '*' | '(' | ')' => c.to_string(),
                _ => ".".to_owned(),
            });
            i += 1;
        }
    }
    tokens
}

/// A path of a `use` tree or an expression: its segments, and the name it
/// binds in a `use` (the last segment, or its `as` alias).
struct Leaf {
    segments: Vec<String>,
    binds: Option<String>,
}

/// Parses the tree at `tokens[*at]` (a path, possibly ending in a group or
/// a glob), appending its leaves after `prefix`.
fn parse_tree(tokens: &[String], at: &mut usize, prefix: &[String], leaves: &mut Vec<Leaf>) {
    let mut segments = prefix.to_vec();
    loop {
        match tokens.get(*at).map(String::as_str) {
            Some("{") => {
                *at += 1;
                loop {
                    match tokens.get(*at).map(String::as_str) {
                        Some("}") => {
                            *at += 1;
                            return;
                        }
                        Some(",") => *at += 1,
                        None => return,
                        Some(_) => parse_tree(tokens, at, &segments, leaves),
                    }
                }
            }
            Some("*") => {
                *at += 1;
                leaves.push(Leaf {
                    segments,
                    binds: None,
                });
                return;
            }
            Some(word) if is_identifier(word) => {
                if word == "self" && !segments.is_empty() {
                    // `a::{self}` binds `a` itself.
                    *at += 1;
                } else {
                    segments.push(word.to_owned());
                    *at += 1;
                }
                if tokens.get(*at).map(String::as_str) == Some("::") {
                    *at += 1;
                    continue;
                }
                let mut binds = segments.last().cloned();
                if tokens.get(*at).map(String::as_str) == Some("as") {
                    binds = tokens.get(*at + 1).cloned();
                    *at += 2;
                }
                leaves.push(Leaf { segments, binds });
                return;
            }
            _ => {
                if segments.len() > prefix.len() {
                    let binds = segments.last().cloned();
                    leaves.push(Leaf { segments, binds });
                }
                return;
            }
        }
    }
}

fn is_identifier(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// `segments` (starting with `crate`, `super` or `self`) as a path from
/// the crate root, seen from `module`; `None` for any other start.
fn absolute(segments: &[String], module: &ModPath) -> Option<ModPath> {
    let mut path = module.clone();
    let mut rest = segments;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            path.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {}
        _ => return None,
    }
    while rest.first().map(String::as_str) == Some("super") {
        path.pop()?;
        rest = &rest[1..];
    }
    path.extend(rest.iter().cloned());
    Some(path)
}

/// Every path in `tokens` that starts with `crate::`, `super::` or
/// `self::`, from the crate root.
fn references(tokens: &[String], module: &ModPath) -> Vec<ModPath> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        let starts_path = matches!(tokens[at].as_str(), "crate" | "super" | "self")
            && tokens.get(at + 1).map(String::as_str) == Some("::")
            && (at == 0 || tokens[at - 1] != "::");
        if !starts_path {
            at += 1;
            continue;
        }
        let mut leaves = Vec::new();
        parse_tree(tokens, &mut at, &[], &mut leaves);
        found.extend(
            leaves
                .iter()
                .filter_map(|leaf| absolute(&leaf.segments, module)),
        );
    }
    found
}

/// The names `module` binds with `use` (public or not: a private import
/// at a module is visible to its submodules), to the paths they stand for.
/// Paths from other crates are left out.
fn use_bindings(
    tokens: &[String],
    module: &ModPath,
    modules: &BTreeSet<ModPath>,
) -> BTreeMap<String, ModPath> {
    let mut bindings = BTreeMap::new();
    let mut at = 0;
    while at < tokens.len() {
        let is_use = tokens[at] == "use" && (at == 0 || tokens[at - 1] != "::");
        at += 1;
        if !is_use {
            continue;
        }
        let mut leaves = Vec::new();
        parse_tree(tokens, &mut at, &[], &mut leaves);
        for leaf in leaves {
            let (Some(name), Some(first)) = (leaf.binds, leaf.segments.first()) else {
                continue;
            };
            let path = match first.as_str() {
                "crate" | "super" | "self" => absolute(&leaf.segments, module),
                // A submodule's item, named from here.
                child => {
                    let mut child_path = module.clone();
                    child_path.push(child.to_owned());
                    modules.contains(&child_path).then(|| {
                        let mut path = module.clone();
                        path.extend(leaf.segments.iter().cloned());
                        path
                    })
                }
            };
            if let Some(path) = path {
                bindings.insert(name, path);
            }
        }
    }
    bindings
}

/// The strongly connected sets of two or more nodes (Tarjan), each sorted.
fn strongly_connected(edges: &BTreeMap<String, BTreeMap<String, Vec<String>>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeMap<String, Vec<String>>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a str) {
        let index = state.index.len();
        state.index.insert(node, index);
        state.low.insert(node, index);
        state.stack.push(node);
        state.on_stack.insert(node);
        let edges = state.edges;
        for next in edges.get(node).into_iter().flat_map(BTreeMap::keys) {
            if !state.index.contains_key(next.as_str()) {
                visit(state, next);
                let low = state.low[node].min(state.low[next.as_str()]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next.as_str()) {
                let low = state.low[node].min(state.index[next.as_str()]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            loop {
                let member = state.stack.pop().expect("on the stack");
                state.on_stack.remove(member);
                component.push(member.to_owned());
                if member == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                state.found.push(component);
            }
        }
    }
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.found
}

// The checker itself, on small crates written here.

fn crate_of(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(path, text)| ((*path).to_owned(), (*text).to_owned()))
        .collect()
}

#[test]
fn a_planted_circle_is_found_with_the_references_that_close_it() {
    let files = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\npub use c::Thing;\n"),
        ("a.rs", "use crate::b::Two;\npub struct One;\n"),
        ("b.rs", "pub struct Two(pub crate::Thing);\n"),
        (
            "c.rs",
            "use super::{b, a::One as First};\npub struct Thing(First);\n",
        ),
    ]);
    let circles = circles(&files);
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(
        circles[0].starts_with("circle in the crate root: a <-> b <-> c"),
        "{}",
        circles[0]
    );
    // `crate::Thing` is a re-export: the edge goes to where it is defined.
    assert!(
        circles[0].contains("b -> c: b.rs uses crate::Thing"),
        "{}",
        circles[0]
    );
    assert!(circles[0].contains("c -> a: c.rs uses crate::a::One"));
}

#[test]
fn a_circle_between_submodules_is_found_and_containment_is_not_one() {
    let files = crate_of(&[
        ("lib.rs", "pub mod store;\n"),
        (
            "store/mod.rs",
            "mod memory;\nmod redis;\npub use memory::Memory;\npub trait Store {}\n",
        ),
        // A submodule using its parent, and the parent using it: allowed.
        ("store/memory.rs", "use super::Store;\npub struct Memory;\n"),
        (
            "store/redis.rs",
            "pub struct Redis(crate::store::Memory);\nimpl super::Store for Redis {}\n",
        ),
    ]);
    assert_eq!(circles(&files), Vec::<String>::new());

    let files = crate_of(&[
        ("lib.rs", "pub mod store;\n"),
        ("store/mod.rs", "mod memory;\nmod redis;\n"),
        ("store/memory.rs", "use super::redis::Redis;\n"),
        ("store/redis.rs", "use crate::store::memory;\n"),
    ]);
    let circles = circles(&files);
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(circles[0].starts_with("circle in store: memory <-> redis"));
}

#[test]
fn tests_comments_and_strings_are_not_edges() {
    let files = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod fixtures;\n"),
        (
            "a.rs",
            r##"
use crate::b::Two;
/// Unlike crate::b, this ... (a comment)
const URL: &str = "https://crate::b/";
const RAW: &str = r#"crate::b "quoted""#;
fn lifetime<'a>(x: &'a str) -> char { let _ = x; 'c' }
"##,
        ),
        (
            "b.rs",
            "pub struct Two;\n// use crate::a;\n/* crate::a::{x, y} */\n#[cfg(test)]\nmod tests {\n    use crate::a;\n    fn f() { let _ = crate::a::URL; }\n}\n",
        ),
        // Test fixtures may use anything.
        (
            "fixtures.rs",
            "use crate::a::URL;\npub fn f() { let _ = crate::b::Two; }\n",
        ),
    ]);
    assert_eq!(circles(&files), Vec::<String>::new());
}

#[test]
fn a_binary_beside_the_library_is_a_crate_of_its_own() {
    let files = crate_of(&[
        ("lib.rs", "pub mod a;\nmod b;\n"),
        ("a.rs", "pub fn run() { crate::b::go() }\n"),
        ("b.rs", "pub fn go() {}\n"),
        ("main.rs", "mod b;\nfn main() { crate::b::x(); }\n"),
    ]);
    assert_eq!(circles(&files), Vec::<String>::new());
}
