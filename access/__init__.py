"""Who may do what: roles from the roles file, used by the app's sign-in and by the command line."""
