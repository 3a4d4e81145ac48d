#!/usr/bin/env bash
# Runs scripts/leak-smoke.js once under valgrind memcheck (about a minute) and fails if memcheck
# reports any invalid memory access or any definitely-lost block. "Possibly lost" and "still
# reachable" blocks are listed but not counted: Node keeps much alive at exit, and convnd's own
# pool and scheduler threads live until the process ends by design (their thread stacks show up
# as possibly lost).
#
#   npm run leak-check            # or: LEAK_SMOKE_ROUNDS=5 bash scripts/leak-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  echo "leak-check: valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)" >&2
  exit 1
fi
npm run build:ts >/dev/null
log=$(mktemp /tmp/convnd-memcheck.XXXXXX.log)
status=0
# --smc-check: V8 writes and rewrites machine code outside the stack; memcheck must notice.
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,possible --errors-for-leak-kinds=definite \
  --smc-check=all-non-file --num-callers=40 --error-exitcode=3 --log-file="$log" \
  node scripts/leak-smoke.js || status=$?
grep -E 'definitely lost:|indirectly lost:|possibly lost:|still reachable:|ERROR SUMMARY' "$log" | sed 's/^==[0-9]*== */  /'
echo "leak-check: full memcheck log: $log"
if [ "$status" -ne 0 ]; then
  echo "leak-check: FAIL (exit $status): memcheck found errors or definitely-lost blocks; see $log" >&2
  exit "$status"
fi
echo "leak-check: PASS: no invalid access, nothing definitely lost"
