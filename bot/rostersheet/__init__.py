"""Spreadsheet rosters (SPEC §6): the duty office's 值班表 read into ``[[shifts]]`` and written back.

- ``layout``: the columns and their headers, Chinese and English;
- ``cells``: dates, times, weekdays, names and phones as offices write them;
- ``reader``: XLSX and CSV files into rows, merged cells filled in;
- ``people``: names matched to roster people;
- ``importer``: rows checked in one pass and turned into shifts;
- ``rosterfile``: the shifts written into the roster TOML file, the rest kept byte for byte;
- ``exporter``: the roster as resolved written out in the same layout;
- ``commands``: ``dutybot roster import`` and ``dutybot roster export``.
"""
