"""investbot's answer tests: eval sets, runner, metrics and reports."""
