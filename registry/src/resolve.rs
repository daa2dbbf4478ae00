//! Package references and semver resolution: `name`, `name@1.2.3` (exactly that version),
//! `name@^1.2`, `name@~1.2`, `name@>=1, <2` (any `semver` requirement). Resolution picks the
//! highest matching version that is not yanked; nothing matching is an error that lists what
//! there is. Also the immutability rule: a published name@version never changes its bytes.

use semver::{Version, VersionReq};

/// What a reference asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Package name.
    pub name: String,
    /// The versions that satisfy it (`*` when none was given).
    pub req: VersionReq,
}

/// One published version, as resolution sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Its version.
    pub version: Version,
    /// Hex sha256 of its component.
    pub digest: String,
    /// Yanked versions stay installable by exact reference, never chosen by a range.
    pub yanked: bool,
}

/// Why a reference or a publish was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The reference does not parse.
    #[error(
        "`{reference}` is not a package reference ({why}); expected NAME, NAME@1.2.3, NAME@^1.2, NAME@~1.2 or NAME@\">=1, <2\""
    )]
    BadReference {
        /// The text given.
        reference: String,
        /// What is wrong with it.
        why: String,
    },
    /// No package by that name.
    #[error("no package named `{0}`")]
    UnknownPackage(String),
    /// Versions exist, none matches.
    #[error("no version of `{name}` matches `{req}`; available: {available}")]
    NoMatch {
        /// Package name.
        name: String,
        /// The requirement.
        req: String,
        /// The versions there are (yanked ones marked).
        available: String,
    },
    /// The same name@version was published before with other bytes.
    #[error(
        "{name}@{version} is already published with digest {existing}; versions are immutable (publish a new version)"
    )]
    Immutable {
        /// Package name.
        name: String,
        /// The version.
        version: String,
        /// The digest it has.
        existing: String,
    },
}

impl Reference {
    /// Parses `NAME[@REQ]`. A bare version (`1.2.3`) means exactly that version.
    pub fn parse(text: &str) -> Result<Self, ResolveError> {
        let bad = |why: &str| ResolveError::BadReference {
            reference: text.to_string(),
            why: why.to_string(),
        };
        let (name, req) = match text.split_once('@') {
            Some((n, r)) => (n, Some(r.trim())),
            None => (text, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return Err(bad("the name must be 1-64 of a-z, 0-9 and '-'"));
        }
        let req = match req {
            None => VersionReq::STAR,
            Some("") => return Err(bad("nothing after '@'")),
            Some(r) if Version::parse(r).is_ok() => {
                VersionReq::parse(&format!("={r}")).map_err(|e| bad(&e.to_string()))?
            }
            Some(r) => VersionReq::parse(r).map_err(|e| bad(&e.to_string()))?,
        };
        Ok(Reference { name: name.to_string(), req })
    }

    /// Whether the reference names one exact version (`name@1.2.3`).
    pub fn is_exact(&self) -> bool {
        self.req.comparators.len() == 1
            && self.req.comparators[0].op == semver::Op::Exact
            && self.req.comparators[0].patch.is_some()
    }

    /// The highest version in `versions` that matches and is not yanked (an exact reference may
    /// name a yanked version).
    pub fn resolve<'a>(&self, versions: &'a [Published]) -> Result<&'a Published, ResolveError> {
        if versions.is_empty() {
            return Err(ResolveError::UnknownPackage(self.name.clone()));
        }
        let exact = self.is_exact();
        versions
            .iter()
            .filter(|p| self.req.matches(&p.version) && (exact || !p.yanked))
            .max_by(|a, b| a.version.cmp(&b.version))
            .ok_or_else(|| {
                let mut all: Vec<&Published> = versions.iter().collect();
                all.sort_by(|a, b| a.version.cmp(&b.version));
                let available = all
                    .iter()
                    .map(|p| {
                        if p.yanked {
                            format!("{} (yanked)", p.version)
                        } else {
                            p.version.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                ResolveError::NoMatch {
                    name: self.name.clone(),
                    req: self.req.to_string(),
                    available,
                }
            })
    }
}

/// Checks that publishing `digest` as `name@version` keeps versions immutable; `Ok(true)` if that
/// exact publish already happened (publishing again is a no-op).
pub fn check_publish(
    name: &str,
    version: &Version,
    digest: &str,
    versions: &[Published],
) -> Result<bool, ResolveError> {
    match versions.iter().find(|p| &p.version == version) {
        None => Ok(false),
        Some(p) if p.digest == digest => Ok(true),
        Some(p) => Err(ResolveError::Immutable {
            name: name.to_string(),
            version: version.to_string(),
            existing: p.digest.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(list: &[(&str, bool)]) -> Vec<Published> {
        list.iter()
            .map(|(v, yanked)| Published {
                version: Version::parse(v).expect("version"),
                digest: format!("d{v}"),
                yanked: *yanked,
            })
            .collect()
    }

    #[test]
    fn resolution_table() {
        let versions = published(&[
            ("1.0.0", false),
            ("1.2.0", false),
            ("1.2.5", false),
            ("1.3.0", true),
            ("2.0.0", false),
            ("2.1.0-beta.1", false),
        ]);
        let table = [
            ("csv", "2.0.0"),
            ("csv@1.2.0", "1.2.0"),
            ("csv@^1.2", "1.2.5"),
            ("csv@~1.2", "1.2.5"),
            ("csv@>=1, <2", "1.2.5"),
            ("csv@1.3.0", "1.3.0"),
            ("csv@^1", "1.2.5"),
            ("csv@>=2.1.0-beta.1", "2.1.0-beta.1"),
        ];
        for (reference, want) in table {
            let got = Reference::parse(reference)
                .expect(reference)
                .resolve(&versions)
                .map(|p| p.version.to_string());
            assert_eq!(got.as_deref(), Ok(want), "{reference}");
        }
    }

    #[test]
    fn nothing_matching_lists_what_there_is() {
        let versions = published(&[("1.0.0", false), ("1.3.0", true)]);
        let err =
            Reference::parse("csv@^3").expect("parse").resolve(&versions).expect_err("no match");
        assert_eq!(
            err.to_string(),
            "no version of `csv` matches `^3`; available: 1.0.0, 1.3.0 (yanked)"
        );
        assert_eq!(
            Reference::parse("csv").expect("parse").resolve(&[]),
            Err(ResolveError::UnknownPackage("csv".into()))
        );
        for bad in ["", "CSV", "csv@", "csv@^x", "a/b@1", "csv@1.2.3.4"] {
            assert!(
                matches!(Reference::parse(bad), Err(ResolveError::BadReference { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn published_versions_are_immutable() {
        let versions = published(&[("1.0.0", false)]);
        let v = Version::parse("1.0.0").expect("v");
        assert_eq!(
            check_publish("csv", &v, "d1.0.0", &versions),
            Ok(true),
            "the same bytes again: a no-op"
        );
        assert!(matches!(
            check_publish("csv", &v, "other", &versions),
            Err(ResolveError::Immutable { .. })
        ));
        assert_eq!(
            check_publish("csv", &Version::parse("1.0.1").expect("v"), "x", &versions),
            Ok(false)
        );
    }
}
