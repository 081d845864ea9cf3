"""The long-running worker: `schedule` loops that call the use cases, and runners that keep threads busy."""
