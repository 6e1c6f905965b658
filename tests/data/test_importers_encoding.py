"""Exports in another text encoding than UTF-8: `--encoding`, and a mapping's `encoding`."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipelines.data.importers.csv_mapping import import_csv
from pipelines.data.importers.hubspot import import_hubspot
from pipelines.data.importers.salesforce import import_salesforce
from pipelines.data.tables import TABLES
from pipelines.errors import InputError

from .test_cli import funnelpact

HEADER = "Record ID,First Name,Create Date,Became a Lead Date,Job Title,Persona,Country/Region\r\n"
# Excel's "CSV (Comma delimited)" on Windows: Windows-1252, where '€' is 0x80 and '’' 0x92.
CONTACTS = (HEADER + "1,José,2026-01-05 10:00,2026-01-05 10:00,CEO,José’s budget (€50k),España\r\n"
            "2,Zoë,2026-01-06 11:00,2026-01-06 11:00,Head of Growth,Champion,Côte d’Ivoire\r\n")


def read(out: Path, table: str) -> list[tuple]:
    with (out / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == TABLES[table].column_names
        return [tuple(v or None for v in row) for row in reader]


def everything_in(folder: Path) -> list[str]:
    """Every entry of `folder` and its subfolders, hidden ones too (a staging folder)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_windows_1252_hubspot_export_is_written_as_utf8_with_its_accents_and_symbols(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_bytes(CONTACTS.encode("cp1252"))
    imported = import_hubspot(export, tmp_path / "out", timezone="UTC", encoding="Windows-1252")
    assert imported.rows == {"contacts": 2, "lifecycle_events": 2}
    assert [(r[0], r[3], r[5]) for r in read(tmp_path / "out", "contacts")] == [
        ("1", "José’s budget (€50k)", "España"), ("2", "Champion", "Côte d’Ivoire")]
    assert "José’s budget (€50k)".encode() in (tmp_path / "out" / "contacts.csv").read_bytes()
    assert not [n for n in imported.notes if "UTF-8" in n]  # no mojibake warning for real cp1252
    # The UTF-8 copy went with the staging folder: --out holds the tables only.
    assert everything_in(tmp_path / "out") == ["contacts.csv", "lifecycle_events.csv"]


def test_without_its_encoding_a_windows_1252_export_is_refused_naming_its_line_and_the_option(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_bytes(CONTACTS.encode("cp1252"))
    with pytest.raises(InputError) as exc:
        import_hubspot(export, tmp_path / "out")
    assert str(exc.value) == (f"{export}:2: not UTF-8 text (save or export the file as UTF-8 CSV, or give its "
                              "encoding: --encoding cp1252 for Excel's 'CSV' saved on Windows)")
    assert not (tmp_path / "out").exists()


def test_every_salesforce_export_is_read_in_the_encoding_given(tmp_path):
    leads, history = tmp_path / "Lead.csv", tmp_path / "LeadHistory.csv"
    leads.write_bytes(('"Id","CreatedDate","Status","IsConverted","ConvertedDate","LeadSource","Country"\n'
                       '"00Q1","2026-01-05T10:00:00.000Z","MQL","false","","Feria","Österreich"\n'
                       '"00Q2","2026-01-06T10:00:00.000Z","Nurturing","false","","Web","España"\n').encode("latin-1"))
    history.write_bytes(('"LeadId","CreatedDate","Field","NewValue"\n'
                         '"00Q1","2026-01-07T10:00:00.000Z","Status","Marketing Qualified"\n'
                         '"00Q2","2026-01-08T10:00:00.000Z","Status","Información"\n').encode("latin-1"))
    import_salesforce(leads, tmp_path / "out", lead_history=history, encoding="ISO-8859-1")
    assert [(r[0], r[2], r[5]) for r in read(tmp_path / "out", "contacts")] == [
        ("00Q1", "Feria", "Österreich"), ("00Q2", "Web", "España")]
    # A status no stage knows is written as it is, lower-cased, for the agreement's crm_values.
    assert ("00Q2", "información", "2026-01-08T10:00:00Z") in [r[:3] for r in read(tmp_path / "out", "lifecycle_events")]


def test_a_mapping_reads_utf16_tab_separated_text_and_a_table_may_give_its_own_encoding(tmp_path):
    # Excel's "Unicode Text": UTF-16 with its byte order mark, tab-separated.
    (tmp_path / "people.txt").write_bytes(("Person ID\tSigned up\tChannel\r\n"
                                           "P-1\t2026-01-05 09:15\tBoletín\r\n"
                                           "P-2\t2026-01-06 11:00\t東京セミナー\r\n").encode("utf-16"))
    (tmp_path / "deals.csv").write_bytes(("Deal;Person;Opened;Outcome;Value;Moneda\n"
                                          "D-1;P-1;2026-02-01 10:00;Abierto;100;€\n").encode("cp1252"))
    mapping = tmp_path / "crm.yaml"
    mapping.write_text("encoding: UTF-16\ntables:\n"
                       "  contacts: {file: people.txt, columns: {contact_id: Person ID, created_at: Signed up, "
                       "source: Channel}}\n"
                       "  lifecycle_events: {file: people.txt, columns: {contact_id: Person ID}, "
                       "stage_columns: {lead: Signed up}}\n"
                       "  deals: {file: deals.csv, encoding: cp1252, columns: {deal_id: Deal, contact_id: Person, "
                       "created_at: Opened, status: Outcome, amount: Value, currency: Moneda}, "
                       "values: {status: {Abierto: open}}}\n")
    imported = import_csv(mapping, tmp_path / "out")
    assert imported.rows == {"contacts": 2, "lifecycle_events": 2, "deals": 1}
    assert [(r[0], r[2]) for r in read(tmp_path / "out", "contacts")] == [("P-1", "Boletín"), ("P-2", "東京セミナー")]
    assert read(tmp_path / "out", "deals") == [("D-1", "P-1", "2026-02-01T10:00:00Z", None, "open", "100", "€")]
    assert everything_in(tmp_path / "out") == ["contacts.csv", "deals.csv", "lifecycle_events.csv"]


def test_a_byte_the_encoding_lacks_names_the_export_and_its_line_and_leaves_nothing_behind(tmp_path):
    """cp1252 leaves 0x81 undefined. Past the first chunk converted, after lines ending in CR
    only inside a quoted value: the line is the export's as an editor counts it."""
    export = tmp_path / "contacts.csv"
    rows = "".join(f"{i},2026-01-05 10:00,2026-01-05 10:00,Jefe de área {i}\n" for i in range(30_000))
    body = "Record ID,Create Date,Became a Lead Date,Job Title\n"
    export.write_bytes((body + rows + '30000,2026-01-05 10:00,2026-01-05 10:00,"two\rlines"\n').encode("cp1252")
                       + b"30001,2026-01-05 10:00,2026-01-05 10:00,CEO \x81\n")
    assert export.stat().st_size > 1 << 20
    out = tmp_path / "out"
    out.mkdir()
    (out / "contacts.csv").write_text("kept\n")
    with pytest.raises(InputError) as exc:
        import_hubspot(export, out, encoding="cp1252")
    offset = export.read_bytes().index(b"\x81")
    assert str(exc.value) == (
        f"{export}:30004: byte 0x81 is not cp1252 text (character maps to <undefined>, at byte {offset:,} of the "
        "file): expected text in cp1252, as --encoding says; give the encoding the export was saved in, such as "
        "utf-8 (the default), cp1252 or windows-1252 (Excel's 'CSV' saved on Windows), latin-1, iso-8859-15, "
        "utf-16 (Excel's 'Unicode Text'), shift_jis")
    # Nothing half-written: --out as it was, without the staging folder or the copy.
    assert everything_in(out) == ["contacts.csv"] and (out / "contacts.csv").read_text() == "kept\n"


def test_bytes_that_are_not_utf16_name_their_line_past_a_character_split_between_chunks(tmp_path):
    """A lone surrogate (0xdc00) after 1 MiB of UTF-16, the 1 MiB chunks converted at once
    splitting the four bytes of an emoji between them."""
    export = tmp_path / "people.txt"
    rows = (1 << 20) // 60 - 3  # of 60 bytes each: the emojis' line is the one at 1 MiB
    lines = ["Person ID\tSigned up"] + [f"P-{i:05}\t2026-01-05 09:15 — ñ" for i in range(rows)]
    text = "\r\n".join(lines) + "\r\n"
    start = len(text.encode("utf-16")) + len("P-e\t".encode("utf-16-le"))  # of the emojis
    assert start < 1 << 20 < start + 400
    pad = "x" if (1 << 20) % 4 != (start + 2) % 4 else ""  # a 2-byte character moves the emojis
    text += "P-e\t" + pad + "🙂" * 100 + "\r\n"
    assert (1 << 20) % 4 == (start + len(pad) * 2 + 2) % 4  # the chunk ends inside an emoji
    export.write_bytes(text.encode("utf-16") + "P-x\t".encode("utf-16-le") + b"\x00\xdc" + "x\r\n".encode("utf-16-le"))
    mapping = tmp_path / "crm.yaml"
    mapping.write_text("tables:\n  contacts: {file: people.txt, encoding: utf-16, "
                       "columns: {contact_id: Person ID, created_at: Signed up}}\n")
    with pytest.raises(InputError) as exc:
        import_csv(mapping, tmp_path / "out")
    offset = len(text.encode("utf-16")) + 8
    assert str(exc.value).startswith(
        f"{export}:{rows + 3}: bytes 0x00 0xdc are not utf-16 text (illegal encoding, at byte {offset:,} of the file): "
        "expected text in utf-16, as crm.yaml's tables.contacts.encoding says; give the encoding")
    assert not (tmp_path / "out").exists()


def test_a_utf8_export_read_as_utf16_is_refused_not_read_as_nonsense(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_text(CONTACTS, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        import_hubspot(export, tmp_path / "out", encoding="utf-16")
    assert str(exc.value).startswith(
        f"{export}:1: not utf-16 text (UTF-16 stream does not start with BOM): expected text in utf-16, as "
        "--encoding says; for UTF-16 without a byte order mark give utf-16-le or utf-16-be; else give the encoding")


def test_messages_after_the_conversion_name_the_export_and_its_lines_not_the_copy(tmp_path):
    """The copy is read; the export is named. A refused value's line is found in the copy, past
    a quoted value over two lines, and is the export's."""
    leads = tmp_path / "Lead.csv"
    leads.write_bytes(("Id,CreatedDate,Title,IsConverted,ConvertedDate\n"
                       '00Q1,2026-01-01T00:00:00Z,"Jefe de\nÁrea",false,\n'
                       "00Q2,2026-01-01T00:00:00Z,Director,Sí,2026-01-02\n").encode("latin-1"))
    with pytest.raises(InputError) as exc:
        import_salesforce(leads, tmp_path / "out", encoding="latin-1")
    assert str(exc.value) == (f"{leads}:4 IsConverted: 'Sí' is not a yes/no value; expected true/false, yes/no "
                              "or 1/0 (any case)")
    ragged = tmp_path / "contacts.csv"
    ragged.write_bytes((HEADER + "1,José,2026-01-05 10:00\r\n").encode("cp1252"))
    with pytest.raises(InputError) as exc:
        import_hubspot(ragged, tmp_path / "out", encoding="cp1252")
    assert str(exc.value) == f"{ragged}:2: 3 values, expected 7 (one per column of the header)"
    blank = tmp_path / "blank.csv"
    blank.write_bytes(("\r\n" + CONTACTS).encode("cp1252"))
    with pytest.raises(InputError, match=rf"^{blank}:1: the line is blank"):
        import_hubspot(blank, tmp_path / "out", encoding="cp1252")
    assert not (tmp_path / "out").exists()


def test_a_salesforce_report_footer_of_a_converted_export_is_named_as_the_export_s(tmp_path):
    leads = tmp_path / "Lead.csv"
    leads.write_bytes(("Id,CreatedDate,Status,IsConverted,ConvertedDate,Country\n"
                       "00Q1,2026-01-05 10:00,MQL,false,,Österreich\n\n"
                       '"Leads — Österreich"\n"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
                       ).encode("cp1252"))
    imported = import_salesforce(leads, tmp_path / "out", timezone="Europe/Vienna", encoding="cp1252")
    assert "note: Lead.csv: left out the report footer Salesforce adds (lines 3-5)" in imported.notes
    assert read(tmp_path / "out", "contacts")[0][5] == "Österreich"


@pytest.mark.parametrize("encoding", ["klingon", "", "base64", "rot13"])
def test_an_unknown_encoding_is_refused_naming_the_option_with_examples(tmp_path, encoding):
    with pytest.raises(InputError) as exc:
        import_hubspot(tmp_path / "contacts.csv", tmp_path / "out", encoding=encoding)
    assert str(exc.value) == (f"--encoding: unknown encoding {encoding!r}; expected a text encoding Python knows "
                              "(in any case), such as utf-8 (the default), cp1252 or windows-1252 (Excel's 'CSV' "
                              "saved on Windows), latin-1, iso-8859-15, utf-16 (Excel's 'Unicode Text'), shift_jis")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("mapping, field", [
    ("encoding: cp-1252\ntables:\n  contacts: {file: people.csv, columns: {contact_id: Id}}\n", ":1:1 encoding"),
    ("tables:\n  contacts: {file: people.csv, columns: {contact_id: Id}}\n"
     "  deals: {file: deals.csv, encoding: cp-1252, columns: {deal_id: Id}}\n", ":3:28 tables.deals.encoding"),
])
def test_a_mapping_s_unknown_encoding_is_refused_naming_its_field_before_any_file_is_read(tmp_path, mapping, field):
    (tmp_path / "people.csv").write_bytes(b"Id\n\x81\n")  # not read: the name is checked first
    (tmp_path / "crm.yaml").write_text(mapping)
    with pytest.raises(InputError) as exc:
        import_csv(tmp_path / "crm.yaml", tmp_path / "out")
    assert str(exc.value).startswith(f"{tmp_path / 'crm.yaml'}{field}: unknown encoding 'cp-1252'; expected a text "
                                     "encoding Python knows (in any case), such as utf-8 (the default)")


def test_a_utf8_export_read_as_windows_1252_is_imported_with_a_warning_naming_a_garbled_value(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_text(CONTACTS, encoding="utf-8")
    imported = import_hubspot(export, tmp_path / "out", timezone="UTC", encoding="cp1252")
    assert imported.notes[0] == (
        "warning: contacts.csv: read as cp1252 (--encoding), but the file is valid UTF-8 text: if it was saved as "
        "UTF-8, its accents and symbols now read wrong (line 2: 'JosÃ©', as UTF-8 'José'); import it without "
        "--encoding")
    assert read(tmp_path / "out", "contacts")[0][5] == "EspaÃ±a"  # as told: a warning, not an error


@pytest.mark.parametrize("encoding", ["latin-1", "ISO-8859-1"])
def test_windows_1252_read_as_iso_8859_1_is_imported_with_a_warning_naming_its_line(tmp_path, encoding):
    """ISO-8859-1 reads every byte, and 0x80..0x9f as invisible control characters: an export
    labelled so that is Windows-1252 lost its '€' and '’' without a word."""
    export = tmp_path / "contacts.csv"
    export.write_bytes(CONTACTS.encode("cp1252"))
    imported = import_hubspot(export, tmp_path / "out", timezone="UTC", encoding=encoding)
    assert imported.notes == [
        f"warning: contacts.csv: read as {encoding} (--encoding), it holds bytes 0x80..0x9f (first on line 2), which "
        "are control characters in ISO-8859-1 and no text; if the file came from Windows they are Windows-1252's "
        "'€', '’', '…', '–' and the like: import it with --encoding cp1252"]
    assert read(tmp_path / "out", "contacts")[0][5] == "España"  # the rest reads the same in both
    # Real ISO-8859-1 text (accents, no controls) is imported without a word.
    export.write_bytes(CONTACTS.replace("’", "'").replace("€", "EUR ").encode("latin-1"))
    assert import_hubspot(export, tmp_path / "out2", timezone="UTC", encoding=encoding).notes == []


def test_an_import_that_stops_still_says_what_it_noted_before_the_error(tmp_path):
    """A UTF-8 export read as cp1252 whose import then stops: the warning that explains it was
    printed only after a success, so the error came alone."""
    export = tmp_path / "contacts.csv"
    export.write_text("Record ID,Create Date,Job Title\r\n1,2026-01-05 10:00,Directora de Crecimiento José\r\n",
                      encoding="utf-8")
    code, out, err = funnelpact("import", "hubspot", "--contacts", str(export), "--encoding", "cp1252",
                                "--out", str(tmp_path / "out"))
    assert code == 2, err
    # The warning first, as after a success, then the error.
    warning, error = err.split("error ", 1)
    assert "contacts.csv: read as cp1252 (--encoding), but the file is valid UTF-8 text" in " ".join(warning.split()), err
    assert "no lifecycle stage date columns" in " ".join(error.split()), err
    assert not (tmp_path / "out").exists()


def test_a_utf8_byte_order_mark_is_no_part_of_the_first_column_s_name(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte order mark: read directly, or as utf-8-sig."""
    export = tmp_path / "contacts.csv"
    export.write_text("\ufeff" + CONTACTS, encoding="utf-8")
    for encoding in ("utf-8", "UTF-8-SIG"):
        import_hubspot(export, tmp_path / encoding, timezone="UTC", encoding=encoding)
        assert [r[0] for r in read(tmp_path / encoding, "contacts")] == ["1", "2"]
    with pytest.raises(InputError) as exc:
        import_hubspot(export, tmp_path / "out", encoding="latin-1")
    assert str(exc.value) == (f"{export}:1: the file starts with the byte order mark of UTF-8, so it is UTF-8 text, "
                              "but --encoding says latin-1: leave the encoding out: UTF-8 is the default")
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes(CONTACTS.replace(",", "\t").encode("utf-16"))
    with pytest.raises(InputError) as exc:
        import_hubspot(utf16, tmp_path / "out")
    assert str(exc.value) == (f"{utf16}:1: the file is UTF-16 text: expected UTF-8 (save or export it as UTF-8 "
                              "CSV, or give --encoding utf-16)")
    with pytest.raises(InputError, match="byte order mark of UTF-16, so it is UTF-16 text, but --encoding says "
                                         "cp1252: expected --encoding utf-16$"):
        import_hubspot(utf16, tmp_path / "out", encoding="cp1252")


def test_a_utf8_export_is_read_directly_and_another_through_a_copy_in_the_staging_folder(tmp_path):
    """No extra pass over a UTF-8 export; a copy for another encoding, inside the output's
    staging folder, so that it goes with it."""
    from pipelines.data.importers.common import Job
    from pipelines.data.importers.encoding import check_encoding
    from pipelines.data.importers.hubspot import CONTACT_COLUMNS
    from pipelines.data.importers.output import Input
    from pipelines.data.importers.times import Times

    utf8, cp1252 = tmp_path / "utf8.csv", tmp_path / "cp1252.csv"
    utf8.write_text(CONTACTS, encoding="utf-8")
    cp1252.write_bytes(CONTACTS.encode("cp1252"))
    with Job(tmp_path / "out", ["contacts"], []) as job:
        direct = job.export(Input(utf8, "--contacts"), "a", Times(), CONTACT_COLUMNS)
        copied = job.export(Input(cp1252, "--contacts"), "b", Times(), CONTACT_COLUMNS,
                            encoding=check_encoding("cp1252"))
        assert direct.utf8 == direct.path == utf8
        assert copied.path == cp1252 and copied.utf8.is_relative_to(job.output.staging)
        assert copied.utf8.read_bytes() == utf8.read_bytes()
        assert job.con.execute("select * from a").fetchall() == job.con.execute("select * from b").fetchall()
    assert not job.output.staging.exists()


def test_import_with_encoding_through_the_command_line(tmp_path):
    export = tmp_path / "contacts.csv"
    export.write_bytes(CONTACTS.encode("cp1252"))
    code, _, err = funnelpact("import", "hubspot", "--contacts", str(export), "--encoding", "cp1252",
                              "--timezone", "UTC", "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "Côte d’Ivoire" in (tmp_path / "out" / "contacts.csv").read_text(encoding="utf-8")
    code, _, err = funnelpact("import", "salesforce", "--leads", str(export), "--encoding", "nope",
                              "--out", str(tmp_path / "out2"))
    assert code == 2 and err.startswith("error --encoding: unknown encoding 'nope'; expected") and err.count("\n") == 1
    # A mapping holds every setting of its files, its encoding too: import csv has no --encoding to
    # contradict it.
    code, _, err = funnelpact("import", "csv", "--mapping", "crm.yaml", "--encoding", "cp1252", "--out", str(tmp_path))
    assert code == 2 and "No such option: --encoding" in err


def test_a_disk_without_room_for_the_copy_is_bad_input_naming_out(tmp_path):
    """/dev/full: every write fails as on a full disk, also the last one, as the copy closes."""
    from pipelines.data.importers.encoding import check_encoding, utf8_copy

    export = tmp_path / "contacts.csv"
    export.write_bytes(CONTACTS.encode("cp1252"))
    with pytest.raises(InputError) as exc:
        utf8_copy(export, check_encoding("cp1252"), Path("/dev/full"))
    assert str(exc.value) == ("--out: cannot write the UTF-8 copy of an export in another encoding into the folder "
                              "(No space left on device); expected room for one more copy of the export there (it "
                              "is removed when the import ends)")


def test_a_crlf_split_between_two_chunks_of_the_conversion_is_one_line_break(tmp_path):
    """The conversion reads 1 MiB at a time: a CR ending one chunk and its LF starting the next
    were counted as two line breaks, and a warning named the line after the right one."""
    from pipelines.data.importers.encoding import _CHUNK, check_encoding, utf8_copy

    header = "Record ID,Create Date,Job Title\r\n"
    row = "1,2026-01-05 10:00,CEO\r\n"
    rows = (_CHUNK - 1 - len(header)) // len(row)
    filler = "x" * (_CHUNK + 1 - len(header) - rows * len(row))  # the last row's CR is the chunk's last byte
    text = header + row * (rows - 1) + "1,2026-01-05 10:00,CEO" + filler + "\r\n" + "2,2026-01-06 10:00,CFO\x80\r\n"
    assert text.encode("latin-1")[_CHUNK - 1:_CHUNK + 1] == b"\r\n"
    export = tmp_path / "contacts.csv"
    export.write_bytes(text.encode("latin-1"))
    notes = utf8_copy(export, check_encoding("latin-1"), tmp_path / "copy.csv")
    # Line 1 the header, lines 2..rows+1 the rows, then the row with the control.
    assert f"(first on line {rows + 2})" in notes[0], notes
