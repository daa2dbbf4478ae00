//! Pure data for wasm-host: per-call limits, capability requests and grants, the effective grant
//! (requested ∩ granted), and the semver policy for our WIT interfaces.
//!
//! Nothing here touches wasmtime, the file system or the network; everything is testable as data.
//!
//! ```
//! use wasm_host_policy::{DirGrant, parse_duration, parse_size};
//!
//! assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
//! assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
//! let grant = DirGrant::parse("/srv/data::/data:ro").unwrap();
//! assert_eq!((grant.guest.as_str(), grant.read_only), ("/data", true));
//! assert!(parse_size("lots").is_err());
//! ```

pub mod caps;
pub mod limits;
pub mod text;
pub mod wit_policy;

pub use caps::{
    CapabilityError, DirGrant, DirRequest, EffectiveGrant, Grants, HostPattern, Requests,
    effective_grant, effective_limits,
};
pub use limits::{Limits, LimitsError, parse_duration, parse_size};
pub use wit_policy::{HOST_WIT_PACKAGE, HOST_WIT_VERSION, ImportVerdict, check_import};
