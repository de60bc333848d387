//! The demo funnel's closed vocabulary (docs/demo-sessions.md, "The funnel"), shared by
//! demo-session (which stores milestones), the gateway (which reports the ones it sees) and
//! the demo page (which reports screens through `POST /api/demo/session/{id}/events`).
//!
//! A milestone is a word and, for some, a detail from a closed set: the screen viewed, the
//! kind of the first write, the policy rule that refused an action. Everything is parsed
//! here, at the edge, so a stored row is always one of a bounded set per session.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest policy rule label a `blocked_action` keeps (the loaded policy bounds the set;
/// this bounds each value). Longer labels are cut at a character boundary.
pub const MAX_RULE_LEN: usize = 120;

/// A word or detail that is not in the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VocabularyError {
    #[error("unknown milestone {0:?}")]
    Milestone(String),
    #[error("milestone {milestone} does not take the detail {detail:?}")]
    Detail {
        milestone: Milestone,
        detail: String,
    },
}

macro_rules! words {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                $name::ALL.iter().copied().find(|w| w.as_str() == s).ok_or(())
            }
        }
    };
}

words! {
    /// What happened in a demo session.
    Milestone {
        Created => "created",
        ScreenViewed => "screen_viewed",
        FirstWrite => "first_write",
        BlockedAction => "blocked_action",
        Extended => "extended",
        EndedByUser => "ended_by_user",
        Expired => "expired",
        SignupStarted => "signup_started",
        Converted => "converted",
    }
}

words! {
    /// The screens of the demo page (`crates/gateway/static/views.js`, `VIEWS`), plus
    /// `recipe_costing`, which only the gateway records (a recipe's costing was fetched).
    Screen {
        Panel => "panel",
        Ingredientes => "ingredientes",
        Productos => "productos",
        Pedidos => "pedidos",
        Venta => "venta",
        Prevision => "prevision",
        RecipeCosting => "recipe_costing",
    }
}

words! {
    /// The three writes a prospect can try.
    WriteKind {
        Sale => "sale",
        Order => "order",
        Adjustment => "adjustment",
    }
}

impl Milestone {
    /// Whether the demo page may report it (`POST …/events`): the rest is the server's word.
    pub fn reported_by_page(self) -> bool {
        matches!(self, Milestone::ScreenViewed | Milestone::SignupStarted)
    }
}

impl Serialize for Milestone {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One milestone with its detail, valid by construction (`Event::parse`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Event {
    milestone: Milestone,
    detail: String,
}

impl Event {
    /// Checks `detail` against `milestone` (empty for the milestones that take none).
    pub fn parse(milestone: &str, detail: &str) -> Result<Self, VocabularyError> {
        let milestone: Milestone = milestone
            .parse()
            .map_err(|()| VocabularyError::Milestone(milestone.to_owned()))?;
        let ok = match milestone {
            Milestone::ScreenViewed => detail.parse::<Screen>().is_ok(),
            Milestone::FirstWrite => detail.parse::<WriteKind>().is_ok(),
            Milestone::BlockedAction => {
                !detail.is_empty()
                    && detail.len() <= MAX_RULE_LEN
                    && detail.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            }
            _ => detail.is_empty(),
        };
        if !ok {
            return Err(VocabularyError::Detail {
                milestone,
                detail: detail.chars().take(MAX_RULE_LEN).collect(),
            });
        }
        Ok(Event {
            milestone,
            detail: detail.to_owned(),
        })
    }

    /// A milestone without a detail.
    ///
    /// # Panics
    /// When `milestone` takes a detail (a programming error).
    pub fn plain(milestone: Milestone) -> Self {
        assert!(
            !matches!(
                milestone,
                Milestone::ScreenViewed | Milestone::FirstWrite | Milestone::BlockedAction
            ),
            "{milestone} takes a detail"
        );
        Event {
            milestone,
            detail: String::new(),
        }
    }

    pub fn screen(screen: Screen) -> Self {
        Event {
            milestone: Milestone::ScreenViewed,
            detail: screen.as_str().to_owned(),
        }
    }

    pub fn first_write(kind: WriteKind) -> Self {
        Event {
            milestone: Milestone::FirstWrite,
            detail: kind.as_str().to_owned(),
        }
    }

    /// A refused action, by the policy rule's label (cut at [`MAX_RULE_LEN`], characters
    /// outside printable ASCII replaced).
    pub fn blocked(rule: &str) -> Self {
        let mut detail: String = rule
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(MAX_RULE_LEN)
            .collect();
        if detail.is_empty() {
            detail.push('?');
        }
        Event {
            milestone: Milestone::BlockedAction,
            detail,
        }
    }

    pub fn milestone(&self) -> Milestone {
        self.milestone
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

/// An event as a client sends it: `{"milestone": …, "detail": …}` (`detail` optional;
/// absent and `null` both mean none, as the OpenAPI document's nullable field says).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RawEvent {
    pub milestone: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub detail: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// What the gateway sends demo-session (`POST /internal/demo/milestones`): milestones it
/// saw for sessions, a batch at a time.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MilestoneBatch {
    pub events: Vec<SessionEvent>,
}

/// One milestone of one session.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SessionEvent {
    pub session_id: String,
    pub milestone: String,
    #[serde(default)]
    pub detail: String,
}

/// The internal endpoint demo-session serves for the gateway (never routed by the gateway:
/// `/internal/*` is `404` there).
pub const INTERNAL_MILESTONES_PATH: &str = "/internal/demo/milestones";

/// The most events one `POST /internal/demo/milestones` carries.
pub const MAX_INTERNAL_BATCH: usize = 500;

/// The most events one `POST /api/demo/session/{id}/events` carries.
pub const MAX_PAGE_EVENTS: usize = 20;

#[cfg(test)]
mod tests {

    #[test]
    fn a_null_detail_is_no_detail() {
        let e: RawEvent =
            serde_json::from_str(r#"{"milestone": "signup_started", "detail": null}"#)
                .expect("null");
        assert_eq!(e.detail, "");
        let e: RawEvent =
            serde_json::from_str(r#"{"milestone": "signup_started"}"#).expect("absent");
        assert_eq!(e.detail, "");
    }

    use super::*;

    #[test]
    fn details_are_checked_against_their_milestone() {
        assert!(Event::parse("created", "").is_ok());
        assert!(Event::parse("created", "x").is_err());
        assert!(Event::parse("screen_viewed", "panel").is_ok());
        assert!(Event::parse("screen_viewed", "dashboard").is_err());
        assert!(Event::parse("first_write", "sale").is_ok());
        assert!(Event::parse("first_write", "refund").is_err());
        assert!(Event::parse("blocked_action", "not_allowed").is_ok());
        assert!(Event::parse("blocked_action", "").is_err());
        assert!(Event::parse("blocked_action", &"x".repeat(MAX_RULE_LEN + 1)).is_err());
        assert!(Event::parse("clicked", "").is_err());
    }

    #[test]
    fn blocked_labels_are_bounded() {
        let e = Event::blocked(&"ñ".repeat(500));
        assert_eq!(e.detail().len(), MAX_RULE_LEN);
        assert!(Event::parse("blocked_action", e.detail()).is_ok());
        assert_eq!(Event::blocked("").detail(), "?");
    }

    #[test]
    fn only_screens_and_signup_come_from_the_page() {
        let page: Vec<_> = Milestone::ALL
            .iter()
            .filter(|m| m.reported_by_page())
            .collect();
        assert_eq!(page, [&Milestone::ScreenViewed, &Milestone::SignupStarted]);
    }
}
