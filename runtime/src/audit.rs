//! The audit stage: one structured event per request, refused or not.
//!
//! Events go to the `gauntlet::audit` tracing target. They carry the route
//! template, never the raw path, and never a token, password or body.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

use crate::auth::{TenantId, UserId};
use crate::db::{Database, Pool};

/// The stage of the gauntlet that decided a request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// TLS and the listener (1).
    Transport,
    /// Body size, content type, timeout (2).
    Limits,
    /// The per-address limit before authentication (3).
    ClientRateLimit,
    /// Token verification (4).
    Authentication,
    /// The route's named policy after authentication (5).
    CallerRateLimit,
    /// Path, query and body parsing and rules (6).
    Validation,
    /// Roles and object ownership (7).
    Authorization,
    /// The handler itself (8).
    Handler,
    /// No route matched the path or method.
    Routing,
}

impl Stage {
    /// Returns the name used in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Transport => "transport",
            Stage::Limits => "limits",
            Stage::ClientRateLimit => "client_rate_limit",
            Stage::Authentication => "authentication",
            Stage::CallerRateLimit => "caller_rate_limit",
            Stage::Validation => "validation",
            Stage::Authorization => "authorization",
            Stage::Handler => "handler",
            Stage::Routing => "routing",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The audit stage's record of one request.
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) method: &'a str,
    pub(crate) route: &'a str,
    pub(crate) client: IpAddr,
    pub(crate) caller: Option<UserId>,
    pub(crate) tenant: Option<TenantId>,
    pub(crate) resource: Option<&'a str>,
    pub(crate) resource_id: Option<i64>,
    pub(crate) outcome: &'static str,
    pub(crate) stage: Stage,
    pub(crate) status: u16,
    pub(crate) latency: Duration,
}

impl AuditEvent<'_> {
    /// Writes the event to the `gauntlet::audit` tracing target and hands a
    /// copy to every configured sink.
    pub(crate) fn emit(&self, sinks: &[Arc<dyn AuditSink>]) {
        let latency_us = u64::try_from(self.latency.as_micros()).unwrap_or(u64::MAX);
        tracing::info!(
            target: "gauntlet::audit",
            request_id = self.request_id,
            method = self.method,
            route = self.route,
            client = %self.client,
            caller = self.caller.map(UserId::get),
            tenant = self.tenant.map(TenantId::get),
            resource = self.resource,
            resource_id = self.resource_id,
            outcome = self.outcome,
            stage = self.stage.as_str(),
            status = self.status,
            latency_us,
            "request audited"
        );

        if sinks.is_empty() {
            return;
        }
        let record = AuditRecord {
            time: time::OffsetDateTime::now_utc(),
            request_id: self.request_id.to_string(),
            caller: self.caller.map(UserId::get),
            tenant: self.tenant.map(TenantId::get),
            client: self.client.to_string(),
            method: self.method.to_string(),
            route: self.route.to_string(),
            resource: self.resource.map(str::to_string),
            resource_id: self.resource_id,
            outcome: self.outcome.to_string(),
            stage: self.stage.as_str().to_string(),
            status: self.status,
            latency_us,
        };
        for sink in sinks {
            sink.record(record.clone());
        }
    }
}

/// One audit event as a sink receives it. It names the route template,
/// never the raw path, and contains no token, password, body or query value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditRecord {
    /// When the request finished, in UTC.
    pub time: time::OffsetDateTime,
    /// The request id, also sent in `X-Request-Id`.
    pub request_id: String,
    /// The verified caller's user id, if the request got that far.
    pub caller: Option<i64>,
    /// The verified caller's tenant, if the token names one.
    pub tenant: Option<i64>,
    /// The client address from the socket.
    pub client: String,
    /// The HTTP method.
    pub method: String,
    /// The route template, such as `/api/invoices/{id}`.
    pub route: String,
    /// The resource type of a generated CRUD route.
    pub resource: Option<String>,
    /// The id in the path, when the route takes one.
    pub resource_id: Option<i64>,
    /// `allowed`, or the kind of refusal such as `not_found`.
    pub outcome: String,
    /// The stage that decided the outcome.
    pub stage: String,
    /// The response status.
    pub status: u16,
    /// The time spent, in microseconds.
    pub latency_us: u64,
}

/// A destination for audit events besides the `gauntlet::audit` tracing
/// target. `record` is called on the request path, so it must not block:
/// a slow destination queues the event and drops it when the queue is full.
pub trait AuditSink: std::fmt::Debug + Send + Sync + 'static {
    /// Takes one event.
    fn record(&self, record: AuditRecord);
}

/// Writes audit events to the `gauntlet_audit` table of the application's
/// database through a bounded queue, off the request path.
///
/// When the queue is full the event is dropped and counted; the count is
/// logged at the 1st, 2nd, 4th, 8th... drop, so an overload shows in the log
/// without flooding it. Requests are never slowed or failed by the sink.
#[derive(Clone)]
pub struct DatabaseAuditSink {
    sender: mpsc::Sender<AuditRecord>,
    dropped: Arc<AtomicU64>,
    queue: Arc<QueueState>,
}

