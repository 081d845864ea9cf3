"""Pure model and rules of imgopt: standard library only."""
