#!/usr/bin/env bash
# Install Keycloak (the identity provider the app's OAuth tests run against) into the cache, once per
# version: its server distribution from Maven Central (org.keycloak:keycloak-quarkus-dist, tar.gz),
# fetched by Maven as configured on this machine. Keycloak 26 needs Java 21 or newer: a JDK is looked
# for in JAVA_HOME, then in the machine's JVM directories.
# Prints two lines: KEYCLOAK_HOME=<dir> and JAVA_HOME=<dir>.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.4.0}"
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
out="$KRINGEN_CACHE/keycloak-$KEYCLOAK_VERSION"

java_major() {  # java_major JAVA: the major version it reports
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | cut -d. -f1
}

find_java_home() {
  local candidate major
  for candidate in ${JAVA_HOME:+"$JAVA_HOME"} /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/*; do
    [[ -x "$candidate/bin/java" ]] || continue
    major="$(java_major "$candidate/bin/java" || true)"
    if [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 21)); then
      readlink -f "$candidate"; return 0
    fi
  done
  return 1
}

install_keycloak() {
  command -v mvn >/dev/null || die "mvn is not installed (it fetches Keycloak from Maven Central)"
  local work
  work="$(mktemp -d)"
  mvn -B -q "$DEPENDENCY_PLUGIN:copy" -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:tar.gz" \
    -DoutputDirectory="$work"
  tar -xzf "$work/keycloak-quarkus-dist-$KEYCLOAK_VERSION.tar.gz" -C "$work"
  rm -rf "$out" && mv "$work/keycloak-$KEYCLOAK_VERSION" "$out" && rm -rf "$work"
  touch "$out/.installed"
}

java_home="$(find_java_home)" || die "Keycloak $KEYCLOAK_VERSION needs Java 21 or newer: none in JAVA_HOME or /usr/lib/jvm"
# The app's tests and the local cluster's image both install it, perhaps at once: one at a time.
mkdir -p "$KRINGEN_CACHE"
exec 9>"$out.lock"
flock 9
[[ -f "$out/.installed" ]] || step "install-keycloak-$KEYCLOAK_VERSION" install_keycloak
exec 9>&-
echo "KEYCLOAK_HOME=$out"
echo "JAVA_HOME=$java_home"
