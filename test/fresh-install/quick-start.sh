#!/usr/bin/env bash
# The README's quick start, run as a new user runs it on a fresh clone: `npm install`, `npm test`, `npm start`, in an
# environment scrubbed down to HOME, PATH, the locale and what npm needs to reach its registry (a proxy, a CA, its
# npm_config_* settings), so that no ELECTRON_* or ONNXRUNTIME_* switch helps. Asserts that the install succeeds
# without onnxruntime-node's CUDA download, that `npm start` without Electron's binary ends soon with the short
# guidance (not checked where the binary is installed), and that the tests pass without printing anything of their
# own. .ci/run calls it; to try it elsewhere (bash, git and coreutils' timeout):
#   git clone <this repository> /tmp/fresh && /tmp/fresh/test/fresh-install/quick-start.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

fail() {
  echo "quick start: $*" >&2
  exit 1
}

# A fresh clone: nothing installed, built or added beside the committed files.
leftovers=$(git status --porcelain --ignored --untracked-files=normal | head -n 5)
[ -z "$leftovers" ] || fail "run this in a fresh clone (git clone, then this script): this tree already has
$leftovers"

env_args=()
for name in HOME PATH LANG LC_ALL http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS; do
  [ -n "${!name:-}" ] && env_args+=("$name=${!name}")
done
for name in $(compgen -e); do
  case "$(printf %s "$name" | tr '[:upper:]' '[:lower:]')" in
    *electron* | *onnxruntime*) ;;
    npm_config_*) env_args+=("$name=${!name}") ;;
  esac
done
clean() { env -i "${env_args[@]}" "$@"; }

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

echo '== npm install'
clean npm install 2>&1 | tee "$logs/install.log" || fail 'npm install failed (its output is above)'
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  # The one file onnxruntime-node's install step would have downloaded (from NuGet) on this platform.
  cuda=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
  [ ! -e "$cuda" ] || fail "npm install downloaded onnxruntime-node's CUDA libraries ($cuda): the project's .npmrc should skip that"
fi

# The tests before `npm start`: where Electron's binary can be downloaded, `npm start` installs it, and the
# Electron tests would then need a display that a CI container lacks (without the binary they are skipped).
echo '== npm test'
clean npm test 2>&1 | tee "$logs/test.log" || fail 'npm test failed (its output is above)'
# A passing run is quiet: a test asserts what it expects to go wrong instead of printing it (vitest heads what a
# test prints with "stdout |" or "stderr |"), and nothing tries to download Electron.
if grep -nE '^(stdout|stderr) \| |fetch failed|Downloading Electron' "$logs/test.log"; then
  fail 'npm test passed but printed the lines above: assert what a test expects instead of printing it'
fi

# Electron 45 fetches its binary on first use; electron's index.js finds it as path.txt names it under dist/.
electron_installed() {
  [ -f node_modules/electron/path.txt ] && [ -e "node_modules/electron/dist/$(cat node_modules/electron/path.txt)" ]
}
if electron_installed; then
  echo "== npm start: Electron's binary is installed here, so the guidance for a machine without it is not checked"
else
  echo "== npm start, without Electron's binary: it must end within 4 minutes and say what to do"
  code=0
  clean timeout -k 10 240 npm start >"$logs/start.log" 2>&1 || code=$?
  cat "$logs/start.log"
  if electron_installed; then
    echo "npm start downloaded Electron's binary here: the guidance for a machine that cannot is not checked"
  else
    [ "$code" -ne 124 ] && [ "$code" -ne 137 ] || fail 'npm start neither started nor ended within 4 minutes'
    [ "$code" -ne 0 ] || fail "npm start exited 0 without Electron's binary"
    grep -q 'npx install-electron' "$logs/start.log" || fail "npm start did not say how to install Electron's binary (npx install-electron)"
    grep -q 'npx tsuzuki serve' "$logs/start.log" || fail 'npm start did not say that npx tsuzuki serve opens the editor meanwhile'
    [ "$(grep -c . "$logs/start.log")" -le 12 ] || fail 'npm start said more than a short message'
  fi
fi

echo '== quick start: installed, tests passed, npm start said what to do'
