"""A reseller with two customers — one per tier — and their API tokens."""
import pulumi
import pulumi_tokenplane as tokenplane

northwind = tokenplane.Entity(
    "northwind",
    display_name="Northwind Resale",
    kind="reseller",
    tier="advanced",
    # The reseller's tokens are all declared below; no auto-issued one.
    default_token=False,
)

# Advanced customer: up to five tokens.
contoso = tokenplane.Entity(
    "contoso",
    display_name="Contoso",
    kind="customer",
    tier="advanced",
    parent_id=northwind.entity_id,
    default_token=False,
)

# Lite customer: one token. It gets its default token on creation, so the one
# ApiToken declared for it takes that token over instead of asking for a second.
fabrikam = tokenplane.Entity(
    "fabrikam",
    display_name="Fabrikam",
    kind="customer",
    tier="lite",
    parent_id=northwind.entity_id,
)

northwind_ci = tokenplane.ApiToken("northwind-ci", entity_id=northwind.entity_id, display_name="ci")

# A publishable token (`tpp_…`) for Contoso's web dashboard: its value may sit in
# the page, because only these origins can use it, and only for the basic metrics.
contoso_web = tokenplane.ApiToken(
    "contoso-web",
    entity_id=contoso.entity_id,
    display_name="web",
    expires_at="2030-01-01T00:00:00Z",
    type="publishable",
    allowed_origins=["https://dashboard.contoso.example", "https://*.contoso.example"],
    rate_limit=tokenplane.RateLimitArgs(requests=600, per_seconds=60),
)

# A server-side token that never sends its value (signed requests), from the
# office network, with a monthly budget.
contoso_reports = tokenplane.ApiToken(
    "contoso-reports",
    entity_id=contoso.entity_id,
    display_name="reports",
    expires_at="never",
    scopes=["metrics:core:read", "metrics:premium:read"],
    allowed_ips=["10.0.0.0/8"],
    usage_limit=tokenplane.UsageLimitArgs(limit=100_000, period="month"),
    require_signed_requests=True,
)

fabrikam_app = tokenplane.ApiToken(
    "fabrikam-app", entity_id=fabrikam.entity_id, display_name="app", adopt_default_token=True
)

pulumi.export(
    "entityIds",
    {"northwind": northwind.entity_id, "contoso": contoso.entity_id, "fabrikam": fabrikam.entity_id},
)
# Token values are secrets, shown as [secret]:
# `pulumi stack output contosoWebToken --show-secrets`.
pulumi.export("northwindCiToken", northwind_ci.value)
pulumi.export("contosoWebToken", contoso_web.value)
pulumi.export("contosoReportsToken", contoso_reports.value)
pulumi.export("fabrikamAppToken", fabrikam_app.value)
pulumi.export(
    "hints",
    {
        "northwindCi": northwind_ci.hint,
        "contosoWeb": contoso_web.hint,
        "contosoReports": contoso_reports.hint,
        "fabrikamApp": fabrikam_app.hint,
    },
)
