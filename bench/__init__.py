"""`make bench`: load the baked template and bare baselines side by side and report ratios."""
