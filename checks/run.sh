#!/usr/bin/env bash
# `make check-exports`: render every trainer export with its data (app venv), then read each with
# the trainer's own parser and data loader in its pinned venv (.venv-checks/<tool>), offline.
# Usage: checks/run.sh [TOOL...]   (default: llamafactory axolotl); APP_PYTHON picks the app venv.
set -euo pipefail
cd "$(dirname "$0")/.."
app_python=${APP_PYTHON:-.venv/bin/python}
tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(llamafactory axolotl)
out=${CHECK_EXPORTS_DIR:-$(mktemp -d)}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PYTHONPATH=. "$app_python" checks/render_exports.py "$out"
status=0
for tool in "${tools[@]}"; do
  bash checks/venv.sh "$tool"
  start=$(date +%s)
  ".venv-checks/$tool/bin/python" "checks/check_$tool.py" "$out" >"$out/$tool.log" 2>&1 || status=1
  grep -E '^(ok|FAIL) ' "$out/$tool.log" || true
  tail -n 1 "$out/$tool.log"
  echo "checks: $tool read its exports in $(($(date +%s) - start)) s (log: $out/$tool.log)"
done
exit $status
