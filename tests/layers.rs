//! The project checks its own layering: every file under `src/` is read,
//! its imports of the crate are collected, and the test fails on
//!
//! 1. an import cycle between files — anywhere, across folders or inside
//!    one — printed file by file with the names that tie it
//!    ([`no_import_cycle_between_files`]);
//! 2. an import that climbs a layer of [`LAYERS`], or breaks one of its
//!    `only`/`never` rules, or a top-level module the table does not place
//!    ([`no_import_climbs_a_layer`]).
//!
//! What counts as an import (as `../shared/tools/import_cycles.py` counts
//! it: the two find the same imports in the library, file for file and
//! name for name): a `use` of a `crate::`, `super::` or `self::` path —
//! grouped (`use crate::{a, b::{c, d}}`), over several lines, renamed with
//! `as` — and an inline path such as `crate::a::b::Name` or
//! `super::b::Name`. In the binary (`src/main.rs` and the modules it
//! declares) an `eddy::` path counts too, which the script does not read;
//! it can close no cycle, as the library never imports the binary. A path is resolved to the file that
//! defines the name it ends in: `crate::http::Limits` is
//! `src/http/limits.rs` only if `src/http/mod.rs` re-exports it by such a
//! path, else `src/http/mod.rs`. A parent's `use child::…` is not counted:
//! a module and the children it declares are one unit, and a child's
//! `super::` import of what its parent defines is how Rust modules are
//! written. Comments, string and char literals and `#[cfg(test)]` items are
//! not read. Standard library only: a small lexer, no parser.
//!
//! The checks run on an in-memory list of files ([`Graph::of`]), so the
//! unit tests at the bottom feed them small fabricated trees.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// A layer: its rank (a module may import modules of its own rank or
/// lower), the top-level modules in it (a module's children belong to it
/// too: `server::http` is `server`), and what ranks alone do not say.
struct Layer {
    rank: u8,
    name: &'static str,
    modules: &'static [&'static str],
    /// `Some`: a module of this layer imports nothing of the crate but
    /// itself and these.
    only: Option<&'static [&'static str]>,
    /// Modules this layer never imports, though their rank is lower.
    never: &'static [&'static str],
}

