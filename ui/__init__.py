"""investbot's chat UI, embeddable widget and HTTP API."""
