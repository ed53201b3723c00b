"""Reference apps served next to the template so ratios separate framework and template cost."""
