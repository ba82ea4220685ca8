//! `lvsh history`: the applies the journal recorded, newest last.

use super::{CliError, Context};
use crate::apply::{Entry, Journal, format_time};

pub fn run(ctx: &Context, json: bool) -> Result<i32, CliError> {
    let journal = Journal::for_netns(ctx.netns.as_deref());
    let (entries, damaged) = journal.entries_lossy()?;
    if json {
        let rows: Vec<_> = entries.iter().map(row_json).collect();
        ctx.out(&(serde_json::to_string_pretty(&rows).expect("rows serialize") + "\n"))?;
    } else if entries.is_empty() && damaged.is_empty() {
        ctx.out(&format!(
            "No applies recorded in `{}`.\n",
            journal.dir().display()
        ))?;
    } else if !entries.is_empty() {
        ctx.out(&render(&entries))?;
    }
    // What could be read is listed; what could not is an error after it.
    let mut damaged = damaged.into_iter();
    match damaged.next() {
        None => Ok(0),
        Some(first) => {
            for other in damaged {
                eprintln!("{:?}", miette::Report::new(other));
            }
            Err(first.into())
        }
    }
}

fn outcome(e: &Entry) -> &'static str {
    match &e.end {
        Some(end) => end.outcome.word(),
        None => "CUT OFF (or running)",
    }
}

/// One line per apply, aligned.
pub fn render(entries: &[Entry]) -> String {
    let rows: Vec<[String; 6]> = entries
        .iter()
        .map(|e| {
            let h = &e.header;
            let what = match (&h.script, &h.script_sha256) {
                (Some(s), Some(hash)) => {
                    let short = hash.strip_prefix("sha256:").unwrap_or(hash);
                    format!("{} {s} ({})", h.command, &short[..short.len().min(12)])
                }
                (Some(s), None) => format!("{} {s}", h.command),
                (None, _) => h.command.clone(),
            };
            [
                h.id.to_string(),
                format_time(h.started),
                h.user.clone(),
                what,
                format!("+{} ~{} -{}", h.added, h.changed, h.deleted),
                outcome(e).to_string(),
            ]
        })
        .collect();
    let head = ["ID", "STARTED", "USER", "WHAT", "CHANGES", "OUTCOME"].map(String::from);
    let mut widths = head.clone().map(|h| h.len());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(widths).enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  "));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn row_json(e: &Entry) -> serde_json::Value {
    serde_json::json!({
        "id": e.header.id,
        "command": e.header.command,
        "started": e.header.started,
        "user": e.header.user,
        "pid": e.header.pid,
        "script": e.header.script,
        "script_sha256": e.header.script_sha256,
        "summary": {"add": e.header.added, "change": e.header.changed, "delete": e.header.deleted},
        "outcome": e.end.as_ref().map(|end| end.outcome),
        "finished": e.end.as_ref().map(|end| end.finished),
        "message": e.end.as_ref().map(|end| end.message.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{End, Header, Outcome};

    #[test]
    fn history_lines_say_what_ran_and_how_it_ended() {
        let header = |id, command: &str| Header {
            id,
            command: command.into(),
            started: 0,
            user: "root".into(),
            pid: 7,
            script: (id == 1).then(|| "site.rhai".into()),
            script_sha256: (id == 1).then(|| format!("sha256:{}", "ab".repeat(32))),
            added: 2,
            changed: 1,
            deleted: 0,
        };
        let entries = [
            Entry {
                header: header(1, "apply"),
                end: Some(End {
                    finished: 1,
                    outcome: Outcome::Applied,
                    message: String::new(),
                }),
            },
            Entry {
                header: header(2, "rollback 1"),
                end: None,
            },
        ];
        assert_eq!(
            render(&entries),
            "ID  STARTED                  USER  WHAT                            CHANGES   OUTCOME\n\
             1   1970-01-01 00:00:00 UTC  root  apply site.rhai (abababababab)  +2 ~1 -0  applied\n\
             2   1970-01-01 00:00:00 UTC  root  rollback 1                      +2 ~1 -0  CUT OFF (or running)\n"
        );
    }
}
