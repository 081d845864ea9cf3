"""`imgopt upload` and `imgopt status`: the command line on top of the Python client, for a running API."""
