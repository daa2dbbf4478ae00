//! Skills refused by the rules, and skills that round-trip.

use super::*;

fn md(frontmatter: &str) -> (String, Vec<u8>) {
    ("SKILL.md".into(), format!("---\n{frontmatter}\n---\nBody.\n").into_bytes())
}

fn one(frontmatter: &str) -> Result<SkillPack, SkillError> {
    SkillPack::from_files(None, vec![md(frontmatter)])
}

#[test]
fn frontmatter_is_kept_verbatim_and_the_body_split_off() {
    let pack = one("name: a-b\ndescription: \"Does: things\"\nlicense: MIT\nmetadata:\n  version: \"1.2.0\"\nallowed-tools: [csv.filter]").expect("ok");
    assert_eq!(pack.description(), "Does: things");
    assert_eq!(pack.metadata("version"), Some("1.2.0"));
    assert_eq!(pack.frontmatter()["allowed-tools"], serde_json::json!(["csv.filter"]));
    assert_eq!(pack.body(), "Body.\n");
    assert_eq!(pack.manifest().expect("ok").version.to_string(), "1.2.0");
    let two = one("name: a\ndescription: x\nmetadata:\n  requires: \"csv@^0.1 grep@>=1.2,<2\"");
    let names: Vec<String> = two.expect("ok").requires().iter().map(ToString::to_string).collect();
    assert_eq!(names, ["csv@^0.1", "grep@>=1.2, <2"]);
}

#[test]
fn names_that_break_the_rules_are_refused() {
    for name in ["", "Upper", "a--b", "-a", "a-", "a_b", "é", &"a".repeat(65)] {
        let err = one(&format!("name: \"{name}\"\ndescription: x")).expect_err("refused");
        assert!(err.to_string().contains("name"), "{name}: {err}");
    }
}

#[test]
fn missing_unknown_and_mistyped_fields_are_named() {
    let cases = [
        ("description: x", "`name` is required"),
        ("name: a", "`description` is required"),
        ("name: a\ndescription: x\nversion: 1", "unknown field `version`"),
        ("name: a\ndescription: \"\"", "1-1024"),
        ("name: a\ndescription: x\nmetadata:\n  n: 1", "metadata `n` must be a string"),
        ("name: a\ndescription: x\nmetadata:\n  io.modelcontextprotocol/x: y", "reserved"),
        ("name: a\ndescription: x\nallowed-tools: 3", "allowed-tools"),
        ("name: a\ndescription: x\nmetadata:\n  version: one", "not semver"),
        ("name: a\ndescription: x\nmetadata:\n  requires: csv", "metadata.requires `csv`: no `@`"),
        (
            "name: a\ndescription: x\nmetadata:\n  requires: csv@banana",
            "metadata.requires `csv@banana`",
        ),
    ];
    for (fm, expected) in cases {
        let err = one(fm).and_then(|p| p.manifest().map(|_| p)).expect_err("refused");
        assert!(err.to_string().contains(expected), "{fm}: {err}");
    }
    let long = one(&format!("name: a\ndescription: {}", "x".repeat(1025))).expect_err("refused");
    assert!(long.to_string().contains("it has 1025"), "{long}");
    let no_fence = SkillPack::from_files(None, vec![("SKILL.md".into(), b"name: a\n".to_vec())]);
    assert!(no_fence.expect_err("refused").to_string().contains("start with a `---`"));
}

#[test]
fn a_name_that_is_not_the_directory_name_is_refused() {
    let err = SkillPack::from_files(Some("other"), vec![md("name: a\ndescription: x")])
        .expect_err("refused");
    assert!(err.to_string().contains("directory's name `other`"), "{err}");
}

#[test]
fn file_names_escaping_the_directory_are_refused() {
    for path in ["../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\b", "c:x", "a\nb"] {
        let files = vec![md("name: a\ndescription: x"), (path.to_string(), b"x".to_vec())];
        let err = SkillPack::from_files(None, files).expect_err("refused");
        assert!(matches!(err, SkillError::BadPath { .. }), "{path}: {err}");
    }
}

#[test]
fn more_than_512_files_or_16_mib_are_refused() {
    let mut files = vec![md("name: a\ndescription: x")];
    files.extend((0..512).map(|i| (format!("assets/{i}.txt"), vec![b'x'])));
    let err = SkillPack::from_files(None, files).expect_err("refused");
    assert_eq!(err, SkillError::TooLarge { what: "files", actual: 513, limit: 512 });
    let big = vec![md("name: a\ndescription: x"), ("assets/big".into(), vec![0; 17 << 20])];
    let err = SkillPack::from_files(None, big).expect_err("refused");
    assert!(matches!(err, SkillError::TooLarge { what: "bytes", .. }), "{err}");
}

#[test]
fn a_section_claiming_more_than_it_holds_is_refused_before_allocating() {
    let pack = one("name: a\ndescription: x").expect("ok");
    let bytes = pack.encode();
    for cut in [4, 12, 20, bytes.len() - 1] {
        assert!(matches!(SkillPack::decode(&bytes[..cut]), Err(SkillError::Malformed(_))), "{cut}");
    }
    let mut huge = bytes[..8].to_vec();
    huge.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(SkillPack::decode(&huge), Err(SkillError::TooLarge { what: "files", .. })));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(SkillPack::decode(&trailing).is_err());
}

