"""imgopt."""
