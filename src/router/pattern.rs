//! Path patterns: `/items/:id` and `/static/*path`, matched without
//! allocating.
//!
//! A pattern is split into segments once, when the route is registered:
//! a literal (`items`), a parameter (`:id`, one segment) or a rest (`*path`,
//! everything after, last only). Matching walks the request's path segment
//! by segment and writes what the parameters captured as byte ranges into a
//! fixed array, so a request pays for no allocation; the router copies them
//! into the request (`Request::param`) only when its route matches.

use std::ops::Range;
use std::sync::Arc;

/// The most parameters one pattern may have.
pub(super) const MAX_PARAMS: usize = 8;

/// One piece of a pattern. A parameter's name is in `Pattern::names`, at
/// its place among the parameters.
#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param,
    Rest,
}

/// A route's path, split for matching.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    /// As registered (`/items/:id`): the route's name in the metrics.
    text: String,
    segments: Vec<Segment>,
    /// The parameters' names, in order (`id`).
    names: Vec<Arc<str>>,
    /// No parameters: the pattern matches `text` only.
    literal: bool,
}

/// What a match captured: the i-th range (of the path, as `u32` offsets)
/// belongs to the pattern's i-th parameter.
///
/// Kept small on purpose: every request's route lookup returns one by
/// value, and with `usize` ranges and a name beside each (200 bytes) its
/// copies cost `/fast` about 110 instructions a request under callgrind.
#[derive(Debug)]
pub(crate) struct Captures<'p> {
    names: &'p [Arc<str>],
    ranges: [(u32, u32); MAX_PARAMS],
    len: usize,
}

impl<'p> Captures<'p> {
    /// Nothing captured.
    pub(crate) fn none() -> Captures<'p> {
        Captures::new(&[])
    }

    fn new(names: &'p [Arc<str>]) -> Captures<'p> {
        Captures {
            names,
            ranges: [(0, 0); MAX_PARAMS],
            len: 0,
        }
    }

    /// Records the next parameter's range. Paths are far below 4 GiB (the
    /// request target is at most 8 KiB, docs/limits.md).
    fn push(&mut self, range: Range<usize>) {
        self.ranges[self.len] = (range.start as u32, range.end as u32);
        self.len += 1;
    }

    /// Each capture: its name and its range within the path.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'p Arc<str>, Range<usize>)> + '_ {
        let names = self.names;
        names
            .iter()
            .zip(&self.ranges[..self.len])
            .map(|(name, &(start, end))| (name, start as usize..end as usize))
    }
}

impl Pattern {
    /// Parses `text`. Panics on a pattern no request could match, or one
    /// that is not what it looks like: not starting with `/`, a `*rest` that
    /// is not last, an empty name, more than [`MAX_PARAMS`] parameters. A
    /// route table is written by a programmer, and a mistake in it should
    /// stop the program at start, not 404 silently.
    pub(super) fn parse(text: &str) -> Pattern {
        assert!(
            text.starts_with('/'),
            "route path {text:?} must start with /"
        );
        let pieces: Vec<&str> = text[1..].split('/').collect();
        let mut segments = Vec::new();
        let mut names: Vec<Arc<str>> = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let segment = if let Some(name) = piece.strip_prefix(':') {
                assert!(
                    !name.is_empty(),
                    "route path {text:?}: a parameter needs a name"
                );
                names.push(name.into());
                Segment::Param
            } else if let Some(name) = piece.strip_prefix('*') {
                assert!(!name.is_empty(), "route path {text:?}: a rest needs a name");
                assert!(
                    i + 1 == pieces.len(),
                    "route path {text:?}: *{name} must come last"
                );
                names.push(name.into());
                Segment::Rest
            } else {
                Segment::Literal((*piece).to_string())
            };
            segments.push(segment);
        }
        assert!(
            names.len() <= MAX_PARAMS,
            "route path {text:?}: more than {MAX_PARAMS} parameters"
        );
        Pattern {
            text: text.to_string(),
            segments,
            literal: names.is_empty(),
            names,
        }
    }

    /// The pattern as registered.
    pub(super) fn text(&self) -> &str {
        &self.text
    }

    /// True for a pattern without parameters: it matches one path only.
    pub(super) fn is_literal(&self) -> bool {
        self.literal
    }

    /// Matches `path` (which starts with `/`), returning what the parameters
    /// captured, as ranges of `path`.
    pub(super) fn matches<'p>(&'p self, path: &str) -> Option<Captures<'p>> {
        if self.literal {
            return (self.text == path).then(Captures::none);
        }
        let mut captures = Captures::new(&self.names);
        let mut at = 1; // past the leading '/'
        for (i, segment) in self.segments.iter().enumerate() {
            if let Segment::Rest = segment {
                captures.push(at.min(path.len())..path.len());
                return (at <= path.len()).then_some(captures);
            }
            if at > path.len() {
                return None;
            }
            let end = path[at..].find('/').map_or(path.len(), |slash| at + slash);
            let piece = &path[at..end];
            match segment {
                Segment::Literal(literal) if literal == piece => {}
                Segment::Param if !piece.is_empty() => captures.push(at..end),
                _ => return None,
            }
            let last = i + 1 == self.segments.len();
            if last {
                return (end == path.len()).then_some(captures);
            }
            at = end + 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured<'a>(pattern: &str, path: &'a str) -> Option<Vec<(String, &'a str)>> {
        let pattern = Pattern::parse(pattern);
        let captures = pattern.matches(path)?;
        Some(
            captures
                .iter()
                .map(|(name, range)| (name.to_string(), &path[range]))
                .collect(),
        )
    }

    #[test]
    fn literals_match_exactly() {
        assert_eq!(captured("/fast", "/fast"), Some(vec![]));
        assert_eq!(captured("/fast", "/fast/"), None);
        assert_eq!(captured("/", "/"), Some(vec![]));
        assert_eq!(captured("/a/b", "/a/c"), None);
    }

    #[test]
    fn parameters_take_one_nonempty_segment() {
        let id = |v: &'static str| Some(vec![("id".to_string(), v)]);
        assert_eq!(captured("/items/:id", "/items/42"), id("42"));
        assert_eq!(captured("/items/:id", "/items/"), None);
        assert_eq!(captured("/items/:id", "/items"), None);
        assert_eq!(captured("/items/:id", "/items/42/more"), None);
        assert_eq!(
            captured("/u/:user/p/:post", "/u/ann/p/7"),
            Some(vec![("user".into(), "ann"), ("post".into(), "7")])
        );
    }

    #[test]
    fn a_rest_takes_everything_after_its_slash() {
        let path = |v: &'static str| Some(vec![("path".to_string(), v)]);
        assert_eq!(
            captured("/static/*path", "/static/a/b.css"),
            path("a/b.css")
        );
        assert_eq!(captured("/static/*path", "/static/"), path(""));
        assert_eq!(captured("/static/*path", "/static"), None);
        assert_eq!(captured("/static/*path", "/statics/x"), None);
    }

    #[test]
    #[should_panic(expected = "must come last")]
    fn a_rest_in_the_middle_is_refused_at_registration() {
        Pattern::parse("/a/*rest/b");
    }
}
