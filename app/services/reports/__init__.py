"""Per-meeting reports (issue 16): one registry of kinds (:mod:`.registry`), builders that read the
database into rows (:mod:`.people`, :mod:`.activity`, :mod:`.outcomes`, :mod:`.summary`), and two
writers of the same rows: xlsx (:mod:`.xlsx`) for working with, PDF (:mod:`.pdf`) for filing."""
