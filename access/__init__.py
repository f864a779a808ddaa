"""Who may see and do what: roles, and the presenter rule that keeps small groups out of shared screens."""
