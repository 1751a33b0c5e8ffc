//! The connection table: which connection a mio `Token` means.
//!
//! mio tells the loop "token 7 is readable"; this table turns the token back
//! into a connection. It is a slab (a `Vec` of slots plus a free list) so
//! lookups are an index, and every slot carries a *generation* that is bumped
//! whenever its connection is removed.
//!
//! Why generations: a worker may finish a job for connection #7 after that
//! client hung up and a new client was given slot 7. The finished job carries
//! the [`ConnId`] it was started for, `{index: 7, generation: 3}`; the new
//! connection is `{index: 7, generation: 4}`, so the stale answer finds no one
//! and is dropped instead of being written to a stranger. The same check
//! protects against readiness events that were already queued for a socket
//! closed earlier in the same `poll` batch.

use mio::Token;

// A ConnId is packed into a mio Token (a usize): index in the low 32 bits,
// generation in the next 31. That needs a 64-bit usize.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("eddy packs connection ids into 64-bit tokens");

/// Generations wrap within 31 bits so a packed token never reaches the
/// reserved tokens at the top of the `usize` range (listener, waker, signals).
const GENERATION_MASK: u32 = (1 << 31) - 1;

/// Identifies one connection for its whole life, and never a later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

impl ConnId {
    /// The mio token under which this connection's socket is registered.
    pub fn token(self) -> Token {
        Token(((self.generation as usize) << 32) | self.index as usize)
    }

    /// The id a token was made from. Any token gives *some* id; whether it
    /// names a live connection is for [`ConnTable::get_mut`] to say.
    pub fn from_token(token: Token) -> ConnId {
        ConnId {
            index: token.0 as u32,
            generation: ((token.0 >> 32) as u32) & GENERATION_MASK,
        }
    }
}

/// One entry of the slab.
struct Slot<T> {
    /// Bumped on every removal, so ids handed out earlier stop matching.
    generation: u32,
    /// `None` while the slot is free (its index is then on the free list).
    value: Option<T>,
}

/// A slab of values addressed by generation-checked [`ConnId`]s.
pub struct ConnTable<T> {
    slots: Vec<Slot<T>>,
    /// Indices of free slots, reused last-in first-out (the most recently
    /// freed slot is the one most likely still in cache).
    free: Vec<u32>,
    /// Number of occupied slots, kept so `len` is O(1).
    len: usize,
}

impl<T> Default for ConnTable<T> {
    fn default() -> Self {
        ConnTable {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> ConnTable<T> {
    /// Stores `value` and returns the id that reaches it.
    pub fn insert(&mut self, value: T) -> ConnId {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return ConnId {
                index,
                generation: slot.generation,
            };
        }
        let index = u32::try_from(self.slots.len()).expect("more than 2^32 connections");
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        ConnId {
            index,
            generation: 0,
        }
    }

    /// The value `id` was handed out for, if it is still there.
    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut T> {
        match self.slots.get_mut(id.index as usize) {
            Some(slot) if slot.generation == id.generation => slot.value.as_mut(),
            _ => None,
        }
    }

    /// Takes the value out; `id` (and every copy of it) stops matching.
    pub fn remove(&mut self, id: ConnId) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = (slot.generation + 1) & GENERATION_MASK;
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
    pub fn ids(&self) -> Vec<ConnId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.value.is_some())
            .map(|(index, slot)| ConnId {
                index: index as u32,
                generation: slot.generation,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_does_not_answer_to_the_old_id() {
        let mut table = ConnTable::default();
        let old = table.insert("first client");
        assert_eq!(table.remove(old), Some("first client"));
        let new = table.insert("second client");
        assert_eq!(old.index, new.index, "the slot is reused");
        assert_ne!(old, new);
        assert_eq!(table.get_mut(old), None, "a late completion finds no one");
        assert_eq!(table.remove(old), None);
        assert_eq!(table.get_mut(new), Some(&mut "second client"));
    }

    #[test]
    fn ids_survive_the_round_trip_through_a_token() {
        let mut table = ConnTable::default();
        let mut ids = Vec::new();
        for round in 0..5 {
            let id = table.insert(round);
            ids.push(id);
            table.remove(id);
        }
        let id = table.insert(99);
        assert_eq!(ConnId::from_token(id.token()), id);
        assert_eq!(id.generation, 5);
        for stale in ids {
            assert_eq!(table.get_mut(ConnId::from_token(stale.token())), None);
        }
    }

    #[test]
    fn generations_wrap_below_the_reserved_tokens() {
        let id = ConnId {
            index: u32::MAX,
            generation: GENERATION_MASK,
        };
        assert!(id.token().0 < usize::MAX - 16);
        assert_eq!(ConnId::from_token(id.token()), id);
    }

    #[test]
    fn len_and_ids_track_live_entries() {
        let mut table = ConnTable::default();
        let a = table.insert('a');
        let b = table.insert('b');
        table.remove(a);
        assert_eq!(table.len(), 1);
        assert_eq!(table.ids(), vec![b]);
        table.remove(b);
        assert!(table.is_empty());
    }
}