/// The layers, top to bottom. Derived from `src/lib.rs`'s layout and from
/// the imports of the code as it is; one line each on why it sits where it
/// does:
///
/// - 9 `cli`: the program (`src/main.rs`, `src/cli.rs`, `src/cli/`; `main`
///   here) and the library's root (`src/lib.rs`, `crate`), which only
///   re-exports — they may use anything;
/// - 8 `tools`: around the server — `call` (`eddy call`, the seed's
///   client: a second, small reactor, asking the demo's routes) and
///   `fuzzing` (the fuzz targets' checks: a connection driven without a
///   socket); nothing of the library uses them;
/// - 7 `server`: the HTTP server on the loop — the listener, accept, the
///   connection table, each job's life, shutdown, `--trace`; only the
///   layers above it may import it;
/// - 6 `app`: routes and what a handler may see — `router`, `demo`,
///   `files`, `sse`, `status` (a handler's view of the server), `metrics`
///   (its counters); the connection knows no routes;
/// - 5 `connection`: one client's state machine — buffers, phase,
///   deadline, answers in order; it never imports the server;
/// - 4 `transport`: bytes in and out of a socket, under the protocol (may
///   not exist yet); it never imports the connection, the server, or HTTP;
/// - 3 `services`: what the connection and the app share — `config`,
///   `job` (a job), `pool` (the workers; never the
///   server, the connection or the router), `log` (the hooks);
/// - 2 `codec`: `http`, bytes ↔ requests and responses, and `websocket`,
///   the handshake's checks and frames ↔ messages — pure functions; of the
///   crate they import only `stream` (a body may be a pipe's loop end; a
///   WebSocket's senders write into one), `cancel` (a WebSocket's offloaded
///   work is handed a token) and `http` (the handshake is a request), so
///   `http` never imports `websocket`;
/// - 1 `loop`: `reactor` — Poll, tokens, timers, the Waker; it knows no
///   HTTP and imports only `histogram`;
/// - 0 `leaves`: `stream` (the pipe a streamed body crosses), `cancel` (a
///   job's or a WebSocket offload's `CancelToken`), `histogram`,
///   `panic_report` (a caught panic as data), `timeline` (`eddy call`'s
///   SVG) — each imports nothing of the crate.
const LAYERS: &[Layer] = &[
    Layer {
        rank: 9,
        name: "cli",
        modules: &["main", "crate"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 8,
        name: "tools",
        modules: &["call", "fuzzing"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 7,
        name: "server",
        modules: &["server"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 6,
        name: "app",
        modules: &["router", "demo", "files", "sse", "status", "metrics"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 5,
        name: "connection",
        modules: &["connection"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 4,
        name: "transport",
        modules: &["transport"],
        only: None,
        never: &["http"],
    },
    Layer {
        rank: 3,
        name: "services",
        modules: &["config", "tls", "job", "pool", "log"],
        only: None,
        never: &[],
    },
    Layer {
        rank: 2,
        name: "codec",
        modules: &["http", "websocket"],
        only: Some(&["stream", "cancel", "http"]),
        never: &[],
    },
    Layer {
        rank: 1,
        name: "loop",
        modules: &["reactor"],
        only: Some(&["histogram"]),
        never: &[],
    },
    Layer {
        rank: 0,
        name: "leaves",
        modules: &["stream", "cancel", "histogram", "panic_report", "timeline"],
        only: Some(&[]),
        never: &[],
    },
];

/// The layer of a top-level module, if the table places it.
fn layer_of(top: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.modules.contains(&top))
}

/// Why `from` may not import `to` (two top-level modules), or `None` if it
/// may. A module may always import itself.
fn forbidden(from: &str, to: &str) -> Option<String> {
    if from == to {
        return None;
    }
    let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) else {
        return None; // an unplaced module is reported on its own
    };
    if let Some(only) = a.only {
        if !only.contains(&to) {
            return Some(format!(
                "{from} ({}) imports nothing of the crate but {}",
                a.name,
                if only.is_empty() {
                    "itself".to_string()
                } else {
                    only.join(", ")
                }
            ));
        }
    }
    if a.never.contains(&to) {
        return Some(format!("{from} ({}) never imports {to}", a.name));
    }
    if b.rank > a.rank {
        return Some(format!(
            "{from} ({}, rank {}) may not import {to} ({}, rank {}): it is above",
            a.name, a.rank, b.name, b.rank
        ));
    }
    None
}

// ---------------------------------------------------------------------------
// Reading the sources.

/// Every `.rs` file under `src/`, as (path from the crate root, text),
/// sorted by path.
fn read_src() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.strip_prefix(root).unwrap().to_string_lossy();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((name.replace('\\', "/"), text));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), root, &mut files);
    files.sort();
    files
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The text with comments dropped and every string and char literal
/// emptied (`""`, `' '`), lines kept; then without `#[cfg(test)]` items.
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == Some('*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == Some('/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
            out.push(' ');
        } else if let Some((open, hashes)) = raw_string_at(&chars, i) {
            // A raw string: r"…", r#"…"#, br"…"; `open` is past its quote.
            let mut j = open;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == Some('#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '"' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            out.push_str("\"\"");
        } else if c == '\'' && at(i + 1) == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{1F600}'.
            let mut j = i + 3;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else if c == '\'' && at(i + 2) == Some('\'') {
            out.push_str("' '");
            i += 3;
        } else {
            // A lifetime's quote falls through here too.
            out.push(c);
            i += 1;
        }
    }
    without_test_items(&out)
}

/// If a raw string starts at `i` (`r"`, `r#"`, `br"`…, not inside an
/// identifier): where its text begins, and how many `#` close it.
fn raw_string_at(chars: &[char], i: usize) -> Option<(usize, usize)> {
    if i > 0 && is_ident(chars[i - 1]) {
        return None;
    }
    let mut j = match (chars.get(i), chars.get(i + 1)) {
        (Some('r'), _) => i + 1,
        (Some('b'), Some('r')) => i + 2,
        _ => return None,
    };
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    (chars.get(j) == Some(&'"')).then_some((j + 1, hashes))
}

