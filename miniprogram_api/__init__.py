"""Front door for the mini program: JSON API under /api/mp/v1."""
