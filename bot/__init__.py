"""investbot's question -> answer layer and its command line."""
