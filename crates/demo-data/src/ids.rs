//! Deterministic row ids: every id is the UUID v5 of its template tenant's id (the
//! namespace) and a stable key such as `ingredient:Harina de trigo T55`, so re-seeding
//! yields the same rows and ids never depend on insertion order.

use uuid::Uuid;

/// Mints the ids of one template tenant.
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    tenant: Uuid,
}

impl Ids {
    pub fn new(tenant: Uuid) -> Self {
        Ids { tenant }
    }

    pub fn tenant(&self) -> Uuid {
        self.tenant
    }

    /// The id of the `kind` row known by `key` (e.g. `("product", "Barra de pan")`).
    pub fn of(&self, kind: &str, key: &str) -> Uuid {
        Uuid::new_v5(&self.tenant, format!("{kind}:{key}").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_scoped_to_their_tenant() {
        let a = Ids::new(Uuid::from_u128(1));
        let b = Ids::new(Uuid::from_u128(2));
        assert_eq!(
            a.of("product", "Barra de pan"),
            a.of("product", "Barra de pan")
        );
        assert_ne!(
            a.of("product", "Barra de pan"),
            b.of("product", "Barra de pan")
        );
        assert_ne!(a.of("product", "x"), a.of("ingredient", "x"));
    }
}
