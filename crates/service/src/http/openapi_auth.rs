//! How the OpenAPI document says which routes want a token: a `bearer` security scheme, and on
//! each operation either that requirement and its `401` answer, or `security: []` (open).
//!
//! Which routes are open depends on the node, as the route table and the token check decide it
//! ([`super::table::Route::probe`], `--auth-token-file`, `--auth-probes`), so it is written into
//! the document when it is served, like the batch limit: a client generated from a node's
//! document sends a token exactly where that node asks for one, and a checker such as
//! schemathesis can hold the node to it (a refused request must be the documented `401`).

use utoipa::openapi::content::Content;
use utoipa::openapi::header::Header;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};

use super::table::ROUTES;

/// The name of the security scheme in `components.securitySchemes`.
pub const SCHEME: &str = "bearer";

/// Which routes of a node want a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    /// `--auth-token-file` is set: every route but the probes wants a token.
    pub tokens: bool,
    /// `--auth-probes` is set: the probes want one too.
    pub probes: bool,
}

impl Guard {
    /// A node without tokens: every route open.
    pub const OPEN: Guard = Guard {
        tokens: false,
        probes: false,
    };

    /// Whether a route that is a probe (or not) wants a token on this node.
    pub fn requires(&self, probe: bool) -> bool {
        self.tokens && (!probe || self.probes)
    }
}

/// Adds the `bearer` scheme, and on every operation of the route table its security: the
/// scheme and a `401` where `guard` wants a token, `security: []` where it does not.
pub fn apply(doc: &mut Document, guard: Guard) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "One of the tokens of the node's `--auth-token-file`, as \
                     `Authorization: Bearer <token>`",
                ))
                .build(),
        ),
    );
    for route in ROUTES {
        let Some(operation) = doc
            .paths
            .paths
            .get_mut(route.path)
            .and_then(|item| item.get.as_mut())
        else {
            continue;
        };
        if guard.requires(route.probe) {
            operation.security = Some(vec![SecurityRequirement::new(SCHEME, Vec::<String>::new())]);
            operation
                .responses
                .responses
                .insert("401".to_string(), RefOr::T(unauthorized()));
        } else {
            // An empty list overrides any document-wide requirement: no token needed.
            operation.security = Some(Vec::new());
        }
    }
}

/// The `401` answer of the token check (`super::auth`).
fn unauthorized() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(
            "No token, or one the node does not accept (`unauthorized`); \
             `WWW-Authenticate: Bearer realm=\"snowdrift\"`, with `error=\"invalid_token\"` \
             for a wrong one",
        )
        .header(
            "WWW-Authenticate",
            Header::new(Object::with_type(Type::String)),
        )
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::super::openapi::document;
    use super::*;

    fn security(doc: &serde_json::Value, path: &str) -> serde_json::Value {
        doc["paths"][path]["get"]["security"].clone()
    }

    #[test]
    fn with_tokens_every_route_but_the_probes_wants_the_bearer_scheme_and_may_answer_401() {
        let guard = Guard {
            tokens: true,
            probes: false,
        };
        let doc = serde_json::to_value(document(10, guard)).unwrap();
        assert_eq!(
            doc["components"]["securitySchemes"][SCHEME]["scheme"],
            "bearer"
        );
        for route in ROUTES {
            let get = &doc["paths"][route.path]["get"];
            if route.probe {
                assert_eq!(
                    security(&doc, route.path),
                    serde_json::json!([]),
                    "{}",
                    route.path
                );
                assert!(get["responses"]["401"].is_null(), "{}", route.path);
            } else {
                assert_eq!(
                    security(&doc, route.path),
                    serde_json::json!([{ "bearer": [] }]),
                    "{}",
                    route.path
                );
                let refused = &get["responses"]["401"];
                assert!(
                    refused["headers"]["WWW-Authenticate"].is_object(),
                    "{refused}"
                );
                assert_eq!(
                    refused["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody"
                );
            }
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    }

    #[test]
    fn without_tokens_every_route_is_open_and_auth_probes_closes_the_probes() {
        let open = serde_json::to_value(document(10, Guard::OPEN)).unwrap();
        let all = Guard {
            tokens: true,
            probes: true,
        };
        let closed = serde_json::to_value(document(10, all)).unwrap();
        for route in ROUTES {
            assert_eq!(security(&open, route.path), serde_json::json!([]));
            assert!(open["paths"][route.path]["get"]["responses"]["401"].is_null());
            assert_eq!(
                security(&closed, route.path),
                serde_json::json!([{ "bearer": [] }]),
                "{}",
                route.path
            );
        }
    }
}
