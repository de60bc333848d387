//! `limit`/`offset` pages of every list a service answers. Each list names its own bounds
//! ([`PageLimits`]: inventory's lists 50 by default and at most 200, tenant-service's
//! `GET /internal/tenants` 500); how a refused page is worded is the service's own.

use serde::{Deserialize, Serialize};

/// What the query string says (`?limit=&offset=`).
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Documented with the public lists' bounds (inventory's `LIMITS`: at most 200; its
    /// tests keep the two equal).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The bounds of one list: the page size when the client names none, and the largest it
/// may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    pub default: i64,
    pub max: i64,
}

/// A validated page: `limit` in `1..=max`, `offset >= 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

/// Why a page was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("limit debe estar entre 1 y {max}")]
    Limit { max: i64 },
    #[error("offset no puede ser negativo")]
    NegativeOffset,
}

impl PageParams {
    /// The page asked for, within `limits` (`limits.default` items when no `limit` is given).
    pub fn within(self, limits: PageLimits) -> Result<Page, PageError> {
        let limit = self.limit.unwrap_or(limits.default);
        let offset = self.offset.unwrap_or(0);
        if !(1..=limits.max).contains(&limit) {
            return Err(PageError::Limit { max: limits.max });
        }
        if offset < 0 {
            return Err(PageError::NegativeOffset);
        }
        Ok(Page { limit, offset })
    }
}

impl Page {
    /// The first page of a list with these bounds.
    pub fn first(limits: PageLimits) -> Self {
        Page {
            limit: limits.default,
            offset: 0,
        }
    }

    /// The `offset` of the next page when `more` items follow this one, else `None`.
    pub fn next_offset(self, more: bool) -> Option<i64> {
        more.then_some(self.offset + self.limit)
    }
}

/// `{"items": [...], "limit", "offset", "total"}`
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
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

    const LIMITS: PageLimits = PageLimits {
        default: 50,
        max: 200,
    };

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(
            PageParams::default().within(LIMITS),
            Ok(Page::first(LIMITS))
        );
        assert_eq!(Page::first(LIMITS).limit, 50);
        for (limit, offset, error) in [
            (Some(0), None, PageError::Limit { max: 200 }),
            (Some(201), None, PageError::Limit { max: 200 }),
            (None, Some(-1), PageError::NegativeOffset),
        ] {
            assert_eq!(PageParams { limit, offset }.within(LIMITS), Err(error));
        }
        assert_eq!(
            PageParams {
                limit: Some(200),
                offset: Some(400)
            }
            .within(LIMITS),
            Ok(Page {
                limit: 200,
                offset: 400
            })
        );
    }

    #[test]
    fn the_next_page_starts_after_this_one() {
        let page = Page {
            limit: 500,
            offset: 1000,
        };
        assert_eq!(page.next_offset(true), Some(1500));
        assert_eq!(page.next_offset(false), None);
    }
}
