//! Every project under `guests/` is built and exercised by some test: it is in the tests' guest
//! list ([`wasm_host_tests::GUESTS`]) and some test source asks for it by name. A new guest that
//! no test builds fails here.

use std::path::Path;
use wasm_host_tests::{GUESTS, repo};

/// Every guest project directory: `guests/<group>/<project>` with a Cargo.toml, package.json or
/// app.py.
fn guest_projects() -> Vec<String> {
    let mut found = Vec::new();
    for group in std::fs::read_dir(repo().join("guests")).expect("guests/").flatten() {
        let Ok(projects) = std::fs::read_dir(group.path()) else { continue };
        for project in projects.flatten() {
            let p = project.path();
            if ["Cargo.toml", "package.json", "app.py"].iter().any(|f| p.join(f).is_file()) {
                let rel = p.strip_prefix(repo()).expect("under the repo").display().to_string();
                found.push(rel);
            }
        }
    }
    found.sort();
    found
}

/// The text of every Rust test source in the repository (integration tests and test helpers).
fn test_sources() -> String {
    let mut text = String::new();
    let mut stack = vec![repo().join("tests"), repo().join("host"), repo().join("registry")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "target" && n != "node_modules") {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") && is_test_file(&p) {
                text.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    text
}

fn is_test_file(p: &Path) -> bool {
    p.components().any(|c| c.as_os_str() == "tests")
}

#[test]
fn every_guest_project_is_built_and_used_by_some_test() {
    let sources = test_sources();
    let projects = guest_projects();
    assert!(projects.len() >= 10, "found the guest projects: {projects:?}");
    for project in &projects {
        let Some((name, _)) = GUESTS.iter().find(|(_, dir)| dir == project) else {
            panic!("{project} is not in wasm_host_tests::GUESTS, so no test builds it");
        };
        let asked = [format!("\"{name}\"")].iter().any(|quoted| {
            sources.matches(quoted.as_str()).count() > usize::from(name_in_list(name))
        });
        assert!(asked, "no test uses guest `{name}` ({project}): add one that builds and calls it");
    }
}

/// Whether `name` appears quoted in the GUESTS list itself (which is not a use).
fn name_in_list(name: &str) -> bool {
    GUESTS.iter().any(|(n, _)| *n == name)
}
