#!/bin/bash
# Builds rs_ttest.ko and rstaprun, then runs guest.sh in one VM boot (scripts/vm-run.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ko=$("$root/tests/transport/build.sh" "$root/target/rs_ttest")
(cd "$root" && cargo build --release --bin rstaprun)
exec "$root/scripts/vm-run.sh" -- bash "$root/tests/transport/guest.sh" "$root/target/release/rstaprun" "$ko"
