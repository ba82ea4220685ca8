//! A small line diff for golden files (a longest common subsequence; goldens are
//! plans of a few dozen lines, so the quadratic table is cheap).

/// `old` → `new` as unified lines: ` ` kept, `-` only in `old`, `+` only in `new`;
/// runs of more than three kept lines are cut to their edges.
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len().saturating_mul(b.len()) > 4_000_000 {
        return format!(
            "--- expected ({} lines) and got ({} lines) differ\n",
            a.len(),
            b.len()
        );
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].0 != ' ').collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= 1);
    let mut out = String::new();
    let mut cut = false;
    for (k, (sign, text)) in lines.iter().enumerate() {
        if *sign == ' ' && !near(k) {
            if !cut {
                out.push_str("  …\n");
                cut = true;
            }
            continue;
        }
        cut = false;
        out.push_str(&format!("{sign} {text}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_with_one_line_of_context() {
        let old = "a\nb\nc\nd\ne\nf\n";
        let new = "a\nb\nc\nD\ne\nf\ng\n";
        assert_eq!(line_diff(old, new), "  …\n  c\n- d\n+ D\n  e\n  f\n+ g\n");
        assert_eq!(line_diff("x\n", "x\n"), "  …\n");
    }
}