/// Drops every `#[cfg(test)]` item: up to its `;`, or its `{…}` block.
fn without_test_items(text: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(MARK) {
        out.push_str(&rest[..start]);
        let after = &rest[start + MARK.len()..];
        let (semi, brace) = (after.find(';'), after.find('{'));
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (Some(s), None) => s + 1,
            (None, None) => after.len(),
            (_, Some(b)) => {
                let mut depth = 0;
                let mut end = after.len();
                for (k, ch) in after[b..].char_indices() {
                    match ch {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
        };
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A `use` statement: whether it is `pub` (a re-export), its tree, and
/// where it lies in the text.
struct Use {
    public: bool,
    tree: String,
    span: std::ops::Range<usize>,
}

/// Every `use …;` in a stripped text.
fn uses_in(text: &str) -> Vec<Use> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(k) = text[from..].find("use") {
        let start = from + k;
        from = start + 3;
        let before = text[..start].chars().next_back();
        let after = text[start + 3..].chars().next();
        if before.is_some_and(is_ident) || !after.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(semi) = text[start..].find(';') else {
            break;
        };
        let end = start + semi + 1;
        // `pub use`, `pub(crate) use`, `pub(super) use`: a re-export.
        let head = text[..start].trim_end();
        let head = match head.strip_suffix(')') {
            Some(h) => h.rfind('(').map_or(h, |p| &h[..p]).trim_end(),
            None => head,
        };
        let public = head.ends_with("pub") && !head[..head.len() - 3].ends_with(is_ident);
        found.push(Use {
            public,
            tree: text[start + 3..end - 1].to_string(),
            span: start..end,
        });
        from = end;
    }
    found
}

/// A use tree's paths, each with the name it is bound to if renamed:
/// `a::{b, c::{d as e}}` → `a::b`, `a::c::d` (as `e`).
fn expand(tree: &str) -> Vec<(String, Option<String>)> {
    // Tokens without white space; `as NAME` becomes `@NAME` on its path.
    let mut compact = String::new();
    let mut words = Vec::new();
    let mut word = String::new();
    for c in tree.chars().chain(std::iter::once(' ')) {
        if is_ident(c) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            words.push(c.to_string());
        }
    }
    let mut k = 0;
    while k < words.len() {
        if words[k] == "as" && k + 1 < words.len() {
            compact.push('@');
            compact.push_str(&words[k + 1]);
            k += 2;
        } else {
            compact.push_str(&words[k]);
            k += 1;
        }
    }
    fn paths(tree: &str) -> Vec<String> {
        let Some(open) = tree.find('{') else {
            return vec![tree.to_string()];
        };
        let (head, close) = (&tree[..open], tree.rfind('}').unwrap_or(tree.len()));
        let inner = &tree[open + 1..close.max(open + 1)];
        let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
        for (k, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&inner[start..k]);
                    start = k + 1;
                }
                _ => {}
            }
        }
        parts.push(&inner[start..]);
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .flat_map(|p| paths(&format!("{head}{p}")))
            .collect()
    }
    paths(&compact)
        .into_iter()
        .map(|p| match p.split_once('@') {
            Some((path, alias)) => (path.to_string(), Some(alias.to_string())),
            None => (p, None),
        })
        .collect()
}

/// Inline paths: `crate::a::B`, `super::b::C`, `self::d` (and `eddy::…`
/// when `eddy` is asked for), each at least one `::segment` long.
fn inline_paths(text: &str, roots: &[&str]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if (i > 0 && is_ident(chars[i - 1])) || !is_ident(chars[i]) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len() && is_ident(chars[j]) {
            j += 1;
        }
        let first: String = chars[i..j].iter().collect();
        if !roots.contains(&first.as_str()) {
            i = j;
            continue;
        }
        let mut path = first;
        let mut segments = 0;
        while chars.get(j) == Some(&':')
            && chars.get(j + 1) == Some(&':')
            && chars
                .get(j + 2)
                .is_some_and(|&c| c.is_alphabetic() || c == '_')
        {
            let mut k = j + 2;
            while k < chars.len() && is_ident(chars[k]) {
                k += 1;
            }
            path.push_str("::");
            path.extend(&chars[j + 2..k]);
            segments += 1;
            j = k;
        }
        if segments > 0 {
            found.push(path);
        }
        i = j;
    }
    found
}

