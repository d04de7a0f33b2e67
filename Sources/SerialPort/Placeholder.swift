// SerialPort: see docs/ARCHITECTURE.md
