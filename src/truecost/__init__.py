"""truecost."""