/// The names of the items a file defines (at any depth, as the script
/// reads them): `fn`, `struct`, `enum`, `trait`, `type`, `const`, `static`,
/// `union`, `macro_rules!`.
fn defined(text: &str) -> BTreeSet<String> {
    const KINDS: &[&str] = &[
        "fn",
        "struct",
        "enum",
        "trait",
        "type",
        "const",
        "static",
        "union",
        "macro_rules!",
    ];
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        if words.first().is_some_and(|w| w.starts_with("pub")) {
            words.remove(0);
        }
        // `unsafe fn`, `async fn`, `const fn`: qualifiers before a kind.
        while words.len() > 1
            && ["unsafe", "async", "const"].contains(&words[0])
            && (KINDS.contains(&words[1]) || ["unsafe", "async"].contains(&words[1]))
        {
            words.remove(0);
        }
        if words.len() > 1 && KINDS.contains(&words[0]) {
            let name: String = words[1].chars().take_while(|&c| is_ident(c)).collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// A module path: `["server", "http"]`; `[]` is the library's root, and
/// the binary's modules start with `main`.
type Module = Vec<String>;

/// `src/a/b.rs` and `src/a/b/mod.rs` → `a::b`; `src/lib.rs` → the root.
fn module_of(path: &str) -> Module {
    let inner = path
        .strip_prefix("src/")
        .and_then(|p| p.strip_suffix(".rs"))
        .unwrap_or(path);
    let mut parts: Vec<String> = inner.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] || parts == ["main"] {
        parts.clear();
    }
    parts
}

/// The binary's files: `src/main.rs` and the files of the modules it
/// declares (`mod cli;`), and theirs, and so on.
fn binary_files(sources: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut queue = vec!["src/main.rs".to_string()];
    while let Some(file) = queue.pop() {
        let Some(text) = sources.get(&file) else {
            continue;
        };
        if !found.insert(file.clone()) {
            continue;
        }
        let dir = match file.strip_suffix("/mod.rs") {
            Some(dir) => dir.to_string(),
            None if file == "src/main.rs" => "src".to_string(),
            None => file.trim_end_matches(".rs").to_string(),
        };
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            if pair[0] == "mod" && pair[1].chars().all(is_ident) {
                for child in [
                    format!("{dir}/{}.rs", pair[1]),
                    format!("{dir}/{}/mod.rs", pair[1]),
                ] {
                    if sources.contains_key(&child) {
                        queue.push(child);
                    }
                }
            }
        }
    }
    found
}

