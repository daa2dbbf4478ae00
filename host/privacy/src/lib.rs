//! Personal data and secrets at the host boundary (issue 17, first part).
//!
//! - [`kinds`]: what counts as which kind, with the check digits and ranges that separate real
//!   values from look-alikes (Luhn for cards, mod-97 for IBANs, SSN ranges, octets);
//! - [`scan`]: finding them in text, including full-width digits and spaced or dotted numbers;
//! - [`vault`]: stable tokens (`[EMAIL_1]`) per vault (one per session or workspace handle),
//!   and replacing this vault's tokens by their values on the way back in;
//! - [`json`]: the same over JSON, rewriting only string values, with field names as hints;
//! - [`policy`]: the operator's settings (on or off, kinds, allow-lists; per component).
//!
//! Pure data and text: no I/O, no wasmtime. The MCP layer decides where a vault lives.

pub mod corpus;
pub mod json;
pub mod kinds;
pub mod policy;
pub mod scan;
pub mod vault;

pub use kinds::PiiKind;
pub use policy::{ComponentPii, PiiPolicy, PiiRules};
pub use scan::{Finding, Scanner};
pub use vault::{Counts, Vault};
