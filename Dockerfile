# rqdash container: a small runtime image with just the binary (templates and assets are compiled in).
#   docker build -t rqdash .
#   docker run -p 9181:9181 -e RQ_DASHBOARD_REDIS_URL=redis://redis:6379 rqdash
# CI runs the same build command and health check outside Docker (scripts/release-smoke.sh).

FROM rust:1-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so source changes reuse the cached layer.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && cargo build --release --locked || true
COPY src ./src
COPY templates ./templates
COPY static ./static
COPY locales ./locales
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin rqdash
COPY --from=build /src/target/release/rqdash /usr/local/bin/rqdash
USER 10001
ENV RQ_DASHBOARD_BIND=0.0.0.0 \
    RQ_DASHBOARD_PORT=9181
EXPOSE 9181
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["rqdash", "--healthcheck"]
ENTRYPOINT ["rqdash"]
