#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# eslint (pinned in tests/browser/package.json) over the browser UI and the
# browser tests, with eslint.config.js at the top of the source tree.
# Usage: lint.sh SOURCE-ROOT. A missing eslint is a failure.
set -euo pipefail
src=${1:?usage: lint.sh SOURCE-ROOT}
eslint=$src/tests/browser/node_modules/.bin/eslint
if [[ ! -x $eslint ]]; then
        echo "eslint is not installed: run npm ci --prefix $src/tests/browser" >&2
        exit 1
fi
command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
cd "$src"
exec "$eslint" --max-warnings 0 web-bridge/ui tests/browser eslint.config.js
