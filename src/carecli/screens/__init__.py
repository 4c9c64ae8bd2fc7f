"""Screens of the app: search, order (with the amend session), billing account, dialogs, help."""
