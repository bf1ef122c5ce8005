# Sourced by the other scripts: a virtualenv in .venv with firmly and its pinned dependencies.
set -euo pipefail
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
# firmly's own byte-code, made here (again only for files that changed): where PYTHONDONTWRITEBYTECODE is set,
# as on CI machines, every `firmly` command would otherwise compile its ~130 modules as it starts (~0.25 s)
.venv/bin/python -m compileall -q -j 0 src >/dev/null
# The web UI's browser code (htmx, Chart.js) from the npm registry, pinned by package-lock.json; again
# only when the lock file changed. Without npm the UI still works, without charts and live search.
ASSETS=src/firmly/doors/web/assets
if command -v npm >/dev/null 2>&1; then
  if [ ! -f "$ASSETS/node_modules/.package-lock.json" ] || [ "$ASSETS/package-lock.json" -nt "$ASSETS/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$ASSETS" --silent --no-audit --no-fund
  fi
  # axe-core for the accessibility checks of the browser tests (a dev dependency, pinned by its lock file)
  if [ ! -f tests/browser/node_modules/.package-lock.json ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    npm ci --prefix tests/browser --silent --no-audit --no-fund
  fi
else
  echo "npm is not installed: the web UI will run without charts and live search" >&2
fi
