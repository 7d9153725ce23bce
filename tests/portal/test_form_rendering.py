"""Any Django form renders KERN UX markup through settings.FORM_RENDERER."""

from __future__ import annotations

import re

from django import forms
from django.template import Context, Template


class ExampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As in your identity card")
    street = forms.CharField(label="Street", required=False)
    kind = forms.ChoiceField(label="Kind", choices=[("a", "Alpha"), ("b", "Beta")])
    channel = forms.ChoiceField(
        label="Channel", choices=[("mail", "Mail"), ("post", "Post")], widget=forms.RadioSelect
    )
    consent = forms.BooleanField(label="I agree")
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def test_valid_fields_render_as_kern_inputs_with_hints() -> None:
    html = str(ExampleForm())
    assert '<label class="kern-label" for="id_name">Name</label>' in html
    assert '<div class="kern-hint" id="id_name_helptext">As in your identity card</div>' in html
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    assert 'class="kern-form-input__input"' in name_input
    assert 'aria-describedby="id_name_helptext"' in name_input
    assert "aria-invalid" not in name_input
    # optional fields are marked, required ones are not
    assert re.search(
        r'for="id_street">Street <span class="kern-label__optional">\u2013 optional</span>', html
    )
    # select inside the KERN wrapper
    assert re.search(
        r'<div class="kern-form-input__select-wrapper"><select name="kind" '
        r'class="kern-form-input__select"',
        html,
    )
    # radios in a fieldset with a legend
    assert re.search(
        r'<fieldset class="kern-fieldset"[^>]*>\s*<legend class="kern-label">Channel</legend>', html
    )
    radio = re.search(r'<input type="radio" name="channel" value="mail"[^>]*>', html).group(0)
    assert 'class="kern-form-check__radio"' in radio
    assert 'id="id_channel_0"' in radio
    assert '<label class="kern-label" for="id_channel_0">Mail</label>' in html
    # checkbox in a form-check
    assert re.search(
        r'<div class="kern-form-check">\s*<input type="checkbox" name="consent"[^>]*'
        r'class="kern-form-check__checkbox"',
        html,
    )
    assert '<input type="hidden" name="token" id="id_token">' in html


def test_invalid_fields_get_errors_next_to_the_field_and_aria() -> None:
    form = ExampleForm(data={"name": "", "kind": "zzz"})
    assert not form.is_valid()
    html = str(form)
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in name_input
    assert 'aria-describedby="id_name_helptext id_name_error"' in name_input
    assert "kern-form-input__input--error" in name_input
    assert re.search(r'<div class="kern-form-input kern-form-input--error">', html)
    assert re.search(
        r'<p class="kern-error" id="id_name_error">.*?<span class="kern-body">', html, re.S
    )
    assert "kern-form-input__select--error" in html
    assert re.search(
        r'<fieldset class="kern-fieldset kern-fieldset--error" aria-describedby="id_channel_error"',
        html,
    )
    assert "kern-form-check--error" in html


def test_field_group_renders_a_single_kern_field() -> None:
    form = ExampleForm(data={})
    html = Template("{{ form.name.as_field_group }}").render(Context({"form": form}))
    assert html.strip().startswith('<div class="kern-form-input kern-form-input--error">')


def test_error_summary_links_to_each_invalid_field() -> None:
    form = ExampleForm(data={"name": "", "kind": "a"})
    form.is_valid()
    html = Template('{% include "includes/error_summary.html" with form=form %}').render(
        Context({"form": form})
    )
    assert 'id="error-summary" role="alert" tabindex="-1"' in html
    assert 'href="#id_name"' in html
    assert 'href="#id_consent"' in html
    assert 'href="#id_channel_0"' in html
    assert 'href="#id_kind"' not in html


def test_error_summary_is_empty_for_an_unbound_form() -> None:
    html = Template('{% include "includes/error_summary.html" with form=form %}').render(
        Context({"form": ExampleForm()})
    )
    assert html.strip() == ""
