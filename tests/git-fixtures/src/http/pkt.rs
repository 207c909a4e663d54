//! Sniffing which upload-pack command a request body carries, from its first pkt-line: a v2
//! `command=ls-refs` / `command=fetch`, or a v0/v1 `want`. Only reads a prefix; never the pack.

use std::io::Read;

use flate2::read::GzDecoder;

/// What a `POST …/git-upload-pack` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPackCommand {
    /// Protocol v2 `command=ls-refs`: a ref listing.
    LsRefs,
    /// Protocol v2 `command=fetch`, or a v0/v1 request starting with `want`: a pack download.
    Fetch,
    /// Any other v2 command (such as `object-info`) or first line, as sent.
    Other(String),
}

/// Request body bytes kept to find the first pkt-line (gzipped bodies need a little more).
const SNIFF_LIMIT: usize = 64 * 1024;

/// Watches a request body go by, chunk by chunk, until its first pkt-line is known.
#[derive(Debug)]
pub(crate) struct Sniffer {
    gzipped: bool,
    prefix: Vec<u8>,
    done: bool,
}

impl Sniffer {
    pub(crate) fn new(gzipped: bool) -> Self {
        Self {
            gzipped,
            prefix: Vec::new(),
            done: false,
        }
    }

    /// Feeds the next chunk; returns the command once, as soon as it is known.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Option<UploadPackCommand> {
        if self.done {
            return None;
        }
        let room = SNIFF_LIMIT - self.prefix.len();
        self.prefix.extend_from_slice(&data[..data.len().min(room)]);
        let command = classify(&self.prefix, self.gzipped);
        self.done = command.is_some() || self.prefix.len() >= SNIFF_LIMIT;
        if self.done {
            self.prefix = Vec::new();
        }
        command
    }

    /// Whether more chunks can tell nothing new.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Whether the body is gzipped.
    pub(crate) fn is_gzipped(&self) -> bool {
        self.gzipped
    }
}

/// Classifies a request body prefix, inflating it first when the client gzipped the body.
/// `None` while the prefix is too short to hold the first pkt-line.
pub(crate) fn classify(prefix: &[u8], gzipped: bool) -> Option<UploadPackCommand> {
    if gzipped {
        // A truncated gzip stream inflates as far as it goes, then errors: keep what came out.
        classify_plain(&inflate(prefix))
    } else {
        classify_plain(prefix)
    }
}

/// The arguments of a v2 `command=ls-refs` request (the pkt-lines between the delimiter and
/// the flush), once the body holds all of them.
pub(crate) fn ls_refs_arguments(prefix: &[u8], gzipped: bool) -> Option<Vec<String>> {
    let plain;
    let mut body = if gzipped {
        plain = inflate(prefix);
        plain.as_slice()
    } else {
        prefix
    };
    let mut arguments = Vec::new();
    let mut after_delimiter = false;
    loop {
        let len = usize::from_str_radix(std::str::from_utf8(body.get(..4)?).ok()?, 16).ok()?;
        match len {
            0 if after_delimiter => return Some(arguments),
            0 => return Some(Vec::new()),
            1 => after_delimiter = true,
            2 | 3 => {}
            _ => {
                let line = String::from_utf8_lossy(body.get(4..len)?);
                if after_delimiter {
                    arguments.push(line.trim_end_matches('\n').to_owned());
                }
            }
        }
        body = &body[len.max(4)..];
    }
}

/// Inflates as much of a (possibly truncated) gzip stream as there is.
fn inflate(prefix: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    let mut decoder = GzDecoder::new(prefix);
    let mut chunk = [0_u8; 4096];
    loop {
        match decoder.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => plain.extend_from_slice(&chunk[..n]),
        }
    }
    plain
}

fn classify_plain(body: &[u8]) -> Option<UploadPackCommand> {
    let line = first_pkt_line(body)?;
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end_matches('\n');
    Some(match line {
        "command=ls-refs" => UploadPackCommand::LsRefs,
        "command=fetch" => UploadPackCommand::Fetch,
        _ if line.starts_with("want ") => UploadPackCommand::Fetch,
        other => UploadPackCommand::Other(other.to_owned()),
    })
}

/// The payload of the first pkt-line, or `None` if `body` does not hold all of it yet.
/// Flush/delim packets (`0000`, `0001`) and malformed lengths give an empty payload.
fn first_pkt_line(body: &[u8]) -> Option<&[u8]> {
    let header = std::str::from_utf8(body.get(..4)?).ok();
    let Some(len) = header.and_then(|h| usize::from_str_radix(h, 16).ok()) else {
        return Some(&[]);
    };
    if len < 4 {
        return Some(&[]);
    }
    body.get(4..len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn pkt(line: &str) -> Vec<u8> {
        format!("{:04x}{line}", line.len() + 4).into_bytes()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn commands_are_read_from_the_first_pkt_line() {
        let want = format!("want {} multi_ack\n", "a".repeat(40));
        let cases: &[(&[u8], Option<UploadPackCommand>)] = &[
            (&pkt("command=ls-refs\n"), Some(UploadPackCommand::LsRefs)),
            (&pkt("command=fetch\n"), Some(UploadPackCommand::Fetch)),
            (&pkt("command=fetch"), Some(UploadPackCommand::Fetch)),
            (&pkt(&want), Some(UploadPackCommand::Fetch)),
            (
                &pkt("command=object-info\n"),
                Some(UploadPackCommand::Other("command=object-info".into())),
            ),
            (b"0000", Some(UploadPackCommand::Other(String::new()))),
            (b"zz", None),
            (b"0013command=ls", None),
        ];
        for (body, expected) in cases {
            assert_eq!(&classify(body, false), expected, "{body:?}");
        }
    }

    #[test]
    fn ls_refs_arguments_are_read_once_the_flush_arrives() {
        let mut body = pkt("command=ls-refs\n");
        body.extend(pkt("agent=git/2.47\n"));
        body.extend(b"0001");
        body.extend(pkt("peel\n"));
        body.extend(pkt("ref-prefix refs/heads/main\n"));
        assert_eq!(ls_refs_arguments(&body, false), None, "no flush yet");
        body.extend(b"0000");
        let want = vec!["peel".to_owned(), "ref-prefix refs/heads/main".to_owned()];
        assert_eq!(ls_refs_arguments(&body, false), Some(want.clone()));
        assert_eq!(ls_refs_arguments(&gzip(&body), true), Some(want));
    }

    #[test]
    fn the_sniffer_names_the_command_once_across_chunks() {
        let body = pkt("command=ls-refs\n");
        let mut sniffer = Sniffer::new(false);

        assert_eq!(sniffer.feed(&body[..6]), None);
        assert!(!sniffer.is_done());
        assert_eq!(sniffer.feed(&body[6..]), Some(UploadPackCommand::LsRefs));
        assert!(sniffer.is_done());
        assert_eq!(sniffer.feed(&body), None);
    }

    #[test]
    fn gzipped_bodies_are_inflated_even_when_truncated() {
        let mut body = pkt("command=fetch\n");
        body.extend(pkt("agent=git/2.47\n"));
        body.extend((0..200).flat_map(|i| pkt(&format!("have {i:040}\n"))));
        let compressed = gzip(&body);

        assert_eq!(classify(&compressed, true), Some(UploadPackCommand::Fetch));
        assert_eq!(
            classify(&compressed[..compressed.len() / 2], true),
            Some(UploadPackCommand::Fetch)
        );
        assert_eq!(classify(&compressed[..5], true), None);
    }
}
