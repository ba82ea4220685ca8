//! Reads the VM's report channel (the protocol is described in
//! `tests/lab/vm/init`): marker lines carry a token chosen per boot, so
//! nothing a scenario prints can pass for one.

/// What the channel said so far.
#[derive(Debug, Default)]
pub struct Transcript {
    marker: String,
    partial: String,
    /// VM uptime and kernel release when the VM was ready to run scenarios.
    pub ready: Option<(f64, String)>,
    pub runs: Vec<RunLog>,
    /// VM uptime after the last scenario.
    pub done: Option<f64>,
    /// Lines outside any scenario, and markers this parser does not know.
    pub stray: String,
    in_klog: bool,
}

/// One scenario as the VM reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunLog {
    pub name: String,
    pub began: f64,
    pub output: String,
    pub klog: String,
    pub end: Option<End>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct End {
    pub status: i32,
    pub timed_out: bool,
    pub uptime: f64,
}

/// A marker that just arrived, for the watcher's clock.
#[derive(Debug, PartialEq)]
pub enum Event {
    Ready,
    Begin(String),
    End(String),
    Done,
}

impl Transcript {
    pub fn new(token: &str) -> Self {
        Transcript {
            marker: format!("@@{token} "),
            ..Transcript::default()
        }
    }

    /// Takes the next chunk of the channel; complete lines are parsed now,
    /// the rest waits for its newline (or for `finish`).
    pub fn feed(&mut self, chunk: &str) -> Vec<Event> {
        self.partial.push_str(chunk);
        let mut events = Vec::new();
        while let Some(newline) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=newline).collect();
            events.extend(self.line(line.trim_end_matches(['\n', '\r'])));
        }
        events
    }

    /// The channel is closed: parses what is left without a newline.
    pub fn finish(&mut self) -> Vec<Event> {
        let rest = std::mem::take(&mut self.partial);
        if rest.is_empty() {
            Vec::new()
        } else {
            self.line(&rest).into_iter().collect()
        }
    }

    /// The scenario that began and has not ended yet.
    pub fn open_run(&self) -> Option<&RunLog> {
        self.runs.last().filter(|run| run.end.is_none())
    }

    pub fn run(&self, name: &str) -> Option<&RunLog> {
        self.runs.iter().find(|run| run.name == name)
    }

    fn line(&mut self, line: &str) -> Option<Event> {
        // Output without a final newline puts the next marker mid-line.
        let (text, marker) = match line.find(&self.marker) {
            Some(at) => (&line[..at], Some(&line[at + self.marker.len()..])),
            None => (line, None),
        };
        if marker.is_none() || !text.is_empty() {
            self.text(text);
        }
        self.marker(marker?)
    }

    fn text(&mut self, text: &str) {
        let sink = match self.runs.last_mut() {
            Some(run) if run.end.is_none() && self.in_klog => &mut run.klog,
            Some(run) if run.end.is_none() => &mut run.output,
            _ => &mut self.stray,
        };
        sink.push_str(text);
        sink.push('\n');
    }

    fn marker(&mut self, marker: &str) -> Option<Event> {
        let words: Vec<&str> = marker.split_whitespace().collect();
        let event = match words.as_slice() {
            ["ready", uptime, kernel] => {
                self.ready = Some((seconds(uptime), kernel.to_string()));
                Event::Ready
            }
            ["begin", name, uptime] => {
                self.in_klog = false;
                self.runs.push(RunLog {
                    name: name.to_string(),
                    began: seconds(uptime),
                    output: String::new(),
                    klog: String::new(),
                    end: None,
                });
                Event::Begin(name.to_string())
            }
            ["klog", name] if self.is_open(name) => {
                self.in_klog = true;
                return None;
            }
            ["end", name, status, how, uptime] if self.is_open(name) => {
                self.in_klog = false;
                let run = self.runs.last_mut().expect("an open run");
                run.end = Some(End {
                    status: status.parse().unwrap_or(-1),
                    timed_out: *how == "timeout",
                    uptime: seconds(uptime),
                });
                Event::End(name.to_string())
            }
            ["done", uptime] => {
                self.done = Some(seconds(uptime));
                Event::Done
            }
            _ => {
                self.stray
                    .push_str(&format!("(unexpected marker: {marker})\n"));
                return None;
            }
        };
        Some(event)
    }

    fn is_open(&self, name: &str) -> bool {
        self.open_run().is_some_and(|run| run.name == name)
    }
}

