"""Render Django form fields with USWDS markup, linked to their hints and errors."""

from django import forms, template
from django.utils.translation import get_language

register = template.Library()

WIDGET_CLASSES = [
    (forms.CheckboxInput, "usa-checkbox__input"),
    (forms.RadioSelect, "usa-radio__input"),
    (forms.Select, "usa-select"),
    (forms.Textarea, "usa-textarea"),
    (forms.ClearableFileInput, "usa-file-input"),
]


@register.filter
def widget_kind(bound_field) -> str:
    return "checkbox" if isinstance(bound_field.field.widget, forms.CheckboxInput) else "input"


@register.simple_tag
def uswds_widget(bound_field):
    widget = bound_field.field.widget
    css = next((c for kind, c in WIDGET_CLASSES if isinstance(widget, kind)), "usa-input")
    if css == "usa-file-input":
        # USWDS writes its drop zone's words ("Drag file here or choose from folder") in English
        # only; in another language the browser's own file control speaks the reader's language.
        css = "usa-file-input" if (get_language() or "en").startswith("en") else "portal-file-native"
    attrs = {"class": " ".join(filter(None, [widget.attrs.get("class"), css]))}
    described_by = []
    if bound_field.help_text:
        described_by.append(f"{bound_field.auto_id}-hint")
    if bound_field.errors:
        attrs["class"] += " usa-input--error"
        attrs["aria-invalid"] = "true"
        described_by.append(f"{bound_field.auto_id}-error")
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return bound_field.as_widget(attrs=attrs)
