//! rmcp peer: one tool, test_simple_text, on 127.0.0.1:PORT/mcp.
//!
//!     rmcp-peer PORT fast|default
//!
//! default: StreamableHttpServerConfig::default() (legacy sessions, SSE answers);
//! fast: no legacy sessions, JSON answers (rmcp serves 2026-07-28 statelessly in both).
//! Served by axum::serve with TCP_NODELAY on each connection.
use axum::serve::ListenerExt;
use rmcp::{
    ServerHandler,
    handler::server::router::tool::ToolRouter,
    model::{ServerCapabilities, ServerConfig},
    tool, tool_handler, tool_router,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};

#[derive(Debug, Clone)]
struct Bench {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Bench {
    #[tool(description = "Returns a simple text response")]
    fn test_simple_text(&self) -> String {
        "This is a simple text response for testing.".to_string()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bench {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (port, mode) = (&args[1], args.get(2).map(String::as_str).unwrap_or("default"));
    let config = match mode {
        "fast" => StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true),
        "default" => StreamableHttpServerConfig::default(),
        other => panic!("unknown mode {other}"),
    };
    let service: StreamableHttpService<Bench, LocalSessionManager> = StreamableHttpService::new(
        || Ok(Bench { tool_router: Bench::tool_router() }),
        Default::default(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    // TCP_NODELAY, as Go's net/http, Node's http and our Tornado servers set on every connection:
    // without it each SSE answer, written in several pieces, waits out a delayed ACK (~40 ms).
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap()
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
            tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
        })
        .await
        .unwrap();
}
