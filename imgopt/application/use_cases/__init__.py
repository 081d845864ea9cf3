"""Use cases: each a class whose call tells one story."""