#[test]
fn a_directory_is_read_without_hidden_files_and_symlinks_are_refused() {
    let root = tempfile::tempdir().expect("ok");
    let dir = root.path().join("tidy");
    std::fs::create_dir_all(dir.join("references")).expect("ok");
    std::fs::write(dir.join("SKILL.md"), "---\nname: tidy\ndescription: x\n---\n").expect("ok");
    std::fs::write(dir.join("references/a.md"), "A").expect("ok");
    std::fs::write(dir.join(".hidden"), "h").expect("ok");
    let pack = SkillPack::read_dir(&dir).expect("ok");
    let paths: Vec<_> = pack.files().iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["SKILL.md", "references/a.md"]);
    assert_eq!(pack.file("references/a.md").expect("ok").sha256, crate::sha256_hex(b"A"));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("/etc/passwd", dir.join("references/p")).expect("ok");
        let err = SkillPack::read_dir(&dir).expect_err("refused");
        assert!(err.to_string().contains("references/p"), "{err}");
    }
}

#[test]
fn a_skill_component_is_a_component_that_inspect_reads_back() {
    let pack = one("name: a\ndescription: x\nmetadata:\n  version: 2.0.1").expect("ok");
    let bytes = crate::skill_component(&pack).expect("ok");
    let info = crate::inspect(&bytes).expect("ok");
    assert_eq!(info.skill.as_ref(), Some(&pack));
    let manifest = info.manifest.expect("ok");
    assert_eq!((manifest.name.as_str(), manifest.version.to_string()), ("a", "2.0.1".into()));
    assert!(info.interfaces.imports.is_empty() && info.interfaces.exports.is_empty());
}

#[test]
fn frontmatter_that_expands_aliases_without_bound_is_refused() {
    let mut yaml = String::from(
        "name: a\ndescription: x\nmetadata:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for n in "bcdefghi".chars() {
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("  {n}: &{n} [{refs}]\n"));
        prev = n;
    }
    let err = one(yaml.trim_end()).expect_err("refused");
    assert!(err.to_string().contains("not YAML"), "{err}");
    assert_eq!(err.to_string().matches("not YAML").count(), 1, "said once: {err}");
    // Wrapped for a component, the message carries it and no source repeats it in error chains.
    let wrapped = crate::MetaError::from(err);
    assert!(std::error::Error::source(&wrapped).is_none(), "{wrapped}");
}

fn with_files(frontmatter: &str, files: &[(&str, &str)]) -> Result<SkillPack, SkillError> {
    let mut all = vec![md(frontmatter)];
    all.extend(files.iter().map(|(p, b)| (p.to_string(), b.as_bytes().to_vec())));
    SkillPack::from_files(None, all)
}

#[test]
fn a_script_named_in_metadata_is_read_with_its_schema_and_examples() {
    let fm = "name: a\ndescription: x\nmetadata:\n  run: scripts/run.py\n  input-schema: scripts/in.json\n  examples: scripts/ex.json";
    let files = [
        ("scripts/run.py", "return args['n'] * 2"),
        ("scripts/in.json", r#"{"type": "object", "properties": {"n": {"type": "integer"}}}"#),
        ("scripts/ex.json", r#"[{"input": {"n": 2}, "output": 4}]"#),
    ];
    let pack = with_files(fm, &files).expect("ok");
    let script = pack.script().expect("a script");
    assert_eq!(script.language, ScriptLanguage::Python);
    assert_eq!(script.code, "return args['n'] * 2");
    assert_eq!(script.input_schema["properties"]["n"]["type"], "integer");
    assert_eq!(script.examples[0].output, serde_json::json!(4));
    assert_eq!(SkillPack::decode(&pack.encode()).expect("decodes"), pack, "survives packing");
    let plain = one("name: a\ndescription: x").expect("ok");
    assert!(plain.script().is_none(), "no metadata.run, no script");
}

#[test]
fn a_script_that_is_missing_misnamed_or_malformed_is_refused_naming_the_key() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 6] = [
        ("run: scripts/run.py", &[], "metadata.run: `scripts/run.py` is not a file of this skill"),
        ("run: scripts/run.rb", &[("scripts/run.rb", "")], "must end in .js or .py"),
        ("run: run.py", &[("run.py", "")], "must be under scripts/"),
        ("examples: scripts/e.json", &[("scripts/e.json", "[]")], "needs `metadata.run`"),
        (
            "run: scripts/r.js\n  input-schema: scripts/s.json",
            &[("scripts/r.js", ""), ("scripts/s.json", "[1]")],
            "metadata.input-schema: `scripts/s.json` must hold a JSON object",
        ),
        (
            "run: scripts/r.js\n  examples: scripts/e.json",
            &[("scripts/r.js", ""), ("scripts/e.json", r#"[{"input": 1, "output": 2}]"#)],
            "metadata.examples: `scripts/e.json`",
        ),
    ];
    for (metadata, files, expected) in cases {
        let fm = format!("name: a\ndescription: x\nmetadata:\n  {metadata}");
        let err = with_files(&fm, files).expect_err("refused");
        assert!(err.to_string().contains(expected), "{metadata}: {err}");
    }
}
