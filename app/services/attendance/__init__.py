"""Attendance across meetings (考勤): per person, per unit and per meeting over a date range or a
list of meetings (:mod:`.query`), its exports (:mod:`.export`, xlsx and a PDF with real CJK text
drawn by :mod:`.pdf`), and a unit office's view of its own people (:mod:`.unit_office`)."""