/// Who imports whom: for each file, the files it takes names from, and
/// the names.
struct Graph {
    /// Each file's module.
    modules: BTreeMap<String, Module>,
    uses: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

impl Graph {
    /// Reads `sources` (path, text) and resolves every import of the crate.
    fn of(sources: &[(String, String)]) -> Graph {
        let raw: BTreeMap<String, String> = sources.iter().cloned().collect();
        let texts: BTreeMap<String, String> =
            raw.iter().map(|(f, t)| (f.clone(), strip(t))).collect();
        let binary = binary_files(&texts);
        let modules: BTreeMap<String, Module> = texts
            .keys()
            .map(|f| {
                let mut module = module_of(f);
                if binary.contains(f) {
                    module.insert(0, "main".to_string());
                }
                (f.clone(), module)
            })
            .collect();
        let by_module: BTreeMap<Module, String> = modules
            .iter()
            .map(|(f, m)| (m.clone(), f.clone()))
            .collect();
        let defines: BTreeMap<String, BTreeSet<String>> =
            texts.iter().map(|(f, t)| (f.clone(), defined(t))).collect();

        // crate::/super::/self:: (and, in the binary, eddy::) paths, made
        // absolute from the module `here`.
        let absolute = |path: &str, file: &str| -> Option<Module> {
            let here = &modules[file];
            let in_binary = binary.contains(file);
            let mut segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            let mut base: Module = match *segs.first()? {
                "crate" if in_binary => vec!["main".to_string()],
                "crate" => Vec::new(),
                "eddy" if in_binary => Vec::new(),
                "super" | "self" => here.clone(),
                _ => return None,
            };
            if matches!(segs[0], "crate" | "eddy") {
                segs.remove(0);
            } else {
                while let Some(&s) = segs.first() {
                    match s {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    segs.remove(0);
                }
            }
            base.extend(segs.iter().map(|s| s.to_string()));
            Some(base)
        };

        let mut reexports: BTreeMap<String, BTreeMap<String, Module>> = BTreeMap::new();
        for (file, text) in &texts {
            for u in uses_in(text).iter().filter(|u| u.public) {
                for (path, alias) in expand(&u.tree) {
                    if let Some(segs) = absolute(&path, file) {
                        let name =
                            alias.unwrap_or_else(|| segs.last().cloned().unwrap_or_default());
                        reexports
                            .entry(file.clone())
                            .or_default()
                            .insert(name, segs);
                    }
                }
            }
        }

        // The file that defines the item at `segs`, and the item's name.
        fn resolve(
            segs: &[String],
            seen: &mut Vec<String>,
            by_module: &BTreeMap<Module, String>,
            defines: &BTreeMap<String, BTreeSet<String>>,
            reexports: &BTreeMap<String, BTreeMap<String, Module>>,
        ) -> Option<(String, String)> {
            for cut in (0..=segs.len()).rev() {
                let module = segs[..cut].to_vec();
                let Some(file) = by_module.get(&module) else {
                    continue;
                };
                let rest = &segs[cut..];
                if rest.is_empty() || rest[0] == "*" || rest[0] == "self" {
                    let name = module.last().cloned().unwrap_or_else(|| "crate".into());
                    return Some((file.clone(), name));
                }
                let name = &rest[0];
                if defines[file].contains(name) || seen.contains(name) {
                    return Some((file.clone(), name.clone()));
                }
                if let Some(target) = reexports.get(file).and_then(|r| r.get(name)) {
                    seen.push(name.clone());
                    return resolve(target, seen, by_module, defines, reexports);
                }
                return Some((file.clone(), name.clone()));
            }
            None
        }

        let mut uses: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (file, text) in &texts {
            let statements = uses_in(text);
            let mut paths: Vec<String> = statements
                .iter()
                .flat_map(|u| expand(&u.tree))
                .map(|(path, _)| path)
                .collect();
            let mut body = String::with_capacity(text.len());
            let mut last = 0;
            for u in &statements {
                body.push_str(&text[last..u.span.start]);
                last = u.span.end;
            }
            body.push_str(&text[last..]);
            let roots: &[&str] = if binary.contains(file) {
                &["crate", "super", "self", "eddy"]
            } else {
                &["crate", "super", "self"]
            };
            paths.extend(inline_paths(&body, roots));
            let entry = uses.entry(file.clone()).or_default();
            for path in paths {
                let Some(segs) = absolute(&path, file) else {
                    continue;
                };
                let resolved = resolve(&segs, &mut Vec::new(), &by_module, &defines, &reexports);
                if let Some((target, name)) = resolved {
                    if &target != file {
                        entry.entry(target).or_default().insert(name);
                    }
                }
            }
        }
        Graph { modules, uses }
    }

    /// The top-level module a file belongs to: `server` for
    /// `src/server/http.rs`, `crate` for `src/lib.rs`, `main` for the
    /// binary.
    fn top(&self, file: &str) -> String {
        self.modules[file]
            .first()
            .cloned()
            .unwrap_or_else(|| "crate".into())
    }

    /// Every set of two or more files that import each other, round and
    /// round (Tarjan's strongly connected components), each sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        struct Walk<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            found: Vec<Vec<String>>,
        }
        impl<'g> Walk<'g> {
            fn visit(&mut self, v: &'g str) {
                let n = self.index.len();
                self.index.insert(v, n);
                self.low.insert(v, n);
                self.stack.push(v);
                for w in self.graph.uses[v].keys() {
                    let w = w.as_str();
                    if !self.index.contains_key(w) {
                        self.visit(w);
                        let low = self.low[v].min(self.low[w]);
                        self.low.insert(v, low);
                    } else if self.stack.contains(&w) {
                        let low = self.low[v].min(self.index[w]);
                        self.low.insert(v, low);
                    }
                }
                if self.low[v] == self.index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = self.stack.pop() {
                        component.push(w.to_string());
                        if w == v {
                            break;
                        }
                    }
                    if component.len() > 1 {
                        component.sort();
                        self.found.push(component);
                    }
                }
            }
        }
        let mut walk = Walk {
            graph: self,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            found: Vec::new(),
        };
        for file in self.uses.keys() {
            if !walk.index.contains_key(file.as_str()) {
                walk.visit(file);
            }
        }
        walk.found.sort();
        walk.found
    }

    /// A cycle, written as `import_cycles.py` writes it: where, then each
    /// import inside it with the names it takes.
    fn describe_cycle(&self, cycle: &[String]) -> String {
        let folders: BTreeSet<&str> = cycle
            .iter()
            .map(|f| f.rsplit_once('/').map_or("", |(dir, _)| dir))
            .collect();
        let folders: Vec<&str> = folders.into_iter().collect();
        let place = match folders.as_slice() {
            [one] => format!("inside {one}/"),
            many => format!("across {}", many.join("/, ") + "/"),
        };
        let mut text = format!(
            "cycle of {} files {place}: {}\n",
            cycle.len(),
            cycle.join(", ")
        );
        for file in cycle {
            for (target, names) in &self.uses[file] {
                if cycle.contains(target) {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let _ = writeln!(text, "   {file:30} -> {target:30} {}", names.join(", "));
                }
            }
        }
        text
    }

    /// Every import that breaks the table, and every top-level module the
    /// table does not place, one line each.
    fn climbs(&self) -> Vec<String> {
        let mut found = Vec::new();
        let unplaced: BTreeSet<String> = self
            .modules
            .keys()
            .map(|f| self.top(f))
            .filter(|top| layer_of(top).is_none())
            .collect();
        for top in unplaced {
            found.push(format!(
                "module {top} has no layer: place it in LAYERS (tests/layers.rs)"
            ));
        }
        for (file, targets) in &self.uses {
            let from = self.top(file);
            for (target, names) in targets {
                let to = self.top(target);
                if let Some(why) = forbidden(&from, &to) {
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    found.push(format!(
                        "{file} imports {target} ({}): {why}",
                        names.join(", ")
                    ));
                }
            }
        }
        found
    }
}

