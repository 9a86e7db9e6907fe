#!/usr/bin/env bash
# Keycloak 26.4.0 (the identity provider inventories/local runs in the cluster) over the local Debian
# base: 127.0.0.1:5000/kringen/keycloak:26.4.0. Laid out as the official image is (/opt/keycloak,
# kc.sh as the entry point, user 1000), so the keycloak role runs either one. The Java runtime is a
# jlink image of the modules Keycloak uses, made from the JDK hack/build/keycloak.sh finds (Java 21+).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../localcluster/lib.sh"
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.4.0}"
IMAGE="$REGISTRY/kringen/keycloak:$KEYCLOAK_VERSION"
if registry_has "$IMAGE"; then
  echo "$IMAGE present"; exit 0
fi
homes="$(KEYCLOAK_VERSION="$KEYCLOAK_VERSION" bash "$here/../build/keycloak.sh")"
keycloak_home="$(sed -n 's/^KEYCLOAK_HOME=//p' <<<"$homes")"
java_home="$(sed -n 's/^JAVA_HOME=//p' <<<"$homes")"
modules=java.base,java.compiler,java.desktop,java.instrument,java.logging,java.management,java.naming
modules+=,java.net.http,java.rmi,java.scripting,java.security.jgss,java.security.sasl,java.sql
modules+=,java.transaction.xa,java.xml,java.xml.crypto,jdk.crypto.ec,jdk.jfr,jdk.management
modules+=,jdk.naming.dns,jdk.unsupported,jdk.zipfs,jdk.security.auth,jdk.localedata

context="$(mktemp -d)"
"$java_home/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --output "$context/java"
tar -C "$keycloak_home" --exclude ./data --exclude ./.installed -cf "$context/keycloak.tar" .
cat >"$context/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
COPY java /opt/java
ADD keycloak.tar /opt/keycloak/
RUN mkdir -p /opt/keycloak/data/import && chown -R 1000:0 /opt/keycloak && chmod -R g+rwX /opt/keycloak
ENV JAVA_HOME=/opt/java PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 1000
EXPOSE 8080 9000
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
DOCKERFILE
build_and_push "$IMAGE" "$context"
