"""File fields (count, size, type, the inspection hook, removal) and person-list rows without JS."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from rathaus.forms.engine import ROW_ACTION, row_action, validate_step

from .conftest import TODAY, field, one_step


def pdf(name: str = "bestaetigung.pdf", size: int = 100) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF" + b"0" * (size - 4), content_type="application/pdf")


def files(**uploads: list[SimpleUploadedFile]) -> MultiValueDict:
    return MultiValueDict(uploads)


class TestFiles:
    def schema(self, **extra):
        return one_step(field("doc", "file", accept=[".pdf", "image/*"], max_size_mb=1, **extra))

    def test_accepted_upload_is_handed_on(self):
        upload = pdf()
        result = validate_step(self.schema(), "s", {}, files(doc=[upload]), today=TODAY)
        assert result.is_valid
        assert result.uploads == {"doc": [upload]}
        assert result.cleaned == {}

    def test_required_upload_missing(self):
        result = validate_step(self.schema(), "s", {}, None, today=TODAY)
        assert [issue.message for issue in result.errors] == ["Laden Sie eine Datei hoch."]
        assert result.errors[0].anchor == "field-doc"

    def test_too_large_empty_and_wrong_type(self):
        big = pdf(size=1024 * 1024 + 1)
        empty = SimpleUploadedFile("leer.pdf", b"", content_type="application/pdf")
        exe = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
        picture = SimpleUploadedFile("foto.heic", b"....", content_type="image/heic")
        schema = self.schema(max_files=5)
        messages = [
            issue.message
            for issue in validate_step(
                schema, "s", {}, files(doc=[big, empty, exe, picture]), today=TODAY
            ).errors
        ]
        assert messages == [
            "Die Datei bestaetigung.pdf ist größer als 1 MB.",
            "Die Datei leer.pdf ist leer.",
            "Die Datei virus.exe hat keinen zugelassenen Dateityp (zugelassen: .pdf, image/*).",
        ]

    def test_count_includes_files_uploaded_before_and_removal_works(self):
        stored = [{"id": "a1", "name": "alt.pdf", "size": 10}]
        schema = self.schema()
        result = validate_step(
            schema, "s", {}, files(doc=[pdf()]), answers={"doc": stored}, today=TODAY
        )
        assert [issue.message for issue in result.errors] == ["Laden Sie höchstens 1 Datei hoch."]
        result = validate_step(
            schema,
            "s",
            {"doc__remove": "a1"},
            files(doc=[pdf()]),
            answers={"doc": stored},
            today=TODAY,
        )
        assert result.is_valid and result.cleaned == {} and len(result.uploads["doc"]) == 1
        result = validate_step(schema, "s", {}, None, answers={"doc": stored}, today=TODAY)
        assert result.is_valid and result.cleaned == {"doc": stored}

    def test_inspector_can_refuse_a_file(self):
        class RefuseAll:
            def __init__(self) -> None:
                self.seen: list[str] = []

            def inspect(self, upload, *, field):
                self.seen.append(f"{field.id}:{upload.name}")
                return "Die Datei enthält Schadsoftware."

        inspector = RefuseAll()
        result = validate_step(
            self.schema(), "s", {}, files(doc=[pdf()]), inspector=inspector, today=TODAY
        )
        assert inspector.seen == ["doc:bestaetigung.pdf"]
        assert [issue.message for issue in result.errors] == ["Die Datei enthält Schadsoftware."]
        assert "doc" not in result.uploads

    def test_too_many_files_are_refused_before_any_is_inspected(self):
        """The inspector reads and virus-scans each file: twenty files for a field that takes
        two must not cost twenty scans."""

        class Counting:
            def __init__(self) -> None:
                self.seen: list[str] = []

            def inspect(self, upload, *, field):
                self.seen.append(upload.name)
                return None

        inspector = Counting()
        stored = [{"id": "a1", "name": "alt.pdf", "size": 10}]
        many = [pdf(f"seite{n}.pdf") for n in range(20)]
        result = validate_step(
            self.schema(max_files=2),
            "s",
            {},
            files(doc=many),
            answers={"doc": stored},
            inspector=inspector,
            today=TODAY,
        )
        assert inspector.seen == []
        assert [issue.message for issue in result.errors] == ["Laden Sie höchstens 2 Dateien hoch."]
        assert result.errors[0].anchor == "field-doc"
        assert "doc" not in result.uploads
        assert result.cleaned == {"doc": stored}  # the file uploaded before is kept
        two_with_the_stored_one = [pdf("a.pdf"), pdf("b.pdf")]
        result = validate_step(
            self.schema(max_files=2),
            "s",
            {},
            files(doc=two_with_the_stored_one),
            answers={"doc": stored},
            inspector=inspector,
            today=TODAY,
        )
        assert inspector.seen == [] and not result.is_valid

    def test_file_name_in_messages_has_no_path(self):
        upload = SimpleUploadedFile("C:\\Users\\x\\geheim.exe", b"MZ")
        result = validate_step(self.schema(), "s", {}, files(doc=[upload]), today=TODAY)
        assert "Users" not in result.errors[0].message


class TestRows:
    def schema(self):
        return one_step(
            field(
                "persons",
                "person_list",
                max_items=3,
                fields=[field("given", "text"), field("family", "text")],
            )
        )

    def test_add_row(self):
        data = QueryDict(mutable=True)
        data.update({"persons__rows": "1", "persons__1__given": "Anna", ROW_ACTION: "add:persons"})
        result = row_action(self.schema(), "s", data)
        assert result == {"persons__rows": ["2"], "persons__1__given": ["Anna"]}

    def test_add_row_stops_at_the_maximum(self):
        result = row_action(self.schema(), "s", {"persons__rows": "3", ROW_ACTION: "add:persons"})
        assert result["persons__rows"] == ["3"]

    def test_remove_row_moves_later_rows_up(self):
        data = {
            "persons__rows": "3",
            "persons__1__given": "Anna",
            "persons__2__given": "Ben",
            "persons__2__family": "B",
            "persons__3__given": "Cem",
            ROW_ACTION: "remove:persons:2",
        }
        result = row_action(self.schema(), "s", data)
        assert result == {
            "persons__rows": ["2"],
            "persons__1__given": ["Anna"],
            "persons__2__given": ["Cem"],
        }

    def test_no_button_no_action_and_nonsense_is_ignored(self):
        assert row_action(self.schema(), "s", {"persons__rows": "1"}) is None
        for nonsense in ["add:nobody", "remove:persons:x", "remove:persons:9", "explode"]:
            result = row_action(self.schema(), "s", {"persons__rows": "1", ROW_ACTION: nonsense})
            assert result == {"persons__rows": ["1"]}
