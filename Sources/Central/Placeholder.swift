// Central: see docs/ARCHITECTURE.md
