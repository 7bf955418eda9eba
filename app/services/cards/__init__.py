"""The personal service card (服务卡): fields per meeting, role, group and person
(:mod:`.store`), a person's card and the scan reply's headline (:mod:`.resolve`), a spreadsheet of
per-person fields (:mod:`.importer`), and the per-process copy the door reads (:mod:`.book`)."""