/// The events queued but not yet written, and the signal that the writer
/// sends when that count reaches zero, for [`DatabaseAuditSink::flush`].
#[derive(Default)]
struct QueueState {
    pending: AtomicU64,
    drained: Notify,
}

impl QueueState {
    fn finish_one(&self) {
        if self.pending.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.drained.notify_waiters();
        }
    }
}

impl std::fmt::Debug for DatabaseAuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseAuditSink")
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

const CREATE_AUDIT_TABLE: &str = "CREATE TABLE IF NOT EXISTS gauntlet_audit (\
    time TEXT NOT NULL, request_id TEXT NOT NULL, caller BIGINT, tenant BIGINT, \
    client TEXT NOT NULL, method TEXT NOT NULL, route TEXT NOT NULL, resource TEXT, \
    resource_id BIGINT, outcome TEXT NOT NULL, stage TEXT NOT NULL, \
    status INTEGER NOT NULL, latency_us BIGINT NOT NULL)";

const INSERT_AUDIT_ROW: &str = "INSERT INTO gauntlet_audit (time, request_id, caller, tenant, \
    client, method, route, resource, resource_id, outcome, stage, status, latency_us) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

/// Binds the columns of one audit row, in the order of [`INSERT_AUDIT_ROW`].
macro_rules! bind_audit_row {
    ($query:expr, $record:expr) => {{
        let time = $record
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        $query
            .bind(time)
            .bind(&$record.request_id)
            .bind($record.caller)
            .bind($record.tenant)
            .bind(&$record.client)
            .bind(&$record.method)
            .bind(&$record.route)
            .bind(&$record.resource)
            .bind($record.resource_id)
            .bind(&$record.outcome)
            .bind(&$record.stage)
            .bind(i32::from($record.status))
            .bind(i64::try_from($record.latency_us).unwrap_or(i64::MAX))
    }};
}

impl DatabaseAuditSink {
    /// Creates the `gauntlet_audit` table when it is missing and starts the
    /// writer task, with a queue of `capacity` events.
    pub async fn start(database: &Database, capacity: usize) -> Result<Self, sqlx::Error> {
        match database.setup_pool() {
            Pool::Sqlite(pool) => sqlx::query(CREATE_AUDIT_TABLE)
                .execute(pool)
                .await
                .map(|_| ())?,
            Pool::Postgres(pool) => sqlx::query(CREATE_AUDIT_TABLE)
                .execute(pool)
                .await
                .map(|_| ())?,
        }

        let (sender, mut receiver) = mpsc::channel::<AuditRecord>(capacity.max(1));
        let pool = database.setup_pool().clone();
        let queue = Arc::new(QueueState::default());
        let writer_queue = queue.clone();
        tokio::spawn(async move {
            while let Some(record) = receiver.recv().await {
                let written = match &pool {
                    Pool::Sqlite(pool) => bind_audit_row!(sqlx::query(INSERT_AUDIT_ROW), record)
                        .execute(pool)
                        .await
                        .map(|_| ()),
                    Pool::Postgres(pool) => bind_audit_row!(sqlx::query(INSERT_AUDIT_ROW), record)
                        .execute(pool)
                        .await
                        .map(|_| ()),
                };
                if let Err(error) = written {
                    tracing::error!(request_id = record.request_id, %error, "writing an audit row failed");
                }
                writer_queue.finish_one();
            }
        });

        Ok(DatabaseAuditSink {
            sender,
            dropped: Arc::new(AtomicU64::new(0)),
            queue,
        })
    }

    /// Waits until every event queued so far has been written (or its
    /// write has failed and been logged), for a clean shutdown after the
    /// server has stopped taking requests.
    ///
    /// Events recorded while it waits are waited for too. It does not time
    /// out by itself: a caller that must exit wraps it in a timeout, because
    /// a database that stopped responding would keep the queue full.
    pub async fn flush(&self) {
        loop {
            let drained = self.queue.drained.notified();
            tokio::pin!(drained);
            // Registering before reading the count means a drain that
            // happens in between still wakes this waiter.
            drained.as_mut().enable();
            if self.queue.pending.load(Ordering::Acquire) == 0 {
                return;
            }
            drained.await;
        }
    }

    /// Returns how many events are queued and not yet written.
    pub fn pending(&self) -> u64 {
        self.queue.pending.load(Ordering::Acquire)
    }

    /// Returns how many events were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl AuditSink for DatabaseAuditSink {
    fn record(&self, record: AuditRecord) {
        // Counted before sending, so the writer can never finish an event
        // that is not yet counted.
        self.queue.pending.fetch_add(1, Ordering::AcqRel);
        if let Err(error) = self.sender.try_send(record) {
            self.queue.finish_one();
            let count = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if count.is_power_of_two() {
                let reason = match error {
                    mpsc::error::TrySendError::Full(_) => "the queue is full",
                    mpsc::error::TrySendError::Closed(_) => "the writer stopped",
                };
                tracing::warn!(dropped = count, reason, "audit events dropped");
            }
        }
    }
}
