//! Entry names for the year-end bag: one path component made safe from raw (maybe non-UTF-8)
//! bytes, unique names for a set of wanted paths, and the percent-encoding of manifest paths.
//!
//! A safe name never contains `/` inside a component, `\`, `%`, a control character, a line or
//! paragraph separator, a bidirectional override, or a character Windows refuses in file
//! names; it is never `.` or `..`, never empty, never ends in white space or a dot (bagit-python
//! strips the end of a manifest line, Windows drops trailing dots), and is at most
//! [`MAX_COMPONENT_BYTES`] bytes. Each such character is replaced by a visible stand-in, so a
//! person still recognises the name; the original stays in 文件索引.csv.
//!
//! This module never touches the file system and never panics.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The longest component in bytes: the limit of ext4, XFS, APFS and (in UTF-16 units, which a
/// UTF-8 byte count never undercounts) NTFS.
pub const MAX_COMPONENT_BYTES: usize = 255;

/// The longest extension kept whole when a component must be shortened.
const MAX_EXTENSION_BYTES: usize = 32;

/// Shown where a character was dropped that has no look-alike.
const STAND_IN: char = '_';

/// One path component from raw bytes, made safe (see the module documentation). A name that is
/// not UTF-8 is decoded as GB18030 when it decodes cleanly (a GBK name reads as written), else
/// its invalid bytes become U+FFFD `�`; the result is stable: `safe_component(safe_component(x))
/// == safe_component(x)`.
pub fn safe_component(raw: &[u8]) -> String {
    // Most names are safe as they are: checked without building the safe form.
    if let Ok(s) = std::str::from_utf8(raw)
        && is_safe_component(s)
    {
        return s.to_string();
    }
    let decoded = match crate::walk::decode_gb18030(raw) {
        Some(text) => std::borrow::Cow::Owned(text),
        None => String::from_utf8_lossy(raw),
    };
    let mut s: String = decoded.chars().map(stand_in).collect();
    if s == "." {
        s = "．".to_string();
    } else if s == ".." {
        s = "．．".to_string();
    }
    let mut s = trim_end(&s).to_string();
    if s.is_empty() {
        s.push(STAND_IN);
    }
    if is_windows_reserved(&s) {
        // `CON.txt` → `CON_.txt`: the stem gets a stand-in so no device name remains.
        let stem_end = s.find('.').unwrap_or(s.len());
        s.insert(stem_end, STAND_IN);
    }
    cap_component(&s, MAX_COMPONENT_BYTES)
}

/// A `/`-separated relative path whose every component is a [`safe_component`] of itself.
pub fn is_safe_path(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(is_safe_component)
}

/// `safe_component(c.as_bytes()) == c`, without building the safe form.
fn is_safe_component(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= MAX_COMPONENT_BYTES
        && c != "."
        && c != ".."
        && trim_end(c).len() == c.len()
        && c.chars().all(|ch| stand_in(ch) == ch)
        && !is_windows_reserved(c)
}

fn stand_in(c: char) -> char {
    match c {
        '/' => '／',
        '\\' => '＼',
        '%' => '％',
        ':' => '：',
        '*' => '＊',
        '?' => '？',
        '"' => '＂',
        '<' => '＜',
        '>' => '＞',
        '|' => '｜',
        c if c.is_control() => STAND_IN,
        // line and paragraph separators (Python's splitlines breaks on them), bidirectional
        // marks and overrides (they make a name read differently from what it is), BOM
        '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{FEFF}' => STAND_IN,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => STAND_IN,
        c => c,
    }
}

fn trim_end(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_whitespace() || c == '.')
}

fn is_windows_reserved(s: &str) -> bool {
    let stem = s.split('.').next().unwrap_or(s).as_bytes();
    match stem.len() {
        3 => ["CON", "PRN", "AUX", "NUL"]
            .iter()
            .any(|r| stem.eq_ignore_ascii_case(r.as_bytes())),
        4 => {
            (stem[..3].eq_ignore_ascii_case(b"COM") || stem[..3].eq_ignore_ascii_case(b"LPT"))
                && stem[3].is_ascii_digit()
        }
        _ => false,
    }
}

