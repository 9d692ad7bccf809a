#!/usr/bin/env bash
# Runs, without Docker, the npm steps of charts/images/{hub,agent}.Dockerfile in a scratch copy of the
# working tree (uncommitted files included; node_modules, dist and tool folders left out), then checks
# that each production-only install can load its entrypoint:
#   - the agent, given a bad cluster name, exits 1 with "flotilla agent: invalid configuration";
#   - the hub, given PORT=abc, exits 2 with "Invalid hub configuration".
# Both messages are printed only after every statically imported module has loaded, so a dependency
# missing from the production install fails the check. Needs network access to the npm registry
# (or a warm npm cache). Usage: charts/images/check-build-steps.sh [--keep]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/flotilla-image-check.XXXXXX")"
if [[ "${1:-}" == --keep ]]; then
  echo "check-build-steps: keeping $scratch"
else
  trap 'rm -rf "$scratch"' EXIT
fi
STEP_TIMEOUT="${STEP_TIMEOUT:-600}"
NPM_FLAGS=(--no-audit --no-fund --prefer-offline --loglevel=error)

step() {
  echo "check-build-steps: $*"
  timeout "$STEP_TIMEOUT" "$@"
}

# What the Dockerfiles COPY: the root manifests and configs, then every workspace's package.json.
copy_manifests() {
  local into="$1"
  mkdir -p "$into"
  cp "$root/package.json" "$root/package-lock.json" "$into/"
  for workspace in proto hub agent test web; do
    mkdir -p "$into/$workspace"
    cp "$root/$workspace/package.json" "$into/$workspace/"
  done
}

copy_sources() {
  local into="$1"
  shift
  for folder in "$@"; do
    rsync -a --exclude node_modules --exclude dist --exclude '*.tsbuildinfo' "$root/$folder/" "$into/$folder/"
  done
}

# Stage "build" of both Dockerfiles (shared here: the agent's copies a subset of the hub's sources,
# and running both builds in one tree saves an `npm ci`).
build="$scratch/build"
copy_manifests "$build"
cp "$root/nx.json" "$root/tsconfig.base.json" "$build/"
(cd "$build" && step npm ci "${NPM_FLAGS[@]}")
copy_sources "$build" proto agent hub web
(cd "$build" && step npm run build --workspace=proto --workspace=agent)
(cd "$build" && step npm run build --workspace=proto --workspace=hub --workspace=web)

failures=0
expect_exit() {
  local what="$1" want_code="$2" want_text="$3"
  shift 3
  local output code=0
  output="$(timeout 60 "$@" 2>&1)" || code=$?
  if [[ "$code" == "$want_code" && "$output" == *"$want_text"* ]]; then
    echo "check-build-steps: ok: $what exits $code with \"$want_text\""
  else
    echo "check-build-steps: FAIL: $what exited $code (want $want_code with \"$want_text\"):" >&2
    echo "$output" | head -n 20 >&2
    failures=$((failures + 1))
  fi
}

for image in agent hub; do
  # Stage "production-dependencies", then the runtime stage's COPY --from=build of the dist folders.
  runtime="$scratch/$image"
  copy_manifests "$runtime"
  (cd "$runtime" && step npm ci --omit=dev --workspace="$image" --ignore-scripts "${NPM_FLAGS[@]}")
  built_folders=(proto/dist "$image/dist")
  [[ "$image" == hub ]] && built_folders+=(web/dist)
  for built in "${built_folders[@]}"; do
    mkdir -p "$runtime/$built"
    cp -R "$build/$built/." "$runtime/$built/"
  done
  if [[ -e "$runtime/node_modules/typescript" || -e "$runtime/node_modules/vitest" ]]; then
    echo "check-build-steps: FAIL: the $image production install contains dev dependencies" >&2
    failures=$((failures + 1))
  fi
done

# A clean environment, as in the container: only PATH and NODE_ENV, cwd /app-like.
expect_exit 'agent with FLOTILLA_CLUSTER_NAME=Bad_Name' 1 'flotilla agent: invalid configuration' \
  env -i PATH="$PATH" NODE_ENV=production FLOTILLA_HUB_ADDRESS=hub:4001 FLOTILLA_CLUSTER_NAME=Bad_Name \
  bash -c 'cd "$0" && exec node agent/dist/main.js' "$scratch/agent"
expect_exit 'hub with PORT=abc' 2 'Invalid hub configuration' \
  env -i PATH="$PATH" NODE_ENV=production PORT=abc FLOTILLA_DEMO=false \
  bash -c 'cd "$0" && exec node hub/dist/main.js' "$scratch/hub"

if [[ ! -f "$scratch/hub/web/dist/index.html" ]]; then
  echo "check-build-steps: FAIL: the hub image has no dashboard (web/dist/index.html)" >&2
  failures=$((failures + 1))
fi

if ((failures > 0)); then
  echo "check-build-steps: $failures check(s) failed" >&2
  exit 1
fi
echo 'check-build-steps: all checks passed'
