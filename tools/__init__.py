"""Developer tools that are not part of the application (screenshots, the demo server behind them)."""
