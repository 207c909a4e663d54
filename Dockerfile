# Berth: multi-stage build. The image runs `berth serve`; without BERTH_DATABASE_URL it uses its
# embedded PostgreSQL (the server package is installed for that), with data in /var/lib/berth.
# `ssh` (openssh-client) is what Berth runs for ssh:// and scp-like repository URLs.

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY server ./server
COPY migrations ./migrations
COPY tests ./tests
RUN cargo build --release --locked -p berth

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates openssh-client postgresql tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/berth berth
COPY --from=server /src/target/release/berth /usr/local/bin/berth
COPY --from=web /src/web/dist /usr/share/berth/web
ENV BERTH_LISTEN=0.0.0.0:8080 \
    BERTH_DATA_DIR=/var/lib/berth \
    BERTH_WEB_DIR=/usr/share/berth/web \
    BERTH_LOG_FORMAT=json
USER berth
WORKDIR /var/lib/berth
VOLUME /var/lib/berth
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/berth"]
CMD ["serve"]
