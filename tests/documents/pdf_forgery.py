"""Revisions an attacker appends to a sealed PDF, and seals made by a system that checks less,
for the tests that must see them refused."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper

from tests.documents.tsa_variants import outside_event_loop


def append_revision(pdf: bytes, change: Callable[[IncrementalPdfFileWriter], None]) -> bytes:
    """``pdf`` with one incremental update that ``change`` makes."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def point_metadata_to(writer: IncrementalPdfFileWriter, xmp: bytes) -> None:
    """``xmp`` in a new stream object, the catalog's /Metadata pointed at it, written as it is
    (pyHanko would replace a plain stream with XMP of its own making)."""
    writer._update_meta = lambda: None  # type: ignore[method-assign]
    ref = writer.add_object(
        generic.StreamObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Metadata"),
                generic.NameObject("/Subtype"): generic.NameObject("/XML"),
            },
            stream_data=xmp,
        )
    )
    writer.root[generic.NameObject("/Metadata")] = ref
    writer.update_root()


def retitle_in_new_xmp(writer: IncrementalPdfFileWriter) -> None:
    """The auditor's attack: the XMP with the dc:title "Genehmigt", as a new stream object."""
    xmp = re.sub(
        rb"(<dc:title[^>]*><rdf:Alt><rdf:li[^>]*>)[^<]*",
        rb"\1Genehmigt",
        writer.root["/Metadata"].data,
        count=1,
    )
    assert b"Genehmigt" in xmp
    point_metadata_to(writer, xmp)


def redate_in_new_xmp(writer: IncrementalPdfFileWriter) -> None:
    """What a later update may write: new dates, serialised differently, as a new stream."""
    xmp = re.sub(
        rb'xmp:ModifyDate="[^"]*"',
        b'xmp:ModifyDate="2036-05-04T10:00:00+02:00"',
        writer.root["/Metadata"].data,
    )
    xmp = xmp.replace(b"<dc:creator", b"\n  <dc:creator")  # indented, one more line
    xmp = xmp.replace(b"<rdf:Description ", b'<rdf:Description xmp:MetadataDate="2036-05-04" ')
    assert b"2036-05-04T10:00:00" in xmp
    point_metadata_to(writer, xmp)


def sealed_elsewhere(pdf: bytes, *, signer: signers.Signer, timestamper: TimeStamper) -> bytes:
    """``pdf`` sealed (PAdES B-T) with pyHanko alone, which embeds the TSA's token as it comes,
    unchecked: a seal whose time stamp ``seal_pdf`` would have refused (a tampered signature, a
    key nobody here can load), as another system or an older Rathaus made it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name="Siegel",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    output = outside_event_loop(
        signers.sign_pdf, writer, meta, signer=signer, timestamper=timestamper
    )
    return bytes(output.getvalue())
