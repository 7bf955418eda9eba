"""Registration (报名): forms per role, people registering themselves or their unit's delegation,
the organizer's decision, and the list and export.

- :mod:`.fields`: the standard field catalog and custom kinds, every value checked with a code
- :mod:`.idnumbers`: 居民身份证号: checksum, encryption, masking, digest
- :mod:`.uploads`: a photo or file field's upload, checked by its content
- :mod:`.forms`: the organizer's forms (create, update, publish)
- :mod:`.submit`: one submission of one or several people, all or nothing
- :mod:`.decide`: approve (into the directory and the invitee list), refuse, tag
- :mod:`.query`: filters, pages, "my registrations", the xlsx export job
"""
