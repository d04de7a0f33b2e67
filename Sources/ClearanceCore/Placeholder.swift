// ClearanceCore: see docs/ARCHITECTURE.md
