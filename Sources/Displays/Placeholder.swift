// Displays: see docs/ARCHITECTURE.md
