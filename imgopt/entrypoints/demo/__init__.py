"""`imgopt demo`: the whole job end to end on this machine, nothing to install, nothing downloaded."""
