//! The token table: which entry a mio `Token` means.
//!
//! mio tells the loop "token 7 is readable"; this table turns the token back
//! into whatever was registered under it (in eddy, a connection). It is a
//! slab (a `Vec` of entries plus a free list) so lookups are an index, and
//! every entry carries a *generation* that is bumped whenever it is removed.
//!
//! Why generations: a worker may finish a job for connection #7 after that
//! client hung up and a new client was given entry 7. The finished job
//! carries the [`TokenId`] it was started for, `{index: 7, generation: 3}`;
//! the new connection is `{index: 7, generation: 4}`, so the stale answer
//! finds no one and is dropped instead of being written to a stranger. The
//! same check protects against readiness events that were already queued
//! for a socket closed earlier in the same `poll` batch.
//!
//! Part of the reactor, and like all of it ignorant of what the entries
//! are: it imports nothing from the crate.

use mio::Token;

// A TokenId is packed into a mio Token (a usize): index in the low 32 bits,
// generation in the next 31. That needs a 64-bit usize.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("eddy packs connection ids into 64-bit tokens");

/// Generations wrap within 31 bits so a packed token never reaches the
/// reserved tokens at the top of the `usize` range (see `reactor::reserved`).
const GENERATION_MASK: u32 = (1 << 31) - 1;

/// Identifies one entry for its whole life, and never a later one. Shown
/// as `index.generation` (`3.1`), which is how `--trace` names connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenId {
    index: u32,
    generation: u32,
}

impl TokenId {
    /// The mio token under which this entry's source is registered.
    pub fn token(self) -> Token {
        Token(((self.generation as usize) << 32) | self.index as usize)
    }

    /// The id a token was made from. Any token gives *some* id; whether it
    /// names a live entry is for [`TokenTable::get_mut`] to say.
    pub fn from_token(token: Token) -> TokenId {
        TokenId {
            index: token.0 as u32,
            generation: ((token.0 >> 32) as u32) & GENERATION_MASK,
        }
    }
}

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.index, self.generation)
    }
}

/// One place in the slab.
struct Entry<T> {
    /// Bumped on every removal, so ids handed out earlier stop matching.
    generation: u32,
    /// `None` while the place is free (its index is then on the free list).
    value: Option<T>,
}

/// A slab of values addressed by generation-checked [`TokenId`]s.
pub struct TokenTable<T> {
    entries: Vec<Entry<T>>,
    /// Indices of free places, reused last-in first-out (the most recently
    /// freed one is the one most likely still in cache).
    free: Vec<u32>,
    /// Number of occupied places, kept so `len` is O(1).
    len: usize,
}

impl<T> Default for TokenTable<T> {
    fn default() -> Self {
        TokenTable {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> TokenTable<T> {
    /// Stores `value` and returns the id that reaches it.
    pub fn insert(&mut self, value: T) -> TokenId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            entry.value = Some(value);
            return TokenId {
                index,
                generation: entry.generation,
            };
        }
        let index = u32::try_from(self.entries.len()).expect("more than 2^32 connections");
        self.entries.push(Entry {
            generation: 0,
            value: Some(value),
        });
        TokenId {
            index,
            generation: 0,
        }
    }

    /// The value `id` was handed out for, if it is still there.
    pub fn get_mut(&mut self, id: TokenId) -> Option<&mut T> {
        match self.entries.get_mut(id.index as usize) {
            Some(entry) if entry.generation == id.generation => entry.value.as_mut(),
            _ => None,
        }
    }

    /// The value `id` was handed out for, to look at.
    pub fn get(&self, id: TokenId) -> Option<&T> {
        match self.entries.get(id.index as usize) {
            Some(entry) if entry.generation == id.generation => entry.value.as_ref(),
            _ => None,
        }
    }

    /// Takes the value out; `id` (and every copy of it) stops matching.
    pub fn remove(&mut self, id: TokenId) -> Option<T> {
        let entry = self.entries.get_mut(id.index as usize)?;
        if entry.generation != id.generation {
            return None;
        }
        let value = entry.value.take()?;
        entry.generation = (entry.generation + 1) & GENERATION_MASK;
        self.free.push(id.index);
        self.len -= 1;
        Some(value)
    }

    /// Number of live values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no value is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ids of all live values (collected, so the caller may then mutate
    /// the table while walking them).
    pub(crate) fn ids(&self) -> Vec<TokenId> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.value.is_some())
            .map(|(index, entry)| TokenId {
                index: index as u32,
                generation: entry.generation,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_place_does_not_answer_to_the_old_id() {
        let mut table = TokenTable::default();
        let old = table.insert("first client");
        assert_eq!(table.remove(old), Some("first client"));
        let new = table.insert("second client");
        assert_eq!(old.index, new.index, "the place is reused");
        assert_ne!(old, new);
        assert_eq!(table.get_mut(old), None, "a late completion finds no one");
        assert_eq!(table.remove(old), None);
        assert_eq!(table.get_mut(new), Some(&mut "second client"));
    }

    #[test]
    fn ids_survive_the_round_trip_through_a_token() {
        let mut table = TokenTable::default();
        let mut ids = Vec::new();
        for round in 0..5 {
            let id = table.insert(round);
            ids.push(id);
            table.remove(id);
        }
        let id = table.insert(99);
        assert_eq!(TokenId::from_token(id.token()), id);
        assert_eq!(id.generation, 5);
        for stale in ids {
            assert_eq!(table.get_mut(TokenId::from_token(stale.token())), None);
        }
    }

    #[test]
    fn generations_wrap_below_the_reserved_tokens() {
        let id = TokenId {
            index: u32::MAX,
            generation: GENERATION_MASK,
        };
        assert!(id.token().0 < super::super::reserved(12).0);
        assert_eq!(TokenId::from_token(id.token()), id);
    }

    #[test]
    fn len_and_ids_track_live_entries() {
        let mut table = TokenTable::default();
        let a = table.insert('a');
        let b = table.insert('b');
        table.remove(a);
        assert_eq!(table.len(), 1);
        assert_eq!(table.ids(), vec![b]);
        table.remove(b);
        assert!(table.is_empty());
    }
}
