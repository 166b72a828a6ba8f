#!/usr/bin/env bash
# Create (or reuse) the pinned virtualenv of one export checker: .venv-checks/<tool>.
# torch==2.13.0 (the CPU build) goes in first and stays: every later install is constrained to
# it, so no requirement pulls a CUDA build. The tools' pins clash with each other and with the
# app's, hence one venv each.
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$1
python=${PYTHON:-python3}
venv=.venv-checks/$tool
req=checks/requirements/$tool
stamp=$venv/.installed
if [[ -f $stamp ]] && [[ -z $(find checks/requirements checks/venv.sh -newer "$stamp" -print -quit) ]]; then
  exit 0
fi
start=$(date +%s)
rm -rf "$venv"
"$python" -m venv "$venv"
pin=$(mktemp)
trap 'rm -f "$pin"' EXIT
echo "torch==2.13.0" >"$pin"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet -c "$pin" torch==2.13.0
"$venv/bin/pip" install --quiet -c "$pin" -r "$req.txt"
if [[ -f $req.with-torch.txt ]]; then
  # Their setup.py imports torch: build them against this venv's (DS_BUILD_OPS=0: no kernels
  # are compiled at install; DeepSpeed builds them when a GPU run needs them).
  DS_BUILD_OPS=0 "$venv/bin/pip" install --quiet --no-build-isolation -c "$pin" -r "$req.with-torch.txt"
fi
"$venv/bin/pip" check
if [[ -f $req.remove.txt ]]; then
  grep -v '^#' "$req.remove.txt" | xargs "$venv/bin/pip" uninstall --quiet --yes
fi
touch "$stamp"
echo "checks: $venv ready in $(($(date +%s) - start)) s, $(du -sh "$venv" | cut -f1)"
