"""GX data docs renderers that show the SPEC section 4 statuses GX has no word for.

GX renders a validation, and each expectation in it, as passed or failed. An open month's
partial figure is neither: SPEC section 4 makes it provisional (never a breach), and a
failed pace forecast at_risk. `pipelines.checks.docs` stores the figures that can still
change apart from the final ones and marks them (`shown_status`); these subclasses of GX's
renderers then show the mark where GX would show its red cross: in the index's Status
column, a validation page's Status line and statistics, and each expectation's icon.
Everything else is GX's own rendering.

They override GX 1.x's renderer hooks (`_generate_validation_results_link_table`,
`_render_validation_header`, `_render_validation_statistics`, `_get_content_block_fn`),
which are not public API: tests/checks/test_data_docs_statuses.py reads the rendered
HTML, and fails if a GX release renames or reshapes them.
"""

from __future__ import annotations

from pipelines.checks.context import gx

gx()  # the offline environment, before great_expectations is imported below

from great_expectations.render.components import RenderedStringTemplateContent  # noqa: E402
from great_expectations.render.renderer.content_block.validation_results_table_content_block import (  # noqa: E402
    ValidationResultsTableContentBlockRenderer,
)
from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer  # noqa: E402
from great_expectations.render.renderer.site_index_page_renderer import SiteIndexPageRenderer  # noqa: E402

from pipelines.checks.docs import STATUS_KEY, batch_kind, shown_status  # noqa: E402

# status -> (the word shown, Font Awesome 6 classes: the icons GX's pages load)
LOOK = {
    "provisional": ("Provisional", ["fas", "fa-hourglass-half", "text-secondary"]),
    "at_risk": ("At risk", ["fas", "fa-circle-exclamation", "text-warning"]),
}

# What a marked page's statistics mean: GX still counts its expectations as (un)successful.
NOTE = {
    "provisional": "provisional, not a breach: these figures can still change (an open month, immature "
                   "cohorts, pending hand-offs); the counts above compare them so far with the final bound",
    "at_risk": "at risk, not a breach: a pace forecast of an open month misses the bound; the month's "
               "figures are judged once final",
}


def _cell(status: str, classes: list[str], **styling) -> RenderedStringTemplateContent:
    """The icon and the word, where GX puts its check mark or cross."""
    word, icon = LOOK[status]
    return RenderedStringTemplateContent(
        content_block_type="string_template",
        string_template={
            "template": "$icon $word",
            "params": {"icon": "", "word": word, "markdown_status_icon": word},
            "styling": {"params": {"icon": {"tag": "i", "classes": icon}}, "classes": classes},
        },
        styling=styling or None,
    )


class StatusIndexPageRenderer(SiteIndexPageRenderer):
    """The index: a validation's row reads Provisional or At risk instead of failed."""

    @classmethod
    def _generate_validation_results_link_table(cls, index_links_dict):
        table = super()._generate_validation_results_link_table(index_links_dict)
        # GX builds one row per link, in order.
        for row, link in zip(table.table_data, index_links_dict.get("validations_links", []), strict=True):
            status = shown_status(batch_kind(link["batch_identifier"]), bool(link["validation_success"]))
            if status:
                row["validation_success"] = _cell(status, ["ge-index-page-table-validation-links-item"])
                row["_validation_success_text"] = LOOK[status][0]
        return table


class StatusTableRenderer(ValidationResultsTableContentBlockRenderer):
    """A validation page's table: an expectation's icon reads provisional or at risk."""

    @classmethod
    def _get_content_block_fn(cls, expectation_type, expectation_config=None):
        row_fn = super()._get_content_block_fn(expectation_type=expectation_type,
                                               expectation_config=expectation_config)

        def row_with_status(configuration=None, result=None, runtime_configuration=None, **kwargs):
            rows = row_fn(configuration=configuration, result=result,
                          runtime_configuration=runtime_configuration, **kwargs)
            config = result.expectation_config if result else None
            status = (config.meta or {}).get(STATUS_KEY) if config else None
            if status in LOOK:
                # The row's first cell is GX's status icon. Like a passed one, the row is
                # hidden by the page's "Failed Only" filter: it is no failure.
                rows[0][0] = _cell(status, [], parent={"classes": ["hide-succeeded-validation-target-child"]})
            return rows

        return row_with_status


class StatusPageRenderer(ValidationResultsPageRenderer):
    """A validation page: its Status line reads Provisional or At risk instead of Failed,
    and its statistics say what their counts mean there."""

    @classmethod
    def _render_validation_header(cls, validation_results):
        header = super()._render_validation_header(validation_results)
        status = validation_results.meta.get(STATUS_KEY)
        if status in LOOK:
            word, icon = LOOK[status]
            params = header.subheader.string_template["params"]
            params["success"] = word
            params["html_success_icon"] = f'<i class="{" ".join(icon)}" aria-hidden="true"></i>'
        return header

    @classmethod
    def _render_validation_statistics(cls, validation_results):
        table = super()._render_validation_statistics(validation_results)
        status = validation_results.meta.get(STATUS_KEY)
        if status in NOTE:
            table.table.append(["Status", NOTE[status]])
        return table


# The site config that puts them in place (pipelines.checks.docs adds it to each build).
INDEX_RENDERER = {"module_name": __name__, "class_name": StatusIndexPageRenderer.__name__}
PAGE_RENDERER = {
    "module_name": __name__,
    "class_name": StatusPageRenderer.__name__,
    "column_section_renderer": {
        "class_name": "ValidationResultsColumnSectionRenderer",
        "table_renderer": {"module_name": __name__, "class_name": StatusTableRenderer.__name__},
    },
}