#[test]
fn no_import_cycle_between_files() {
    let graph = Graph::of(&read_src());
    let cycles = graph.cycles();
    let report: String = cycles.iter().map(|c| graph.describe_cycle(c)).collect();
    assert!(
        cycles.is_empty(),
        "{} import cycle(s) among {} files under src/:\n{report}",
        cycles.len(),
        graph.modules.len()
    );
}

#[test]
fn no_import_climbs_a_layer() {
    let graph = Graph::of(&read_src());
    let climbs = graph.climbs();
    assert!(
        climbs.is_empty(),
        "{} import(s) against the layers (tests/layers.rs, LAYERS):\n{}",
        climbs.len(),
        climbs.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The checks themselves, on small fabricated trees.

fn tree(files: &[(&str, &str)]) -> Graph {
    let owned: Vec<(String, String)> = files
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    Graph::of(&owned)
}

/// The files `file` imports, and the names, as `target: a, b` lines.
fn imports_of(graph: &Graph, file: &str) -> Vec<String> {
    graph.uses[file]
        .iter()
        .map(|(t, names)| {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            format!("{t}: {}", names.join(", "))
        })
        .collect()
}

#[test]
fn the_table_says_what_the_layering_promises() {
    for (from, to) in [
        ("connection", "server"),
        ("transport", "connection"),
        ("transport", "server"),
        ("transport", "http"),
        ("http", "reactor"),
        ("http", "connection"),
        ("http", "job"),
        ("http", "websocket"),
        ("websocket", "connection"),
        ("websocket", "transport"),
        ("websocket", "reactor"),
        ("reactor", "stream"),
        ("reactor", "http"),
        ("reactor", "connection"),
        ("pool", "server"),
        ("pool", "connection"),
        ("pool", "router"),
        ("stream", "histogram"),
        ("connection", "router"),
        ("server", "main"),
    ] {
        assert!(forbidden(from, to).is_some(), "{from} may import {to}");
    }
    for (from, to) in [
        ("server", "connection"),
        ("connection", "transport"),
        ("connection", "http"),
        ("http", "stream"),
        ("websocket", "http"),
        ("reactor", "histogram"),
        ("pool", "job"),
        ("router", "status"),
        ("status", "router"),
        ("main", "server"),
    ] {
        assert!(forbidden(from, to).is_none(), "{from} may not import {to}");
    }
}

#[test]
fn grouped_renamed_and_multiline_uses_and_inline_paths_are_all_read() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
        (
            "src/a.rs",
            "use crate::{\n    b::{One,\n        Two as Deux},\n    c,\n};\n\
             fn f() { crate::c::three(); }\n",
        ),
        ("src/b.rs", "pub struct One;\npub struct Two;\n"),
        ("src/c.rs", "pub fn three() {}\n"),
    ]);
    assert_eq!(
        imports_of(&graph, "src/a.rs"),
        ["src/b.rs: One, Two", "src/c.rs: c, three"]
    );
}

