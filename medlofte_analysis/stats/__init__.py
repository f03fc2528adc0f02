"""Statistics for small counts, surveys and comparison groups: one module per method."""
