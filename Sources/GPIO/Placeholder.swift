// GPIO: see docs/ARCHITECTURE.md
