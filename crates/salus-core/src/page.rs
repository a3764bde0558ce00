//! The cursor pagination convention shared by every list in the API and the pages:
//! a client asks for `limit` items after an opaque `cursor`, and gets the items and the
//! cursor of the next page (absent on the last page). Cursors are keyset positions, never
//! offsets, so a page costs the same at row one million as at row one.

use serde::Serialize;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A page request with its limit already clamped to `1..=MAX_LIMIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    pub after: Option<C>,
    pub limit: u32,
}

impl<C> PageRequest<C> {
    pub fn new(after: Option<C>, limit: Option<u32>) -> Self {
        Self { after, limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) }
    }
}

/// One page of results; `next` is the position to continue from, if there is more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from `limit + 1` fetched rows: the extra row, if present, only tells
    /// that a next page exists and is dropped.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> C) -> Self {
        let limit = limit as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(&key)
        } else {
            None
        };
        Self { items: rows, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_is_clamped() {
        assert_eq!(PageRequest::<u32>::new(None, Some(0)).limit, 1);
        assert_eq!(PageRequest::<u32>::new(None, Some(10_000)).limit, MAX_LIMIT);
        assert_eq!(PageRequest::<u32>::new(None, None).limit, DEFAULT_LIMIT);
    }

    #[test]
    fn overfetch_row_becomes_the_cursor_only_when_present() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |x| *x);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next, Some(2));
        let last = Page::from_overfetch(vec![1, 2], 2, |x| *x);
        assert_eq!(last.next, None);
    }
}
