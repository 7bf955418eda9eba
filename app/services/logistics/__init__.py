"""Logistics for larger meetings: the people to place (people.py), hotels and rooms, seats, meals
and buses, badges. Each part reads the meeting's people through :func:`people.roster`."""