#[test]
fn super_and_self_resolve_to_the_parent_a_sibling_or_the_root() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod s;\npub struct Top;\n"),
        ("src/s/mod.rs", "mod one;\nmod two;\npub struct Parent;\n"),
        (
            "src/s/one.rs",
            "use super::Parent;\nuse super::two::Sibling;\nuse super::super::Top;\n",
        ),
        ("src/s/two.rs", "pub struct Sibling;\nuse self::inner::X;\n"),
    ]);
    assert_eq!(
        imports_of(&graph, "src/s/one.rs"),
        [
            "src/lib.rs: Top",
            "src/s/mod.rs: Parent",
            "src/s/two.rs: Sibling"
        ]
    );
    // A parent's `use child::…` is not an import (see the module doc).
    assert!(imports_of(&graph, "src/s/mod.rs").is_empty());
}

#[test]
fn a_reexport_is_followed_to_the_file_that_defines_the_name() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod h;\npub mod user;\n"),
        (
            "src/h/mod.rs",
            "mod inner;\npub use crate::h::inner::Thing;\npub use inner::Other;\n",
        ),
        ("src/h/inner.rs", "pub struct Thing;\npub struct Other;\n"),
        ("src/user.rs", "use crate::h::{Thing, Other};\n"),
    ]);
    // Re-exported by a crate:: path: followed. By a child's relative path:
    // not, as in the script — the import lands on the re-exporting file.
    assert_eq!(
        imports_of(&graph, "src/user.rs"),
        ["src/h/inner.rs: Thing", "src/h/mod.rs: Other"]
    );
}

#[test]
fn comments_literals_and_test_items_are_not_imports() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        (
            "src/a.rs",
            "// use crate::b::X;\n/* use crate::b::X; /* nested */ crate::b::X */\n\
             const S: &str = \"use crate::b::X; // not a comment\";\n\
             const R: &str = r#\"crate::b::X\"#;\nconst Q: char = '\"';\n\
             fn life<'a>(x: &'a str) -> &'a str { x }\n\
             #[cfg(test)]\nmod tests {\n    use crate::b::X;\n    fn t() { crate::b::X; }\n}\n\
             #[cfg(test)]\nuse crate::b::Y;\n",
        ),
        ("src/b.rs", "pub struct X;\npub struct Y;\n"),
    ]);
    assert!(
        imports_of(&graph, "src/a.rs").is_empty(),
        "{:?}",
        imports_of(&graph, "src/a.rs")
    );
}

#[test]
fn a_clean_tree_passes() {
    let graph = tree(&[
        (
            "src/lib.rs",
            "pub mod server;\npub mod connection;\npub mod http;\n",
        ),
        ("src/main.rs", "mod cli;\nuse eddy::server::Server;\n"),
        ("src/cli.rs", "use eddy::http::Request;\n"),
        ("src/server/mod.rs", "mod accept;\npub struct Server;\n"),
        (
            "src/server/accept.rs",
            "use super::Server;\nuse crate::connection::Connection;\n",
        ),
        (
            "src/connection/mod.rs",
            "use crate::http::Request;\npub struct Connection;\n",
        ),
        ("src/http/mod.rs", "pub struct Request;\n"),
    ]);
    assert!(graph.cycles().is_empty(), "{:?}", graph.cycles());
    assert!(graph.climbs().is_empty(), "{:?}", graph.climbs());
    // The binary's imports are read too, into the library's files.
    assert_eq!(
        imports_of(&graph, "src/main.rs"),
        ["src/server/mod.rs: Server"]
    );
}

