#!/usr/bin/env bash
# Installs the Debian packages privacy_ext needs to build and test, if any
# is missing.  Root uses apt-get directly; a normal user needs sudo.
set -euo pipefail

# libkrb5-dev: Debian's server headers include gssapi/gssapi.h (libpq-be.h,
# PostgreSQL built with GSSAPI) but libpq-dev no longer pulls it in.
packages=(gcc make postgresql-server-dev-15 libkrb5-dev libssl-dev libipc-run-perl
          python3-cryptography openssl perl clang libclang-rt-14-dev
          # the clients and tools users run, for test/t/012_clients.pl and others
          default-jdk-headless libpostgresql-jdbc-java python3-psycopg2 python3-psycopg pgbouncer
          # the KMIP client of bin/privacy_ext_kmip_key and the server of test/t/017_kmip.pl
          python3-pykmip
          # random SQL for make sqlsmith and its smoke in make test
          sqlsmith)

# Optional: headless Chromium, for test/t/020_report_browser.pl (it renders
# the HTML report).  Large, so PRIVACY_NO_CHROMIUM=1 leaves it out; if it
# cannot be installed, setup goes on and that test skips.
optional=(chromium)
[ -n "${PRIVACY_NO_CHROMIUM:-}" ] && optional=()

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
optional_missing=()
for p in "${optional[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        optional_missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && [ ${#optional_missing[@]} -eq 0 ] && exit 0
if [ ${#missing[@]} -eq 0 ] && [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup_deps: optional packages not installed: ${optional_missing[*]}" >&2
    exit 0
fi

echo "setup_deps: installing ${missing[*]} ${optional_missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "setup_deps: missing packages: ${missing[*]}; install them as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q >/dev/null || [ ${#missing[@]} -eq 0 ]
[ ${#missing[@]} -eq 0 ] ||
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
if [ ${#optional_missing[@]} -gt 0 ] &&
   ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${optional_missing[@]}" >/dev/null 2>&1; then
    echo "setup_deps: could not install optional ${optional_missing[*]}; the tests needing them skip" >&2
fi
