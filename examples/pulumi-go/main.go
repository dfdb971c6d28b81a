// A reseller with two customers — one per tier — and their API tokens.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"tokenplane/sdk/go/tokenplane"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		northwind, err := tokenplane.NewEntity(ctx, "northwind", &tokenplane.EntityArgs{
			DisplayName: pulumi.String("Northwind Resale"),
			Kind:        pulumi.String("reseller"),
			Tier:        pulumi.String("advanced"),
			// The reseller's tokens are all declared below; no auto-issued one.
			DefaultToken: pulumi.Bool(false),
		})
		if err != nil {
			return err
		}
		// Advanced customer: up to five tokens.
		contoso, err := tokenplane.NewEntity(ctx, "contoso", &tokenplane.EntityArgs{
			DisplayName:  pulumi.String("Contoso"),
			Kind:         pulumi.String("customer"),
			Tier:         pulumi.String("advanced"),
			ParentId:     northwind.EntityId,
			DefaultToken: pulumi.Bool(false),
		})
		if err != nil {
			return err
		}
		// Lite customer: one token. It gets its default token on creation, so the one
		// ApiToken declared for it takes that token over instead of asking for a second.
		fabrikam, err := tokenplane.NewEntity(ctx, "fabrikam", &tokenplane.EntityArgs{
			DisplayName: pulumi.String("Fabrikam"),
			Kind:        pulumi.String("customer"),
			Tier:        pulumi.String("lite"),
			ParentId:    northwind.EntityId,
		})
		if err != nil {
			return err
		}
		northwindCi, err := tokenplane.NewApiToken(ctx, "northwind-ci", &tokenplane.ApiTokenArgs{
			EntityId:    northwind.EntityId,
			DisplayName: pulumi.String("ci"),
		})
		if err != nil {
			return err
		}
		// A publishable token (`tpp_…`) for Contoso's web dashboard: its value may sit in
		// the page, because only these origins can use it, and only for the basic metrics.
		contosoWeb, err := tokenplane.NewApiToken(ctx, "contoso-web", &tokenplane.ApiTokenArgs{
			EntityId:    contoso.EntityId,
			DisplayName: pulumi.String("web"),
			ExpiresAt:   pulumi.String("2030-01-01T00:00:00Z"),
			Type:        pulumi.String("publishable"),
			AllowedOrigins: pulumi.StringArray{
				pulumi.String("https://dashboard.contoso.example"),
				pulumi.String("https://*.contoso.example"),
			},
			RateLimit: &tokenplane.RateLimitArgs{Requests: pulumi.Int(600), PerSeconds: pulumi.Int(60)},
		})
		if err != nil {
			return err
		}
		// A server-side token that never sends its value (signed requests), from the
		// office network, with a monthly budget.
		contosoReports, err := tokenplane.NewApiToken(ctx, "contoso-reports", &tokenplane.ApiTokenArgs{
			EntityId:              contoso.EntityId,
			DisplayName:           pulumi.String("reports"),
			ExpiresAt:             pulumi.String("never"),
			Scopes:                pulumi.StringArray{pulumi.String("metrics:core:read"), pulumi.String("metrics:premium:read")},
			AllowedIps:            pulumi.StringArray{pulumi.String("10.0.0.0/8")},
			UsageLimit:            &tokenplane.UsageLimitArgs{Limit: pulumi.Int(100_000), Period: pulumi.String("month")},
			RequireSignedRequests: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		fabrikamApp, err := tokenplane.NewApiToken(ctx, "fabrikam-app", &tokenplane.ApiTokenArgs{
			EntityId:          fabrikam.EntityId,
			DisplayName:       pulumi.String("app"),
			AdoptDefaultToken: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		ctx.Export("entityIds", pulumi.StringMap{
			"northwind": northwind.EntityId,
			"contoso":   contoso.EntityId,
			"fabrikam":  fabrikam.EntityId,
		})
		// Token values are secrets, shown as [secret]:
		// `pulumi stack output contosoWebToken --show-secrets`.
		ctx.Export("northwindCiToken", northwindCi.Value)
		ctx.Export("contosoWebToken", contosoWeb.Value)
		ctx.Export("contosoReportsToken", contosoReports.Value)
		ctx.Export("fabrikamAppToken", fabrikamApp.Value)
		ctx.Export("hints", pulumi.StringMap{
			"northwindCi":    northwindCi.Hint,
			"contosoWeb":     contosoWeb.Hint,
			"contosoReports": contosoReports.Hint,
			"fabrikamApp":    fabrikamApp.Hint,
		})
		return nil
	})
}
