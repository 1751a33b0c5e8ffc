#!/usr/bin/env bash
# The size an embedder pays for eddy: examples/api.rs built with the release
# profile and stripped, against a budget.
#
#   bash bench/size.sh            # prints the sizes; exits 1 over budget
#
# The budget is the stripped size of the smallest eddy app before the library
# API of issue 11 (examples/hello.rs at 189cf51, rustc 1.95.0, this repo's
# release profile): 615,096 bytes. The API grew; the binary must not. Another
# toolchain moves every figure, so compare like with like: rebuild the old
# commit with the same rustc before blaming a change.
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${SIZE_BUDGET:-615096}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for features in "" "--no-default-features"; do
    cargo build --release --example api $features -q
    cp target/release/examples/api "$tmp/api"
    strip "$tmp/api"
    size=$(stat -c %s "$tmp/api")
    verdict="within budget"
    if [ "$size" -gt "$BUDGET" ]; then verdict="OVER BUDGET"; status=1; fi
    printf 'examples/api %-22s %8d bytes stripped (budget %d): %s\n' \
        "${features:-(default features)}" "$size" "$BUDGET" "$verdict"
done
exit $status
