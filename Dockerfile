# The MCP server image. BASE_IMAGE lets a locally built base stand in where no
# registry is reachable (the local cluster tooling imports a debootstrapped one).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY app/pyproject.toml app/README.md ./
COPY app/src ./src
RUN python3 -m venv /opt/mcp \
 && /opt/mcp/bin/pip install --upgrade pip \
 && /opt/mcp/bin/pip install '.[fast]' \
 && find /opt/mcp -name '__pycache__' -prune -exec rm -rf {} + \
 && /opt/mcp/bin/python -m compileall -q /opt/mcp/lib

FROM ${BASE_IMAGE}
ARG BUILD_ID=unknown
LABEL org.opencontainers.image.title="kringen-mcp-server" \
      org.opencontainers.image.description="MCP server over WebSocket and Streamable HTTP, backed by MongoDB" \
      org.opencontainers.image.source="https://github.com/kringen/mcp_server" \
      org.opencontainers.image.revision="${BUILD_ID}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 mcp && useradd --system --uid 10001 --gid mcp --no-create-home --shell /usr/sbin/nologin mcp
COPY --from=build /opt/mcp /opt/mcp
# No writes at run time: no bytecode cache, no temp files; the root filesystem can be read-only.
ENV PATH=/opt/mcp/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MCP_HOST=0.0.0.0 MCP_PORT=8080 MCP_LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python3", "-c", "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["mcp-server"]
