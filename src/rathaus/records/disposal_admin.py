"""The steps of a disposal run (Aussonderung) in the Django admin, for the records office.

The same service functions as the ``disposal_*`` commands (:mod:`rathaus.records.disposal`),
each behind a button or a small form on the run's page: start a run for an authority, write the
offer (0501), import the archive's evaluation (0502), write the receipt of the evaluation (0505),
write the transfer package (0503), import the archive's confirmation (0506), import the archive's
receipts (0504, 0507), approve the destruction, cancel the run. A refusal from the
services is shown as a message (or beside the upload field) and changes nothing.

The approval is recorded in the request; the files are disposed of by a background job
(``records.tasks.carry_out_disposal_job``), one transaction per file, so that a run of any size
fits. The run's page shows the progress; "Continue the disposal" queues the job again (after a
refused file was released, or when a worker stopped mid-run).

Permissions: the steps need ``records.change_disposalrun``; the destruction needs
``records.approve_destruction`` as well (the approver is the person who clicks).
"""

from __future__ import annotations

import tempfile
from typing import Any, BinaryIO, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from rathaus.core.models import Authority
from rathaus.records import xdomea
from rathaus.records.disposal import (
    approve_destruction,
    cancel_run,
    import_archive_receipt,
    import_confirmation,
    import_evaluation,
    start_run,
    write_evaluation_receipt,
    write_offer,
    write_transfer_package,
)
from rathaus.records.errors import RecordsError
from rathaus.records.models import Decision, DisposalRun
from rathaus.records.tasks import carry_out_disposal_job

State = DisposalRun.State


class StartForm(forms.Form):
    authority = forms.ModelChoiceField(
        label=_("Authority"),
        queryset=Authority.objects.select_related("municipality").order_by(
            "municipality__name", "name"
        ),
    )


class MessageForm(forms.Form):
    message = forms.FileField(label=_("xdomea message (XML)"))

    def clean_message(self) -> bytes:
        upload = self.cleaned_data["message"]
        if upload.size > xdomea.MAX_MESSAGE_BYTES:  # refused before it is read
            raise ValidationError(
                _("The message is larger than %d MB.") % (xdomea.MAX_MESSAGE_BYTES >> 20)
            )
        return bytes(upload.read())


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with every file that leaves the run; no personal data."),
    )


