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
pub const MAX_PARAMS: usize = 8;

/// One piece of a pattern.
#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Param(Arc<str>),
    Rest(Arc<str>),
}

/// A route's path, split for matching.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As registered (`/items/:id`): the route's name in the metrics.
    text: String,
    segments: Vec<Segment>,
}

/// What a match captured: parameter names and byte ranges of the path.
#[derive(Debug)]
pub struct Captures<'p> {
    found: [(Option<&'p Arc<str>>, Range<usize>); MAX_PARAMS],
    len: usize,
}

impl<'p> Captures<'p> {
    /// Nothing captured.
    pub fn none() -> Captures<'p> {
        Captures::new()
    }

    fn new() -> Captures<'p> {
        Captures {
            found: std::array::from_fn(|_| (None, 0..0)),
            len: 0,
        }
    }

    fn push(&mut self, name: &'p Arc<str>, range: Range<usize>) {
        self.found[self.len] = (Some(name), range);
        self.len += 1;
    }

    /// Each capture: its name and its range within the path.
    pub fn iter(&self) -> impl Iterator<Item = (&'p Arc<str>, Range<usize>)> + '_ {
        self.found[..self.len]
            .iter()
            .filter_map(|(name, range)| Some(((*name)?, range.clone())))
    }
}

impl Pattern {
    /// Parses `text`. Panics on a pattern no request could match, or one
    /// that is not what it looks like: not starting with `/`, a `*rest` that
    /// is not last, an empty name, more than [`MAX_PARAMS`] parameters. A
    /// route table is written by a programmer, and a mistake in it should
    /// stop the program at start, not 404 silently.
    pub fn parse(text: &str) -> Pattern {
        assert!(
            text.starts_with('/'),
            "route path {text:?} must start with /"
        );
        let pieces: Vec<&str> = text[1..].split('/').collect();
        let mut segments = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let segment = if let Some(name) = piece.strip_prefix(':') {
                assert!(
                    !name.is_empty(),
                    "route path {text:?}: a parameter needs a name"
                );
                Segment::Param(name.into())
            } else if let Some(name) = piece.strip_prefix('*') {
                assert!(!name.is_empty(), "route path {text:?}: a rest needs a name");
                assert!(
                    i + 1 == pieces.len(),
                    "route path {text:?}: *{name} must come last"
                );
                Segment::Rest(name.into())
            } else {
                Segment::Literal((*piece).to_string())
            };
            segments.push(segment);
        }
        let params = segments
            .iter()
            .filter(|s| !matches!(s, Segment::Literal(_)))
            .count();
        assert!(
            params <= MAX_PARAMS,
            "route path {text:?}: more than {MAX_PARAMS} parameters"
        );
        Pattern {
            text: text.to_string(),
            segments,
        }
    }

    /// The pattern as registered.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True for a pattern without parameters: it matches one path only.
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(_)))
    }

    /// Matches `path` (which starts with `/`), returning what the parameters
    /// captured, as ranges of `path`.
    pub fn matches<'p>(&'p self, path: &str) -> Option<Captures<'p>> {
        if self.is_literal() {
            return (self.text == path).then(Captures::new);
        }
        let mut captures = Captures::new();
        let mut at = 1; // past the leading '/'
        for (i, segment) in self.segments.iter().enumerate() {
            if let Segment::Rest(name) = segment {
                captures.push(name, at.min(path.len())..path.len());
                return (at <= path.len()).then_some(captures);
            }
            if at > path.len() {
                return None;
            }
            let end = path[at..].find('/').map_or(path.len(), |slash| at + slash);
            let piece = &path[at..end];
            match segment {
                Segment::Literal(literal) if literal == piece => {}
                Segment::Param(name) if !piece.is_empty() => captures.push(name, at..end),
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