/// `name` split into stem and extension (with its dot), when it has a short one.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= MAX_EXTENSION_BYTES => name.split_at(i),
        _ => (name, ""),
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `name` shortened to `max` bytes, its extension kept.
fn cap_component(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let stem = trim_end(truncate_to(stem, max.saturating_sub(ext.len())));
    let mut out = String::with_capacity(max);
    out.push_str(if stem.is_empty() { "_" } else { stem });
    out.push_str(ext);
    let out = truncate_to(&out, max);
    let out = trim_end(out);
    if out.is_empty() {
        STAND_IN.to_string()
    } else {
        out.to_string()
    }
}

/// The last component of `path` with `~tag` inserted before its extension, shortened so the
/// component still fits.
fn with_suffix(path: &str, tag: &str) -> String {
    let (dir, last) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    let (stem, ext) = split_extension(last);
    let room = MAX_COMPONENT_BYTES.saturating_sub(ext.len() + tag.len() + 1);
    let stem = trim_end(truncate_to(stem, room));
    format!("{dir}{stem}~{tag}{ext}")
}

/// The key under which two names collide when unpacked: case-insensitive file systems (NTFS,
/// APFS) treat `A.jpg` and `a.jpg` as one file.
fn fold(p: &str) -> String {
    p.to_lowercase()
}

/// Unique names for `(data-relative path, sha256)` pairs, in the input order.
///
/// - The same content wanted at the same path (ignoring case) gets one name: it is written once.
/// - Different contents wanted at one path all get a short-hash suffix before the extension
///   (`照片~1a2b3c4d.jpg`), so no version looks like "the" file and the result does not depend
///   on the input order.
/// - A file whose path is a folder of another file gets a suffix too.
///
/// Paths are expected to be made of [`safe_component`]s already.
pub fn assign_unique(wanted: Vec<(String, String)>) -> Vec<String> {
    // fold(path) → the (sha, path) pairs that want it. Plain vectors and the one-member case
    // without further maps: nested ordered maps for every one of 80 000 names were 40 MB of the
    // archive's peak.
    let mut groups: HashMap<String, Vec<(&str, &str)>> = HashMap::with_capacity(wanted.len());
    let mut folders: HashSet<String> = HashSet::new();
    for (path, sha) in &wanted {
        groups
            .entry(fold(path))
            .or_default()
            .push((sha.as_str(), path.as_str()));
        let mut end = 0;
        while let Some(i) = path[end..].find('/') {
            end += i;
            folders.insert(fold(&path[..end]));
            end += 1;
        }
    }
    // sha → the first spelling that wants it, in order of sha.
    fn by_sha<'a>(members: &[(&'a str, &'a str)]) -> BTreeMap<&'a str, &'a str> {
        let mut m: BTreeMap<&str, &str> = BTreeMap::new();
        for &(sha, path) in members {
            m.entry(sha)
                .and_modify(|p| *p = (*p).min(path))
                .or_insert(path);
        }
        m
    }
    let clashes = |key: &str, members: &[(&str, &str)]| {
        folders.contains(key) || members.iter().any(|(sha, _)| *sha != members[0].0)
    };
    // A name is taken by a folder, by a path without a clash, or by a suffixed name given.
    let mut given: HashSet<String> = HashSet::new();
    let taken = |folded: &str, given: &HashSet<String>| {
        folders.contains(folded)
            || given.contains(folded)
            || groups.get(folded).is_some_and(|m| !clashes(folded, m))
    };

    let mut keys: Vec<&String> = groups.keys().collect();
    keys.sort();
    let mut chosen: HashMap<(&str, &str), String> = HashMap::new();
    let mut suffixed: Vec<(&str, &str, &str, usize)> = Vec::new();
    for key in keys {
        let members = &groups[key];
        if members.len() == 1 && !folders.contains(key.as_str()) {
            // The usual case: one file wants this name, and gets it.
            continue;
        }
        let by_sha = by_sha(members);
        let clash = by_sha.len() > 1 || folders.contains(key.as_str());
        // The shortest tag (from 8 hex digits up) that tells this group's contents apart.
        let mut tag_len = 8;
        while tag_len < 64 {
            let tags: BTreeSet<&str> = by_sha.keys().map(|s| truncate_to(s, tag_len)).collect();
            if tags.len() == by_sha.len() {
                break;
            }
            tag_len += 4;
        }
        for (sha, first) in by_sha {
            if clash {
                suffixed.push((key.as_str(), sha, first, tag_len));
            } else {
                chosen.insert((key.as_str(), sha), first.to_string());
            }
        }
    }
    for (key, sha, base, tag_len) in suffixed {
        let tag_source: String = sha.chars().filter(char::is_ascii_alphanumeric).collect();
        let tag_source = if tag_source.is_empty() {
            "x".to_string()
        } else {
            tag_source
        };
        let mut name = None;
        let mut len = tag_len;
        loop {
            let tag = truncate_to(&tag_source, len);
            let candidate = with_suffix(base, tag);
            if !taken(&fold(&candidate), &given) {
                name = Some(candidate);
                break;
            }
            if len >= tag_source.len() {
                break;
            }
            len += 4;
        }
        let name = match name {
            Some(n) => n,
            None => {
                let mut k = 2u64;
                loop {
                    let candidate =
                        with_suffix(base, &format!("{}-{k}", truncate_to(&tag_source, 8)));
                    if !taken(&fold(&candidate), &given) {
                        break candidate;
                    }
                    k += 1;
                }
            }
        };
        given.insert(fold(&name));
        chosen.insert((key, sha), name);
    }

    wanted
        .iter()
        .map(|(path, sha)| {
            if chosen.is_empty() {
                return path.clone();
            }
            chosen
                .get(&(fold(path).as_str(), sha.as_str()))
                .cloned()
                .unwrap_or_else(|| path.clone())
        })
        .collect()
}

