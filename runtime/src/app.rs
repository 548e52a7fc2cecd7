//! Building the application: routes, policies, keys and origins are checked
//! once, when the application is built, and a misconfiguration stops start-up.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use axum::routing::{on, on_service, MethodFilter, MethodRouter};
use axum::Router;
use http::Request;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;

use crate::audit::AuditSink;
use crate::auth::{Authenticator, JwtConfig, JwtConfigError};
use crate::cors::{self, CorsConfigError, CorsLayer, CorsLayerState, CorsPolicy, PathCors};
use crate::crud::CrudRoutes;
use crate::db::Database;
use crate::edge::EdgeLayer;
use crate::error::{ApiError, ErrorKind};
use crate::limits::{
    ConcurrencyGate, ConcurrencyLayer, RouteBodyLimit, DEFAULT_MAX_CONCURRENT_REQUESTS,
};
use crate::manifest::Manifest;
use crate::pipeline::{
    self, AppShared, AuthPublic, BoxedHandler, CallerUse, MountedRoute, Reply, RouteDef, RouteMeta,
    RouteMethod,
};
use crate::rate_limit::{
    self, Policy, RateLimitConfigError, RateLimits, CLIENT_POLICY, DEFAULT_POLICY,
};
use crate::resource::Public;

/// The default cap on request bodies: 64 KiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The default time a request may take, body included, before a 408.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The origin allowed when none is configured: a local front-end dev server.
pub const DEFAULT_ALLOWED_ORIGIN: &str = "http://localhost:5173";

/// Something that can be mounted as one or more routes.
pub trait IntoRoutes {
    /// Converts into the route definitions.
    fn into_routes(self) -> Vec<RouteDef>;
}

impl IntoRoutes for RouteDef {
    fn into_routes(self) -> Vec<RouteDef> {
        vec![self]
    }
}

impl IntoRoutes for Vec<RouteDef> {
    fn into_routes(self) -> Vec<RouteDef> {
        self
    }
}

impl<T> IntoRoutes for CrudRoutes<T>
where
    T: crate::Resource + crate::__private::Creatable + crate::__private::Writable,
{
    fn into_routes(self) -> Vec<RouteDef> {
        CrudRoutes::into_routes(self)
    }
}

/// An error that stopped the application from being built.
#[derive(Debug)]
pub enum BuildError {
    /// No database was configured.
    MissingDatabase,
    /// No token configuration was given.
    MissingJwt,
    /// The token configuration is unsafe.
    Jwt(JwtConfigError),
    /// A rate limit policy is invalid or a route names an undeclared one.
    RateLimit(RateLimitConfigError),
    /// An allowed origin is not an exact origin.
    Cors(CorsConfigError),
    /// Two routes share a method and path.
    DuplicateRoute(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::MissingDatabase => {
                write!(f, "no database configured; call `.database(...)`")
            }
            BuildError::MissingJwt => write!(
                f,
                "no token configuration; call `.jwt(JwtConfig::hs256(...))`"
            ),
            BuildError::Jwt(error) => write!(f, "invalid token configuration: {error}"),
            BuildError::RateLimit(error) => write!(f, "invalid rate limits: {error}"),
            BuildError::Cors(error) => write!(f, "invalid CORS configuration: {error}"),
            BuildError::DuplicateRoute(route) => write!(f, "route {route} is declared twice"),
        }
    }
}

impl std::error::Error for BuildError {}

/// Collects the configuration of an [`App`]; see [`App::builder`].
pub struct AppBuilder {
    database: Option<Database>,
    jwt: Option<JwtConfig>,
    policies: Vec<Policy>,
    origins: Vec<String>,
    routes: Vec<RouteDef>,
    max_body_bytes: usize,
    max_concurrent_requests: usize,
    request_timeout: Duration,
    openapi: Option<(String, String)>,
    audit_sinks: Vec<Arc<dyn AuditSink>>,
    /// The store, key cap and trusted proxies; set by the builder methods
    /// in [`crate::rate_limit`].
    pub(crate) rate_limit: rate_limit::Settings,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("policies", &self.policies)
            .field("origins", &self.origins)
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

/// A built application: its router, its route manifest and its OpenAPI document.
#[derive(Debug, Clone)]
pub struct App {
    router: Router,
    manifest: Manifest,
    openapi: Option<Arc<serde_json::Value>>,
}

/// The public path of the OpenAPI document, when the builder enables it.
pub const OPENAPI_PATH: &str = "/openapi.json";

impl App {
    /// Starts the configuration of an application.
    ///
    /// Two policies exist unless replaced: `client` (1200 requests a minute
    /// per address, burst 200), checked before authentication, and `default`
    /// (300 a minute per caller, burst 60), used by routes that name none.
    pub fn builder() -> AppBuilder {
        AppBuilder {
            database: None,
            jwt: None,
            policies: Vec::new(),
            origins: Vec::new(),
            routes: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            openapi: None,
            audit_sinks: Vec::new(),
            rate_limit: rate_limit::Settings::default(),
        }
    }

