#!/usr/bin/env bash
# Writes man/lanectl.1 from lanectl's own command tree (mdoc, one page with
# every subcommand and option). The renderer is swift-argument-parser's
# generate-manual, the tool behind its generate-manual plugin, run on lanectl
# alone: the plugin itself would build every product of the package first.
# Run it after changing a command, option or help text, and commit the page;
# lanectlTests fails while the page misses a command or option.
#
# Usage: scripts/make-man.sh [--scratch-path DIR]   (default .build)
# Install: install -D -m 0644 man/lanectl.1 /usr/local/share/man/man1/lanectl.1
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build
if [ "${1:-}" = "--scratch-path" ]; then scratch=$2; fi

swift build --scratch-path "$scratch" --product lanectl -q
swift build --scratch-path "$scratch" --product generate-manual -q
bin=$(swift build --scratch-path "$scratch" --show-bin-path)
# The date of the last change to lanectl's sources, so regenerating an
# unchanged tool gives an unchanged page.
date=$(git log -1 --format=%cs -- Sources/lanectl 2>/dev/null || true)
"$bin/generate-manual" "$bin/lanectl" --date "${date:-$(date +%F)}" --section 1 --output-directory man
echo "wrote man/lanectl.1"
