// CargoStore: see docs/ARCHITECTURE.md
