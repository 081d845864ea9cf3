"""The `imgopt` command: the service's commands, the operator's key commands, and the client's."""
