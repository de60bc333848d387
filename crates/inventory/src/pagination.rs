//! `limit`/`offset` pagination of every list endpoint.

use serde::{Deserialize, Serialize};

use crate::error::InventoryError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// What the query string says (`?limit=&offset=`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A validated page: `limit` in `1..=200` (default 50), `offset >= 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

impl TryFrom<PageParams> for Page {
    type Error = InventoryError;

    fn try_from(p: PageParams) -> Result<Self, InventoryError> {
        let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
        let offset = p.offset.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(InventoryError::InvalidQuery(format!(
                "limit debe estar entre 1 y {MAX_LIMIT}"
            )));
        }
        if offset < 0 {
            return Err(InventoryError::InvalidQuery(
                "offset no puede ser negativo".to_owned(),
            ));
        }
        Ok(Page { limit, offset })
    }
}

/// `{"items": [...], "limit", "offset", "total"}`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub limit: i64,
    pub offset: i64,
    pub total: i64,
}

impl<T> Paginated<T> {
    pub fn new(items: Vec<T>, page: Page, total: i64) -> Self {
        Paginated {
            items,
            limit: page.limit,
            offset: page.offset,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            Page::try_from(PageParams::default()).ok(),
            Some(Page::default())
        );
        for (limit, offset) in [(Some(0), None), (Some(201), None), (None, Some(-1))] {
            assert!(Page::try_from(PageParams { limit, offset }).is_err());
        }
        assert_eq!(
            Page::try_from(PageParams {
                limit: Some(200),
                offset: Some(400)
            })
            .ok(),
            Some(Page {
                limit: 200,
                offset: 400
            })
        );
    }
}
