#!/usr/bin/env bash
# Build the Pulumi CLI and its language hosts from Go modules (the module proxy), never from release
# binaries. Called by `make pulumi`; idempotent and fast when nothing changed (Go's module and build
# caches, and a stamp of what was built).
#
#   tools/pulumi/build.sh VERSION OUT_DIR
#
# VERSION is the exact `pulumi==X.Y.Z` pin of pyproject.toml (the one place the version lives): the CLI
# (module github.com/pulumi/pulumi/pkg/v3) and the files copied from the SDK module (the Python exec
# script and the dynamic-provider plugin) are built at vVERSION.
#
# The language hosts (Python, Node.js, Go) are modules of their own that Pulumi never tags; the module
# proxy serves them only at a few pseudo-versions, the newest being HOSTS_VERSION below (2025-08-06,
# eight commits before v3.188.0; every newer commit answers 403). Their main packages do not compile
# against the pinned SDK (its LanguageRuntime interface has grown since), so they are built in a module
# of their own against the SDK of their era, HOSTS_SDK. The CLI talks to them over the language host gRPC
# protocol, which is versioned for exactly this; see README ("The Pulumi CLI, built here").
#
# One upstream fix is backported into the hosts' build: Go 1.26 made filepath.Rel clean its result, and
# the Node.js code generator of the hosts' era (pkg HOSTS_SDK, codegen/nodejs getRelativePath) turned that
# into wrong relative imports in every generated SDK's types/ folder ("./types/input" for "../types/input";
# `tsc` rejects them). The hosts build against a copy of that pkg module (a `replace` in the throwaway
# wrapper; the module cache is never edited, and Go refuses overlays there) whose getRelativePath is
# upstream's later one: clean the result, no path.Dir.
set -euo pipefail

VERSION=${1:?usage: build.sh VERSION OUT_DIR}
OUT=${2:?usage: build.sh VERSION OUT_DIR}
HOSTS_VERSION=v3.0.0-20250806165243-bee5e4fa4815
HOSTS_SDK=v3.188.0
HOSTS=(sdk/python/cmd/pulumi-language-python/v3 sdk/nodejs/cmd/pulumi-language-nodejs/v3 sdk/go/pulumi-language-go/v3)

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAMP="$OUT/.built"
WANT="cli=v$VERSION hosts=$HOSTS_VERSION@$HOSTS_SDK+nodejs-relpath-fix"

# A pulumi on PATH (outside OUT) at or above the pin is used as it is, with the language hosts beside it.
ambient=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$OUT" | paste -sd: -) command -v pulumi || true)
if [ -n "$ambient" ]; then
  have=$("$ambient" version 2>/dev/null | sed 's/^v//')
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$VERSION" "${have%%-*}" | sort -V | head -1)" = "$VERSION" ]; then
    echo "pulumi: using $ambient (v$have >= v$VERSION)"
    exit 0
  fi
fi

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$OUT/pulumi" ] && [ -x "$OUT/pulumi-language-python" ]; then
  echo "pulumi: v$VERSION already built in $OUT"
  exit 0
fi

command -v go >/dev/null || { echo "pulumi: Go is needed to build the Pulumi CLI (go.dev/dl; 1.24 or later)" >&2; exit 1; }
export GOFLAGS=-mod=mod CGO_ENABLED=0
SRC="$OUT/../src"
LDFLAGS_VERSION=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
TAGS=osusergo,grpcnotrace
started=$(date +%s)

# A throwaway wrapper module per build: `go install mod@version` refuses pkg/v3 (its go.mod has replace
# lines); requiring it from a module of our own works, and Go ignores a dependency's replace lines.
quietly() {  # quietly LOG COMMAND...: run, and show the log only when it fails
  local log=$1; shift
  "$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
}

wrapper() {  # wrapper DIR MODULE PACKAGE... : a module in DIR that imports PACKAGE...
  local dir=$1 module=$2; shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  printf 'module %s\n\ngo 1.24\n' "$module" > "$dir/go.mod"
  { echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    for package in "$@"; do echo "	_ \"$package\""; done; echo ')'; } > "$dir/tools.go"
}

patched_pkg() {  # patched_pkg MODULE_DIR: ./pkg, a copy of the pkg module with the Node.js codegen fix, replacing it
  local gen=codegen/nodejs/gen.go broken='	return path.Dir(filepath.ToSlash(rel))'
  grep -qxF "$broken" "$1/$gen" || { echo "pulumi: $1/$gen no longer has the line the backport fixes" >&2; return 1; }
  rm -rf pkg && cp -R "$1" pkg && chmod -R u+w pkg
  sed -i 's|^	return path.Dir(filepath.ToSlash(rel))$|	return filepath.ToSlash(filepath.Clean(rel))|' "pkg/$gen"
  go mod edit -replace github.com/pulumi/pulumi/pkg/v3=./pkg
}

echo "pulumi: building the CLI v$VERSION from Go modules (cold: about 4 minutes on 2 cores) ..."
wrapper "$SRC/cli" vaultspec.local/pulumi-cli github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
(cd "$SRC/cli" && quietly get.log go get "github.com/pulumi/pulumi/pkg/v3@v$VERSION" "github.com/pulumi/pulumi/sdk/v3@v$VERSION" \
  && go build -trimpath -tags "$TAGS" -ldflags "-s -w -X $LDFLAGS_VERSION=v$VERSION" -o "$OUT/" \
       github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)

echo "pulumi: building the language hosts ($HOSTS_VERSION against sdk $HOSTS_SDK) ..."
packages=()
for host in "${HOSTS[@]}"; do packages+=("github.com/pulumi/pulumi/$host"); done
wrapper "$SRC/hosts" vaultspec.local/pulumi-language-hosts "${packages[@]}"
(cd "$SRC/hosts" && quietly get.log go get "github.com/pulumi/pulumi/pkg/v3@$HOSTS_SDK" "github.com/pulumi/pulumi/sdk/v3@$HOSTS_SDK" \
    $(for p in "${packages[@]}"; do echo "$p@$HOSTS_VERSION"; done) \
  && patched_pkg "$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/pkg/v3)" \
  && go build -trimpath -tags "$TAGS" -ldflags "-s -w -X $LDFLAGS_VERSION=${HOSTS_SDK}" -o "$OUT/" "${packages[@]}")

# Files of the SDK module the Python host needs beside its binary (found via os.Executable, not PATH).
sdk=$(cd "$SRC/cli" && go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/sdk/v3")
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$sdk/python/dist/pulumi-resource-pulumi-python" "$OUT/"

echo "$WANT" > "$STAMP"
echo "pulumi: built $("$OUT/pulumi" version) and its language hosts into $OUT in $(( $(date +%s) - started ))s"
