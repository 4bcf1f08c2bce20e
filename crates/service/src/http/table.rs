//! The route table: every HTTP route once, with what the router, the metrics labels and the
//! 404 message each need from it. Adding a route is one entry here, its handler going in
//! [`routes`]; nothing else lists the routes.

use axum::routing::{get, MethodRouter};
use axum::Router;

use super::{cluster, dashboard, openapi, routes, HttpState};

/// One HTTP route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// The path as the router matches it; also the `route` label of its metrics, so the
    /// labels are a fixed set whatever clients ask for.
    pub path: &'static str,
    /// The path as the 404 message shows it to a person (with the query it needs, if any).
    pub usage: &'static str,
    /// Open without a token unless `--auth-probes`: the probes (health, readiness, metrics),
    /// and the dashboard page and the API description, which hold no data of their own (the
    /// page asks for a token and sends it with the requests that need one).
    pub probe: bool,
    /// Its handlers, by method.
    handler: fn() -> MethodRouter<HttpState>,
}

/// Every route, in the order the 404 message lists them.
pub const ROUTES: [Route; 10] = [
    Route {
        path: "/v1/id",
        usage: "/v1/id",
        probe: false,
        handler: || get(routes::next_id),
    },
    Route {
        path: "/v1/ids",
        usage: "/v1/ids?count=N",
        probe: false,
        handler: || get(routes::next_ids),
    },
    Route {
        path: "/v1/decode/{id}",
        usage: "/v1/decode/{id}",
        probe: false,
        handler: || get(routes::decode),
    },
    Route {
        path: "/v1/info",
        usage: "/v1/info",
        probe: false,
        handler: || get(routes::info),
    },
    Route {
        path: "/v1/cluster",
        usage: "/v1/cluster",
        probe: false,
        handler: || get(cluster::cluster),
    },
    Route {
        path: "/healthz",
        usage: "/healthz",
        probe: true,
        handler: || get(routes::healthz),
    },
    Route {
        path: "/readyz",
        usage: "/readyz",
        probe: true,
        handler: || get(routes::readyz),
    },
    Route {
        path: "/metrics",
        usage: "/metrics",
        probe: true,
        handler: || get(routes::metrics),
    },
    Route {
        path: "/openapi.json",
        usage: "/openapi.json",
        probe: true,
        handler: || get(openapi::openapi_json),
    },
    Route {
        path: "/",
        usage: "/",
        probe: true,
        handler: || get(dashboard::dashboard),
    },
];

/// A router with every route of the table (no fallback, no layers).
pub fn routed() -> Router<HttpState> {
    ROUTES.iter().fold(Router::new(), |router, route| {
        router.route(route.path, (route.handler)())
    })
}

/// The position in [`ROUTES`] of a matched path, or `ROUTES.len()` for a request that matched
/// none.
pub fn index(matched: Option<&str>) -> usize {
    matched
        .and_then(|path| ROUTES.iter().position(|route| route.path == path))
        .unwrap_or(ROUTES.len())
}

/// The routes as the 404 message lists them: `/v1/id, /v1/ids?count=N, …`.
pub fn usage() -> String {
    ROUTES
        .iter()
        .map(|route| route.usage)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_found_and_others_are_unmatched() {
        for (i, route) in ROUTES.iter().enumerate() {
            assert_eq!(index(Some(route.path)), i);
            assert!(route
                .usage
                .starts_with(route.path.split('{').next().unwrap_or("")));
        }
        assert_eq!(index(Some("/nope")), ROUTES.len());
        assert_eq!(index(None), ROUTES.len());
        assert!(usage().contains("/v1/ids?count=N, /v1/decode/{id}"));
    }
}
