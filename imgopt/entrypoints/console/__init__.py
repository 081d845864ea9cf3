"""The web console: a static page served by the API at `/`, talking to the same API from the browser."""
