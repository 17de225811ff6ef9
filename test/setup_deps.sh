#!/usr/bin/env bash
# Installs the Debian packages privacy_ext needs to build and test, if any
# is missing.  Root uses apt-get directly; a normal user needs sudo.
set -euo pipefail

packages=(gcc make postgresql-server-dev-15 libssl-dev libipc-run-perl
          python3-cryptography openssl perl clang libclang-rt-14-dev
          # the clients and tools users run, for test/t/012_clients.pl and others
          default-jdk-headless libpostgresql-jdbc-java python3-psycopg2 python3-psycopg pgbouncer
          # random SQL for make sqlsmith and its smoke in make test
          sqlsmith)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup_deps: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "setup_deps: missing packages: ${missing[*]}; install them as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
