//! The gateway: the only public entry of Bakery-IA.
//!
//! A request goes through, in order:
//! - [`request`]: the target is read exactly one way (or refused with `400`), and
//!   [`client`] says who the client is (trusted proxies, once);
//! - [`routes`]: the routing table (prefix → upstream, public and admin routes) and what
//!   the gateway answers itself: the web page ([`assets`]), the demo [`policy`] and the
//!   [`openapi`] document of the public API (the services' documents, merged);
//! - [`auth`]: a customer access token, or a demo session resolved by [`session`]
//!   (in-process cache → Redis → demo-session, invalidated over Redis pub/sub), with bad
//!   credentials made cheap and limited per client by [`refusals`];
//! - [`policy`]: what a demo session may do, loaded as data, and [`backoff`]: a demo
//!   session told to slow its writes down is held back here until it may write again;
//! - [`proxy`]: forwarded with a signed identity and client assertion over a shared
//!   connection pool.
//!
//! [`handler`] strings these together; [`error`] maps every refusal to the JSON envelope;
//! [`metrics`] counts what happened (served on `GATEWAY_METRICS_ADDR`, not the public port);
//! [`milestones`] reports the demo funnel's milestones it sees to demo-session (a bounded
//! queue, a background task).
//! Service plumbing: [`settings`], [`startup`] (`Application::build`), [`cli`].

pub mod assets;
pub mod auth;
pub mod backoff;
pub mod cli;
pub mod client;
pub mod error;
pub mod handler;
pub mod metrics;
pub mod milestones;
pub mod openapi;
pub mod policy;
pub mod proxy;
pub mod refusals;
pub mod request;
pub mod routes;
pub mod session;
pub mod settings;
pub mod startup;
