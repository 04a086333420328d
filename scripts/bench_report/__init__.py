"""scripts/bench-report's parts: results (loading), tables (Markdown), charts (gnuplot)."""
