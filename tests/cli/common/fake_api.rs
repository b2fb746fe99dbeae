//! A stand-in Kubernetes API server on loopback, started by the tests: plain HTTP/1.1, one
//! thread per connection, canned answers in the shapes the real API server returns, and a record
//! of every request for assertions.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One canned answer.
#[derive(Clone, Debug)]
pub struct Route {
    pub method: &'static str,
    /// Path to match; with a `?` the query must match too, else the query is ignored.
    pub path: String,
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
    /// Wait this long before answering (for timeouts).
    pub delay: Option<Duration>,
}

impl Route {
    pub fn json(
        method: &'static str,
        path: impl Into<String>,
        status: u16,
        body: serde_json::Value,
    ) -> Route {
        Route {
            method,
            path: path.into(),
            status,
            body: body.to_string(),
            content_type: "application/json",
            delay: None,
        }
    }

    pub fn text(method: &'static str, path: impl Into<String>, body: impl Into<String>) -> Route {
        Route {
            method,
            path: path.into(),
            status: 200,
            body: body.into(),
            content_type: "text/plain",
            delay: None,
        }
    }

    /// A `metav1.Status` failure, as the API server sends for 403, 404, 409, ...
    pub fn status(
        method: &'static str,
        path: impl Into<String>,
        code: u16,
        reason: &str,
        message: &str,
    ) -> Route {
        Route::json(
            method,
            path,
            code,
            serde_json::json!({
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": message, "reason": reason, "code": code
            }),
        )
    }

    pub fn delayed(mut self, d: Duration) -> Route {
        self.delay = Some(d);
        self
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path with query.
    pub target: String,
    pub content_type: Option<String>,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

pub struct FakeApi {
    pub url: String,
    routes: Arc<Mutex<Vec<Route>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeApi {
    pub fn start(routes: Vec<Route>) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes = Arc::new(Mutex::new(routes));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (r, q) = (routes.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &r, &q);
                });
            }
        });
        FakeApi {
            url,
            routes,
            requests,
        }
    }

    /// Replaces the routes (later routes for the same path win).
    pub fn add(&self, route: Route) {
        self.routes.lock().unwrap().push(route);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Writes a kubeconfig for this server (context `fake`, a bearer token) into `dir`.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        kubeconfig_for(&self.url, dir)
    }
}

pub fn kubeconfig_for(url: &str, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: fake\nclusters:\n- name: fake\n  cluster:\n    server: {url}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: default\nusers:\n- name: tester\n  user:\n    token: test-token\n"
        ),
    )
    .unwrap();
    path
}

fn serve(
    stream: TcpStream,
    routes: &Mutex<Vec<Route>>,
    requests: &Mutex<Vec<Recorded>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut stream = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("").to_string();
        let mut content_length = 0usize;
        let mut content_type = None;
        let mut authorization = None;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let v = v.trim().to_string();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => content_length = v.parse().unwrap_or(0),
                    "content-type" => content_type = Some(v),
                    "authorization" => authorization = Some(v),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; content_length];
        reader.read_exact(&mut body)?;
        requests.lock().unwrap().push(Recorded {
            method: method.clone(),
            target: target.clone(),
            content_type,
            authorization,
            body,
        });
        let path = target.split('?').next().unwrap_or("").to_string();
        let route = routes
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|r| {
                r.method == method
                    && if r.path.contains('?') {
                        r.path == target
                    } else {
                        r.path == path
                    }
            })
            .cloned()
            .unwrap_or_else(|| {
                Route::status(
                    "GET",
                    path.clone(),
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                )
            });
        if let Some(d) = route.delay {
            std::thread::sleep(d);
        }
        let reason = match route.status {
            200 => "OK",
            201 => "Created",
            403 => "Forbidden",
            404 => "Not Found",
            409 => "Conflict",
            _ => "Status",
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
            route.status,
            route.content_type,
            route.body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(route.body.as_bytes())?;
        stream.flush()?;
    }
}
