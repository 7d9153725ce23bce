"""Signals of the electronic file for the modules above it (casework, applications).

``file_disposing(sender=File, file=<the locked file>, outcome=<DisposalOutcome value>)`` is sent
inside the transaction that destroys the file's documents, before their rows are deleted. A
receiver releases its own references to the file's documents and versions there (its foreign
keys ``PROTECT`` them), or raises :class:`rathaus.records.errors.RecordsError` to keep the file;
either way it commits or rolls back together with the disposal.

``file_disposed(sender=File, file_id, authority_id, reference, outcome)`` is sent after that
transaction committed, once per file, so a module can purge its own personal data about the
matter (the file row itself stays as a tombstone). It is sent with ``send_robust``: a failing
receiver is logged and does not stop the disposal of the other files.
"""

from django.dispatch import Signal

file_disposing = Signal()
file_disposed = Signal()
