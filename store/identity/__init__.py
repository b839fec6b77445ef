"""Identity: who is acting (``acting``), the council's roles and permissions (``roles``),
passwords, web sessions, access tokens and sign-in links, and the council's own details."""
