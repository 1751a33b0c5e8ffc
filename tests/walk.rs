//! docs/architecture.md walks `/fast` and a job's return call by call,
//! naming each function and its file. This test reads those walks and
//! checks, against the source, that every file named exists and defines
//! the function named (inside an `impl` of the type named, when one is),
//! and that the walks stay short: at most 18 calls over at most 10 of
//! eddy's files (a route's handler is the app's code, and is named but not
//! counted). So the walk cannot drift from the code, and a change that
//! lengthens the path shows here.

use std::collections::BTreeSet;
use std::fs;

/// One step of a walk: `Type::function` (or `function`) in `file`.
struct Step {
    line: String,
    owner: Option<String>,
    function: String,
    file: String,
    app: bool,
}

/// The steps between `<!-- walk: NAME -->` and `<!-- /walk -->`.
fn walk(doc: &str, name: &str) -> Vec<Step> {
    let start = format!("<!-- walk: {name} -->");
    let from = doc.find(&start).unwrap_or_else(|| panic!("no walk {name}")) + start.len();
    let to = from + doc[from..].find("<!-- /walk -->").expect("the walk's end");
    doc[from..to]
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let spans: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
            let path = spans
                .first()
                .unwrap_or_else(|| panic!("no name in: {line}"));
            let file = spans
                .iter()
                .find(|span| span.starts_with("src/"))
                .unwrap_or_else(|| panic!("no file in: {line}"));
            let (owner, function) = match path.rsplit_once("::") {
                Some((owner, function)) => (Some(owner.to_string()), function.to_string()),
                None => (None, path.to_string()),
            };
            Step {
                line: line.to_string(),
                owner,
                function,
                file: file.to_string(),
                app: line.contains("the app's own code"),
            }
        })
        .collect()
}

/// Panics unless `step.file` defines `fn step.function`, after an `impl`
/// line naming `step.owner` if there is one.
fn check_exists(step: &Step) {
    let source = fs::read_to_string(&step.file)
        .unwrap_or_else(|e| panic!("{}: {e} (named in: {})", step.file, step.line));
    let defines = |line: &str| {
        let line = line.trim_start();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        line.strip_prefix("fn ").is_some_and(|rest| {
            rest.strip_prefix(step.function.as_str())
                .is_some_and(|after| after.starts_with('(') || after.starts_with('<'))
        })
    };
    let mut owner_open = step.owner.is_none();
    for line in source.lines() {
        if let Some(owner) = &step.owner {
            if line.starts_with("impl") {
                owner_open = line
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|word| word == owner);
            }
        }
        if owner_open && defines(line) {
            return;
        }
    }
    panic!(
        "{} does not define {}fn {} (named in: {})",
        step.file,
        step.owner
            .as_ref()
            .map_or(String::new(), |o| format!("{o}'s ")),
        step.function,
        step.line
    );
}

fn check_walk(name: &str, max_calls: usize, max_files: usize) {
    let doc = fs::read_to_string("docs/architecture.md").unwrap();
    let steps = walk(&doc, name);
    for step in &steps {
        check_exists(step);
    }
    let eddy: Vec<&Step> = steps.iter().filter(|step| !step.app).collect();
    let files: BTreeSet<&str> = eddy.iter().map(|step| step.file.as_str()).collect();
    assert!(
        steps.len() <= max_calls,
        "the {name} walk is {} calls (at most {max_calls})",
        steps.len()
    );
    assert!(
        files.len() <= max_files,
        "the {name} walk crosses {} of eddy's files (at most {max_files}): {files:?}",
        files.len()
    );
}

#[test]
fn the_fast_walk_names_real_functions_and_stays_short() {
    check_walk("fast", 18, 10);
}

#[test]
fn the_job_walk_names_real_functions_and_stays_short() {
    check_walk("job", 18, 10);
}

#[test]
fn a_function_that_does_not_exist_is_caught() {
    let doc = "<!-- walk: x -->\n1. `Http1::vanished` (`src/connection/http1.rs`)\n<!-- /walk -->";
    let steps = walk(doc, "x");
    let caught = std::panic::catch_unwind(|| check_exists(&steps[0]));
    assert!(caught.is_err(), "a vanished function passed");
    let doc = "<!-- walk: x -->\n1. `Plain::receive` (`src/connection/http1.rs`)\n<!-- /walk -->";
    let steps = walk(doc, "x");
    let caught = std::panic::catch_unwind(|| check_exists(&steps[0]));
    assert!(caught.is_err(), "a function under the wrong type passed");
}
