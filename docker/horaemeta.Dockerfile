# A HoraeMeta member from the static binary of `make build` (CGO_ENABLED=0):
# FROM scratch, nothing else in the image. Build from the repository root:
#
#   make image        # or: docker build -f docker/horaemeta.Dockerfile -t horaemeta-server:dev .
#
# The default config (docker/horaemeta.toml) is a single member whose
# cluster waits for three data nodes; environment variables with
# upstream's names (DEFAULT_CLUSTER_NODE_COUNT, ADVERTISE_CLIENT_URLS, ...)
# override it, see docs/horaemeta.md.
FROM scratch
COPY bin/horaemeta /horaemeta
# The admin CLI, for `docker exec <container> /horaectl node list` and the like.
COPY bin/horaectl /horaectl
COPY docker/horaemeta.toml /etc/horaemeta/horaemeta.toml
WORKDIR /tmp
WORKDIR /data
VOLUME /data
# etcd client + MetaService, etcd peers, admin HTTP.
EXPOSE 2379 2380 8080
HEALTHCHECK --interval=5s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/horaemeta", "healthcheck", "--config", "/etc/horaemeta/horaemeta.toml"]
ENTRYPOINT ["/horaemeta"]
CMD ["--config", "/etc/horaemeta/horaemeta.toml"]
