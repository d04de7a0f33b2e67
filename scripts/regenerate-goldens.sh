#!/usr/bin/env bash
# Re-renders the display goldens (Tests/DisplaysTests/Goldens) and the
# README's pictures (docs/screens) after an intended change to the screens.
# Look at the new images (git diff shows which changed) before committing.
# Usage: scripts/regenerate-goldens.sh [extra swift test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export SDL_VIDEODRIVER=offscreen TZ=UTC LANEKIOSK_REGENERATE_GOLDENS=1
rm -rf Tests/DisplaysTests/Goldens
swift test --filter 'DisplaysTests.GoldenImageTests/screensMatchTheirGoldens' "$@"
echo "regenerated: $(find Tests/DisplaysTests/Goldens -name '*.png' | wc -l) goldens," \
    "$(du -sh Tests/DisplaysTests/Goldens | cut -f1); pictures in docs/screens"