    /// Returns the axum router. Serve it with connect info, as [`App::serve`]
    /// does, because the client rate limit needs the socket address.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Returns every route with its security posture.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Returns the OpenAPI 3.1 document, when [`AppBuilder::openapi`] enabled it.
    pub fn openapi(&self) -> Option<&serde_json::Value> {
        self.openapi.as_deref()
    }

    /// Serves the application in plain HTTP on a loopback `listener` until
    /// `shutdown` completes, then lets in-flight requests finish within
    /// [`DEFAULT_SHUTDOWN_GRACE`](crate::DEFAULT_SHUTDOWN_GRACE). For TLS,
    /// the redirect listener or other timeouts, use [`App::server`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.server().serve(listener, shutdown).await
    }
}

impl AppBuilder {
    /// Sets the database that handlers reach through [`crate::Db`].
    pub fn database(mut self, database: Database) -> Self {
        self.database = Some(database);
        self
    }

    /// Sets how tokens are verified and issued.
    pub fn jwt(mut self, config: JwtConfig) -> Self {
        self.jwt = Some(config);
        self
    }

    /// Declares a rate limit policy, replacing a policy of the same name.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policies
            .retain(|existing| existing.name() != policy.name());
        self.policies.push(policy);
        self
    }

    /// Allows cross-origin requests from `origin`, exactly as written
    /// (`scheme://host[:port]`). Without any, only
    /// [`DEFAULT_ALLOWED_ORIGIN`] is allowed.
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Caps request bodies; larger ones are refused with 413.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Caps the requests running at once; one more is rejected at once with
    /// 503 and `Retry-After`.
    pub fn max_concurrent_requests(mut self, requests: usize) -> Self {
        self.max_concurrent_requests = requests;
        self
    }

    /// Bounds how long a request may take before a 408.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Generates an OpenAPI 3.1 document with this title and API version,
    /// and serves it publicly at [`OPENAPI_PATH`](crate::OPENAPI_PATH).
    pub fn openapi(mut self, title: impl Into<String>, version: impl Into<String>) -> Self {
        self.openapi = Some((title.into(), version.into()));
        self
    }

    /// Sends every audit event to `sink` as well as to the
    /// `gauntlet::audit` tracing target, for example a
    /// [`DatabaseAuditSink`](crate::DatabaseAuditSink).
    pub fn audit_sink(mut self, sink: impl AuditSink) -> Self {
        self.audit_sinks.push(Arc::new(sink));
        self
    }

    /// Mounts a route made with a route attribute, or a resource's CRUD routes.
    pub fn route(mut self, route: impl IntoRoutes) -> Self {
        self.routes.extend(route.into_routes());
        self
    }

    /// Mounts routes like [`AppBuilder::route`], with their own body cap
    /// in place of the application's [`AppBuilder::max_body_bytes`].
    pub fn route_with_max_body_bytes(mut self, route: impl IntoRoutes, bytes: usize) -> Self {
        self.routes
            .extend(route.into_routes().into_iter().map(|mut route| {
                route.max_body_bytes = Some(bytes);
                route
            }));
        self
    }

    /// Checks the whole configuration and builds the router.
    pub fn build(self) -> Result<App, BuildError> {
        let database = self.database.ok_or(BuildError::MissingDatabase)?;
        let jwt = self.jwt.ok_or(BuildError::MissingJwt)?;
        let auth = Authenticator::new(jwt).map_err(BuildError::Jwt)?;

        let mut policies = vec![
            Policy::per_minute(CLIENT_POLICY, 1200).burst(200),
            Policy::per_minute(DEFAULT_POLICY, 300).burst(60),
        ];
        for policy in self.policies {
            policies.retain(|existing| existing.name() != policy.name());
            policies.push(policy);
        }
        let limits = RateLimits::new(&policies, &self.rate_limit).map_err(BuildError::RateLimit)?;

        let mut seen = BTreeSet::new();
        for route in &self.routes {
            let name = format!("{} {}", route.meta.method, route.meta.path);
            if !limits.has_policy(&route.meta.rate_limit) {
                return Err(unknown_policy(&limits, &route.meta));
            }
            if !seen.insert(name.clone()) {
                return Err(BuildError::DuplicateRoute(name));
            }
        }

        let origins = if self.origins.is_empty() {
            vec![DEFAULT_ALLOWED_ORIGIN.to_string()]
        } else {
            self.origins
        };
        let origins = origins
            .iter()
            .map(|origin| cors::check_origin(origin))
            .collect::<Result<Vec<_>, _>>()
            .map_err(BuildError::Cors)?;

        let shared = Arc::new(AppShared {
            database,
            auth: Arc::new(auth),
            limits,
            max_body_bytes: self.max_body_bytes,
            request_timeout: self.request_timeout,
            audit_sinks: self.audit_sinks,
        });

        let mut routes = self.routes;
        let openapi = match self.openapi {
            Some((title, version)) => {
                if routes.iter().any(|route| route.meta.path == OPENAPI_PATH) {
                    return Err(BuildError::DuplicateRoute(format!("GET {OPENAPI_PATH}")));
                }
                let mut metas: Vec<RouteMeta> =
                    routes.iter().map(|route| (*route.meta).clone()).collect();
                metas.push(openapi_meta());
                let document = Arc::new(crate::openapi::document(&title, &version, &metas));
                routes.push(openapi_route(document.clone()));
                Some(document)
            }
            None => None,
        };

        let manifest = Manifest::new(routes.iter().map(|route| (*route.meta).clone()).collect());
        let concurrency = Arc::new(ConcurrencyGate {
            app: shared.clone(),
            // `Semaphore::new` panics above `MAX_PERMITS`, which is no cap anyway.
            permits: Arc::new(tokio::sync::Semaphore::new(
                self.max_concurrent_requests
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
        });
        let router = mount(shared, routes, CorsPolicy::new(origins), concurrency)?;
        Ok(App {
            router,
            manifest,
            openapi,
        })
    }
}

fn openapi_meta() -> RouteMeta {
    RouteMeta {
        method: RouteMethod::Get,
        path: Cow::Borrowed(OPENAPI_PATH),
        handler: Cow::Borrowed("openapi_document"),
        public: true,
        caller: CallerUse::None,
        rate_limit: Cow::Borrowed(DEFAULT_POLICY),
        role: None,
        database: false,
        issues_tokens: false,
        scoped_to: None,
        unscoped_reason: None,
        body_schema: None,
        resource: None,
        response: Cow::Borrowed("ApiResult<Public<OpenApi>>"),
        describe: Some(<Public<serde_json::Value> as Reply<AuthPublic>>::describe),
    }
}

fn openapi_route(document: Arc<serde_json::Value>) -> RouteDef {
    RouteDef::new::<AuthPublic, _, _, _, _>(
        openapi_meta(),
        |_ctx| Ok(()),
        move |()| {
            let document = document.clone();
            async move { Ok::<_, ApiError>(Public(document.as_ref().clone())) }
        },
    )
}

fn method_filter(method: RouteMethod) -> MethodFilter {
    match method {
        RouteMethod::Get => MethodFilter::GET,
        RouteMethod::Post => MethodFilter::POST,
        RouteMethod::Put => MethodFilter::PUT,
        RouteMethod::Patch => MethodFilter::PATCH,
        RouteMethod::Delete => MethodFilter::DELETE,
    }
}

fn unknown_policy(limits: &RateLimits, meta: &RouteMeta) -> BuildError {
    BuildError::RateLimit(RateLimitConfigError::UnknownPolicy {
        route: format!("{} {}", meta.method, meta.path),
        policy: meta.rate_limit.to_string(),
        known: limits.policy_names(),
    })
}

fn mount(
    shared: Arc<AppShared>,
    routes: Vec<RouteDef>,
    cors: CorsPolicy,
    concurrency: Arc<ConcurrencyGate>,
) -> Result<Router, BuildError> {
    let edge_state = shared.clone();
    let cors = Arc::new(cors);
    let mut by_path: Vec<(String, MethodRouter, PathCors)> = Vec::new();

    for route in routes {
        let policy = shared
            .limits
            .policy(&route.meta.rate_limit)
            .ok_or_else(|| unknown_policy(&shared.limits, &route.meta))?;
        let mounted = Arc::new(MountedRoute {
            meta: route.meta.clone(),
            policy,
        });
        // A service rather than an axum handler: the request goes to the
        // gauntlet as it is, without axum's extractor and response wrapping.
        let endpoint = on_service(
            method_filter(route.meta.method),
            RouteService {
                app: shared.clone(),
                route: mounted,
                handler: route.handler.clone(),
                body_limit: route.max_body_bytes.map(RouteBodyLimit),
            },
        );

        let path = route.meta.path.to_string();
        let index = match by_path
            .iter()
            .position(|(existing, _, _)| *existing == path)
        {
            Some(index) => index,
            None => {
                by_path.push((path, MethodRouter::new(), PathCors::default()));
                by_path.len() - 1
            }
        };
        let (_, method_router, path_cors) = &mut by_path[index];
        let merged = std::mem::take(method_router).merge(endpoint);
        *method_router = merged;
        path_cors.methods.push(route.meta.method.as_http());
        path_cors.authenticates |= route.meta.caller != CallerUse::None;
        path_cors.takes_body |= route.meta.body_schema.is_some();
    }

    let mut router = Router::new();
    // Preflights are routed apart, so that `OPTIONS` is not listed in the
    // `Allow` header of a 405 and a plain `OPTIONS` request gets 405.
    let mut preflights = Router::new();
    for (path, method_router, path_cors) in by_path {
        let app = shared.clone();
        let policy = cors.clone();
        let path_cors = Arc::new(path_cors);
        preflights = preflights.route(
            &path,
            on(MethodFilter::OPTIONS, move |request: Request<Body>| {
                let policy = policy.clone();
                let path_cors = path_cors.clone();
                async move { cors::preflight(&policy, &path_cors, &request) }
            }),
        );
        let method_router = method_router.fallback(move |request: Request<Body>| {
            let app = app.clone();
            async move { pipeline::unmatched(&app, request, ErrorKind::MethodNotAllowed).await }
        });
        router = router.route(&path, method_router);
    }

    // `with_state` turns every handler into its route now. A `Router<()>`
    // left without it does that on each request when it is called directly
    // (as tests and `tower::ServiceExt::oneshot` do); `axum::serve` does it
    // once.
    let routes = router
        .fallback(move |request: Request<Body>| {
            let app = shared.clone();
            async move { pipeline::unmatched(&app, request, ErrorKind::NotFound).await }
        })
        .with_state(());

    // The layers wrap the routed application once, as one service. Through
    // `Router::layer` they would wrap each route on its own, and axum clones
    // a route's boxed service on every request, so each layer added that way
    // costs an allocation, a clone and a drop per request. No layer needs
    // the matched route.
    let layered = tower::ServiceBuilder::new()
        .layer(EdgeLayer::new(edge_state))
        .layer(CorsLayer::new(CorsLayerState::new(cors, preflights)))
        .layer(ConcurrencyLayer::new(concurrency))
        .map_response(|response: http::Response<_>| response.map(Body::new))
        .layer(CatchPanicLayer::custom(panic_response))
        .service(routes);
    Ok(Router::new().fallback_service(layered).with_state(()))
}

/// One route's entry into the gauntlet, as a tower service.
#[derive(Clone)]
struct RouteService {
    app: Arc<AppShared>,
    route: Arc<MountedRoute>,
    handler: BoxedHandler,
    body_limit: Option<RouteBodyLimit>,
}

impl tower::Service<Request<Body>> for RouteService {
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::Map<
        pipeline::BoxedFuture,
        fn(Response) -> Result<Response, Infallible>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        use futures_util::FutureExt as _;

        if let Some(limit) = self.body_limit {
            request.extensions_mut().insert(limit);
        }
        (self.handler)(self.app.clone(), self.route.clone(), request).map(Ok)
    }
}

/// A handler panic becomes a generic 500; the panic message is logged, never sent.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|message| message.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    // This layer receives only the panic, not the request, so the response
    // gets an id of its own, which the log line repeats.
    let request_id = pipeline::RequestId::generate();
    tracing::error!(
        request_id = request_id.as_str(),
        panic = message,
        "a handler panicked"
    );

    let mut response = ApiError::internal("handler panic").into_problem_response(&request_id);
    pipeline::finish_headers(response.headers_mut(), &request_id, true);
    response
}
