"""Who may see and do what: roles (from the roles file, for the app's sign-in and the command line), and
the presenter rule that keeps small groups off shared screens."""