/// A path as a BagIt manifest writes it (RFC 8493 §2.1.3): `%`, LF and CR percent-encoded.
/// Safe names contain none of them, so for this tool's bags this changes nothing.
pub fn percent_encode_manifest_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`percent_encode_manifest_path`]: `%25`, `%0A`, `%0D` (either case) decoded;
/// any other `%` sequence is left as it is.
pub fn percent_decode_manifest_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut rest = p;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        let decoded = match code.as_deref() {
            Some("25") => Some('%'),
            Some("0A") => Some('\n'),
            Some("0D") => Some('\r'),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dangerous_characters_get_visible_stand_ins() {
        assert_eq!(safe_component(b"a/b\\c%d"), "a／b＼c％d");
        assert_eq!(safe_component(b"line\nbreak\r\ttab"), "line_break__tab");
        assert_eq!(safe_component(b".."), "．．");
        assert_eq!(safe_component(b"."), "．");
        assert_eq!(safe_component(b""), "_");
        assert_eq!(safe_component(b"name. "), "name");
        assert_eq!(safe_component(b"CON.txt"), "CON_.txt");
        assert_eq!(safe_component(b"com1"), "com1_");
        assert_eq!(safe_component("启动仪式.jpg".as_bytes()), "启动仪式.jpg");
        assert_eq!(safe_component(b"\xff\xfe.jpg"), "\u{FFFD}\u{FFFD}.jpg");
        assert_eq!(safe_component("a\u{202E}gpj.exe".as_bytes()), "a_gpj.exe");
    }

    #[test]
    fn a_250_byte_name_survives_and_longer_names_keep_their_extension() {
        let name = format!("{}.jpg", "字".repeat(82)); // 246 + 4 bytes
        assert_eq!(name.len(), 250);
        assert_eq!(safe_component(name.as_bytes()), name);
        let long = format!("{}.jpeg", "字".repeat(200));
        let safe = safe_component(long.as_bytes());
        assert!(safe.len() <= MAX_COMPONENT_BYTES);
        assert!(safe.ends_with("字.jpeg"));
    }

    #[test]
    fn same_content_is_one_name_and_different_content_gets_suffixes() {
        let names = assign_unique(vec![
            ("a/照片.jpg".into(), "aaaaaaaaaaaa".into()),
            ("a/照片.jpg".into(), "aaaaaaaaaaaa".into()),
            ("a/照片.jpg".into(), "bbbbbbbbbbbb".into()),
            ("a/other.txt".into(), "cccccccccccc".into()),
            ("a/OTHER.txt".into(), "dddddddddddd".into()),
            ("b".into(), "eeee".into()),
            ("b/c".into(), "ffff".into()),
        ]);
        assert_eq!(names[0], "a/照片~aaaaaaaa.jpg");
        assert_eq!(names[1], "a/照片~aaaaaaaa.jpg");
        assert_eq!(names[2], "a/照片~bbbbbbbb.jpg");
        assert_eq!(names[3], "a/other~cccccccc.txt");
        assert_eq!(names[4], "a/OTHER~dddddddd.txt");
        assert_eq!(names[5], "b~eeee");
        assert_eq!(names[6], "b/c");
    }

    #[test]
    fn suffix_does_not_depend_on_order_and_lengthens_on_clash() {
        let a = assign_unique(vec![
            ("x.jpg".into(), "11112222aaaa".into()),
            ("x.jpg".into(), "11112222bbbb".into()),
        ]);
        let b = assign_unique(vec![
            ("x.jpg".into(), "11112222bbbb".into()),
            ("x.jpg".into(), "11112222aaaa".into()),
        ]);
        assert_eq!(a, vec!["x~11112222aaaa.jpg", "x~11112222bbbb.jpg"]);
        assert_eq!(b, vec!["x~11112222bbbb.jpg", "x~11112222aaaa.jpg"]);
    }

    #[test]
    fn case_variants_of_one_content_share_a_name() {
        let names = assign_unique(vec![
            ("A.jpg".into(), "same".into()),
            ("a.jpg".into(), "same".into()),
        ]);
        assert_eq!(names, vec!["A.jpg", "A.jpg"]);
    }

    #[test]
    fn suffix_fits_in_a_component() {
        let long = format!("{}.jpg", "字".repeat(82));
        let names = assign_unique(vec![
            (long.clone(), "a".repeat(64)),
            (long.clone(), "b".repeat(64)),
        ]);
        for n in names {
            assert!(n.len() <= MAX_COMPONENT_BYTES, "{}", n.len());
            assert!(n.ends_with(".jpg"));
            assert!(is_safe_path(&n));
        }
    }

    #[test]
    fn percent_decoding_only_touches_the_three_codes() {
        assert_eq!(percent_encode_manifest_path("a%b\nc\rd"), "a%25b%0Ac%0Dd");
        assert_eq!(
            percent_decode_manifest_path("a%25b%0ac%0Dd%41%"),
            "a%b\nc\rd%41%"
        );
    }

    proptest! {
        #[test]
        fn safe_component_is_stable_and_safe(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
            let s = safe_component(&raw);
            prop_assert_eq!(safe_component(s.as_bytes()), s.clone());
            prop_assert!(!s.is_empty() && s.len() <= MAX_COMPONENT_BYTES);
            prop_assert!(!s.contains(['/', '\\', '%', '\n', '\r', '\t']));
            prop_assert!(s != "." && s != "..");
            prop_assert!(is_safe_path(&s));
        }

        #[test]
        fn is_safe_path_agrees_with_safe_component(s in "[a-zA-Z. %\\\\\t\n\u{3000}\u{202E}字]{0,8}") {
            prop_assert_eq!(is_safe_path(&s), !s.contains('/') && safe_component(s.as_bytes()) == s);
        }

        #[test]
        fn percent_round_trip(s in ".*") {
            prop_assert_eq!(percent_decode_manifest_path(&percent_encode_manifest_path(&s)), s);
        }

        #[test]
        fn assigned_names_are_unique_per_content(
            items in proptest::collection::vec(("[aAbB]{1,2}(/[aAbB]{1,2})?", "[0-9a-f]{2}"), 0..12)
        ) {
            let wanted: Vec<(String, String)> = items;
            let names = assign_unique(wanted.clone());
            let mut by_name: HashMap<String, &str> = HashMap::new();
            for (name, (_, sha)) in names.iter().zip(&wanted) {
                if let Some(prev) = by_name.insert(fold(name), sha) {
                    prop_assert_eq!(prev, sha.as_str());
                }
            }
            // no name is a folder of another
            for n in &names {
                for m in &names {
                    let folder = format!("{}/", fold(n));
                    prop_assert!(!fold(m).starts_with(&folder));
                }
            }
        }
    }
}