#[test]
fn a_two_file_cycle_is_found_with_the_names_that_tie_it() {
    let graph = tree(&[
        ("src/lib.rs", "pub mod server;\n"),
        ("src/server/mod.rs", "mod a;\nmod b;\n"),
        ("src/server/a.rs", "use super::b::Bee;\npub struct Ay;\n"),
        (
            "src/server/b.rs",
            "pub struct Bee;\nfn f(_: super::a::Ay) {}\n",
        ),
    ]);
    let cycles = graph.cycles();
    assert_eq!(cycles, [["src/server/a.rs", "src/server/b.rs"]]);
    let text = graph.describe_cycle(&cycles[0]);
    assert!(
        text.starts_with("cycle of 2 files inside src/server/: src/server/a.rs, src/server/b.rs\n"),
        "{text}"
    );
    assert!(
        text.contains("-> src/server/b.rs") && text.contains(" Bee"),
        "{text}"
    );
    assert!(
        text.contains("-> src/server/a.rs") && text.contains(" Ay"),
        "{text}"
    );
}

#[test]
fn a_cycle_across_folders_is_found_too() {
    let graph = tree(&[
        (
            "src/lib.rs",
            "pub mod job;\npub mod pool;\npub mod stream;\n",
        ),
        ("src/job.rs", "use crate::pool::Pool;\npub struct Job;\n"),
        (
            "src/pool/mod.rs",
            "use crate::stream::Pipe;\npub struct Pool;\n",
        ),
        ("src/stream.rs", "use crate::job::Job;\npub struct Pipe;\n"),
    ]);
    let cycles = graph.cycles();
    assert_eq!(cycles, [["src/job.rs", "src/pool/mod.rs", "src/stream.rs"]]);
    let text = graph.describe_cycle(&cycles[0]);
    assert!(
        text.starts_with("cycle of 3 files across src/, src/pool/:"),
        "{text}"
    );
    // And the leaf that imports: stream may import nothing of the crate.
    assert_eq!(
        graph.climbs(),
        [
            "src/stream.rs imports src/job.rs (Job): stream (leaves) imports nothing of the \
          crate but itself"
        ]
    );
}

#[test]
fn a_climb_is_found_and_so_is_a_module_without_a_layer() {
    let graph = tree(&[
        (
            "src/lib.rs",
            "pub mod server;\npub mod connection;\npub mod pool;\npub mod extra;\n",
        ),
        ("src/server/mod.rs", "pub struct Server;\n"),
        ("src/connection/mod.rs", "mod answers;\n"),
        (
            "src/connection/answers.rs",
            "fn f(_: &crate::server::Server) {}\n",
        ),
        ("src/pool.rs", "use crate::connection::answers::Reply;\n"),
        ("src/extra.rs", ""),
    ]);
    assert!(graph.cycles().is_empty());
    assert_eq!(
        graph.climbs(),
        [
            "module extra has no layer: place it in LAYERS (tests/layers.rs)",
            "src/connection/answers.rs imports src/server/mod.rs (Server): connection \
             (connection, rank 5) may not import server (server, rank 7): it is above",
            "src/pool.rs imports src/connection/answers.rs (Reply): pool (services, rank 3) \
             may not import connection (connection, rank 5): it is above",
        ]
    );
}

#[test]
fn a_layer_that_does_not_exist_yet_is_no_failure() {
    // No src/transport/ here, nor most of the table: only what is there
    // is checked.
    let graph = tree(&[("src/lib.rs", "pub mod http;\n"), ("src/http/mod.rs", "")]);
    assert!(graph.climbs().is_empty(), "{:?}", graph.climbs());
    // And when it comes, it may not reach for HTTP.
    let graph = tree(&[
        ("src/lib.rs", "pub mod http;\npub mod transport;\n"),
        ("src/http/mod.rs", "pub struct Request;\n"),
        ("src/transport/mod.rs", "use crate::http::Request;\n"),
    ]);
    assert_eq!(
        graph.climbs(),
        ["src/transport/mod.rs imports src/http/mod.rs (Request): transport (transport) never imports http"]
    );
}
