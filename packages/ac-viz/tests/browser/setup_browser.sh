#!/bin/sh
# Install what the browser tests of ac-viz need: Debian's chromium, and node/npm (the tests
# install mermaid.js from npm into a temporary folder themselves, so nothing is committed).
#
#   packages/ac-viz/tests/browser/setup_browser.sh            # as root (CI), or with sudo
#   packages/ac-viz/tests/browser/setup_browser.sh --mermaid DIR
#       also install mermaid.js into DIR now; then export AC_VIZ_MERMAID_DIR=DIR/node_modules
#       so that test runs reuse it instead of installing it each session.
#
# Exits non-zero if something cannot be installed; the tests then skip, saying why (or fail
# with AC_VIZ_REQUIRE_BROWSER=1).
set -eu

mermaid_dir=""
if [ "${1:-}" = "--mermaid" ]; then
    mermaid_dir="${2:?--mermaid needs a folder}"
fi

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "setup_browser.sh: need root (or sudo) to run: $*" >&2
        return 1
    fi
}

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup_browser.sh: cannot install$missing: no apt-get on this system" >&2
        exit 1
    fi
    as_root apt-get update -qq
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
chromium --version

if [ -n "$mermaid_dir" ]; then
    mkdir -p "$mermaid_dir"
    npm install --no-audit --no-fund --prefix "$mermaid_dir" \
        mermaid11@npm:mermaid@11 mermaid10@npm:mermaid@10.1.0
    echo "export AC_VIZ_MERMAID_DIR=$mermaid_dir/node_modules"
fi
