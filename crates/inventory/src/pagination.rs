//! The bounds of every inventory list: `limit`/`offset` pages of at most 200 items (50
//! unless asked), over the shared [`bakery_config::pagination`] types, refused as
//! `400 invalid_query`.

pub use bakery_config::pagination::{Page, PageError, PageLimits, PageParams, Paginated};

use crate::error::InventoryError;

/// Every inventory list's bounds.
pub const LIMITS: PageLimits = PageLimits {
    default: 50,
    max: 200,
};

/// A refused page is a query value out of range (the message says which one); here rather
/// than in `error.rs` because it is the one conversion pagination needs.
impl From<PageError> for InventoryError {
    fn from(e: PageError) -> Self {
        InventoryError::InvalidQuery(e.to_string())
    }
}

/// The page `params` ask for, within [`LIMITS`].
pub fn page(params: PageParams) -> Result<Page, InventoryError> {
    Ok(params.within(LIMITS)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_before() {
        let refused = |limit, offset| match page(PageParams { limit, offset }) {
            Err(InventoryError::InvalidQuery(m)) => m,
            other => format!("{other:?}"),
        };
        assert_eq!(refused(Some(201), None), "limit debe estar entre 1 y 200");
        assert_eq!(refused(None, Some(-1)), "offset no puede ser negativo");
        assert_eq!(page(PageParams::default()).ok(), Some(Page::first(LIMITS)));
    }
}
