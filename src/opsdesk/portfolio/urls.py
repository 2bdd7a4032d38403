from django.urls import path

from opsdesk.portfolio.views import catalogue, sourcing, strategy

app_name = "portfolio"


def crud(prefix: str, name: str, list_view, detail_view, edit_view, delete_view=None) -> list:
    """The usual pages of a record: list, detail, add, edit (and delete where it exists)."""
    routes = [
        path(f"{prefix}/", list_view.as_view(), name=f"{name}_list"),
        path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/", detail_view.as_view(), name=f"{name}_detail"),
        path(f"{prefix}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"),
    ]
    if delete_view is not None:
        routes.append(path(f"{prefix}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete"))
    return routes


def part(prefix: str, name: str, edit_view, delete_view) -> list:
    """Records that live on another record's page: add, edit, delete; no list or page of their own."""
    return [
        path(f"{prefix}/add/", edit_view.as_view(), name=f"{name}_add"),
        path(f"{prefix}/<int:pk>/edit/", edit_view.as_view(), name=f"{name}_edit"),
        path(f"{prefix}/<int:pk>/delete/", delete_view.as_view(), name=f"{name}_delete"),
    ]


urlpatterns = [
    # --- the catalogue ---------------------------------------------------------------------------
    path("services/export.csv", catalogue.service_export, name="service_export"),
    path("services/import/", catalogue.service_import, name="service_import"),
    *crud(
        "services",
        "service",
        catalogue.ServiceListView,
        catalogue.ServiceDetailView,
        catalogue.ServiceEditView,
        catalogue.ServiceDeleteView,
    ),
    path("services/<int:pk>/stage/", catalogue.service_stage, name="service_stage"),
    path("services/<int:pk>/dependencies/", catalogue.service_graph, name="service_graph"),
    *part("offerings", "offering", catalogue.OfferingEditView, catalogue.OfferingDeleteView),
    *part("support-tiers", "tier", catalogue.SupportTierEditView, catalogue.SupportTierDeleteView),
    *part(
        "delivery-locations",
        "servicelocation",
        catalogue.ServiceLocationEditView,
        catalogue.ServiceLocationDeleteView,
    ),
    *part(
        "service-objectives",
        "serviceobjective",
        catalogue.ServiceObjectiveEditView,
        catalogue.ServiceObjectiveDeleteView,
    ),
    # --- strategy ----------------------------------------------------------------------------------
    *crud(
        "objectives",
        "objective",
        strategy.ObjectiveListView,
        strategy.ObjectiveDetailView,
        strategy.ObjectiveEditView,
        strategy.ObjectiveDeleteView,
    ),
    *part("kpis", "kpi", strategy.KpiEditView, strategy.KpiDeleteView),
    path("alignment/", strategy.alignment, name="alignment"),
    path("locations/", strategy.locations, name="locations"),
    path("costs/", strategy.costs, name="costs"),
    *crud(
        "calendars",
        "calendar",
        strategy.CalendarListView,
        strategy.CalendarDetailView,
        strategy.CalendarEditView,
    ),
    *crud(
        "policies",
        "policy",
        strategy.PolicyListView,
        strategy.PolicyDetailView,
        strategy.PolicyEditView,
        strategy.PolicyDeleteView,
    ),
    path(
        "policies/<int:policy_pk>/versions/add/",
        strategy.PolicyVersionEditView.as_view(),
        name="policyversion_add",
    ),
    path(
        "policy-versions/<int:pk>/edit/", strategy.PolicyVersionEditView.as_view(), name="policyversion_edit"
    ),
    path("policy-versions/<int:pk>/publish/", strategy.policy_version_publish, name="policyversion_publish"),
    # --- sourcing ----------------------------------------------------------------------------------
    path("providers/export.csv", catalogue.provider_export, name="provider_export"),
    path("providers/import/", catalogue.provider_import, name="provider_import"),
    *crud(
        "providers",
        "provider",
        sourcing.ProviderListView,
        sourcing.ProviderDetailView,
        sourcing.ProviderEditView,
        sourcing.ProviderDeleteView,
    ),
    *part(
        "provider-contacts",
        "providercontact",
        sourcing.ProviderContactEditView,
        sourcing.ProviderContactDeleteView,
    ),
    *crud(
        "contracts",
        "contract",
        sourcing.ContractListView,
        sourcing.ContractDetailView,
        sourcing.ContractEditView,
        sourcing.ContractDeleteView,
    ),
    path("contracts/<int:pk>/documents/", sourcing.contract_document_add, name="contract_document_add"),
    path(
        "contract-documents/<int:pk>/download/",
        sourcing.contract_document_download,
        name="contract_document_download",
    ),
    path("evaluations/", sourcing.EvaluationListView.as_view(), name="evaluation_list"),
    path("evaluations/add/", sourcing.EvaluationCreateView.as_view(), name="evaluation_add"),
    path("evaluations/<int:pk>/", sourcing.EvaluationDetailView.as_view(), name="evaluation_detail"),
    path("evaluations/<int:pk>/criteria/", sourcing.evaluation_criteria, name="evaluation_criteria"),
    path("evaluations/<int:pk>/scores/", sourcing.evaluation_scores, name="evaluation_scores"),
    path("evaluations/<int:pk>/decide/", sourcing.evaluation_decide, name="evaluation_decide"),
]
