//! A scripted HTTP/1.1 server on 127.0.0.1 for fault tests: answers requests from a script and records them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Waits this long before answering (a slow backend).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: Vec::new(), delay: Duration::ZERO }
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn json(mut self, body: &str) -> Reply {
        self.headers.push(("Content-Type".into(), "application/json".into()));
        self.body = body.as_bytes().to_vec();
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// A request as the server saw it, body already un-gzipped.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status it was answered with.
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

type Script = Box<dyn FnMut(usize, &Seen) -> Reply + Send>;

pub struct FaultServer {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FaultServer {
    /// Answers the n-th request (from 0) with `script(n, &request)`.
    pub fn start(script: impl FnMut(usize, &Seen) -> Reply + Send + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Mutex<Script>> = Arc::new(Mutex::new(Box::new(script)));
        let (seen2, script2) = (seen.clone(), script.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, script) = (seen2.clone(), script2.clone());
                thread::spawn(move || serve(stream, &seen, &script));
            }
        });
        FaultServer { url, seen }
    }

    /// Answers every request with the same reply.
    pub fn always(reply: Reply) -> FaultServer {
        FaultServer::start(move |_, _| reply.clone())
    }

    /// Answers with `replies` in order, then 200 to everything after.
    pub fn sequence(replies: Vec<Reply>) -> FaultServer {
        FaultServer::start(move |n, _| replies.get(n).cloned().unwrap_or_else(|| Reply::status(200)))
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// An address nothing listens on: a port bound and released.
pub fn closed_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

fn serve(stream: TcpStream, seen: &Mutex<Vec<Seen>>, script: &Mutex<Script>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    // Keep-alive: the client reuses connections, so serve requests until it closes.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip") {
            body = logship::decode::inflate_capped(&body, &logship::decode::Origin::Raw, &Default::default()).unwrap();
        }
        let mut request = Seen { method, path, headers, body, status: 0 };
        let reply = {
            let n = seen.lock().unwrap().len();
            let mut s = script.lock().unwrap();
            (s)(n, &request)
        };
        request.status = reply.status;
        seen.lock().unwrap().push(request);
        thread::sleep(reply.delay);
        let mut head = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\n", reply.status, reply.body.len());
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&reply.body)).is_err() {
            return;
        }
    }
}
