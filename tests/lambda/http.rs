//! Just enough HTTP/1.1 for the tests and the proxy: one message read off a stream, one request per connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A request or a response: its first line, headers as sent, and the body with any chunked framing removed.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The status of a response (0 if the start line is not one).
    pub fn status(&self) -> u16 {
        self.start.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The message again, framed by `Content-Length` (the body is whole here) and closing its connection.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for (k, v) in &self.headers {
            let framing = ["content-length", "transfer-encoding", "connection", "keep-alive"];
            if !framing.iter().any(|f| k.eq_ignore_ascii_case(f)) {
                out += &format!("{k}: {v}\r\n");
            }
        }
        out += &format!("Content-Length: {}\r\nConnection: close\r\n\r\n", self.body.len());
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one message. `to_eof`: a response whose length is neither given nor chunked ends with the connection.
/// `None` when the stream ends before a start line.
pub fn read_message<R: Read>(reader: &mut BufReader<R>, to_eof: bool) -> io::Result<Option<Message>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut msg = Message { start: line.trim_end().to_owned(), ..Message::default() };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended inside the headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').unwrap_or((l, ""));
        msg.headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    if msg.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).map_err(|_| bad(format!("chunk size {line:?}")))?;
            if size == 0 {
                // Trailers, if any, up to the blank line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            msg.body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(len) = msg.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad(format!("Content-Length {len:?}")))?;
        msg.body = vec![0; len];
        reader.read_exact(&mut msg.body)?;
    } else if to_eof {
        reader.read_to_end(&mut msg.body)?;
    }
    Ok(Some(msg))
}

/// Sends `METHOD PATH` with `body` to `authority` on a connection of its own and reads the answer, waiting at
/// most `timeout` for each read.
pub fn request(
    authority: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> io::Result<Message> {
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let req = Message {
        start: format!("{method} {path} HTTP/1.1"),
        headers: std::iter::once(("Host".to_owned(), authority.to_owned()))
            .chain(headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    stream.write_all(&req.to_bytes())?;
    stream.flush()?;
    read_message(&mut BufReader::new(stream), true)?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, format!("{authority} closed without answering")))
}

/// `http://host:port/path` → (`host:port`, `/path`).
pub fn split_url(url: &str) -> (&str, &str) {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    }
}