fn seconds(text: &str) -> f64 {
    text.parse().unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "\
early console noise
@@t0k ready 3.10 6.1.0-56-cloud-amd64
@@t0k begin ppc 3.20
## step
ok: fine
@@t0k klog ppc
[    3.5] IPVS: something
@@t0k end ppc 0 exit 4.70
@@t0k begin broken 4.80
FAIL: nope
@@t0k klog broken
@@t0k end broken 1 exit 5.00
@@t0k done 5.10
";

    #[test]
    fn a_session_gives_each_scenario_its_output_kernel_log_and_status() {
        let mut transcript = Transcript::new("t0k");
        let events = transcript.feed(SESSION);
        assert_eq!(
            events,
            [
                Event::Ready,
                Event::Begin("ppc".into()),
                Event::End("ppc".into()),
                Event::Begin("broken".into()),
                Event::End("broken".into()),
                Event::Done
            ]
        );
        assert_eq!(transcript.ready, Some((3.1, "6.1.0-56-cloud-amd64".into())));
        let ppc = transcript.run("ppc").unwrap();
        assert_eq!(ppc.output, "## step\nok: fine\n");
        assert_eq!(ppc.klog, "[    3.5] IPVS: something\n");
        assert_eq!(
            ppc.end,
            Some(End {
                status: 0,
                timed_out: false,
                uptime: 4.7
            })
        );
        assert_eq!(transcript.run("broken").unwrap().end.unwrap().status, 1);
        assert_eq!(transcript.done, Some(5.1));
        assert_eq!(transcript.stray, "early console noise\n");
        assert!(transcript.open_run().is_none());
    }

    #[test]
    fn lines_split_across_chunks_wait_for_their_newline() {
        let mut transcript = Transcript::new("t0k");
        let (first, second) = SESSION.split_at(SESSION.find("egin ppc").unwrap());
        transcript.feed(first);
        assert!(transcript.runs.is_empty(), "half a marker is no marker");
        transcript.feed(second);
        assert_eq!(transcript.runs.len(), 2);
    }

    #[test]
    fn output_without_a_final_newline_keeps_the_marker_after_it() {
        let mut transcript = Transcript::new("t0k");
        transcript.feed("@@t0k begin x 1.0\nno newline@@t0k klog x\n@@t0k end x 0 exit 2.0\n");
        let run = transcript.run("x").unwrap();
        assert_eq!(run.output, "no newline\n");
        assert!(run.end.is_some());
    }

    #[test]
    fn a_scenario_cannot_forge_markers_without_the_token() {
        let mut transcript = Transcript::new("t0k");
        transcript.feed("@@t0k begin x 1.0\n@@other end x 0 exit 2.0\n@@t0k end y 0 exit 2.0\n");
        let run = transcript.run("x").unwrap();
        assert_eq!(
            run.end, None,
            "neither a foreign token nor another name ends it"
        );
        assert!(run.output.contains("@@other end x"));
        assert_eq!(transcript.open_run().unwrap().name, "x");
    }

    #[test]
    fn a_timed_out_scenario_says_so() {
        let mut transcript = Transcript::new("t0k");
        transcript.feed("@@t0k begin x 1.0\n@@t0k klog x\n@@t0k end x 137 timeout 3.0\n");
        let end = transcript.run("x").unwrap().end.unwrap();
        assert!(end.timed_out);
        assert_eq!(end.status, 137);
    }

    #[test]
    fn a_hang_leaves_the_scenario_open_with_what_it_printed() {
        let mut transcript = Transcript::new("t0k");
        transcript.feed("@@t0k ready 1.0 k\n@@t0k begin x 1.0\nstarted\nhalf a li");
        transcript.finish();
        let open = transcript.open_run().unwrap();
        assert_eq!(open.name, "x");
        assert_eq!(open.output, "started\nhalf a li\n");
    }
}
