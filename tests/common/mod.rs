//! Helpers shared by the tests that build small apps of their own: HS256
//! tokens, serving an app on a loopback port and capturing the `tracing`
//! log. The PostgreSQL database
//! helpers are in the `gauntlet-test-support` crate, which the invoices
//! package's tests also use.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::TcpListener;

/// Signs an HS256 token for `subject`, valid for ten minutes, with `extra`
/// claims (an object, such as `{"tenant": 10}`) added to the standard ones.
pub fn hs256_token(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    subject: i64,
    extra: Value,
) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let mut claims = json!({
        "sub": subject.to_string(),
        "iat": now,
        "exp": now + 600,
        "iss": issuer,
        "aud": audience,
    });
    if let (Some(claims), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("signing a token")
}

/// Serves `app` on a free loopback port and returns its base URL and the
/// sender that stops it.
pub async fn serve(app: gauntlet::App) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("a local address"));
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    (base, shutdown)
}

/// A `tracing` writer into a shared buffer, to read what the server logged.
/// Clones share the buffer.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Returns everything written so far, with any invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("the log buffer lock is not poisoned");
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the log buffer lock is not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
