# syntax=docker/dockerfile:1

# Build: the same `cargo build --release --locked` that CI runs.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /build
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
# `assignment-router schema` prints schemas/rules.schema.json, built in with include_str!.
COPY schemas ./schemas
# Declared in Cargo.toml, so the manifest needs them present even for a binary build.
COPY benches ./benches
RUN cargo build --release --locked

# Run: no shell, no package manager, a non-root user; TLS roots are built into the binary.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="assignment-router" \
      org.opencontainers.image.description="Answers Twilio TaskRouter assignment callbacks with the instruction your rules choose"
WORKDIR /app
COPY --from=builder --chown=root:root --chmod=755 /build/target/release/assignment-router /app/assignment-router
COPY --chown=root:root config /app/config
ENV APP_SERVER__HOST=0.0.0.0 \
    APP_ADMIN__HOST=0.0.0.0 \
    APP_LOG__FORMAT=json
# 65532 is distroless's `nonroot` user.
USER 65532:65532
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/app/assignment-router", "healthcheck"]
ENTRYPOINT ["/app/assignment-router"]
CMD ["serve"]
