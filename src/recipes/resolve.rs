//! Versions from git tags: `v1.2.3` or `1.2.3` (semver); other tags are ignored.
//! A requirement picks the highest matching version (Cargo's `^1.4` meaning); the
//! lock then keeps it until `recipes update`.

use super::RecipesError;
use semver::{Version, VersionReq};

/// A released version and the tag it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub version: Version,
    pub tag: String,
}

/// The releases among `tags`, oldest first. When both `v1.0.0` and `1.0.0` exist,
/// `v1.0.0` is used (one version, one tag, so the lock is deterministic).
pub fn releases<'a>(tags: impl IntoIterator<Item = &'a str>) -> Vec<Release> {
    let mut out: Vec<Release> = Vec::new();
    for tag in tags {
        let Ok(version) = Version::parse(tag.strip_prefix('v').unwrap_or(tag)) else {
            continue;
        };
        // Build metadata makes versions equal in precedence but not in text: skip it.
        if !version.build.is_empty() {
            continue;
        }
        match out.iter_mut().find(|r| r.version == version) {
            Some(r) if tag.starts_with('v') => r.tag = tag.to_string(),
            Some(_) => {}
            None => out.push(Release {
                version,
                tag: tag.to_string(),
            }),
        }
    }
    out.sort_by(|a, b| a.version.cmp(&b.version));
    out
}

/// The highest release that `req` accepts (`None`: any, pre-releases excluded).
pub fn highest<'a>(releases: &'a [Release], req: Option<&VersionReq>) -> Option<&'a Release> {
    releases.iter().rev().find(|r| match req {
        Some(req) => req.matches(&r.version),
        None => r.version.pre.is_empty(),
    })
}

/// Like [`highest`], with an error that lists what there is.
pub fn pick<'a>(
    name: &str,
    url: &str,
    releases: &'a [Release],
    req: Option<&VersionReq>,
) -> Result<&'a Release, RecipesError> {
    highest(releases, req).ok_or_else(|| no_match(name, url, releases, req.map(|r| r.to_string())))
}

/// The release that is exactly `version` (for `recipes update --to`).
pub fn exact<'a>(
    name: &str,
    url: &str,
    releases: &'a [Release],
    version: &Version,
) -> Result<&'a Release, RecipesError> {
    releases
        .iter()
        .find(|r| &r.version == version)
        .ok_or_else(|| no_match(name, url, releases, Some(format!("={version}"))))
}

fn no_match(name: &str, url: &str, releases: &[Release], req: Option<String>) -> RecipesError {
    let wanted = req.map_or_else(
        || "release".to_string(),
        |r| format!("version matching `{r}`"),
    );
    let available = if releases.is_empty() {
        "it has no version tags (vX.Y.Z or X.Y.Z)".to_string()
    } else {
        format!(
            "available: {}",
            releases
                .iter()
                .rev()
                .map(|r| r.version.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    RecipesError::plain(format!("{name}: {url} has no {wanted}")).with_help(available)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(tags: &[&str]) -> Vec<Release> {
        releases(tags.iter().copied())
    }

    fn req(s: &str) -> VersionReq {
        VersionReq::parse(s).unwrap()
    }

    #[test]
    fn tags_become_sorted_versions_and_others_are_ignored() {
        let r = rel(&[
            "v1.10.0",
            "1.2.0",
            "v1.9.1",
            "latest",
            "v2",
            "release-3.0.0",
            "v1.0.0+build",
        ]);
        let v: Vec<String> = r
            .iter()
            .map(|r| format!("{} {}", r.version, r.tag))
            .collect();
        assert_eq!(v, ["1.2.0 1.2.0", "1.9.1 v1.9.1", "1.10.0 v1.10.0"]);
    }

    #[test]
    fn the_v_tag_wins_when_both_spellings_exist() {
        let r = rel(&["1.0.0", "v1.0.0"]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].tag, "v1.0.0");
        let r = rel(&["v1.0.0", "1.0.0"]);
        assert_eq!(r[0].tag, "v1.0.0");
    }

    #[test]
    fn highest_matching_version() {
        let r = rel(&["v1.0.0", "v1.1.0", "v1.4.2", "v2.0.0", "v2.1.0-rc.1"]);
        assert_eq!(highest(&r, Some(&req("^1.0"))).unwrap().tag, "v1.4.2");
        assert_eq!(highest(&r, Some(&req("~1.1"))).unwrap().tag, "v1.1.0");
        assert_eq!(highest(&r, Some(&req("=1.0.0"))).unwrap().tag, "v1.0.0");
        assert_eq!(highest(&r, None).unwrap().tag, "v2.0.0");
        assert_eq!(
            highest(&r, Some(&req(">=2.1.0-rc.1"))).unwrap().tag,
            "v2.1.0-rc.1"
        );
        assert!(highest(&r, Some(&req("^3"))).is_none());
    }

    #[test]
    fn no_match_lists_the_available_versions() {
        let r = rel(&["v1.0.0", "v1.1.0"]);
        let e = pick("acme", "file:///x.git", &r, Some(&req("^2"))).unwrap_err();
        let RecipesError::Plain { message, help } = e else {
            panic!()
        };
        assert_eq!(message, "acme: file:///x.git has no version matching `^2`");
        assert_eq!(help.as_deref(), Some("available: 1.1.0, 1.0.0"));
        let e = pick("acme", "u", &[], None).unwrap_err();
        let RecipesError::Plain { help, .. } = e else {
            panic!()
        };
        assert_eq!(
            help.as_deref(),
            Some("it has no version tags (vX.Y.Z or X.Y.Z)")
        );
    }

    #[test]
    fn exact_version() {
        let r = rel(&["v1.0.0", "v1.1.0"]);
        let v = Version::parse("1.0.0").unwrap();
        assert_eq!(exact("a", "u", &r, &v).unwrap().tag, "v1.0.0");
        assert!(exact("a", "u", &r, &Version::parse("1.2.0").unwrap()).is_err());
    }
}
