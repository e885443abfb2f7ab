# A HoraeDB data node from the static binary of `make build` (CGO_ENABLED=0):
# FROM scratch, nothing else in the image. Build from the repository root:
#
#   make image        # or: docker build -f docker/horaedb.Dockerfile -t horaedb-server:dev .
#
# Without arguments it runs standalone (docker/horaedb-standalone.toml);
# docker-compose.yaml runs it as a WithMeta node with docker/horaedb-cluster.toml.
FROM scratch
COPY bin/horaedb /horaedb
COPY docker/horaedb-standalone.toml /etc/horaedb/horaedb.toml
COPY docker/horaedb-cluster.toml /etc/horaedb/cluster.toml
# WORKDIR creates the directories: a writable /tmp and the data directory
# (mount a volume there).
WORKDIR /tmp
WORKDIR /data
VOLUME /data
# HTTP (SQL, InfluxDB, Prometheus, OpenTSDB), gRPC, MySQL, PostgreSQL.
EXPOSE 5440 8831 3307 5433
# No shell, no curl: the binary checks its own health endpoint.
HEALTHCHECK --interval=5s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/horaedb", "healthcheck", "--config", "/etc/horaedb/horaedb.toml"]
ENTRYPOINT ["/horaedb"]
CMD ["--config", "/etc/horaedb/horaedb.toml"]
