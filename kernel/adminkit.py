"""Admin pieces the staff pages share.

Django's tabular inlines draw each field in a table cell under a column heading, with no label
of its own: a screen reader hears "edit text" with no name, and axe-core fails the page (WCAG
1.3.1, 4.1.2). Every inline in the portal uses LabelledTabularInline, which names each field
"<label>, row N".
"""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet


class LabelledInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = f"row {index + 1}" if index is not None else "new row"
        for name, field in form.fields.items():
            label = field.label or name.replace("_", " ").capitalize()
            # The admin wraps related-object pickers; the wrapper's attrs are shared between
            # forms, the inner widget's are this form's own.
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs["aria-label"] = f"{label}, {row}"


class LabelledTabularInline(admin.TabularInline):
    formset = LabelledInlineFormSet


def label_date_and_time(formfield):
    """The admin's date-and-time field is two inputs under one label that names neither: give
    each its own name ("Appointment at: date", "...: time")."""
    widget = getattr(formfield, "widget", None)
    inner = getattr(widget, "widget", widget)
    parts = getattr(inner, "widgets", None)
    if formfield is not None and parts and len(parts) == 2:
        label = str(formfield.label or "").strip()
        parts[0].attrs["aria-label"] = f"{label}: date"
        parts[1].attrs["aria-label"] = f"{label}: time"
    return formfield


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """Records written by services (money, audit, logs, notes), never added, changed or deleted
    by hand in admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