class DisposalStepsAdmin(admin.ModelAdmin):
    """Mixed into the run's admin: the URLs, views and buttons of the steps."""

    change_form_template = "admin/records/disposalrun/change_form.html"
    change_list_template = "admin/records/disposalrun/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="records_disposalrun_start"),
            path("<int:pk>/offer/", view(self.offer_view), name="records_disposalrun_offer"),
            path(
                "<int:pk>/evaluation/",
                view(self.evaluation_view),
                name="records_disposalrun_evaluation",
            ),
            path(
                "<int:pk>/evaluation-receipt/",
                view(self.evaluation_receipt_view),
                name="records_disposalrun_evaluation_receipt",
            ),
            path(
                "<int:pk>/transfer/", view(self.transfer_view), name="records_disposalrun_transfer"
            ),
            path(
                "<int:pk>/archive-receipt/",
                view(self.archive_receipt_view),
                name="records_disposalrun_archive_receipt",
            ),
            path(
                "<int:pk>/confirmation/",
                view(self.confirmation_view),
                name="records_disposalrun_confirmation",
            ),
            path("<int:pk>/destroy/", view(self.destroy_view), name="records_disposalrun_destroy"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="records_disposalrun_cancel"),
            *super().get_urls(),
        ]

    # --- permissions and helpers ---------------------------------------------------------------

    def can_drive(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("records.change_disposalrun"))

    def can_approve(self, request: HttpRequest) -> bool:
        return self.can_drive(request) and bool(
            request.user.has_perm("records.approve_destruction")
        )

    def _run(self, request: HttpRequest, pk: int) -> DisposalRun:
        if not self.can_drive(request):
            raise PermissionDenied
        return get_object_or_404(DisposalRun.objects.select_related("authority"), pk=pk)

    def _back(self, run: DisposalRun) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:records_disposalrun_change", args=[run.pk]))

    def _page(
        self,
        request: HttpRequest,
        *,
        title: str,
        form: forms.Form,
        run: DisposalRun | None,
        **more: Any,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "run": run,
            **more,
        }
        return TemplateResponse(request, "admin/records/disposalrun/step.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = DisposalRun.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        steps = self._steps(request, run) if run is not None else []
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "disposal_steps": steps}
        )

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "can_start_run": self.can_drive(request)}
        )

    def _steps(self, request: HttpRequest, run: DisposalRun) -> list[dict[str, str]]:
        """The buttons the run's page shows: (label, url, method) of each step possible now."""
        if not self.can_drive(request):
            return []

        def step(label: str, name: str, method: str) -> dict[str, str]:
            url = reverse(f"admin:records_disposalrun_{name}", args=[run.pk])
            return {"label": label, "url": url, "method": method}

        steps = []
        offered = run.items.filter(active=True, offered=True).exists()
        if run.state in (State.STARTED, State.OFFERED) and offered:
            steps.append(step(gettext("Write the offer (0501)"), "offer", "post"))
        if run.state == State.OFFERED:
            steps.append(step(gettext("Import the evaluation (0502)"), "evaluation", "get"))
        if run.state in (State.EVALUATED, State.TRANSFERRED) and (
            run.items.filter(active=True, decision=Decision.ARCHIVE).exists()
        ):  # the archive takes at least one file (a run with none is destroyed directly)
            steps.append(step(gettext("Write the transfer package (0503)"), "transfer", "post"))
        if run.state == State.TRANSFERRED:
            steps.append(step(gettext("Import the confirmation (0506)"), "confirmation", "get"))
        if run.state != State.CANCELLED:
            if run.evaluated_at is not None:
                steps.append(
                    step(
                        gettext("Write the receipt of the evaluation (0505)"),
                        "evaluation_receipt",
                        "post",
                    )
                )
            if (run.offered_at and not run.offer_receipt_at) or (
                run.transferred_at and not run.transfer_receipt_at
            ):
                steps.append(
                    step(
                        gettext("Import a receipt from the archive (0504, 0507)"),
                        "archive_receipt",
                        "get",
                    )
                )
        if run.state in (State.EVALUATED, State.CONFIRMED, State.DESTROYING) and (
            self.can_approve(request)
        ):
            label = (
                gettext("Continue the disposal")
                if run.state == State.DESTROYING
                else gettext("Approve and carry out the disposal")
            )
            steps.append(step(label, "destroy", "get"))
        if run.state not in (State.COMPLETED, State.CANCELLED):
            steps.append(step(gettext("Cancel the run"), "cancel", "get"))
        return steps

    # --- the steps -----------------------------------------------------------------------------

    def start_view(self, request: HttpRequest) -> HttpResponse:
        if not self.can_drive(request):
            raise PermissionDenied
        form = StartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = start_run(authority=form.cleaned_data["authority"], actor=request.user)
            except RecordsError as exc:
                form.add_error("authority", str(exc))
            else:
                self.message_user(
                    request,
                    gettext("Disposal run %(run)s started with %(count)d files.")
                    % {"run": run.pk, "count": run.items.count()},
                    messages.SUCCESS,
                )
                return self._back(run)
        return self._page(
            request,
            title=gettext("Start a disposal run"),
            form=form,
            run=None,
            submit=gettext("Start the disposal"),
            explanation=gettext(
                "The run takes the authority's closed files whose retention period has run out "
                "by today, except files on legal hold or in another open run."
            ),
        )

    def offer_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._offer)(request, pk)

    def _offer(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._run(request, pk)
        try:
            message = write_offer(run=run, actor=request.user)
        except RecordsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._back(run)
        response = HttpResponse(message, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="0501-run-{run.pk}.xml"'
        return response

    def evaluation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._import(
            request,
            pk,
            service=import_evaluation,
            title=gettext("Import the archive's evaluation (0502)"),
            done=gettext("The evaluation of disposal run %s was imported."),
        )

    def confirmation_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._import(
            request,
            pk,
            service=import_confirmation,
            title=gettext("Import the archive's confirmation (0506)"),
            done=gettext("The confirmation of disposal run %s was imported."),
        )

    def archive_receipt_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._import(
            request,
            pk,
            service=import_archive_receipt,
            title=gettext("Import a receipt from the archive (0504, 0507)"),
            done=gettext("The archive's receipt for disposal run %s was recorded."),
        )

    def evaluation_receipt_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return require_POST(self._evaluation_receipt)(request, pk)

    def _evaluation_receipt(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._run(request, pk)
        try:
            message = write_evaluation_receipt(run=run, actor=request.user)
        except RecordsError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return self._back(run)
        response = HttpResponse(message, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="0505-run-{run.pk}.xml"'
        return response

    def _import(
        self, request: HttpRequest, pk: int, *, service: Any, title: str, done: str
    ) -> HttpResponse:
        run = self._run(request, pk)
        form = MessageForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                service(run=run, data=form.cleaned_data["message"], actor=request.user)
            except RecordsError as exc:
                form.add_error("message", str(exc))
            else:
                self.message_user(request, done % run.pk, messages.SUCCESS)
                return self._back(run)
        return self._page(
            request, title=title, form=form, run=run, submit=gettext("Import"), upload=True
        )

    def transfer_view(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        return require_POST(self._transfer)(request, pk)

    def _transfer(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        run = self._run(request, pk)
        # A package holds every document of the files: spooled to disk beyond 32 MB.
        package = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
        try:
            write_transfer_package(run=run, out=cast(BinaryIO, package), actor=request.user)
        except RecordsError as exc:
            package.close()
            self.message_user(request, str(exc), messages.ERROR)
            return self._back(run)
        package.seek(0)
        return FileResponse(
            package,
            as_attachment=True,
            filename=f"0503-run-{run.pk}.zip",
            content_type="application/zip",
        )

    def destroy_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._run(request, pk)
        if not self.can_approve(request):
            raise PermissionDenied
        form = forms.Form(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                approve_destruction(run=run, approver=request.user)
            except RecordsError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return self._back(run)
            run_id, actor_id = run.pk, request.user.pk
            transaction.on_commit(lambda: carry_out_disposal_job.enqueue(run_id, actor_id))
            self.message_user(
                request,
                gettext(
                    "The disposal of run %s is approved. Its files are being disposed of in the "
                    "background; reload this page to see the progress."
                )
                % run.pk,
                messages.SUCCESS,
            )
            return self._back(run)
        if run.state == State.DESTROYING:
            title = gettext("Continue the disposal of run %s") % run.pk
            submit = gettext("Continue")
            explanation = gettext(
                "The disposal was approved by %(approver)s. The files not yet disposed of are "
                "disposed of again in the background; files kept before are tried again."
            ) % {"approver": run.approved_by_label}
        else:
            title = gettext("Approve and carry out the disposal of run %s") % run.pk
            submit = gettext("Approve and dispose")
            explanation = gettext(
                "You approve the disposal as the responsible person; your name goes into every "
                "file's proof. Files for the archive must have been confirmed by it. The files' "
                "documents are deleted and cannot be restored."
            )
        return self._page(
            request, title=title, form=form, run=run, submit=submit, explanation=explanation
        )

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._run(request, pk)
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                released = cancel_run(
                    run=run, reason=form.cleaned_data["reason"], actor=request.user
                )
            except RecordsError as exc:
                form.add_error("reason", str(exc))
            else:
                self.message_user(
                    request,
                    gettext("Disposal run %(run)s cancelled; %(count)d files released.")
                    % {"run": run.pk, "count": len(released)},
                    messages.SUCCESS,
                )
                return self._back(run)
        return self._page(
            request,
            title=gettext("Cancel disposal run %s") % run.pk,
            form=form,
            run=run,
            submit=gettext("Cancel the run"),
            explanation=gettext(
                "Its files not disposed of yet leave the run and are free for a new one."
            ),
        )
