"""Browser-facing pages: attendee H5 (/m), organizer console (/admin), unit offices (/units),
the big screen (/screen), and health checks."""
