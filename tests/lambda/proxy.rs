//! A recording HTTP proxy on 127.0.0.1, between a bootstrap and a service it calls: the Runtime API emulator,
//! or moto (the shipper's secrets read at cold start, the subscriber's CloudWatch Logs calls).
//!
//! Between a bootstrap and the emulator it also gives each invocation a real deadline. cargo-lambda 1.9.2
//! answers `/next` with `Lambda-Runtime-Deadline-Ms: 600000`, a constant where Lambda sends the epoch
//! millisecond the invocation times out: read as Lambda means it, that deadline passed in 1970, and the shipper,
//! which bounds delivery by it, would give up on every export without trying (the subscriber, which bounds its
//! run by it, reads so small a value as the time left, a guess the proxy makes unnecessary). The proxy puts now +
//! the test's function timeout there, so the tests see the deadline handling a real Lambda sees, per test.
//!
//! Every request is recorded ([`Proxy::seen`]), so a test can count what a bootstrap asked for.

use crate::http::{read_message, Message};
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One request that came through, and the status it was answered with (0 while unanswered).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// `X-Amz-Target`: which AWS JSON-protocol operation it was (`AmazonSSM.GetParameter`).
    pub target: Option<String>,
    pub status: u16,
}

#[derive(Debug, Default)]
struct Shared {
    seen: Mutex<Vec<Seen>>,
    /// Connections to upstream still open, shut when the proxy is dropped so that no thread waits on for ever
    /// (a runtime's `/next` waits at the emulator until an invocation comes).
    upstream: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Forwards to `upstream` (`host:port`). With `timeout`, answers to the Runtime API's `/next` get the deadline
    /// of a function with that timeout.
    pub fn start(upstream: &str, timeout: Option<Duration>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let upstream = upstream.to_owned();
        let accept = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (shared, upstream) = (shared.clone(), upstream.clone());
                    std::thread::spawn(move || {
                        // An error here is a connection the shipper or the service dropped: the test sees its effect.
                        let _ = relay(client, &upstream, timeout, &shared);
                    });
                }
            })
        };
        Proxy { addr, shared, accept: Some(accept) }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees `stop`.
        let _ = TcpStream::connect(self.addr);
        for s in self.shared.upstream.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// One request per connection: read it, send it upstream, read the answer whole, fix the deadline, pass it back.
/// `Connection: close` both ways, which the runtime's client honours by opening a new connection per request.
fn relay(mut client: TcpStream, upstream: &str, timeout: Option<Duration>, shared: &Shared) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(req) = read_message(&mut reader, false)? else { return Ok(()) };
    let mut parts = req.start.split(' ');
    let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    // Recorded on arrival, answered or not: a waiting `/next` is how a test knows the runtime finished init.
    let index = {
        let mut seen = shared.seen.lock().unwrap();
        let target = req.header("x-amz-target").map(str::to_owned);
        seen.push(Seen { method, path: path.clone(), target, status: 0 });
        seen.len() - 1
    };
    let mut up = TcpStream::connect(upstream)?;
    shared.upstream.lock().unwrap().push(up.try_clone()?);
    up.write_all(&req.to_bytes())?;
    let answer = read_message(&mut BufReader::new(up.try_clone()?), true)?;
    let _ = up.shutdown(Shutdown::Both);
    let Some(mut resp) = answer else { return Ok(()) };

    if let Some(timeout) = timeout.filter(|_| path.ends_with("/runtime/invocation/next") && resp.status() == 200) {
        set_header(&mut resp, "Lambda-Runtime-Deadline-Ms", &(now_ms() + timeout.as_millis() as u64).to_string());
    }
    shared.seen.lock().unwrap()[index].status = resp.status();
    client.write_all(&resp.to_bytes())?;
    client.flush()
}

fn set_header(msg: &mut Message, name: &str, value: &str) {
    msg.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    msg.headers.push((name.to_owned(), value.to_owned()));
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
