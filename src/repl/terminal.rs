//! The REPL on a terminal: rustyline editing, history file, quit confirmation.

use super::helper::ReplHelper;
use super::history;
use super::shell::{Asks, Flow, Shell, Status};
use super::{Kernel, ReplOptions};
use rustyline::config::Configurer;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{ColorMode, CompletionType, Config, Editor};
use std::path::PathBuf;

type Ed = Editor<ReplHelper, FileHistory>;

pub(crate) fn run(kernel: Box<dyn Kernel>, opts: ReplOptions) -> i32 {
    let Some(mut shell) = Shell::start(
        kernel,
        &opts,
        Asks::Yes,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    ) else {
        return 1;
    };
    let mut editor = match editor(&opts) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot set up the terminal: {e}");
            return 1;
        }
    };
    editor.set_helper(Some(ReplHelper::new(shell.catalog().clone(), opts.color)));
    let history = History::open(&mut editor, opts.history.as_deref());
    let _interrupts = IgnoreInterrupts::new();
    println!(
        "lvsh repl: {}. `:help` lists commands and functions, Ctrl-D quits.",
        shell.status().describe(&shell.against())
    );
    loop {
        if let Some(h) = editor.helper_mut() {
            h.catalog = shell.catalog().clone();
            h.continues = shell.continuable().map(str::to_string);
        }
        let prompt = prompt(shell.status(), opts.color);
        match editor.readline(&prompt) {
            Ok(input) => {
                if input.trim().is_empty() {
                    continue;
                }
                history.add(&mut editor, &input);
                match shell.input(&input) {
                    Flow::Continue => {}
                    Flow::Quit => {
                        if may_quit(&mut editor, &shell) {
                            break;
                        }
                    }
                    Flow::Overwrite(path) => {
                        if confirm(&mut editor, &shell.overwrite_question(&path)) {
                            shell.overwrite(&path);
                        } else {
                            shell.not_saved();
                        }
                    }
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                if may_quit(&mut editor, &shell) {
                    break;
                }
            }
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                return 1;
            }
        }
    }
    0
}

fn editor(opts: &ReplOptions) -> rustyline::Result<Ed> {
    let config = Config::builder()
        .max_history_size(10_000)?
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .bracketed_paste(true)
        .tab_stop(4)
        .indent_size(4)
        .build();
    let mut editor = Ed::with_config(config)?;
    editor.set_color_mode(if opts.color {
        ColorMode::Enabled
    } else {
        ColorMode::Disabled
    });
    Ok(editor)
}

/// `lvsh> ` in sync, `lvsh[3]> ` with three changes pending, `lvsh[!]> ` when the
/// pending model does not validate. Raw and styled forms have the same width.
fn prompt(status: Status, color: bool) -> (String, String) {
    let (count, tint) = match status {
        Status::InSync => (String::new(), ""),
        Status::Pending(n) => (format!("[{n}]"), "\x1b[33m"),
        Status::Invalid => ("[!]".to_string(), "\x1b[31m"),
    };
    let raw = format!("lvsh{count}> ");
    let styled = if color {
        format!("\x1b[1mlvsh\x1b[0m{tint}{count}\x1b[0m> ")
    } else {
        raw.clone()
    };
    (raw, styled)
}

/// Leaving with unapplied changes needs a yes; Ctrl-D again also means yes.
fn may_quit(editor: &mut Ed, shell: &Shell) -> bool {
    let Some(what) = shell.unapplied() else {
        return true;
    };
    match editor.readline(&format!("{what}. Quit anyway? [y/N] ")) {
        Ok(answer) => yes(&answer),
        Err(ReadlineError::Eof) => true,
        Err(_) => false,
    }
}

/// A yes to `question`; anything else, Ctrl-C and Ctrl-D are no.
fn confirm(editor: &mut Ed, question: &str) -> bool {
    editor.readline(question).is_ok_and(|a| yes(&a))
}

fn yes(answer: &str) -> bool {
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// The history file, loaded at start and appended to after every entry, so a
/// crash or a kill loses nothing.
struct History(Option<PathBuf>);

impl History {
    fn open(editor: &mut Ed, given: Option<&std::path::Path>) -> History {
        let path = history::path(given);
        if let Some(p) = &path {
            if let Some(dir) = p.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            if p.exists() {
                if let Err(e) = editor.load_history(p) {
                    eprintln!("warning: cannot read the history `{}`: {e}", p.display());
                }
            }
        }
        History(path)
    }

    fn add(&self, editor: &mut Ed, input: &str) {
        let _ = editor.add_history_entry(input);
        if let Some(p) = &self.0 {
            if let Err(e) = editor.append_history(p) {
                eprintln!("warning: cannot write the history `{}`: {e}", p.display());
            }
        }
    }
}

/// While evaluating or applying, the terminal is not in raw mode and Ctrl-C would
/// be SIGINT: it must not kill the session halfway through an apply. Runaway
/// entries are stopped by the sandbox's operation limit instead.
struct IgnoreInterrupts(libc::sighandler_t);

impl IgnoreInterrupts {
    fn new() -> Self {
        // SAFETY: installs the predefined SIG_IGN disposition; no handler code runs.
        IgnoreInterrupts(unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        // SAFETY: restores the disposition that was there before.
        unsafe {
            libc::signal(libc::SIGINT, self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_count_pending_changes() {
        assert_eq!(prompt(Status::InSync, false).0, "lvsh> ");
        assert_eq!(prompt(Status::Pending(3), false).0, "lvsh[3]> ");
        assert_eq!(prompt(Status::Invalid, false).0, "lvsh[!]> ");
        let (raw, styled) = prompt(Status::Pending(12), true);
        assert_eq!(raw, "lvsh[12]> ");
        let visible: String = {
            let mut s = String::new();
            let mut esc = false;
            for c in styled.chars() {
                match (esc, c) {
                    (_, '\x1b') => esc = true,
                    (true, 'm') => esc = false,
                    (true, _) => {}
                    (false, c) => s.push(c),
                }
            }
            s
        };
        assert_eq!(visible, raw);
    }
}
